"""Vocabulary learning and the `vocab` / `pretraining-data` subcommands."""

import argparse
import os

import pytest
import tensorflow as tf

from keras_bert.text import BertTokenizer, learn_vocab, pretraining_dataset
from keras_bert.text.cli_commands import add_cli


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, movies):
    path = tmp_path_factory.mktemp("vocab") / "movies.txt"
    path.write_text("\n".join(movies[:800]) + "\n", encoding="utf-8")
    return str(path)


def _parser():
    parser = argparse.ArgumentParser(prog="keras-bert")
    add_cli(parser.add_subparsers(dest="command", required=True))
    return parser


def test_learned_vocab_is_usable(corpus, movies, tmp_path):
    out = tmp_path / "vocab.txt"
    vocab = learn_vocab([corpus], 500, out_file=str(out))
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert 350 < len(vocab) <= 500
    assert len(set(vocab)) == len(vocab)
    assert all(t == t.lower() for t in vocab[5:])
    tok = BertTokenizer(str(out))
    assert tok.lowercase  # detected: no upper-case entries
    ids = tok.tokenize(movies[:300]).flat_values.numpy()
    assert (ids == tok.unk_id).mean() < 0.01
    # Frequent words become single tokens.
    assert tok.tokenize("the film").numpy().tolist() == [tok.token_to_id("the"), tok.token_to_id("film")]


def test_learn_from_dataset_cased(movies):
    ds = tf.data.Dataset.from_tensor_slices(movies[:300])
    vocab = learn_vocab(ds, 300, lowercase=False, reserved_tokens=["[unused0]"])
    assert vocab[5] == "[unused0]"
    assert any(t != t.lower() for t in vocab)


def test_learn_vocab_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        learn_vocab([str(tmp_path / "missing.txt")], 100)
    with pytest.raises(ValueError, match="exceed"):
        learn_vocab([str(tmp_path / "missing.txt")], 5)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(ValueError, match="no words"):
        learn_vocab([str(empty)], 100)


def test_cli_vocab_then_pretraining_data(data_dir, tmp_path, capsys):
    parser = _parser()
    sample = os.path.join(data_dir, "sample_text.txt")
    args = parser.parse_args(["vocab", sample, "--size", "400", "--out", str(tmp_path / "v.txt")])
    assert args.func(args) == 0
    assert os.path.isfile(tmp_path / "v.txt")
    args = parser.parse_args(["pretraining-data", sample, "--vocab",
                              str(tmp_path / "v.txt"), "--out", str(tmp_path / "pt"), "--max-length", "48",
                              "--shards", "2", "--seed", "3", "--dupe-factor", "2", "--whole-word", "--quiet"])
    assert (args.max_length, args.shards, args.seed, args.dupe_factor, args.whole_word) == (48, 2, 3, 2, True)
    assert args.func(args) == 0
    assert "pairs in 2 shard(s)" in capsys.readouterr().out
    features, labels, _ = next(iter(pretraining_dataset(tmp_path / "pt", 4, seed=0)))
    assert features["token_ids"].shape[1] <= 48 and labels["nsp"].shape == (4,)


def test_cli_errors_are_reported_not_raised(tmp_path, capsys):
    parser = _parser()
    args = parser.parse_args(["pretraining-data", str(tmp_path / "none.txt"), "--vocab", str(tmp_path / "nov.txt"),
                              "--out", str(tmp_path / "o")])
    assert args.func(args) == 2
    assert "Vocabulary file not found" in capsys.readouterr().err
    args = parser.parse_args(["vocab", str(tmp_path / "none.txt"), "--size", "100", "--out", str(tmp_path / "v")])
    assert args.func(args) == 2
    assert "Corpus file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["vocab", "x.txt", "--out", "v.txt"])  # --size is required
