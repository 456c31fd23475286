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
    (dict(vocab_size=2.5), "vocab_size must be a positive integer"),
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
