"""`keras-bert quantize | distill | prune | export-onnx | export-litert` on a small model and real movie snippets."""

import csv
import json
import shutil

import keras
import numpy as np
import pytest
from compression_helpers import UNCASED_VOCAB, small_classifier

from keras_bert.cli import main


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, movie_texts):
    """A small classifier saved as model.keras with vocab.txt beside it, and train/eval CSVs of real snippets."""
    root = tmp_path_factory.mktemp("cli")
    model = small_classifier(seed=7, hidden_size=64, num_layers=2)
    model.save(root / "model.keras")
    shutil.copyfile(UNCASED_VOCAB, root / "vocab.txt")
    train_x, train_y, test_x, test_y = movie_texts
    for name, texts, labels, n in (("train.csv", train_x, train_y, 96), ("eval.csv", test_x, test_y, 48)):
        with open(root / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            for text, label in list(zip(texts, labels))[::37][:n]:
                writer.writerow([text, model.labels[label]])
    return root


def _inputs():
    ids = np.array([[101, 2023, 2143, 2001, 2307, 102], [101, 6659, 102, 0, 0, 0]], "int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": (ids > 0).astype("int32")}


def test_quantize_writes_a_quarter_size_model(workdir):
    out = workdir / "int8" / "model.keras"
    assert main(["quantize", str(workdir / "model.keras"), "--out", str(out), "--compute-dtype", "float32"]) == 0
    assert out.stat().st_size < 0.3 * (workdir / "model.keras").stat().st_size
    assert (workdir / "int8" / "vocab.txt").exists()
    reloaded = keras.saving.load_model(out)
    original = keras.saving.load_model(workdir / "model.keras")
    np.testing.assert_allclose(reloaded.predict_on_batch(_inputs()), original.predict_on_batch(_inputs()), atol=0.05)
    assert main(["quantize", str(workdir / "model.keras"), "--out", str(workdir / "bf16.keras"),
                 "--mode", "bfloat16"]) == 0
    assert (workdir / "bf16.keras").stat().st_size < 0.55 * (workdir / "model.keras").stat().st_size


def test_distill_and_prune_write_models_and_metrics(workdir):
    assert main(["distill", "--teacher", str(workdir / "model.keras"), "--student", "1",
                 "--train", str(workdir / "train.csv"), "--eval", str(workdir / "eval.csv"), "--epochs", "1",
                 "--sequence-length", "32", "--output-dir", str(workdir / "distilled")]) == 0
    metrics = json.loads((workdir / "distilled" / "metrics.json").read_text())
    assert metrics["num_train"] == 96 and 0 <= metrics["eval"]["accuracy"] <= 1
    assert metrics["student_parameters"] < metrics["teacher_parameters"]
    student = keras.saving.load_model(workdir / "distilled" / "model.keras")
    assert student.encoder.config.num_layers == 1 and (workdir / "distilled" / "vocab.txt").exists()
    assert metrics["augment"] == 0 and metrics["num_augmented"] == 0

    assert main(["distill", "--teacher", str(workdir / "model.keras"), "--student", "1", "--augment", "2",
                 "--train", str(workdir / "train.csv"), "--epochs", "1", "--sequence-length", "32",
                 "--output-dir", str(workdir / "augmented")]) == 0
    metrics = json.loads((workdir / "augmented" / "metrics.json").read_text())
    assert metrics["num_train"] == 96 and 96 < metrics["num_augmented"] <= 192

    assert main(["prune", str(workdir / "model.keras"), "--keep-layers", "1", "--prune-heads", "0.25",
                 "--importance-examples", "32", "--train", str(workdir / "train.csv"), "--eval",
                 str(workdir / "eval.csv"), "--epochs", "1", "--sequence-length", "32",
                 "--output-dir", str(workdir / "pruned")]) == 0
    metrics = json.loads((workdir / "pruned" / "metrics.json").read_text())
    assert metrics["layers_out"] == 1 and sum(map(len, metrics["pruned_heads"].values())) == 1
    assert {"eval_before", "eval_pruned", "eval"} <= set(metrics)


def test_export_formats(workdir):
    pytest.importorskip("tf2onnx")
    assert main(["export-onnx", str(workdir / "model.keras"), "--out", str(workdir / "m.onnx"), "--int8"]) == 0
    assert main(["export-litert", str(workdir / "model.keras"), "--out", str(workdir / "m.tflite"), "--int8"]) == 0
    float_bytes = (workdir / "model.keras").stat().st_size  # int8 files: about a quarter of the float weights
    assert 0 < (workdir / "m.onnx").stat().st_size < 0.35 * float_bytes
    assert 0 < (workdir / "m.tflite").stat().st_size < 0.35 * float_bytes


def test_bad_inputs_stop_with_one_line_naming_the_problem(workdir, capsys):
    bad = workdir / "bad.csv"
    bad.write_text("text,label\nfine film,positive\nawful,neutral\n", encoding="utf-8")
    assert main(["distill", "--teacher", str(workdir / "model.keras"), "--student", "1", "--train", str(bad)]) == 1
    assert "bad.csv:3: label 'neutral' is not one of the model's labels" in capsys.readouterr().err
    assert main(["distill", "--teacher", str(workdir / "model.keras"), "--student", "huge",
                 "--train", str(workdir / "train.csv")]) == 1
    assert "--student 'huge'" in capsys.readouterr().err
    assert main(["distill", "--teacher", str(workdir / "model.keras"), "--student", "1", "--augment", "-1",
                 "--train", str(workdir / "train.csv")]) == 1
    assert "--augment must be >= 0" in capsys.readouterr().err
    assert main(["quantize", str(workdir / "missing.keras"), "--out", str(workdir / "x.keras")]) == 1
    assert "model not found" in capsys.readouterr().err
