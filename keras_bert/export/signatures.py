"""Signature builders shared by the task export modules."""

import tensorflow as tf

from keras_bert.models.encoder import INPUT_NAMES


def ids_signature(outputs):
    """`predict_ids`: token_ids, segment_ids, padding_mask (int32 [None, None]) -> outputs(inputs).

    When `outputs` is a method of a module set up by `attach_model`, the ids are
    checked first (`check_ids`): the model's gather would wrap a negative id
    around to the end of the table, and on GPUs return zeros for one too large.
    """
    spec = {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in INPUT_NAMES}
    limits = getattr(getattr(outputs, "__self__", None), "id_limits", None)

    @tf.function(input_signature=[spec])
    def predict_ids(inputs):
        return outputs(check_ids(inputs, **limits) if limits else inputs)

    return predict_ids


def check_ids(inputs, vocab_size, type_vocab_size, max_positions):
    """The inputs, after asserting equal shapes, at most `max_positions` positions and ids in range.

    An InvalidArgumentError names the input and the allowed range (the REST
    server returns that line as a 400).
    """
    token_ids, segment_ids, padding_mask = (inputs[name] for name in INPUT_NAMES)
    checks = [
        tf.debugging.assert_equal(tf.shape(segment_ids), tf.shape(token_ids),
                                  message="segment_ids must have the shape of token_ids"),
        tf.debugging.assert_equal(tf.shape(padding_mask), tf.shape(token_ids),
                                  message="padding_mask must have the shape of token_ids"),
        tf.debugging.assert_less_equal(tf.shape(token_ids)[1], max_positions,
                                       message=f"token_ids has more positions than the model takes "
                                               f"(max_position_embeddings {max_positions})"),
        tf.debugging.assert_non_negative(token_ids, message=f"token_ids must be in [0, {vocab_size})"),
        tf.debugging.assert_less(token_ids, vocab_size, message=f"token_ids must be in [0, {vocab_size})"),
        tf.debugging.assert_non_negative(segment_ids, message=f"segment_ids must be in [0, {type_vocab_size})"),
        tf.debugging.assert_less(segment_ids, type_vocab_size,
                                 message=f"segment_ids must be in [0, {type_vocab_size})"),
    ]
    with tf.control_dependencies(checks):
        return {name: tf.identity(value) for name, value in inputs.items()}


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
    encoder = getattr(model, "encoder", None)
    if encoder is not None and getattr(encoder, "config", None) is not None:
        config = encoder.config
        module.id_limits = module._no_dependency({"vocab_size": config.vocab_size,
                                                  "type_vocab_size": config.type_vocab_size,
                                                  "max_positions": config.max_position_embeddings})
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
