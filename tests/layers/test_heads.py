import keras
import numpy as np

from keras_bert.layers import BertEmbeddings, BertPooler, MaskedLMHead, NextSentenceHead


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
