import keras
import numpy as np
import pytest

from keras_bert.layers import BertEmbeddings, BertPooler, MaskedLMHead, NextSentenceHead
from keras_bert.layers.masked_lm_head import _project_on_table


def _np(v):
    return keras.ops.convert_to_numpy(v)


def test_pooler_is_tanh_dense_on_first_token():
    x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    pooler = BertPooler(8)
    out = _np(pooler(x))
    expected = np.tanh(x[:, 0] @ _np(pooler.dense.kernel) + _np(pooler.dense.bias))
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_masked_lm_head_gathers_positions_and_ties_embeddings():
    rng = np.random.default_rng(1)
    embeddings = BertEmbeddings(vocab_size=30, hidden_size=8, max_positions=16)
    ids = np.zeros((2, 6), "int32")
    embeddings(ids, ids)
    head = MaskedLMHead(30, 8, activation="gelu", token_embedding=embeddings)
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    positions = np.array([[1, 4], [0, 5]], "int32")
    logits = _np(head(x, positions))
    assert logits.shape == (2, 2, 30)
    full = _np(head(x))
    np.testing.assert_allclose(logits[0, 1], full[0, 4], atol=1e-5)
    np.testing.assert_allclose(logits[1, 0], full[1, 0], atol=1e-5)
    # Tied: no own output kernel; changing the token table changes the logits.
    assert [w.path.split("/")[-1] for w in head.weights if "output" in w.path] == ["output_bias"]
    embeddings.token_embeddings.assign(embeddings.token_embeddings * 2.0)
    assert np.abs(_np(head(x, positions)) - logits).max() > 1e-3


def test_untied_head_and_nsp_head_serialise():
    head = MaskedLMHead(30, 8, activation="gelu_tanh")
    x = np.ones((1, 3, 8), "float32")
    assert head(x).shape == (1, 3, 30)
    assert any(w.path.endswith("output_kernel") for w in head.weights)
    clone = MaskedLMHead.from_config(head.get_config())
    assert clone.get_config() == head.get_config()
    nsp = NextSentenceHead()
    assert nsp(np.ones((4, 8), "float32")).shape == (4, 2)
    assert NextSentenceHead.from_config(nsp.get_config()).get_config() == nsp.get_config()


def test_tied_projection_gradients_match_autodiff_of_einsum(value_and_grads):
    # The tied projection writes out its gradients (see _project_on_table): check them.
    rng = np.random.default_rng(2)
    h, table = rng.normal(size=(5, 8)).astype("float32"), rng.normal(size=(30, 8)).astype("float32")
    bias, weights = rng.normal(size=30).astype("float32"), rng.normal(size=(5, 30)).astype("float32")

    def plain(h, table, bias):
        return keras.ops.sum((keras.ops.einsum("th,vh->tv", h, table) + bias) * weights)

    value, grads = value_and_grads(lambda *a: keras.ops.sum(_project_on_table(*a) * weights), h, table, bias)
    ref_value, ref_grads = value_and_grads(plain, h, table, bias)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5)
    np.testing.assert_allclose(grads[1], weights.T @ h, rtol=1e-5, atol=1e-5)  # numpy: d table
    for got, want in zip(grads, ref_grads):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_masked_lm_head_gradient_reaches_only_the_masked_positions(value_and_grads):
    # Rows of [B*S, H] are gathered: compare with autodiff through Keras' take_along_axis,
    # a position repeated within a sequence included (its gradients add up).
    rng = np.random.default_rng(3)
    embeddings = BertEmbeddings(vocab_size=30, hidden_size=8, max_positions=16)
    embeddings(np.zeros((2, 6), "int32"))
    head = MaskedLMHead(30, 8, activation="gelu", token_embedding=embeddings)
    positions = np.array([[1, 4], [3, 3]], "int32")
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    weights = rng.normal(size=(2, 2, 30)).astype("float32")
    table = keras.ops.convert_to_tensor(embeddings.token_embeddings)

    def plain(seq):
        h = keras.ops.take_along_axis(seq, positions[:, :, None], axis=1)
        h = head.layer_norm(keras.activations.gelu(head.transform(h), approximate=False))
        return keras.ops.sum((keras.ops.einsum("bph,vh->bpv", h, table) + head.output_bias) * weights)

    value, (grad,) = value_and_grads(lambda seq: keras.ops.sum(head(seq, positions) * weights), x)
    ref_value, (ref_grad,) = value_and_grads(plain, x)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-5, atol=1e-6)
    touched = np.abs(grad).max(-1) > 0
    np.testing.assert_array_equal(touched, [[0, 1, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0]])


def test_masked_lm_head_rejects_positions_outside_the_sequence():
    embeddings = BertEmbeddings(vocab_size=30, hidden_size=8, max_positions=16)
    embeddings(np.zeros((2, 6), "int32"))
    head = MaskedLMHead(30, 8, token_embedding=embeddings)
    x = np.random.default_rng(4).normal(size=(2, 6, 8)).astype("float32")
    for bad in (6, -1):  # 6 would otherwise be row 0 of the next sequence
        positions = np.array([[1, bad], [0, 2]], "int32")
        if keras.backend.backend() == "tensorflow":
            with pytest.raises(Exception, match="not in \\[0, 12\\)"):
                _np(head(x, positions))
        else:  # JAX's gathers do not check bounds: NaN, never another sequence's logits
            assert np.isnan(_np(head(x, positions))[0, 1]).all()
