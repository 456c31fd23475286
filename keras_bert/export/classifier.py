"""Export module for BertClassifier: probabilities, label ids and label strings."""

import tensorflow as tf

from keras_bert.export.signatures import attach_model, ids_signature, text_signature


class ClassifierModule(tf.Module):
    """Holds the classifier, its preprocessor (vocab asset inside) and its label names."""

    def __init__(self, model, preprocessor, pairs=False):
        super().__init__()
        attach_model(self, model)
        self.preprocessor = preprocessor
        self.tokenizer = preprocessor.tokenizer
        self.labels = tf.constant(model.labels)
        self.thresholds = tf.constant(model.thresholds, tf.float32)
        self.multi_label = model.multi_label
        self.pairs = bool(pairs)

    def outputs(self, inputs):
        logits = tf.cast(self.model(inputs, training=False), tf.float32)
        if self.multi_label:
            probabilities = tf.sigmoid(logits)
            decided = probabilities >= self.thresholds
            return {"probabilities": probabilities, "label_ids": tf.cast(decided, tf.int32),
                    "labels": tf.where(decided, self.labels, tf.constant(""))}
        probabilities = tf.nn.softmax(logits, axis=-1)
        label_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {"probabilities": probabilities, "label_ids": label_ids,
                "labels": tf.gather(self.labels, label_ids)}


def build(model, preprocessor, pairs=False):
    """Signatures return `probabilities` [B, C], `label_ids` and `labels` (strings).

    Single-label: `label_ids` [B], `labels` [B]. Multi-label: [B, C] 0/1 ids
    and the label name where decided, "" elsewhere. `pairs=True` adds the
    `text_pair` input to `serving_default`.
    """
    module = ClassifierModule(model, preprocessor, pairs)
    # serving_default calls predict_ids, so the model's graph is stored once.
    predict_ids = ids_signature(module.outputs)
    return module, {"serving_default": text_signature(module.preprocessor, predict_ids, module.pairs),
                    "predict_ids": predict_ids}
