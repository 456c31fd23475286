"""Parity with keras-hub: a BertBackbone converted by from_keras_hub gives keras-hub's outputs."""

import numpy as np
import pytest

keras_hub = pytest.importorskip("keras_hub")

from keras_bert.checkpoints.keras_hub import from_keras_hub, rows  # noqa: E402

CONFIGS = {
    # name: (vocab, layers, heads, hidden, intermediate, max positions, segments)
    "2x64h4": (100, 2, 4, 64, 128, 64, 2),
    "1x32h2": (30, 1, 2, 32, 48, 16, 3),
    "3x48h6": (50, 3, 6, 48, 96, 32, 2),
}


def _backbone(name, seed=0):
    vocab, layers, heads, hidden, intermediate, max_len, segments = CONFIGS[name]
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=vocab, num_layers=layers, num_heads=heads, hidden_dim=hidden,
        intermediate_dim=intermediate, max_sequence_length=max_len, num_segments=segments, dropout=0.1)
    # Every weight random, biases and LayerNorm included, so any mapping slip shows.
    rng = np.random.default_rng(seed)
    for w in backbone.weights:
        value = rng.normal(0.0, 0.2, w.shape)
        if w.path.endswith("gamma"):
            value += 1.0
        w.assign(value.astype("float32"))
    return backbone


def _batch(backbone, seq_len, lengths, seed=1):
    rng = np.random.default_rng(seed)
    # At least one real token per row: on a fully padded row keras-hub's masked softmax
    # gives all-zero attention, ours (like transformers) uniform attention.
    lengths = np.clip(np.asarray(lengths), 1, seq_len)
    padding = (np.arange(seq_len)[None, :] < lengths[:, None]).astype("int32")
    tokens = rng.integers(1, backbone.vocabulary_size, (len(lengths), seq_len)).astype("int32") * padding
    segments = rng.integers(0, backbone.num_segments, (len(lengths), seq_len)).astype("int32") * padding
    return {"token_ids": tokens, "segment_ids": segments, "padding_mask": padding}


def _outputs(model, batch):
    return {k: np.asarray(v) for k, v in model(batch, training=False).items()}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def pair(request):
    backbone = _backbone(request.param)
    return backbone, from_keras_hub(backbone)


def test_config_and_weights_are_mapped(pair):
    backbone, encoder = pair
    config = encoder.config
    assert (config.vocab_size, config.num_layers, config.num_heads, config.hidden_size,
            config.intermediate_size, config.max_position_embeddings, config.type_vocab_size) == \
        (backbone.vocabulary_size, backbone.num_layers, backbone.num_heads, backbone.hidden_dim,
         backbone.intermediate_dim, backbone.max_sequence_length, backbone.num_segments)
    assert config.hidden_act == "gelu_tanh" and config.layer_norm_epsilon == 1e-12
    assert config.dropout == config.attention_dropout == 0.1
    # Every keras-hub weight feeds exactly one table row; every one of ours is filled.
    sources = [s for _, src, _ in rows(config.num_layers) for s in (src if isinstance(src, tuple) else (src,))]
    assert sorted(sources) == sorted(w.path for w in backbone.weights)
    assert sorted(r[0] for r in rows(config.num_layers)) == sorted(w.path for w in encoder.weights)
    assert sum(int(np.prod(w.shape)) for w in backbone.weights) == encoder.count_params()


@pytest.mark.parametrize("seq_len", [1, 5, 13, "max"])
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")  # seq_len 1
def test_outputs_match_on_padded_batches(pair, seq_len):
    backbone, encoder = pair
    seq_len = backbone.max_sequence_length if seq_len == "max" else seq_len
    assert seq_len <= backbone.max_sequence_length
    # Rows with different amounts of padding (one row is a lone [CLS]).
    batch = _batch(backbone, seq_len, lengths=[seq_len, seq_len - 3, 1, seq_len // 2 + 1])
    theirs, ours = _outputs(backbone, batch), _outputs(encoder, batch)
    assert ours["sequence_output"].shape == (4, seq_len, backbone.hidden_dim)
    # All positions: both models mask padded keys only, so padded queries agree too.
    np.testing.assert_allclose(ours["sequence_output"], theirs["sequence_output"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(ours["pooled_output"], theirs["pooled_output"], atol=1e-5, rtol=0)


def test_compiled_predict_matches(pair):
    backbone, encoder = pair
    batch = _batch(backbone, 12, lengths=[12, 7, 2], seed=3)
    theirs = backbone.predict(batch, verbose=0)
    ours = encoder.predict(batch, verbose=0)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(ours[key], theirs[key], atol=1e-5, rtol=0)


def test_comparison_is_sensitive_to_a_swapped_projection():
    # Guard against a vacuous parity test: swapping query and key changes the outputs.
    backbone = _backbone("2x64h4")
    encoder = from_keras_hub(backbone)
    qkv = encoder.get_layer("transformer_layer_1").attention.qkv.kernel
    q, k, v = np.split(np.asarray(qkv.value), 3, axis=-1)
    qkv.assign(np.concatenate([k, q, v], axis=-1))
    batch = _batch(backbone, 9, lengths=[9, 4])
    diff = np.abs(_outputs(encoder, batch)["sequence_output"] - _outputs(backbone, batch)["sequence_output"])
    assert diff.max() > 1e-2


def test_task_models_and_wrong_types():
    import keras

    backbone = _backbone("1x32h2")
    classifier = keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=None)
    encoder = from_keras_hub(classifier)  # its .backbone
    batch = _batch(backbone, 6, lengths=[6, 3])
    np.testing.assert_allclose(_outputs(encoder, batch)["pooled_output"],
                               _outputs(backbone, batch)["pooled_output"], atol=1e-5, rtol=0)
    with pytest.raises(TypeError, match="BertBackbone"):
        from_keras_hub(keras.Sequential([keras.layers.Dense(2)]))
