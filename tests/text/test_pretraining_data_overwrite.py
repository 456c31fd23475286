"""`keras-bert pretraining-data --out DIR`: a non-empty DIR is refused unless --overwrite, and a sibling
`DIR.old` is never touched (it used to be deleted with exit 0)."""

import os

from keras_bert.cli import main
from tests.text.conftest import SAMPLE_TEXT, UNCASED_VOCAB


def test_refuses_a_non_empty_folder_and_never_touches_siblings(tmp_path, capsys):
    out = tmp_path / "records"
    out.mkdir()
    (out / "corpus.txt").write_text("my only copy\n")
    old = tmp_path / "records.old"
    old.mkdir()
    (old / "notes.txt").write_text("keep me\n")
    args = ["pretraining-data", SAMPLE_TEXT, "--vocab", UNCASED_VOCAB, "--out", str(out), "--max-length", "32",
            "--quiet"]

    assert main(args) != 0
    err = capsys.readouterr().err
    assert f"--out {out} is not empty" in err and "corpus.txt" in err and "--overwrite" in err
    assert (out / "corpus.txt").read_text() == "my only copy\n"

    assert main([*args, "--overwrite"]) == 0
    assert "metadata.json" in os.listdir(out) and not (out / "corpus.txt").exists()
    assert (old / "notes.txt").read_text() == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == ["records", "records.old"]

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*args[:-4], str(empty), "--max-length", "32", "--quiet"]) == 0
    (tmp_path / "afile").write_text("x")
    assert main([*args[:-4], str(tmp_path / "afile"), "--quiet"]) != 0
    assert "is a file" in capsys.readouterr().err
