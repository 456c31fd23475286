"""`keras-bert finetune`: options out of range, bad labels, long CSV fields and incomplete QA records are
one-line errors naming the option / file:line / record; an interrupted run resumes only with the options
and data it was started with (refused otherwise, naming each difference; --restart starts over)."""

import json
import os
from types import SimpleNamespace

import pytest

from keras_bert.cli import main
from keras_bert.finetune import classify, common, qa

TINY = ["--checkpoint", "none", "--preset", "tiny", "--sequence-length", "16", "--batch-size", "8"]
ROWS = [("a great film", "pos"), ("loved it", "pos"), ("a dull mess", "neg"), ("i hated it", "neg")] * 3


def _csv(path, rows, header=("text", "label")):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "0", "--epochs must be a positive integer, got 0"),
    ("--epochs", "-1", "--epochs must be a positive integer, got -1"),
    ("--batch-size", "0", "--batch-size must be a positive integer, got 0"),
    ("--max-train", "-5", "--max-train must be a positive number of rows, got -5"),
    ("--threshold", "2", "--threshold must be a probability in (0, 1), got 2.0"),
    ("--learning-rate", "-1e-3", "--learning-rate must be a positive number, got -0.001"),
    ("--learning-rate", "nan", "--learning-rate must be a positive number, got nan"),
    ("--dropout", "1", "--dropout must be in [0, 1), got 1.0"),
    ("--sequence-length", "2", "--sequence-length must be at least 3 ([CLS], a token, [SEP]), got 2"),
    ("--seed", "-1", "--seed must be an integer in [0, 2^32), got -1"),
])
def test_options_out_of_range_are_one_line(tmp_path, capsys, option, value, message):
    train = _csv(tmp_path / "t.csv", ROWS)
    out = tmp_path / "run"
    assert main(["finetune", "classify", "--train", train, "--output-dir", str(out), *TINY, f"{option}={value}"]) == 1
    err = capsys.readouterr().err
    assert err == f"keras-bert finetune: error: {message}\n"
    assert not (out / "model.keras").exists()


def test_qa_options_are_checked_too(tmp_path, capsys):
    assert main(["finetune", "qa", "--train", str(tmp_path / "x.jsonl"), "--n-best", "0", *TINY]) == 1
    assert "--n-best must be a positive integer, got 0" in capsys.readouterr().err


def _labels(tmp_path, name, text, **options):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = SimpleNamespace(label_column="label", regression=False, multi_label=False, label_delimiter=",",
                           **options)
    return classify.encode_labels(args, common.read_records(str(path)), None)


def test_numeric_labels_of_mixed_types_are_one_class(tmp_path):
    rows = ['{"text": "a", "label": 1}', '{"text": "b", "label": "1"}', '{"text": "c", "label": 1.0}',
            '{"text": "d", "label": "2"}', '{"text": "e", "label": " 2.0 "}', '{"text": "f", "label": 10}']
    names, y, _ = _labels(tmp_path, "m.jsonl", "\n".join(rows))
    assert names == ["1", "2", "10"] and y.tolist() == [0, 0, 0, 1, 1, 2]
    names, y, _ = _labels(tmp_path, "b.jsonl", '{"label": true}\n{"label": false}\n{"label": "0.5"}\n')
    assert names == ["0.5", "false", "true"] and y.tolist() == [2, 1, 0]


@pytest.mark.parametrize("name, text, message", [
    ("e.csv", "text,label\na,pos\nb,\nc,neg\n", "e.csv:3: empty label in column 'label'"),
    ("s.csv", "text,label\na,pos\nb,\"  \"\n", "s.csv:3: empty label in column 'label'"),
    ("n.jsonl", '{"label": "pos"}\n\n{"label": null}\n', "n.jsonl:3: empty label (null) in column 'label'"),
    ("l.jsonl", '{"label": "pos"}\n{"label": ["a", "b"]}\n', "l.jsonl:2: label ['a', 'b'] in column 'label' "
                                                            "must be text or a number, got list (several labels "
                                                            "per row need --multi-label)"),
])
def test_bad_labels_name_file_and_line(tmp_path, name, text, message):
    with pytest.raises(ValueError) as info:
        _labels(tmp_path, name, text)
    assert str(info.value).startswith(f"{tmp_path / name}{message[len(name):]}")


def test_csv_fields_longer_than_the_csv_module_default(tmp_path):
    review = "a long review " * 20000  # 280,000 characters; csv's default limit is 131,072
    records = common.read_records(_csv(tmp_path / "long.csv", [(review, "pos"), ("short", "neg")]))
    assert records[0]["text"] == review and records.where(1) == f"{tmp_path / 'long.csv'}:3"


