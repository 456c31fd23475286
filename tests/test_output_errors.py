"""Outputs that cannot be written (full disk, a file where a folder should be): one line naming the file
and the problem, no traceback, nothing half-written left."""

import errno
import os

import pytest

from keras_bert.cli import main

TESTS = os.path.dirname(os.path.abspath(__file__))
TINY = os.path.join(TESTS, "data", "checkpoints", "tf1_tiny_checkpoint")


def _full_disk(monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_full_disk_during_convert_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    _full_disk(monkeypatch)
    out = tmp_path / "hf"
    assert main(["convert", TINY, str(out), "--to", "huggingface"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("keras-bert convert: error: [Errno 28] No space left on device: '") and err.count("\n") == 1
    assert "config.json" in err and os.listdir(tmp_path) == []


def test_an_output_folder_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    train = tmp_path / "t.csv"
    train.write_text("text,label\na,pos\nb,neg\n")
    out = tmp_path / "afile" / "run"
    assert main(["finetune", "classify", "--train", str(train), "--output-dir", str(out), "--checkpoint", "none"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("keras-bert finetune: error: [Errno 20] Not a directory: '") and str(out) in err
    assert err.count("\n") == 1


def test_a_full_disk_while_checkpointing_names_the_checkpoint(tmp_path, monkeypatch):
    import keras

    from keras_bert.training.callbacks import write_checkpoint

    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)
    _full_disk(monkeypatch)
    with pytest.raises(OSError) as info:
        write_checkpoint(str(tmp_path), model, {"step": 3})
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "ckpt-000000003")
    assert os.listdir(tmp_path) == []
