import json

import pytest

from keras_bert import BertConfig


def test_presets_match_published_sizes():
    # Turc et al. 2019 (L, H) and Devlin et al. 2018: heads = H / 64, FFN = 4H.
    expected = {"tiny": (2, 128, 2, 512), "mini": (4, 256, 4, 1024), "small": (4, 512, 8, 2048),
                "medium": (8, 512, 8, 2048), "base": (12, 768, 12, 3072), "large": (24, 1024, 16, 4096)}
    for name, (layers, hidden, heads, ffn) in expected.items():
        c = BertConfig.preset(name)
        assert (c.num_layers, c.hidden_size, c.num_heads, c.intermediate_size) == (layers, hidden, heads, ffn)
        assert c.vocab_size == 30522 and c.max_position_embeddings == 512


def test_json_round_trip(tmp_path):
    c = BertConfig.preset("mini", hidden_act="gelu_tanh", position_embedding_type="sinusoidal", dropout=0.0)
    path = tmp_path / "config.json"
    c.to_json(str(path))
    assert json.loads(path.read_text())["hidden_act"] == "gelu_tanh"
    assert BertConfig.from_json(str(path)) == c
    assert BertConfig.from_json(c.to_json()) == c


@pytest.mark.parametrize("changes, message", [
    (dict(hidden_size=100, num_heads=12), "divisible by num_heads"),
    (dict(num_layers=0), "num_layers must be a positive integer"),
    (dict(vocab_size=2.5), "vocab_size must be an integer, got 2.5"),
    (dict(num_layers=True), "num_layers must be an integer, got True"),
    (dict(dropout="0.1"), "dropout must be a finite number, got '0.1' (str)"),
    (dict(layer_norm_epsilon=None), "layer_norm_epsilon must be a finite number, got None"),
    (dict(initializer_range=float("nan")), "initializer_range must be a finite number, got nan"),
    (dict(hidden_act=["gelu"]), "hidden_act must be a string, got ['gelu']"),
    (dict(pad_token_id="0"), "pad_token_id must be an integer, got '0'"),
    (dict(pad_token_id=-1), "pad_token_id (-1) must be in [0, vocab_size)"),
    (dict(dropout=1.0), "dropout must be in [0, 1)"),
    (dict(hidden_act="gelu_fast"), "hidden_act must be one of"),
    (dict(position_embedding_type="rotary"), "position_embedding_type must be one of"),
    (dict(attention_implementation="flash"), "attention_implementation must be one of"),
    (dict(layer_norm_epsilon=0), "layer_norm_epsilon"),
])
def test_bad_configs_name_the_problem(changes, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        BertConfig(**changes)


def test_unknown_field_and_preset_are_errors():
    with pytest.raises(ValueError, match="Unknown BertConfig field.*hiden_size"):
        BertConfig.from_dict({"hiden_size": 12})
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        BertConfig.preset("huge")


def test_every_field_has_a_declared_type():
    import dataclasses

    from keras_bert.config import FIELD_KINDS

    assert set(FIELD_KINDS) == {f.name for f in dataclasses.fields(BertConfig)}


def test_from_json_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(ValueError, match="JSON object / dict of fields, got list"):
        BertConfig.from_json("[1, 2]")
    with pytest.raises(ValueError, match=r"BertConfig JSON: not valid JSON \(Expecting"):
        BertConfig.from_json('{"vocab_size": }')
    bad = tmp_path / "bert.json"
    bad.write_text('{"vocab_size": 100,')
    with pytest.raises(ValueError, match=f"{bad}:1: not valid JSON"):
        BertConfig.from_json(str(bad))
    bad.write_text('{"dropout": "0.1"}')
    with pytest.raises(ValueError, match=f"{bad}: BertConfig.dropout must be a finite number"):
        BertConfig.from_json(bad)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        BertConfig.from_json(str(tmp_path / "missing.json"))
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + BertConfig(num_layers=1).to_json().encode())
    assert BertConfig.from_json(str(bom)).num_layers == 1
