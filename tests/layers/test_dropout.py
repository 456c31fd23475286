import keras
import numpy as np
import pytest

from keras_bert.layers import Dropout


def _np(v):
    return keras.ops.convert_to_numpy(v)


def test_identity_outside_training_and_at_rate_zero():
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    for training in (False, None):
        np.testing.assert_array_equal(_np(Dropout(0.5)(x, training=training)), x)
    np.testing.assert_array_equal(_np(Dropout(0.0)(x, training=True)), x)


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_drops_the_rate_and_scales_the_rest_like_keras(rate):
    x = np.full((400, 500), 2.0, "float32")
    for layer in (Dropout(rate, seed=1), keras.layers.Dropout(rate, seed=1)):
        out = _np(layer(x, training=True))
        dropped = (out == 0).mean()
        assert abs(dropped - rate) < 4 * np.sqrt(rate * (1 - rate) / out.size)  # 4 standard errors
        np.testing.assert_allclose(out[out != 0], 2.0 / (1 - rate), rtol=1e-6)


def test_same_seed_same_mask_and_calls_draw_new_masks():
    x = np.ones((64, 64), "float32")
    a, b = Dropout(0.3, seed=7), Dropout(0.3, seed=7)
    first = _np(a(x, training=True))
    np.testing.assert_array_equal(first, _np(b(x, training=True)))
    assert (first != _np(a(x, training=True))).any()


def test_gradient_is_the_mask_times_the_scale(value_and_grads):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("a seeded layer inside a traced gradient needs Keras' stateless scope on JAX")
    rng = np.random.default_rng(2)
    x = rng.uniform(1.0, 2.0, size=(32, 16)).astype("float32")
    weights = rng.normal(size=(32, 16)).astype("float32")
    layer = Dropout(0.25, seed=3)
    outputs = []

    def fn(x):
        y = layer(x, training=True)
        outputs.append(y)
        return keras.ops.sum(weights * y)

    _, (grad,) = value_and_grads(fn, x)
    factor = _np(outputs[0]) / x  # 0 or 1 / (1 - rate), the mask this call drew
    np.testing.assert_allclose(np.unique(np.round(factor, 5)), [0.0, round(1 / 0.75, 5)])
    np.testing.assert_allclose(grad, weights * factor, rtol=1e-6)


def test_mixed_precision_config_and_bad_rate():
    layer = Dropout(0.2, seed=5, dtype="mixed_bfloat16", name="drop")
    out = layer(np.ones((8, 8), "float32"), training=True)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert set(np.unique(_np(keras.ops.cast(out, "float32")))) <= {0.0, 1.25}
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is Dropout and restored.rate == 0.2 and restored.seed == 5
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="rate"):
            Dropout(bad)
