"""BertPretrainer: encoder + masked-LM head (tied, masked positions only) + next-sentence head."""

import keras

from keras_bert.layers import MaskedLMHead, NextSentenceHead
from keras_bert.losses import SparseSoftmaxCrossEntropy
from keras_bert.models._quantization import QuantizeEncoderMixin
from keras_bert.models._serialization import CompileDefaultsMixin, from_wrapper_config, wrapper_config
from keras_bert.models.encoder import INPUT_NAMES, BertEncoder, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPretrainer(QuantizeEncoderMixin, CompileDefaultsMixin, keras.Model):
    """BERT's pretraining model as a functional Keras model.

    Inputs: the encoder's dict plus `mask_positions` int32 [B, P].
    Outputs: `{"mlm": logits [B, P, vocab], "nsp": logits [B, 2]}`, named so a
    data pipeline yielding `(features, {"mlm": mask_ids, "nsp": labels},
    {"mlm": mask_weights})` trains it with plain `model.fit`.
    The MLM output projection is the encoder's token-embedding table.
    `next_sentence=False` leaves out the NSP head and output (MLM only, as
    RoBERTa); read the data with `pretraining_dataset(..., next_sentence=False)`.
    """

    def __init__(self, encoder, next_sentence=True, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise TypeError(f"encoder must be a BertEncoder, got {type(encoder).__name__}")
        config = encoder.config
        policy = encoder.dtype_policy
        inputs = encoder_inputs("mask_positions")

        # === Layers ===
        mlm_head = MaskedLMHead(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            activation=config.hidden_act,
            initializer_range=config.initializer_range,
            layer_norm_epsilon=config.layer_norm_epsilon,
            token_embedding=encoder.embeddings,
            dtype=policy,
            name="mlm_head",
        )
        nsp_head = NextSentenceHead(initializer_range=config.initializer_range,
                                    dtype=policy, name="nsp_head") if next_sentence else None

        # === Functional graph ===
        encoded = encoder({name: inputs[name] for name in INPUT_NAMES})
        # Logits in float32 so losses stay accurate under mixed precision.
        mlm = keras.layers.Activation("linear", dtype="float32", name="mlm")(
            mlm_head(encoded["sequence_output"], inputs["mask_positions"]))
        outputs = {"mlm": mlm}
        if next_sentence:
            outputs["nsp"] = keras.layers.Activation("linear", dtype="float32", name="nsp")(
                nsp_head(encoded["pooled_output"]))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = encoder.dtype_policy  # functional models drop `dtype`; see BertEncoder

        # === Attributes ===
        self.encoder = encoder
        self.next_sentence = bool(next_sentence)
        self.mlm_head = mlm_head
        self.nsp_head = nsp_head

    # === Training defaults ===
    def default_loss(self):
        """Sparse cross-entropy from logits; MLM averaged over real predictions (mask weights).

        The MLM loss is `keras_bert.losses.SparseSoftmaxCrossEntropy` (Keras' loss, faster on
        a vocabulary-sized output); NSP keeps Keras' own.
        """
        loss = {"mlm": SparseSoftmaxCrossEntropy(reduction="mean_with_sample_weight", name="mlm_loss"),
                "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True, name="nsp_loss")}
        return loss if self.next_sentence else {"mlm": loss["mlm"]}

    def default_metrics(self):
        """Logged as `mlm_accuracy` (over real predictions) and `nsp_accuracy`."""
        if not self.next_sentence:  # one output: Keras does not prefix names, and `loss` is the MLM loss
            return {"mlm": [keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy")]}
        return {name: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")] for name in ("mlm", "nsp")}

    def compile(self, optimizer=None, loss="auto", weighted_metrics="auto", learning_rate=1e-4,
                total_steps=None, warmup_steps=None, warmup_ratio=0.01, weight_decay=0.01, clipnorm=1.0,
                gradient_accumulation_steps=None, optimizer_name="adamw", **kwargs):
        """Compiles with BERT's pretraining defaults unless told otherwise.

        `optimizer_name`: "adamw" (BERT) or "lamb" (You et al.); both skip weight
        decay on LayerNorm and biases (LAMB also their trust ratio), clip the
        gradient norm to `clipnorm`, warm up linearly over `warmup_steps`
        (default `warmup_ratio` of `total_steps`) and decay linearly to 0 at
        `total_steps` (optimizer updates); without `total_steps`, a constant
        rate. Metrics are weighted, so the MLM accuracy counts real
        predictions only. Under a `mixed_float16` encoder Keras gives the
        optimizer dynamic loss scaling (the model carries the encoder's policy).
        """
        from keras_bert.optimization import pretraining_optimizer

        self._default_compile_args = None
        if optimizer is None:
            self._default_compile_args = {
                "learning_rate": learning_rate, "total_steps": total_steps, "warmup_steps": warmup_steps,
                "warmup_ratio": warmup_ratio, "weight_decay": weight_decay, "clipnorm": clipnorm,
                "gradient_accumulation_steps": gradient_accumulation_steps, "optimizer_name": optimizer_name}
            extra = {"gradient_accumulation_steps": gradient_accumulation_steps} if gradient_accumulation_steps else {}
            optimizer = pretraining_optimizer(
                optimizer_name, self, learning_rate=learning_rate, total_steps=total_steps,
                warmup_steps=warmup_steps, warmup_ratio=warmup_ratio, weight_decay=weight_decay,
                clipnorm=clipnorm, **extra)
            if loss != "auto" or weighted_metrics != "auto" or kwargs:
                self._default_compile_args = None  # not reproducible from the defaults alone
        super().compile(optimizer=optimizer,
                        loss=self.default_loss() if loss == "auto" else loss,
                        weighted_metrics=self.default_metrics() if weighted_metrics == "auto" else weighted_metrics,
                        **kwargs)

    def get_config(self):
        return wrapper_config(self, next_sentence=self.next_sentence)

    @classmethod
    def from_config(cls, config):
        return from_wrapper_config(cls, config)
