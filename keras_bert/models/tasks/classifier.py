"""BertClassifier: single-label or multi-label text (or text-pair) classification."""

import keras

from keras_bert.layers._common import kernel_initializer
from keras_bert.models._serialization import from_wrapper_config, wrapper_config
from keras_bert.models.encoder import BertEncoder, encoder_inputs
from keras_bert.models.tasks.base import BertTaskMixin, sentence_features


@keras.saving.register_keras_serializable(package="keras_bert")
class BertClassifier(BertTaskMixin, keras.Model):
    """Encoder + pooling + dropout + dense to `num_classes` logits (float32).

    `multi_label=False`: softmax over classes (sparse categorical cross-entropy).
    `multi_label=True`: one sigmoid per label (binary cross-entropy), with
    `thresholds` (one per label, default 0.5) that exports and pipelines apply.
    `pooling`: "cls" uses BERT's pooler (dense + tanh on [CLS]); "mean" / "max"
    pool the sequence over real tokens. `labels` are the class names, kept in
    the config so exports can return strings.
    """

    def __init__(self, encoder, num_classes=None, labels=None, multi_label=False, pooling="cls",
                 dropout=0.1, thresholds=None, **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise TypeError(f"encoder must be a BertEncoder, got {type(encoder).__name__}")
        if labels is not None:
            labels = [str(label) for label in labels]
            if len(set(labels)) != len(labels):
                raise ValueError(f"labels must be unique, got {labels}")
            if num_classes is not None and num_classes != len(labels):
                raise ValueError(f"num_classes={num_classes} but {len(labels)} labels were given")
            num_classes = len(labels)
        if not num_classes or num_classes < 1 or (num_classes < 2 and not multi_label):
            raise ValueError("num_classes must be >= 2 (or >= 1 with multi_label=True), "
                             f"got {num_classes!r}")
        if thresholds is not None and len(thresholds) != num_classes:
            raise ValueError(f"thresholds has {len(thresholds)} values for {num_classes} labels")
        inputs = encoder_inputs()

        # === Layers ===
        dropout_layer = keras.layers.Dropout(dropout, name="classifier_dropout")
        head = keras.layers.Dense(num_classes, name="logits", dtype=encoder.dtype_policy,
                                  kernel_initializer=kernel_initializer(encoder.config.initializer_range))

        # === Functional graph ===
        encoded = encoder(inputs)
        features = sentence_features(encoder, inputs, encoded, pooling)
        logits = keras.layers.Activation("linear", dtype="float32", name="classifier_logits")(
            head(dropout_layer(features)))
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.dtype_policy = encoder.dtype_policy  # functional models drop `dtype`; see BertEncoder

        # === Attributes ===
        self.encoder = encoder
        self.num_classes = num_classes
        self.labels = labels or [str(i) for i in range(num_classes)]
        self.multi_label = multi_label
        self.pooling = pooling
        self.dropout = dropout
        self.thresholds = [float(t) for t in thresholds] if thresholds else [0.5] * num_classes

    def default_loss(self):
        if self.multi_label:
            return keras.losses.BinaryCrossentropy(from_logits=True)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self):
        if self.multi_label:
            return [keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")]
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def get_config(self):
        return wrapper_config(self, labels=self.labels, multi_label=self.multi_label, pooling=self.pooling,
                              dropout=self.dropout, thresholds=self.thresholds)

    @classmethod
    def from_config(cls, config):
        return from_wrapper_config(cls, config)
