"""Exports a task model with its tokenizer as a SavedModel that takes raw strings.

Layout: `EXPORT_DIR/<version>/{saved_model.pb, variables/, assets/vocab.txt}`,
integer versions as TF Serving expects, written to a temporary folder and
renamed into place. The module holds the Keras model's variables once (Keras'
own `model.export` keeps two copies, about 2x the weights on disk).
"""

import os
import shutil
import tempfile

import tensorflow as tf

from keras_bert.models.encoder import INPUT_NAMES
from keras_bert.utils import atomic_replace_dir


def next_version(export_dir):
    """1 + the largest integer version folder under `export_dir` (1 when none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(n) for n in os.listdir(export_dir) if n.isdigit()]
    return max(versions, default=0) + 1


class _ClassifierModule(tf.Module):
    def __init__(self, model, preprocessor, pairs):
        super().__init__()
        self.model = model
        self.preprocessor = preprocessor
        self.tokenizer = preprocessor.tokenizer
        self.labels = tf.constant(model.labels)
        self.thresholds = tf.constant(model.thresholds, tf.float32)
        self.multi_label = model.multi_label
        self.pairs = pairs

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


def _signatures(module):
    ids_spec = {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in INPUT_NAMES}

    @tf.function(input_signature=[ids_spec])
    def predict_ids(inputs):
        return module.outputs(inputs)

    if module.pairs:
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                      tf.TensorSpec([None], tf.string, name="text_pair")])
        def serve_text(text, text_pair):
            return module.outputs(module.preprocessor(text, text_pair))
    else:
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve_text(text):
            return module.outputs(module.preprocessor(text))

    return {"serving_default": serve_text, "predict_ids": predict_ids}


def export(model, preprocessor, export_dir, version=None, pairs=False):
    """Writes `model` (a BertClassifier) and its preprocessor to `export_dir/<version>/`.

    Signatures: `serving_default` takes `text` (and `text_pair` with
    `pairs=True`), a batch of raw UTF-8 strings; `predict_ids` takes
    `token_ids`, `segment_ids`, `padding_mask`. Both return `probabilities`,
    `label_ids` and `labels` (strings). Returns the version folder written.
    """
    if not hasattr(model, "labels"):
        raise TypeError(f"export supports BertClassifier models; got {type(model).__name__}")
    version = next_version(export_dir) if version is None else int(version)
    final = os.path.join(export_dir, str(version))
    if os.path.exists(final):
        raise FileExistsError(f"{final} already exists; versions are immutable, choose another")
    os.makedirs(export_dir, exist_ok=True)
    module = _ClassifierModule(model, preprocessor, pairs)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_dir)
    try:
        tf.saved_model.save(module, tmp, signatures=_signatures(module))
        atomic_replace_dir(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