@pytest.mark.parametrize("record, message", [
    ({"context": "c", "qas": [{"id": "q1", "answers": []}]},
     "data[0].paragraphs[0].qas[0]: missing field 'question'; fields: ['answers', 'id']"),
    ({"qas": [{"question": "q", "answers": []}]}, "data[0].paragraphs[0]: missing field 'context'; fields: ['qas']"),
    ({"context": "c", "qas": [{"question": "q", "answers": [{"answer_start": 0}]}]},
     "data[0].paragraphs[0].qas[0]: answers[0]: missing field 'text'"),
    ({"context": "c", "qas": [{"question": "q", "answers": [{"text": "c", "answer_start": "0"}]}]},
     "data[0].paragraphs[0].qas[0]: answers[0]: field 'answer_start' must be an integer, got str"),
    ({"context": 3, "qas": []}, "data[0].paragraphs[0]: field 'context' must be text, got int"),
])
def test_squad_records_missing_fields_are_named(tmp_path, record, message):
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [record]}]}))
    with pytest.raises(ValueError) as info:
        qa.read_examples(str(path))
    assert str(info.value).startswith(f"{path}: {message}")


def test_qa_json_lines_answers_are_checked(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "q", "context": "c", "answers": []}\n'
                    '{"question": "q", "context": "c", "answers": [{"text": "c"}]}\n')
    with pytest.raises(ValueError, match=rf"^{path}:2: answers\[0\]: missing field 'answer_start'"):
        qa.read_examples(str(path))
    path.write_text('{"question": "q", "context": "c", "answers": {"text": ["c"], "answer_start": [0, 1]}}\n')
    with pytest.raises(ValueError, match=rf"^{path}:1: answers has 1 texts but 2 answer_start values"):
        qa.read_examples(str(path))


def _args(tmp_path, **changes):
    values = dict(command="finetune", task="classify", train=_csv(tmp_path / "t.csv", ROWS), eval=None,
                  output_dir=str(tmp_path / "run"), epochs=2, batch_size=8, seed=0, restart=False, export=None)
    values.update(changes)
    return SimpleNamespace(**values)


def _fake_backup(args):
    """A backup as an interrupted run leaves it: a checkpoint folder and the run's manifest."""
    common.prepare_output(args, log=lambda m: None)
    os.makedirs(os.path.join(args.output_dir, "backup", "ckpt-000000001"))


def test_restart_discards_a_mismatched_backup(tmp_path):
    _fake_backup(_args(tmp_path))
    with pytest.raises(ValueError, match=r"--epochs 2 then, 3 now.*--restart to start over"):
        common.prepare_output(_args(tmp_path, epochs=3), log=lambda m: None)
    logged = []
    common.prepare_output(_args(tmp_path, epochs=3, restart=True), log=logged.append)
    backup = tmp_path / "run" / "backup"
    assert logged == [f"--restart: discarding the interrupted run's backup in {backup}"]
    assert os.listdir(backup) == ["run.json"]
    assert json.loads((backup / "run.json").read_text())["options"]["epochs"] == 3
    os.makedirs(backup / "ckpt-000000001")
    (backup / "run.json").unlink()  # a backup nobody can vouch for
    with pytest.raises(ValueError, match="no readable run.json"):
        common.prepare_output(_args(tmp_path, epochs=3), log=lambda m: None)


def test_interrupted_finetune_resumes_only_with_the_same_options_and_data(tmp_path, capsys, monkeypatch):
    from keras_bert.training.callbacks import EpochBackup

    train = _csv(tmp_path / "t.csv", ROWS)
    out = tmp_path / "run"
    vocab = tmp_path / "vocab.txt"  # a small embedding table: less to train and to back up
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\ngreat\nfilm\nloved\nit\ndull\nmess\ni\nhated\n")
    command = ["finetune", "classify", "--train", train, "--output-dir", str(out), *TINY, "--vocab", str(vocab),
               "--batch-size", "12", "--epochs", "2"]
    original = EpochBackup.on_epoch_end

    def killed_after_first_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(EpochBackup, "on_epoch_end", killed_after_first_epoch)
    with pytest.raises(KeyboardInterrupt):
        main(command)
    monkeypatch.setattr(EpochBackup, "on_epoch_end", original)
    backup = out / "backup"
    assert sorted(os.listdir(backup)) == ["ckpt-000000001", "latest", "run.json"]
    capsys.readouterr()

    assert main([*command[:-1], "3"]) == 1  # other options: refused, naming the difference
    err = capsys.readouterr().err
    assert "--epochs 2 then, 3 now" in err and "--restart" in err and err.count("\n") == 1
    other = _csv(tmp_path / "other.csv", ROWS[::-1])
    assert main([*command[:3], other, *command[4:]]) == 1  # other data
    assert "the --train file's content differs" in capsys.readouterr().err
    moved = tmp_path / "moved.csv"
    os.rename(train, moved)  # the same data elsewhere is the same run
    assert main([*command[:3], str(moved), *command[4:]]) == 0
    stdout = capsys.readouterr().out
    assert f"Resuming from {backup / 'ckpt-000000001'}: 1 of 2 epochs done." in stdout
    assert "Epoch 2/2" in stdout and "Epoch 1/2" not in stdout
    assert (out / "model.keras").is_file() and not backup.exists()
