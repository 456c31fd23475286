"""ONNX (run by ONNX Runtime) and LiteRT exports of the token-id model, checked against the Keras model's outputs."""

import numpy as np
import pytest
from compression_helpers import small_classifier

from keras_bert.compression import quantize


def _batches():
    rng = np.random.default_rng(0)
    for batch, length in ((3, 11), (1, 40)):  # two shapes: the exported graphs take any batch and length
        ids = rng.integers(1000, 30000, size=(batch, length)).astype("int32")
        mask = np.ones((batch, length), "int32")
        mask[1:, length // 2:] = 0
        segments = np.zeros_like(ids)
        segments[:, length // 3:] = 1
        yield {"token_ids": ids * mask, "segment_ids": segments * mask, "padding_mask": mask}


@pytest.fixture(scope="module")
def model():
    return small_classifier(seed=5, hidden_size=32, labels=("a", "b", "c"))  # exact (erf) GELU


def test_onnx_runtime_gives_the_keras_outputs(model, tmp_path):
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    from keras_bert.export.onnx import export_onnx, onnx_session, quantize_onnx, run_onnx

    float_path = export_onnx(model, tmp_path / "model.onnx")
    int8_path = quantize_onnx(float_path, tmp_path / "model.int8.onnx")  # what export_onnx(int8=True) applies
    session, int8_session = onnx_session(float_path), onnx_session(int8_path)
    assert sorted(i.name for i in session.get_inputs()) == ["padding_mask", "segment_ids", "token_ids"]
    assert [o.name for o in session.get_outputs()] == ["logits"]
    for x in _batches():
        expected = np.asarray(model.predict_on_batch(x))
        np.testing.assert_allclose(run_onnx(session, x), expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(run_onnx(int8_session, x), expected, atol=0.05)
    assert (tmp_path / "model.int8.onnx").stat().st_size < 0.35 * (tmp_path / "model.onnx").stat().st_size
    with pytest.raises(ValueError, match="float model"):
        export_onnx(quantize(model), tmp_path / "q.onnx")


def test_litert_interpreter_gives_the_keras_outputs(model, tmp_path):
    from keras_bert.export.litert import export_litert, litert_interpreter, run_litert

    float_path = export_litert(model, tmp_path / "model.tflite")
    export_litert(model, tmp_path / "model.int8.tflite", int8=True)
    interpreter, int8_interpreter = litert_interpreter(float_path), litert_interpreter(tmp_path / "model.int8.tflite")
    assert interpreter.get_signature_list()["serving_default"]["outputs"] == ["logits"]
    for x in _batches():
        expected = np.asarray(model.predict_on_batch(x))
        np.testing.assert_allclose(run_litert(interpreter, x), expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(run_litert(int8_interpreter, x), expected, atol=0.05)
    assert (tmp_path / "model.int8.tflite").stat().st_size < 0.3 * (tmp_path / "model.tflite").stat().st_size
    with pytest.raises(ValueError, match=".tflite"):
        export_litert(model, tmp_path / "model.bin")
