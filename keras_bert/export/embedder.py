"""Export module for BertEmbedder: text -> sentence embeddings."""

import tensorflow as tf

from keras_bert.export.signatures import attach_model, ids_signature, text_signature


class EmbedderModule(tf.Module):
    """Holds the embedder and its preprocessor (vocab asset inside)."""

    def __init__(self, model, preprocessor, pairs=False):
        super().__init__()
        attach_model(self, model)
        self.preprocessor = preprocessor
        self.tokenizer = preprocessor.tokenizer
        self.pairs = bool(pairs)

    def outputs(self, inputs):
        return {"embeddings": tf.cast(self.model(inputs, training=False), tf.float32)}


def build(model, preprocessor, pairs=False):
    """Signatures return `embeddings` [B, H] float32 (L2-normalised if the embedder normalises)."""
    module = EmbedderModule(model, preprocessor, pairs)
    # serving_default calls predict_ids, so the model's graph is stored once.
    predict_ids = ids_signature(module.outputs)
    return module, {"serving_default": text_signature(module.preprocessor, predict_ids, module.pairs),
                    "predict_ids": predict_ids}
