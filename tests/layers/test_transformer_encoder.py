import math

import keras
import numpy as np
import pytest

from keras_bert.layers import (
    TransformerEncoder,
    attention_mask_from_padding,
    gelu,
    gelu_tanh,
)
from keras_bert.layers.transformer_encoder import activate


def _np(v):
    return keras.ops.convert_to_numpy(v)


def _layer_norm(x, ln):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + ln.epsilon) * _np(ln.gamma) + _np(ln.beta)


def test_gelu_variants_match_their_formulas():
    x = np.linspace(-5, 5, 101).astype("float32")
    exact = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    tanh = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(_np(gelu(x)), exact, atol=1e-6)
    np.testing.assert_allclose(_np(gelu_tanh(x)), tanh, atol=1e-6)
    assert np.abs(exact - tanh).max() > 1e-4  # the two really differ
    # Inference uses the backend's GELU (fusable into the Dense on TensorFlow), training ours.
    for training in (True, False, None):
        np.testing.assert_allclose(_np(activate("gelu", x, training)), exact, atol=1e-6)
        np.testing.assert_allclose(_np(activate("gelu_tanh", x, training)), tanh, atol=1e-6)


def _gelu_derivative_float64(x, approximate):
    x = x.astype("float64")
    if approximate:
        c = math.sqrt(2 / math.pi)
        t = np.tanh(c * (x + 0.044715 * x ** 3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * c * (1 + 3 * 0.044715 * x ** 2)
    cdf = 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x]))
    return cdf + x * np.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_gradients_match_the_float64_derivative(value_and_grads, approximate):
    # Ours have hand-written gradients; compared with the closed form and with the backend's
    # autodiff of Keras' gelu (which loses digits in 1 - tanh^2 where tanh is near -1).
    x = np.linspace(-8, 8, 321).astype("float32")
    weights = np.random.default_rng(0).normal(size=x.shape).astype("float32")
    ours = gelu_tanh if approximate else gelu
    _, (grad,) = value_and_grads(lambda x: keras.ops.sum(weights * ours(x)), x)
    expected = weights * _gelu_derivative_float64(x, approximate)
    # atol: 0.5 + 0.5 * erf(x) keeps ~1e-7 of absolute precision where it is near 0 (forward too).
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=3e-7)
    _, (keras_grad,) = value_and_grads(
        lambda x: keras.ops.sum(weights * keras.activations.gelu(x, approximate=approximate)), x)
    np.testing.assert_allclose(grad, keras_grad, atol=1e-5)


def test_gelu_gradients_stay_finite_in_float16(value_and_grads):
    x = np.array([-1000.0, -300.0, -25.0, -1.0, 0.5, 25.0, 300.0, 1000.0], "float16")
    for fn in (gelu, gelu_tanh):
        value, (grad,) = value_and_grads(lambda x: keras.ops.sum(fn(x)), x)
        assert np.isfinite(grad.astype("float32")).all(), fn.__name__
        np.testing.assert_allclose(grad.astype("float32")[[0, 1, 2, 5, 6, 7]], [0, 0, 0, 1, 1, 1], atol=1e-3)


def test_block_matches_post_layernorm_reference(batch):
    x = np.random.default_rng(0).normal(size=(2, 9, 16)).astype("float32")
    block = TransformerEncoder(16, 4, 32, activation="gelu_tanh")
    mask = attention_mask_from_padding(batch["padding_mask"])
    out = _np(block(x, attention_mask=mask))

    from tests.layers.test_attention import _numpy_attention  # noqa: WPS433
    attended, _ = _numpy_attention(x, block.attention, _np(mask))
    h = _layer_norm(x + attended, block.attention_layer_norm)
    inner = h @ _np(block.intermediate.kernel) + _np(block.intermediate.bias)
    inner = 0.5 * inner * (1 + np.tanh(math.sqrt(2 / math.pi) * (inner + 0.044715 * inner ** 3)))
    ffn = inner @ _np(block.output_dense.kernel) + _np(block.output_dense.bias)
    expected = _layer_norm(h + ffn, block.output_layer_norm)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    # No dropout here, so the training path (another GELU form) must give the same block output.
    np.testing.assert_allclose(_np(block(x, attention_mask=mask, training=True)), expected, atol=1e-5)


def test_padding_does_not_leak_into_real_positions():
    rng = np.random.default_rng(1)
    block = TransformerEncoder(16, 4, 32)
    x = rng.normal(size=(1, 6, 16)).astype("float32")
    padded = np.concatenate([x, rng.normal(size=(1, 5, 16)).astype("float32")], axis=1)
    mask = attention_mask_from_padding(np.array([[1] * 6 + [0] * 5]))
    short = _np(block(x))
    long = _np(block(padded, attention_mask=mask))
    np.testing.assert_allclose(long[:, :6], short, atol=1e-5)


def test_three_dimensional_mask_is_accepted():
    block = TransformerEncoder(8, 2, 16)
    x = np.random.default_rng(2).normal(size=(2, 4, 8)).astype("float32")
    full = np.ones((2, 4, 4), bool)
    np.testing.assert_allclose(_np(block(x, attention_mask=full)), _np(block(x)), atol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_keeps_float32_variables_and_finite_outputs(policy):
    block = TransformerEncoder(16, 4, 32, dtype=policy)
    x = np.random.default_rng(3).normal(size=(2, 5, 16)).astype("float32")
    mask = attention_mask_from_padding(np.array([[1] * 5, [1, 1, 0, 0, 0]]))
    out = block(x, attention_mask=mask)
    assert keras.backend.standardize_dtype(out.dtype) == policy.split("_")[1]
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in block.weights)
    assert np.isfinite(_np(keras.ops.cast(out, "float32"))).all()
    _, probs = block(x, attention_mask=mask, return_attention_scores=True)
    assert np.isfinite(_np(probs)).all()


def test_serialisation_round_trip():
    block = TransformerEncoder(8, 2, 16, activation="relu", dropout=0.2, attention_dropout=0.3,
                               attention_implementation="explicit", layer_norm_epsilon=1e-6)
    clone = TransformerEncoder.from_config(block.get_config())
    assert clone.get_config() == block.get_config()
    serialized = keras.saving.serialize_keras_object(block)
    assert keras.saving.deserialize_keras_object(serialized).get_config() == block.get_config()
