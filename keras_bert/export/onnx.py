"""ONNX export of a task model's token-id graph (TensorFlow + tf2onnx), and ONNX Runtime's dynamic int8.

The ONNX model takes `token_ids`, `segment_ids`, `padding_mask` (int32
[batch, length], any length up to the model's maximum) and returns the Keras
model's output as `logits` (classifiers) or `output`. Tokenize with any
WordPiece tokenizer on the model's vocab.txt (Hugging Face `tokenizers` gives
the same ids as ours); the tf.text ops of the raw-string SavedModel have no
ONNX equivalent. `int8=True` applies ONNX Runtime's dynamic quantization
(int8 weights, activations quantized per call), the usual CPU serving setup.

Needs `pip install "keras-bert-tf[onnx]"` (tf2onnx, onnx; onnxruntime for int8).
"""

import functools
import os
import tempfile

import numpy as np

from keras_bert.models.encoder import INPUT_NAMES

DEFAULT_OPSET = 17


def _require(module, extra="onnx"):
    try:
        return __import__(module)
    except ImportError as error:
        raise ImportError(f"ONNX export needs {module}: pip install \"keras-bert-tf[{extra}]\"") from error


@functools.lru_cache(maxsize=None)
def _register_erfc():
    """tf2onnx 1.17 has no handler for TF's Erfc, which TF 2.21's exact GELU emits: erfc(x) = 1 - erf(x)."""
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    @tf_op("Erfc")
    class Erfc:  # noqa: F841 - registered by the decorator
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            node.type = "Erf"
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype))
            output = node.output[0]
            ctx.insert_new_node_on_output("Sub", output, inputs=[one.output[0], output],
                                          name=utils.make_name(node.name))


def export_onnx(model, path, opset=DEFAULT_OPSET, int8=False):
    """Writes `model`'s token-id graph to `path` (atomically); returns `path`.

    Quantized Keras models are refused: export the float model and pass
    `int8=True` (ONNX Runtime's int8 kernels, not our dequantize-then-GEMM path).
    """
    _require("tf2onnx")
    import tensorflow as tf

    if any(layer.quantization_mode is not None for layer in model._flatten_layers()):
        raise ValueError("export the float model to ONNX and pass int8=True; a Keras-quantized graph would "
                         "run our dequantize-then-GEMM path inside ONNX Runtime")
    _register_erfc()
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    spec = {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in INPUT_NAMES}
    with tempfile.TemporaryDirectory(dir=directory, prefix=".tmp-onnx-") as tmp:
        float_path = os.path.join(tmp, "model.onnx")
        model.export(float_path, format="onnx", input_signature=[spec], opset_version=opset, verbose=False)
        _rename_output(float_path, "logits" if hasattr(model, "num_classes") else "output")
        final = os.path.join(tmp, "model.int8.onnx") if int8 else float_path
        if int8:
            quantize_onnx(float_path, final)
        os.replace(final, path)
    return path


def _rename_output(path, name):
    import onnx

    graph_model = onnx.load(path)
    old = graph_model.graph.output[0].name  # tf2onnx names it after the TF tensor ("Identity:0")
    for node in graph_model.graph.node:
        node.output[:] = [name if o == old else o for o in node.output]
        node.input[:] = [name if i == old else i for i in node.input]
    graph_model.graph.output[0].name = name
    onnx.save(graph_model, path)


def quantize_onnx(source, destination):
    """ONNX Runtime's dynamic int8 quantization (int8 weights, per-call activation scales)."""
    _require("onnxruntime")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    import logging

    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)  # its "consider pre-processing" advice, printed on every call
    try:
        quantize_dynamic(os.fspath(source), os.fspath(destination), weight_type=QuantType.QInt8)
    finally:
        logger.setLevel(level)
    return destination


def onnx_session(path, threads=None):
    """An ONNX Runtime CPU session for `path` (`threads`: intra-op threads, default ONNX Runtime's)."""
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
    return ort.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])


def run_onnx(session, features):
    """Runs `session` on a dict of int [B, S] arrays named as our inputs; returns the first output."""
    feed = {spec.name: np.asarray(features[spec.name], np.int32) for spec in session.get_inputs()}
    return session.run(None, feed)[0]
