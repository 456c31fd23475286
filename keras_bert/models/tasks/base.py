"""Shared by the task models: building from a checkpoint and BERT's fine-tuning `compile()`."""

from keras_bert.layers import SequencePooling
from keras_bert.models._quantization import QuantizeEncoderMixin
from keras_bert.models.encoder import check_ids
from keras_bert.models._serialization import CompileDefaultsMixin


def sentence_features(encoder, inputs, encoded, pooling):
    """One vector per text: [CLS] through BERT's pooler ("cls"), or a "mean" / "max" over real tokens.

    Mean and max leave the pooler unused; it is frozen so the optimizer does
    not warn about variables without gradients.
    """
    if pooling == "cls":
        return encoded["pooled_output"]
    encoder.pooler.trainable = False
    pool = SequencePooling(pooling, dtype=encoder.dtype_policy, name="pooling")
    return pool(encoded["sequence_output"], inputs["padding_mask"])


class CheckedIdsMixin:
    """In-memory ids (a dict of arrays) checked before `fit` / `evaluate` / `predict`.

    Inside their compiled functions the ids are symbolic, so `BertEncoder`'s own
    check (eager calls) cannot see them; a negative id would wrap around.
    """

    def _check_ids(self, x):
        encoder = getattr(self, "encoder", None)
        if encoder is not None and getattr(encoder, "config", None) is not None:
            check_ids(x, encoder.config)

    def fit(self, x=None, *args, **kwargs):
        self._check_ids(x)
        return super().fit(x, *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        self._check_ids(x)
        return super().evaluate(x, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_ids(x)
        return super().predict(x, *args, **kwargs)

    def predict_on_batch(self, x):
        self._check_ids(x)
        return super().predict_on_batch(x)


class FromPretrainedMixin(CheckedIdsMixin):
    """`Task.from_pretrained(path, **task_kwargs)` for models built as `cls(encoder, **task_kwargs)`."""

    @classmethod
    def from_pretrained(cls, path, config_overrides=None, dtype=None, **task_kwargs):
        """The task model on an encoder with a checkpoint's weights (Google, Hugging Face or .keras)."""
        from keras_bert.checkpoints import from_pretrained

        encoder = from_pretrained(path, config_overrides=config_overrides, dtype=dtype)
        return cls(encoder, **task_kwargs)


class BertTaskMixin(FromPretrainedMixin, QuantizeEncoderMixin, CompileDefaultsMixin):
    """`from_pretrained`, `quantize` (the encoder's) and BERT's default `compile()`; subclasses define `default_loss()`, `default_metrics()`."""

    def compile(self, optimizer=None, loss="auto", metrics="auto", learning_rate=3e-5,
                total_steps=None, warmup_ratio=0.1, weight_decay=0.01, **kwargs):
        """Compiles with BERT's fine-tuning defaults unless told otherwise.

        AdamW (weight decay off for LayerNorm and biases) with linear warmup
        over `warmup_ratio` of `total_steps` and linear decay to 0; without
        `total_steps`, a constant rate after no warmup.
        """
        from keras_bert.optimization import bert_adamw

        self._default_compile_args = None
        if optimizer is None:
            self._default_compile_args = {"learning_rate": learning_rate, "total_steps": total_steps,
                                              "warmup_ratio": warmup_ratio, "weight_decay": weight_decay}
            optimizer = bert_adamw(self, learning_rate, total_steps=total_steps,
                                   warmup_ratio=warmup_ratio, weight_decay=weight_decay)
        super().compile(optimizer=optimizer,
                        loss=self.default_loss() if loss == "auto" else loss,
                        metrics=self.default_metrics() if metrics == "auto" else metrics, **kwargs)

    def _compiled_from_defaults(self):
        # A user-given loss with the default optimizer cannot be rebuilt from the defaults alone.
        return (bool(getattr(self, "_default_compile_args", None))
                and self.loss.__class__ is self.default_loss().__class__)
