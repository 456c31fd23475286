import os

import keras
import numpy as np
import pytest

import keras_bert
from keras_bert import BertConfig, BertEncoder
from keras_bert.models import BertPretrainer

TINY = BertConfig(vocab_size=120, hidden_size=16, num_layers=2, num_heads=4, intermediate_size=32,
                  max_position_embeddings=32, dropout=0.0, attention_dropout=0.0)


def _np(v):
    return keras.ops.convert_to_numpy(v)


def _inputs(batch, seq, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, seq + 1, size=batch)
    lengths[0] = seq
    mask = (np.arange(seq)[None] < lengths[:, None]).astype("int32")
    return {"token_ids": rng.integers(1, TINY.vocab_size, size=(batch, seq)).astype("int32") * mask,
            "segment_ids": (np.arange(seq)[None] >= lengths[:, None] // 2).astype("int32") * mask,
            "padding_mask": mask}


@pytest.mark.parametrize("batch, seq", [(1, 1), (3, 7), (2, 32)])
def test_any_batch_and_length_up_to_max(batch, seq):
    out = BertEncoder(TINY)(_inputs(batch, seq))
    assert tuple(out["sequence_output"].shape) == (batch, seq, 16)
    assert tuple(out["pooled_output"].shape) == (batch, 16)


def test_over_long_input_names_the_limit():
    with pytest.raises(ValueError, match="exceeds max_positions=32"):
        BertEncoder(TINY)(_inputs(1, 33))


def test_padded_rows_equal_unpadded_runs():
    encoder = BertEncoder(TINY)
    x = _inputs(4, 12, seed=3)
    padded = _np(encoder(x)["sequence_output"])
    for row in range(4):
        n = int(x["padding_mask"][row].sum())
        single = {k: v[row:row + 1, :n] for k, v in x.items()}
        alone = _np(encoder(single)["sequence_output"])[0]
        np.testing.assert_allclose(padded[row, :n], alone, atol=1e-5)


def test_all_layer_outputs_and_attention_scores():
    encoder = keras_bert.bert_encoder(TINY, output_all_layers=True)
    x = _inputs(2, 6)
    out = encoder(x)
    assert len(out["encoder_outputs"]) == 2
    np.testing.assert_allclose(_np(out["encoder_outputs"][-1]), _np(out["sequence_output"]))
    scores = encoder.attention_scores(x)
    assert len(scores) == 2 and tuple(scores[0].shape) == (2, 4, 6, 6)
    # A functional model: sub-graphs can be cut out of it.
    embed = keras.Model(encoder.inputs, encoder.get_layer("embeddings").output)
    assert tuple(embed(x).shape) == (2, 6, 16)


def test_keras_file_reloads_without_custom_objects(tmp_path):
    encoder = keras_bert.bert_encoder(TINY.replace(hidden_act="gelu_tanh",
                                                   position_embedding_type="sinusoidal"))
    x = _inputs(3, 10)
    path = str(tmp_path / "encoder.keras")
    encoder.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded, BertEncoder) and reloaded.config == encoder.config
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(_np(reloaded(x)[key]), _np(encoder(x)[key]))


def test_pretrainer_reload_keeps_tied_embeddings(tmp_path):
    pretrainer = BertPretrainer(BertEncoder(TINY))
    x = dict(_inputs(2, 8), mask_positions=np.array([[1, 3], [2, 0]], "int32"))
    out = pretrainer(x)
    assert tuple(out["mlm"].shape) == (2, 2, TINY.vocab_size) and tuple(out["nsp"].shape) == (2, 2)
    path = str(tmp_path / "pretrainer.keras")
    pretrainer.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(_np(reloaded(x)["mlm"]), _np(out["mlm"]))
    assert reloaded.mlm_head.token_embedding is reloaded.encoder.embeddings
    assert len(reloaded.weights) == len(pretrainer.weights)


def test_preset_names_and_dtype_policy():
    encoder = keras_bert.bert_encoder("tiny", dtype="mixed_bfloat16")
    assert encoder.config.num_layers == 2 and encoder.config.hidden_size == 128
    assert all(layer.dtype_policy.name == "mixed_bfloat16" for layer in encoder.transformer_layers)
    out = encoder(_inputs(2, 5))
    assert keras.backend.standardize_dtype(out["sequence_output"].dtype) == "bfloat16"
    assert np.isfinite(_np(keras.ops.cast(out["pooled_output"], "float32"))).all()


def test_model_code_is_backend_neutral():
    """layers/, models/ and losses.py must not touch TensorFlow: they also run on JAX."""
    root = os.path.dirname(keras_bert.__file__)
    files = [os.path.join(folder, name) for folder in ("layers", "models")
             for name in os.listdir(os.path.join(root, folder)) if name.endswith(".py")] + ["losses.py"]
    offenders = []
    for path in files:
        text = open(os.path.join(root, path), encoding="utf-8").read()
        if "import tensorflow" in text or "from tensorflow" in text or " tf." in text:
            offenders.append(path)
    assert offenders == []
