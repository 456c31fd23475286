"""BertTokenClassifier: per-token tags (NER, chunking), softmax or linear-chain CRF."""

import keras
from keras import ops

from keras_bert.layers import CRF
from keras_bert.layers.crf import allowed_transitions
from keras_bert.layers._common import kernel_initializer
from keras_bert.models._quantization import QuantizeEncoderMixin
from keras_bert.models._serialization import CompileDefaultsMixin, from_wrapper_config, wrapper_config
from keras_bert.models.encoder import BertEncoder, encoder_inputs
from keras_bert.models.tasks.base import FromPretrainedMixin

IGNORE_LABEL = -100  # label of positions left out of the loss (later sub-words, [CLS], [SEP], padding)
SCHEMES = {"BIO": ("B", "I"), "BIOES": ("B", "I", "E", "S")}


def validate_labels(labels, scheme):
    """Checks tag names: unique, "O" present, every other tag `<prefix>-<TYPE>` of the scheme."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {sorted(SCHEMES)}, got {scheme!r}")
    labels = [str(label) for label in labels]
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be unique, got {labels}")
    if "O" not in labels:
        raise ValueError(f"labels must include the outside tag 'O', got {labels}")
    for label in labels:
        prefix, _, entity = label.partition("-")
        if label != "O" and (prefix not in SCHEMES[scheme] or not entity):
            raise ValueError(f"label {label!r} is not a {scheme} tag (expected 'O' or one of "
                             f"{'/'.join(p + '-TYPE' for p in SCHEMES[scheme])})")
    return labels


@keras.saving.register_keras_serializable(package="keras_bert")
class MaskedTokenAccuracy(keras.metrics.Mean):
    """Accuracy of the argmax of per-token logits over positions whose label is not IGNORE_LABEL."""

    def __init__(self, name="token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        weight = ops.cast(ops.not_equal(y_true, IGNORE_LABEL), "float32")
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, "float32")
        correct = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true), "float32")
        return super().update_state(correct, sample_weight=weight)


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTokenClassifier(FromPretrainedMixin, QuantizeEncoderMixin, CompileDefaultsMixin, keras.Model):
    """Encoder + dropout + dense to per-token logits [B, S, num_labels] (float32).

    `labels`: tag names, e.g. ["O", "B-PER", "I-PER"], in the given `scheme`
    ("BIO" or "BIOES"). Targets y are int [B, S] label indices with
    IGNORE_LABEL (-100) wherever no tag applies: only the first sub-word of
    each word carries its word's tag (`keras_bert.text.tagging` builds them).
    Loss (default compile): cross-entropy averaged over tagged positions, or
    with `use_crf=True` the CRF negative log-likelihood over the tagged
    positions of each sequence (transitions link consecutive tagged
    positions, i.e. words), averaged over sequences. `decode(logits, mask)`
    gives the tags: argmax, or Viterbi with the CRF. The CRF forbids the
    tag pairs the scheme forbids (`crf_constraints`) and learns its scores
    `crf_learning_rate_multiplier` times faster than the encoder (at BERT's
    rates an unscaled CRF barely moves from 0). Raw strings:
    `keras_bert.pipelines.TokenTagger`. From a checkpoint:
    `BertTokenClassifier.from_pretrained(path, labels=[...], use_crf=True)`.
    """

    def __init__(self, encoder, labels, scheme="BIO", use_crf=False, dropout=0.1, crf_constraints=True,
                 crf_learning_rate_multiplier=100.0, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise TypeError(f"encoder must be a BertEncoder, got {type(encoder).__name__}")
        labels = validate_labels(labels, scheme)
        inputs = encoder_inputs()

        # === Layers ===
        dropout_layer = keras.layers.Dropout(dropout, name="tagger_dropout")
        head = keras.layers.Dense(len(labels), name="tag_logits", dtype=encoder.dtype_policy,
                                  kernel_initializer=kernel_initializer(encoder.config.initializer_range))
        crf = None
        if use_crf:
            crf = CRF(len(labels), initializer_range=encoder.config.initializer_range,
                      allowed_transitions=allowed_transitions(labels, scheme) if crf_constraints else None,
                      learning_rate_multiplier=crf_learning_rate_multiplier, name="crf")

        # === Functional graph ===
        sequence = encoder(inputs)["sequence_output"]
        logits = keras.layers.Activation("linear", dtype="float32", name="tagger_logits")(
            head(dropout_layer(sequence)))
        if crf is not None:
            logits = crf(logits)  # identity on the logits; the layer owns the transition scores
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.dtype_policy = encoder.dtype_policy  # functional models drop `dtype`; see BertEncoder

        # === Attributes ===
        encoder.pooler.trainable = False  # the pooled output is unused; no gradient reaches it
        self.encoder = encoder
        self.crf = crf
        self.labels = labels
        self.num_labels = len(labels)
        self.scheme = scheme
        self.use_crf = bool(use_crf)
        self.dropout = dropout
        self.crf_constraints = bool(crf_constraints)
        self.crf_learning_rate_multiplier = float(crf_learning_rate_multiplier)
        self._tagging_loss = False

    # ------------------------------------------------------------ inference
    def decode(self, logits, mask=None):
        """Tag ids [B, S] int32 from logits: Viterbi over `mask`ed positions with the CRF, else argmax."""
        if self.use_crf:
            return self.crf.decode(logits, mask)[0]
        return ops.cast(ops.argmax(logits, axis=-1), "int32")

    def tag_probabilities(self, logits, mask=None):
        """p(tag) per position [B, S, num_labels]: CRF marginals over `mask`ed positions, else softmax."""
        if self.use_crf:
            return self.crf.marginals(logits, mask)
        return ops.softmax(ops.cast(logits, "float32"), axis=-1)

    # ------------------------------------------------------------- training
    def tagging_loss(self, y, logits, sample_weight=None):
        y = ops.cast(y, "int32")
        mask = ops.not_equal(y, IGNORE_LABEL)
        safe_y = ops.where(mask, y, ops.zeros_like(y))
        if self.use_crf:
            per_sequence = self.crf.negative_log_likelihood(logits, safe_y, mask)
            weight = ops.cast(ops.any(mask, axis=1), "float32")
            if sample_weight is not None:
                weight = weight * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
            return ops.sum(per_sequence * weight) / ops.maximum(ops.sum(weight), 1.0)
        per_token = keras.losses.sparse_categorical_crossentropy(safe_y, logits, from_logits=True)
        weight = ops.cast(mask, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            weight = weight * (sample_weight if len(sample_weight.shape) == 2 else sample_weight[:, None])
        return ops.sum(per_token * weight) / ops.maximum(ops.sum(weight), 1.0)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not self._tagging_loss:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        loss = self.tagging_loss(y, y_pred, sample_weight)
        if self.losses:
            loss = loss + ops.cast(ops.sum(self.losses), "float32")
        return loss

    def compile(self, optimizer=None, loss="auto", metrics="auto", learning_rate=5e-5,
                total_steps=None, warmup_ratio=0.1, weight_decay=0.01, **kwargs):
        """Compiles with BERT's fine-tuning defaults unless told otherwise.

        `loss="auto"`: the masked tagging loss (see the class docstring);
        `metrics="auto"`: token accuracy over tagged positions. AdamW (no decay
        on LayerNorm and biases), linear warmup over `warmup_ratio` of
        `total_steps` then linear decay to 0; without `total_steps`, constant.
        """
        from keras_bert.optimization import bert_adamw

        self._tagging_loss = isinstance(loss, str) and loss == "auto"
        self._default_compile_args = None
        if optimizer is None:
            if self._tagging_loss:
                self._default_compile_args = {"learning_rate": learning_rate, "total_steps": total_steps,
                                                  "warmup_ratio": warmup_ratio, "weight_decay": weight_decay}
            optimizer = bert_adamw(self, learning_rate, total_steps=total_steps,
                                   warmup_ratio=warmup_ratio, weight_decay=weight_decay)
        if isinstance(metrics, str) and metrics == "auto":
            metrics = [MaskedTokenAccuracy()]
        super().compile(optimizer=optimizer, loss=None if self._tagging_loss else loss, metrics=metrics,
                        **kwargs)

    def get_config(self):
        return wrapper_config(self, labels=self.labels, scheme=self.scheme, use_crf=self.use_crf,
                              dropout=self.dropout, crf_constraints=self.crf_constraints,
                              crf_learning_rate_multiplier=self.crf_learning_rate_multiplier)

    @classmethod
    def from_config(cls, config):
        return from_wrapper_config(cls, config)
