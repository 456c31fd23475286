"""Truncated or damaged checkpoint files (TF1 .index/.data, safetensors, .keras, config JSON) and a vocab
with a byte-order mark: `keras-bert convert` prints one line naming the file and the problem."""

import os
import shutil

import pytest

from checkpoint_test_utils import TINY
from keras_bert.cli import main


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    assert main(["convert", TINY, str(root / "hf"), "--to", "huggingface"]) == 0
    assert main(["convert", TINY, str(root / "keras"), "--to", "keras"]) == 0
    return {"google": TINY, "huggingface": str(root / "hf"), "keras": str(root / "keras")}


def _truncate(path, fraction=0.5):
    with open(path, "r+b") as f:
        f.truncate(int(os.path.getsize(path) * fraction))


def _flip(path, position):
    data = bytearray(open(path, "rb").read())
    data[position] ^= 0xFF
    open(path, "wb").write(bytes(data))


DATA = "bert_model.ckpt.data-00000-of-00001"
CASES = {
    "index truncated": ("google", lambda d: _truncate(f"{d}/bert_model.ckpt.index"),
                        "bert_model.ckpt.index: unreadable TensorFlow checkpoint index, truncated or corrupt"),
    "index flipped": ("google", lambda d: _flip(f"{d}/bert_model.ckpt.index", 2000),
                      "bert_model.ckpt.index: unreadable TensorFlow checkpoint index, truncated or corrupt"),
    "data truncated": ("google", lambda d: _truncate(f"{d}/{DATA}"),
                       f"{DATA}: unreadable TensorFlow checkpoint data, truncated or corrupt"),
    "data flipped": ("google", lambda d: _flip(f"{d}/{DATA}", 4000),
                     f"{DATA}: unreadable TensorFlow checkpoint data, truncated or corrupt"),
    "bert_config torn": ("google", lambda d: open(f"{d}/bert_config.json", "w").write('{"vocab_size": 5,'),
                         "bert_config.json:1: not valid JSON"),
    "bert_config key": ("google", lambda d: open(f"{d}/bert_config.json", "w").write('{"vocab_size": 99}'),
                        "bert_config.json: missing key 'hidden_size'"),
    "safetensors truncated": ("huggingface", lambda d: _truncate(f"{d}/model.safetensors"),
                              "model.safetensors: not a readable safetensors file, truncated or corrupt"),
    "safetensors header": ("huggingface", lambda d: _truncate(f"{d}/model.safetensors", 0.001),
                           "model.safetensors: not a readable safetensors file, truncated or corrupt"),
    "config type": ("huggingface", lambda d: open(f"{d}/config.json", "w").write('[1, 2]'),
                    "config.json: expected a config.json object, got a JSON list"),
    "keras truncated": ("keras", lambda d: _truncate(f"{d}/model.keras"),
                        "model.keras: not a readable .keras file, truncated or corrupt"),
    "keras flipped": ("keras", lambda d: _flip(f"{d}/model.keras", 200),
                      "model.keras: not a readable .keras file, corrupt"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_corrupt_files_are_one_line_naming_the_file(sources, tmp_path, capsys, case):
    kind, damage, message = CASES[case]
    folder = tmp_path / "src"
    shutil.copytree(sources[kind], folder)
    damage(str(folder))
    out = tmp_path / "out"
    assert main(["convert", str(folder), str(out), "--to", "huggingface" if kind != "huggingface" else "google"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"keras-bert convert: error: {folder}/{message}") and err.count("\n") == 1, err
    assert not out.exists()


def test_vocab_with_a_byte_order_mark_loads(tmp_path):
    from keras_bert.text import load_vocab

    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello"]
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(tokens).encode() + b"\n")
    assert load_vocab(str(path)) == tokens
