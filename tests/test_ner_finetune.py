"""`keras-bert finetune tag`: CoNLL in, model.keras + metrics.json + SavedModel out."""

import json
import os

import keras
import pytest
import tensorflow as tf

from keras_bert.cli import main

DATA = os.path.join(os.path.dirname(__file__), "data", "ner")


@pytest.mark.slow
def test_finetune_tag_cli_trains_saves_and_exports(tmp_path):
    out = tmp_path / "run"
    code = main(["finetune", "tag", "--train", os.path.join(DATA, "train.conll"),
                 "--eval", os.path.join(DATA, "test.conll"), "--checkpoint", "none", "--crf", "--scheme", "BIOES",
                 "--crf-lr-multiplier", "20", "--epochs", "1", "--batch-size", "32", "--sequence-length", "32", "--output-dir", str(out),
                 "--export", str(tmp_path / "export")])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["crf"] is True and metrics["scheme"] == "BIOES" and metrics["num_train"] == 90
    assert metrics["eval_num_true"] == 50  # the B- tags in test.conll
    assert 0.0 <= metrics["eval_f1"] <= 1.0
    labels = (out / "labels.txt").read_text().split()
    assert labels == ["O"] + [f"{p}-{t}" for t in ("LOC", "ORG", "PER") for p in "BIES"]
    model = keras.saving.load_model(str(out / "model.keras"))
    assert model.labels == labels and model.use_crf
    assert metrics["crf_lr_multiplier"] == model.crf.learning_rate_multiplier == 20.0
    # BIOES constraints: nothing may follow B-LOC but I-LOC / E-LOC.
    allowed = {(labels[a], labels[b]) for a, b in model.crf.allowed_transitions}
    assert {b for a, b in allowed if a == "B-LOC"} == {"I-LOC", "E-LOC"}
    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["serving_default"](
        text=tf.constant(["Anna Schmidt lives in Vienna."]))
    assert served["token_labels"].shape[0] == 1


@pytest.mark.parametrize("content, message, extra", [
    ("Peter B-PER\nParis B-LOC\n\nBerlin X-LOC\n", "sentence 2: tag 0 ('X-LOC') is not a BIOES tag", []),
    ("Peter O\nParis O\n", "no entity tags found", []),
    ("Peter B-PER\nParis B-LOC\n", "--crf-lr-multiplier must be > 0, got -1.0", ["--crf", "--crf-lr-multiplier", "-1"]),
])
def test_bad_training_files_are_reported(tmp_path, capsys, content, message, extra):
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    assert main(["finetune", "tag", "--train", str(path), "--checkpoint", "none",
                 "--output-dir", str(tmp_path / "o"), *extra]) == 1
    assert message in capsys.readouterr().err
