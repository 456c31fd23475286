"""The LayerNorm used by every block (`layer_norm`), against Keras' own LayerNormalization."""

import keras
import numpy as np
import pytest

from keras_bert.layers._common import _normalize, layer_norm
from tests.layers.test_embeddings import _layer_norm as _numpy_layer_norm


def _np(v):
    return keras.ops.convert_to_numpy(v)


@pytest.mark.parametrize("shape,epsilon", [((6, 16), 1e-12), ((2, 5, 16), 1e-6)])
def test_values_and_gradients_match_keras_layer_normalization(value_and_grads, shape, epsilon):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=shape) * 3 + 1).astype("float32")
    gamma = rng.normal(size=shape[-1]).astype("float32")
    beta = rng.normal(size=shape[-1]).astype("float32")
    weights = rng.normal(size=shape).astype("float32")  # a non-uniform upstream gradient

    def ours(x, gamma, beta):
        return keras.ops.sum(weights * _normalize(x, gamma, beta, epsilon))

    def reference(x, gamma, beta):  # Keras' op, differentiated by the backend's autodiff
        return keras.ops.sum(weights * keras.ops.layer_normalization(x, gamma, beta, epsilon=epsilon))

    value, grads = value_and_grads(ours, x, gamma, beta)
    ref_value, ref_grads = value_and_grads(reference, x, gamma, beta)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5, atol=1e-4)
    for name, g, r in zip(("x", "gamma", "beta"), grads, ref_grads):
        assert g.shape == r.shape, name
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4, err_msg=name)


def test_layer_norm_uses_the_layers_weights_and_compute_dtype():
    rng = np.random.default_rng(1)
    layer = keras.layers.LayerNormalization(epsilon=1e-12, dtype="mixed_bfloat16")
    layer.build((None, 8))
    layer.gamma.assign(rng.normal(size=8).astype("float32"))
    layer.beta.assign(rng.normal(size=8).astype("float32"))
    x = rng.normal(size=(4, 8)).astype("float32")
    out = layer_norm(layer, x)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    expected = _numpy_layer_norm(x, _np(layer.gamma), _np(layer.beta), 1e-12)
    np.testing.assert_allclose(_np(keras.ops.cast(out, "float32")), expected, atol=3e-2)
