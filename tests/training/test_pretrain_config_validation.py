"""Pretraining config: every key and range checked with a message naming the key (a typo under `data:`
was ignored, learning_rate=-1 trained, keep_checkpoints=0 kept every checkpoint); YAML / JSON errors
and a missing data.tfrecords are one line naming the file."""

import pytest

from keras_bert.cli import main
from keras_bert.training.pretrain import DEFAULTS, load_config, run_pretraining

BASE = ["data.tfrecords=some/dir"]


def _keys():
    for key, value in DEFAULTS.items():
        if key == "model":
            continue
        if isinstance(value, dict):
            yield from (f"{key}.{sub}" for sub in value)
        else:
            yield key


@pytest.mark.parametrize("key", sorted(_keys()))
def test_every_key_is_checked_and_named(key):
    with pytest.raises(ValueError, match=rf"^{key.replace('.', '[.]')} must be "):
        load_config(None, [*BASE, f"{key}={{x: 1}}"])  # a mapping is the wrong type for every key


@pytest.mark.parametrize("override, message", [
    ("data.maks_rate=0.2", "unknown key(s) under data: maks_rate"),
    ("learning_rate=-1", "learning_rate must be a positive number, got -1"),
    ("keep_checkpoints=0", "keep_checkpoints must be a positive integer, got 0"),
    ("data.mask_rate=1.5", "data.mask_rate must be a finite number in (0, 1), got 1.5"),
    ("warmup_ratio=1", "warmup_ratio must be a finite number in [0, 1), got 1"),
    ("weight_decay=-0.1", "weight_decay must be a non-negative number"),
    ("clipnorm=0", "clipnorm must be a positive number or null, got 0"),
    ("learning_rate=.nan", "learning_rate must be a positive number, got nan"),
    ("data.whole_word=1", "data.whole_word must be true or false or null, got 1"),
    ("data.segmentation=stanza", "data.segmentation must be one of spaces, jieba, got 'stanza'"),
    ("optimizer=sgd", "optimizer must be one of adamw, lamb, got 'sgd'"),
    ("precision=fp16", "precision must be one of float32, mixed_float16, mixed_bfloat16"),
    ("model.hiden_size=64", "unknown key(s) under model: hiden_size"),
    ("model.dropout='0.1'", "model: BertConfig.dropout must be a finite number, got '0.1'"),
    ("model.preset=huge", "model.preset must be one of tiny"),
    ("data=3", "data must be a mapping"),
])
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]").replace(".", "[.]")):
        load_config(None, [*BASE, override])


def test_good_values_pass():
    config = load_config(None, [*BASE, "clipnorm=null", "warmup_steps=0", "verbose=2", "data.text=[a.txt]",
                                "data.tfrecords=null", "data.vocab=v.txt"])
    assert config["clipnorm"] is None and config["data"]["text"] == ["a.txt"]


def test_file_errors_are_one_line_naming_the_file(tmp_path, capsys):
    cases = {
        "syntax.yaml": ("steps: 10\ndata: {tfrecords: x\n", "syntax.yaml:3: not valid YAML"),
        "tag.yaml": ("steps: !!python/object/apply:os.system ['true']\n",
                     "tag.yaml:1: not valid YAML: could not determine a constructor for the tag"),
        "bad.json": ('{"steps": 10,\n "data": }\n', "bad.json:2: not valid JSON (Expecting value, column 10)"),
        "list.json": ("[1, 2]", "list.json: expected a mapping of config keys, got a JSON list"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ValueError, match="^" + str(tmp_path).replace(".", "[.]") + "/" +
                           message.replace("(", r"\(").replace(")", r"\)").replace(".", "[.]")):
            load_config(str(path))
        assert main(["pretrain", "--config", str(path)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and name in err and "Traceback" not in err, err


def test_missing_tfrecords_is_named_as_such(tmp_path, capsys):
    missing = str(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=f"data.tfrecords: no TFRecord files at '{missing}'"):
        run_pretraining(load_config(None, [f"data.tfrecords={missing}", f"output_dir={tmp_path / 'out'}"]))
    assert not (tmp_path / "out").exists()  # refused before anything was written
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "a.tfrecord").write_bytes(b"")
    assert main(["pretrain", f"data.tfrecords={tmp_path / 'shards'}", f"output_dir={tmp_path / 'out'}"]) == 1
    assert "has no vocab.txt" in capsys.readouterr().err
