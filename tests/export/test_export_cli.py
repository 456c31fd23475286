"""`keras-bert export`, and the export as TF Serving's tools see it (saved_model_cli, TF1-style loading)."""

import os
import shutil
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNCASED_VOCAB = os.path.join(TESTS, "data", "text", "bert-base-uncased-vocab.txt")
# saved_model_cli does not load tensorflow-text's ops by itself; a model server must link them in too.
SMCLI = ("import sys, tensorflow_text; from tensorflow.python.tools.saved_model_cli import main; "
         "sys.argv[0] = 'saved_model_cli'; sys.exit(main())")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, classifier):
    from keras_bert.cli import main

    folder = tmp_path_factory.mktemp("cli")
    classifier.save(str(folder / "model.keras"))
    shutil.copy(UNCASED_VOCAB, folder / "vocab.txt")
    assert main(["export", str(folder / "model.keras"), "--out", str(folder / "saved" / "clf"),
                 "--sequence-length", "32"]) == 0
    return str(folder / "saved" / "clf" / "1"), folder


def smcli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run([sys.executable, "-c", SMCLI, *args], check=False, capture_output=True, text=True,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def test_cli_export_versions_and_errors(exported, capsys):
    from keras_bert.cli import main

    version_dir, folder = exported
    assert os.path.isfile(os.path.join(version_dir, "saved_model.pb"))
    assert os.listdir(os.path.join(version_dir, "assets")) == ["vocab.txt"]
    model = str(folder / "model.keras")
    assert main(["export", model, "--out", str(folder / "saved" / "clf"), "--version", "5", "--pairs"]) == 0
    assert sorted(os.listdir(folder / "saved" / "clf")) == ["1", "5"]
    assert main(["export", model, "--out", str(folder / "saved" / "clf"), "--version", "5"]) == 1
    assert "immutable" in capsys.readouterr().err

    lonely = folder / "lonely"
    lonely.mkdir()
    shutil.copy(model, lonely / "model.keras")
    assert main(["export", str(lonely / "model.keras"), "--out", str(folder / "x")]) == 1
    err = capsys.readouterr().err
    assert "--vocab" in err and os.path.join(str(lonely), "vocab.txt") in err
    assert main(["export", str(folder / "missing.keras"), "--out", str(folder / "x")]) == 1
    assert "model not found" in capsys.readouterr().err


def test_cli_rejects_unsupported_models(tmp_path, classifier, capsys):
    from keras_bert.cli import main

    classifier.encoder.save(str(tmp_path / "encoder.keras"))
    args = ["export", str(tmp_path / "encoder.keras"), "--out", str(tmp_path / "x"), "--vocab", UNCASED_VOCAB]
    assert main(args) == 1
    assert "supported: BertClassifier" in capsys.readouterr().err


def test_saved_model_cli_show_all_lists_signatures(exported):
    out = smcli("show", "--dir", exported[0], "--all")
    assert "signature_def['serving_default']" in out and "signature_def['predict_ids']" in out
    assert "inputs['text'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1)" in out
    for name in ("token_ids", "segment_ids", "padding_mask"):
        assert f"inputs['{name}'] tensor_info:\n        dtype: DT_INT32\n        shape: (-1, -1)" in out
    assert "outputs['probabilities']" in out and "outputs['labels']" in out


def test_saved_model_cli_run_on_raw_strings(exported):
    # `run` loads the SavedModel TF1-style (a Session restoring the variables), as TF Serving does.
    out = smcli("run", "--dir", exported[0], "--tag_set", "serve", "--signature_def", "serving_default",
                "--input_exprs", 'text=["a good film", ""]')
    assert "Result for output key probabilities" in out and "Result for output key labels" in out
    labels = out.split("Result for output key labels:")[1].splitlines()[1]
    assert labels.count("b'") == 2 and all(name in ("negative", "neutral", "positive")
                                           for name in labels.replace("[", "").replace("]", "")
                                           .replace("b'", "").replace("'", "").split())
