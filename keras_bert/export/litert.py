"""LiteRT (TFLite) export of a task model's token-id graph, float32 or int8 (TensorFlow only).

Inputs `token_ids`, `segment_ids`, `padding_mask` (int32 [batch, length]; resize
the interpreter's inputs to each batch's shape), one output named after the
model's output (`logits` for classifiers). Builtin LiteRT ops only, no TF Select.

Token ids, not raw strings: the raw-string SavedModel tokenizes with tf.text
and TensorFlow string ops, most of which LiteRT's builtin op set lacks (they
would need the TF Select runtime plus tensorflow-text's custom-op library on
the device), so tokenize on the device with the model's vocab.txt (e.g.
LiteRT Support's BertTokenizer or any WordPiece implementation).

`int8=True` is LiteRT's dynamic-range quantization: int8 weights, activations
quantized per call by the hybrid kernels, no calibration data needed.
TF 2.21 still has `tf.lite`; its Python interpreter is deprecated in favour
of the `ai-edge-litert` package, which `litert_interpreter` uses when installed.
"""

import os

from keras_bert.models.encoder import INPUT_NAMES
from keras_bert.utils import atomic_write_bytes


def convert(model, int8=False, output_name=None):
    """The .tflite bytes of `model`'s token-id graph."""
    import tensorflow as tf

    from keras_bert.export.signatures import attach_model

    if any(layer.quantization_mode is not None for layer in model._flatten_layers()):
        raise ValueError("convert the float model and pass int8=True (LiteRT's own int8 kernels)")
    name = output_name or ("logits" if hasattr(model, "num_classes") else "output")
    module = tf.Module()
    attach_model(module, model)  # the converter freezes variables it finds on this trackable
    spec = {n: tf.TensorSpec([None, None], tf.int32, name=n) for n in INPUT_NAMES}

    @tf.function(input_signature=[spec])
    def serve(inputs):
        return {name: tf.cast(model(inputs, training=False), tf.float32)}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def export_litert(model, path, int8=False):
    """Writes `model` as a .tflite file (atomically); returns `path`."""
    path = os.fspath(path)
    if not path.endswith(".tflite"):
        raise ValueError(f"LiteRT files end in .tflite; got {path}")
    atomic_write_bytes(path, convert(model, int8=int8))
    return path


def litert_interpreter(path):
    """A LiteRT interpreter for `path`: `ai_edge_litert`'s when installed, else `tf.lite`'s."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import warnings

        import tensorflow as tf

        with warnings.catch_warnings():  # tf.lite.Interpreter warns about its deprecation on every construction
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=os.fspath(path))
    return Interpreter(model_path=os.fspath(path))


def run_litert(interpreter, features):
    """Runs the `serving_default` signature on a dict of int [B, S] arrays; returns the output array."""
    import numpy as np

    runner = interpreter.get_signature_runner()
    outputs = runner(**{name: np.asarray(features[name], np.int32) for name in INPUT_NAMES})
    return next(iter(outputs.values()))
