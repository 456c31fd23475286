"""BertSpanQA: extractive question answering (SQuAD v1.1 / v2.0 style span prediction)."""

import keras
from keras import ops

from keras_bert.layers._common import kernel_initializer
from keras_bert.models._quantization import QuantizeEncoderMixin
from keras_bert.models._serialization import CompileDefaultsMixin, from_wrapper_config, wrapper_config
from keras_bert.models.encoder import BertEncoder, encoder_inputs
from keras_bert.models.tasks.base import FromPretrainedMixin

# Logit given to padding positions: far below any real logit, yet finite so
# that sums of two masked logits stay finite in float32.
MASKED_LOGIT = -1e9
OUTPUT_NAMES = ("start_logits", "end_logits")


@keras.saving.register_keras_serializable(package="keras_bert")
class BertSpanQA(FromPretrainedMixin, QuantizeEncoderMixin, CompileDefaultsMixin, keras.Model):
    """Encoder + dropout + dense to 2 logits per position: answer start and end.

    Inputs are `[CLS] question [SEP] context [SEP]` windows (see
    `keras_bert.text.qa`). Outputs a dict of float32 [B, S] tensors
    `start_logits` and `end_logits`; padding positions get a large negative
    logit. Targets are token positions; position 0 ([CLS]) means "no answer
    in this window" (SQuAD 2.0), so `fit` takes
    `y = {"start_logits": start_positions, "end_logits": end_positions}`.
    `BertSpanQA.from_pretrained(path, dropout=...)` puts a new head on a checkpoint's encoder.
    """

    def __init__(self, encoder, dropout=0.1, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise TypeError(f"encoder must be a BertEncoder, got {type(encoder).__name__}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        inputs = encoder_inputs()

        # === Layers ===
        dropout_layer = keras.layers.Dropout(dropout, name="span_dropout")
        head = keras.layers.Dense(2, name="span_logits", dtype=encoder.dtype_policy,
                                  kernel_initializer=kernel_initializer(encoder.config.initializer_range))
        to_float32 = keras.layers.Activation("linear", dtype="float32", name="span_logits_float32")

        # === Functional graph ===
        sequence = encoder(inputs)["sequence_output"]
        logits = to_float32(head(dropout_layer(sequence)))  # [B, S, 2]
        real = ops.cast(inputs["padding_mask"], "bool")
        outputs = {name: ops.where(real, logits[..., i], MASKED_LOGIT) for i, name in enumerate(OUTPUT_NAMES)}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = encoder.dtype_policy  # functional models drop `dtype`; see BertEncoder

        # === Attributes ===
        # The pooler is unused; freezing it keeps the optimizer from warning
        # about variables without gradients.
        encoder.pooler.trainable = False
        self.encoder = encoder
        self.dropout = dropout

    def default_loss(self):
        return {name: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for name in OUTPUT_NAMES}

    def default_metrics(self):
        return {name: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")] for name in OUTPUT_NAMES}

    def compile(self, optimizer=None, loss="auto", metrics="auto", learning_rate=5e-5,
                total_steps=None, warmup_ratio=0.1, weight_decay=0.01, **kwargs):
        """Compiles with BERT's SQuAD fine-tuning defaults unless told otherwise.

        Loss: mean of the start and end cross-entropies (as run_squad.py).
        AdamW (no weight decay on LayerNorm and biases), linear warmup over
        `warmup_ratio` of `total_steps`, then linear decay to 0; without
        `total_steps`, a constant rate.
        """
        from keras_bert.optimization import bert_adamw

        self._default_compile_args = None
        if optimizer is None:
            defaults = {"learning_rate": learning_rate, "total_steps": total_steps,
                        "warmup_ratio": warmup_ratio, "weight_decay": weight_decay}
            # Only a fully default compile can be rebuilt from these arguments on reload.
            if loss == "auto" and metrics == "auto" and not kwargs:
                self._default_compile_args = defaults
            optimizer = bert_adamw(self, learning_rate, total_steps=total_steps,
                                   warmup_ratio=warmup_ratio, weight_decay=weight_decay)
        if loss == "auto":
            loss = self.default_loss()
            kwargs.setdefault("loss_weights", {name: 0.5 for name in OUTPUT_NAMES})
        super().compile(optimizer=optimizer, loss=loss,
                        metrics=self.default_metrics() if metrics == "auto" else metrics, **kwargs)

    def get_config(self):
        return wrapper_config(self, dropout=self.dropout)

    @classmethod
    def from_config(cls, config):
        return from_wrapper_config(cls, config)
