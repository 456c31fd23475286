import keras
import numpy as np
import pytest

from keras_bert.layers import MultiHeadSelfAttention, attention_mask_from_padding


def _numpy_attention(x, layer, mask):
    """Reference multi-head attention written from the paper, in numpy."""
    w, b = (keras.ops.convert_to_numpy(v) for v in (layer.qkv.kernel, layer.qkv.bias))
    wo, bo = (keras.ops.convert_to_numpy(v) for v in (layer.output_dense.kernel, layer.output_dense.bias))
    h, n = layer.hidden_size, layer.num_heads
    d = h // n
    q, k, v = np.split(x @ w + b, 3, axis=-1)
    split = lambda t: t.reshape(t.shape[0], t.shape[1], n, d).transpose(0, 2, 1, 3)
    q, k, v = split(q), split(k), split(v)
    logits = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    logits = np.where(mask, logits, -1e9)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ctx = (p @ v).transpose(0, 2, 1, 3).reshape(x.shape[0], x.shape[1], h)
    return ctx @ wo + bo, p


@pytest.mark.parametrize("implementation", ["fused", "explicit"])
def test_matches_numpy_reference_with_padding(implementation, batch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 9, 16)).astype("float32")
    layer = MultiHeadSelfAttention(16, 4, implementation=implementation)
    mask = keras.ops.convert_to_numpy(attention_mask_from_padding(batch["padding_mask"]))
    out = keras.ops.convert_to_numpy(layer(x, attention_mask=mask))
    expected, _ = _numpy_attention(x, layer, mask)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_attention_scores_are_probabilities_and_ignore_padding(batch):
    x = np.random.default_rng(2).normal(size=(2, 9, 16)).astype("float32")
    layer = MultiHeadSelfAttention(16, 4)
    mask = attention_mask_from_padding(batch["padding_mask"])
    out, probs = layer(x, attention_mask=mask, return_attention_scores=True)
    probs = keras.ops.convert_to_numpy(probs)
    assert probs.shape == (2, 4, 9, 9)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert np.abs(probs[1, :, :, 5:]).max() < 1e-6
    fused = layer(x, attention_mask=mask)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(fused), atol=1e-5)


def test_three_dimensional_mask():
    x = np.random.default_rng(3).normal(size=(1, 4, 8)).astype("float32")
    causal = np.tril(np.ones((1, 4, 4), bool))
    layer = MultiHeadSelfAttention(8, 2)
    out = keras.ops.convert_to_numpy(layer(x, attention_mask=causal[:, None]))
    expected, _ = _numpy_attention(x, layer, causal[:, None])
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_probability_dropout_uses_explicit_path_in_training_only():
    x = np.ones((1, 6, 8), "float32")
    layer = MultiHeadSelfAttention(8, 2, dropout=0.5, implementation="auto")
    a = keras.ops.convert_to_numpy(layer(x, training=False))
    b = keras.ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(0)
    _, probs = layer(np.random.default_rng(0).normal(size=(1, 6, 8)).astype("float32"),
                     training=True, return_attention_scores=True)
    assert probs.shape == (1, 2, 6, 6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadSelfAttention(10, 4)
    with pytest.raises(ValueError, match="implementation"):
        MultiHeadSelfAttention(8, 2, implementation="flash")
    layer = MultiHeadSelfAttention(8, 2, dropout=0.1, implementation="explicit")
    assert MultiHeadSelfAttention.from_config(layer.get_config()).get_config() == layer.get_config()


def test_fused_path_gives_cudnn_a_mask_with_the_query_length(monkeypatch, batch):
    # cuDNN flash attention (JAX on a GPU) needs the mask's query axis to be the query length;
    # with [B, 1, 1, S] JAX refuses it and Keras silently falls back to XLA attention.
    seen = []
    real = keras.ops.dot_product_attention

    def spy(q, k, v, mask=None, **kwargs):
        seen.append(tuple(mask.shape))
        return real(q, k, v, mask=mask, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", spy)
    x = np.random.default_rng(4).normal(size=(2, 9, 16)).astype("float32")
    layer = MultiHeadSelfAttention(16, 4, implementation="fused")
    mask = attention_mask_from_padding(batch["padding_mask"])
    out = keras.ops.convert_to_numpy(layer(x, attention_mask=mask))
    assert seen == [(2, 1, 9, 9)]
    np.testing.assert_allclose(out, _numpy_attention(x, layer, keras.ops.convert_to_numpy(mask))[0], atol=1e-5)

    # JAX's own cuDNN layout check (CPU-safe; it is what refused the old mask shape).
    cudnn = pytest.importorskip("jax._src.cudnn.fused_attention_stablehlo")
    import jax.numpy as jnp

    q = jnp.zeros((2, 9, 4, 8), jnp.bfloat16)

    def check(mask_shape):
        bias = cudnn.combine_bias_and_mask(None, jnp.ones(mask_shape, bool), jnp.bfloat16)
        cudnn.check_layout(q, q, q, bias, None, None, None, None, None, None, cudnn.AttentionLayout.BTNH)

    check(seen[0])
    with pytest.raises(ValueError, match="same seq length"):
        check((2, 1, 1, 9))
