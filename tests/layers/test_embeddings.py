import math

import keras
import numpy as np
import pytest

from keras_bert.layers import BertEmbeddings


def _layer(**kw):
    args = dict(vocab_size=50, hidden_size=8, max_positions=16, type_vocab_size=2, dropout=0.0)
    args.update(kw)
    return BertEmbeddings(**args)


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_learned_embeddings_match_numpy(batch):
    layer = _layer(vocab_size=100)
    out = keras.ops.convert_to_numpy(layer(batch["token_ids"], batch["segment_ids"]))
    tok, pos, seg = (keras.ops.convert_to_numpy(w) for w in
                     (layer.token_embeddings, layer.position_embeddings, layer.segment_embeddings))
    s = batch["token_ids"].shape[1]
    expected = tok[batch["token_ids"]] + pos[None, :s] + seg[batch["segment_ids"]]
    expected = _layer_norm(expected, 1.0, 0.0, 1e-12)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_sinusoidal_positions_follow_vaswani():
    layer = _layer(position_embedding_type="sinusoidal", hidden_size=6)
    ids = np.zeros((1, 5), "int32")
    layer(ids, ids)
    table = keras.ops.convert_to_numpy(layer._positions(5))
    for p in range(5):
        for i in range(3):
            angle = p / 10000 ** (2 * i / 6)
            assert table[p, 2 * i] == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[p, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-6)
    assert not any("position" in w.path for w in layer.weights)


def test_over_long_sequence_is_a_clear_error():
    layer = _layer()
    ids = np.zeros((1, 17), "int32")
    with pytest.raises(ValueError, match="Sequence length 17 exceeds max_positions=16"):
        layer(ids, ids)


def test_config_round_trip_and_dropout_only_in_training():
    layer = _layer(dropout=0.5, position_embedding_type="sinusoidal")
    clone = BertEmbeddings.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    ids = np.ones((2, 6), "int32")
    a = keras.ops.convert_to_numpy(layer(ids, ids, training=False))
    b = keras.ops.convert_to_numpy(layer(ids, ids, training=False))
    np.testing.assert_array_equal(a, b)
    c = keras.ops.convert_to_numpy(layer(ids, ids, training=True))
    assert (c == 0).mean() > 0.2
