"""Export module for BertRegressor: text (or text pair) -> real-valued scores."""

import tensorflow as tf

from keras_bert.export.signatures import attach_model, ids_signature, text_signature


class RegressorModule(tf.Module):
    """Holds the regressor and its preprocessor (vocab asset inside)."""

    def __init__(self, model, preprocessor, pairs=False):
        super().__init__()
        attach_model(self, model)
        self.preprocessor = preprocessor
        self.tokenizer = preprocessor.tokenizer
        self.pairs = bool(pairs)

    def outputs(self, inputs):
        return {"scores": tf.cast(self.model(inputs, training=False), tf.float32)}


def build(model, preprocessor, pairs=False):
    """Signatures return `scores` [B, num_outputs] float32, on the targets' original scale."""
    module = RegressorModule(model, preprocessor, pairs)
    # serving_default calls predict_ids, so the model's graph is stored once.
    predict_ids = ids_signature(module.outputs)
    return module, {"serving_default": text_signature(module.preprocessor, predict_ids, module.pairs),
                    "predict_ids": predict_ids}
