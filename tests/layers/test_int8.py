"""int8 layers against numpy re-implementations of the quantization arithmetic (runs on TF and JAX)."""

import keras
import numpy as np
import pytest

from keras_bert.compression.quantization import int8_config
from keras_bert.layers import BertEmbeddings, Dense

EPS = 1e-7  # keras.backend.epsilon(), added to the absmax as Keras does


def absmax_int8(values, axis):
    """(int8 values, scale) with int8 = clip(round(values * scale)), scale = 127 / max|values| along `axis`."""
    scale = 127.0 / (np.abs(values).max(axis=axis, keepdims=True) + EPS)
    return np.clip(np.round(values * scale), -127, 127).astype(np.int64), scale


def _dense(seed=0, units=6, features=10):
    rng = np.random.default_rng(seed)
    layer = Dense(units, activation=None)
    layer.build((None, features))
    kernel = rng.normal(size=(features, units)).astype("float32")
    bias = rng.normal(size=(units,)).astype("float32")
    layer.set_weights([kernel, bias])
    x = rng.normal(size=(4, features)).astype("float32")
    return layer, kernel, bias, x


def test_weight_only_int8_dense_is_x_times_the_dequantized_kernel():
    layer, kernel, bias, x = _dense()
    layer.quantize("int8", config=int8_config(activations=False))
    assert keras.backend.standardize_dtype(layer._kernel.dtype) == "int8"
    q, scale = absmax_int8(kernel, axis=0)  # one scale per output channel
    expected = x @ (q / scale) + bias
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-5)
    # and it stays close to the float layer: at most half a quantization step per weight
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x @ kernel + bias, atol=0.1)


def test_int8_activations_dense_is_an_integer_matmul_rescaled():
    layer, kernel, bias, x = _dense(seed=1)
    layer.quantize("int8", config=int8_config(activations=True))
    qw, sw = absmax_int8(kernel, axis=0)
    qx, sx = absmax_int8(x, axis=-1)  # one scale per row (token)
    expected = (qx @ qw) / (sx * sw) + bias  # exact int64 product, then the two scales
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-4)


def test_quantized_dense_refuses_a_second_quantize():
    layer, *_ = _dense()
    layer.quantize("int8")
    with pytest.raises(ValueError, match="already quantized"):
        layer.quantize("int8")


def test_int8_token_table_equals_the_float_layer_on_the_dequantized_table():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 40, size=(2, 7)).astype("int32")
    segments = rng.integers(0, 2, size=(2, 7)).astype("int32")
    float_layer = BertEmbeddings(vocab_size=40, hidden_size=12, max_positions=16)
    float_layer(ids, segments)
    table = keras.ops.convert_to_numpy(float_layer.token_embeddings)
    quantized = BertEmbeddings(vocab_size=40, hidden_size=12, max_positions=16)
    quantized(ids, segments)
    quantized.set_weights(float_layer.get_weights())
    quantized.quantize("int8")
    assert keras.backend.standardize_dtype(quantized.token_embeddings.dtype) == "int8"
    q, scale = absmax_int8(table, axis=-1)  # one scale per vocabulary row
    float_layer.token_embeddings.assign((q / scale).astype("float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(quantized(ids, segments)),
                               keras.ops.convert_to_numpy(float_layer(ids, segments)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(quantized.token_table("float32")), q / scale,
                               rtol=1e-6, atol=1e-7)


def test_bert_embeddings_refuses_other_modes():
    layer = BertEmbeddings(vocab_size=10, hidden_size=4, max_positions=8)
    layer(np.zeros((1, 3), "int32"))
    with pytest.raises(NotImplementedError, match="int8"):
        layer.quantize("int4")
