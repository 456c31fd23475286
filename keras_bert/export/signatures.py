"""Signature builders shared by the task export modules."""

import tensorflow as tf

from keras_bert.models.encoder import INPUT_NAMES


def ids_signature(outputs):
    """`predict_ids`: token_ids, segment_ids, padding_mask (int32 [None, None]) -> outputs(inputs)."""
    spec = {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in INPUT_NAMES}

    @tf.function(input_signature=[spec])
    def predict_ids(inputs):
        return outputs(inputs)

    return predict_ids


def text_signature(preprocessor, outputs, pairs=False):
    """`serving_default`: `text` (and `text_pair`), [None] tf.string -> outputs(preprocessor(...))."""
    if pairs:
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                      tf.TensorSpec([None], tf.string, name="text_pair")])
        def serve_text(text, text_pair):
            return outputs(preprocessor(text, text_pair))
    else:
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve_text(text):
            return outputs(preprocessor(text))
    return serve_text


def attach_model(module, model):
    """Puts a Keras `model` on a `tf.Module` for export, its variables tracked once.

    Tracking the model itself would make SavedModel also serialize Keras'
    `_default_save_signature` for it and for every functional sub-model
    (the encoder): extra copies of the whole graph nobody serves.
    """
    module.model = module._no_dependency(model)
    # The tf.Variables under Keras' variables: tracking the Keras wrappers too
    # gives each weight a second graph handle, and TF1-style loaders (TF Serving,
    # `saved_model_cli run`) then restore one handle and read the other.
    module.model_variables = [getattr(v, "value", v) for v in model.variables]


class SingleOutputModule(tf.Module):
    """A model whose output tensor is served as is under one name (embeddings, regression scores)."""

    def __init__(self, model, preprocessor, output_name, pairs=False):
        super().__init__()
        attach_model(self, model)
        self.preprocessor = preprocessor
        self.tokenizer = preprocessor.tokenizer
        self.output_name = output_name
        self.pairs = bool(pairs)

    def outputs(self, inputs):
        return {self.output_name: tf.cast(self.model(inputs, training=False), tf.float32)}


def single_output_signatures(model, preprocessor, output_name, pairs=False):
    """(module, {"serving_default", "predict_ids"}) for a `SingleOutputModule`."""
    module = SingleOutputModule(model, preprocessor, output_name, pairs)
    # serving_default calls predict_ids, so the model's graph is stored once.
    predict_ids = ids_signature(module.outputs)
    return module, {"serving_default": text_signature(module.preprocessor, predict_ids, module.pairs),
                    "predict_ids": predict_ids}
