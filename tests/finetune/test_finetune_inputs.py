"""Input files, label encoding and metrics of `keras-bert finetune` (no training)."""

import argparse
import json

import numpy as np
import pytest

from keras_bert.finetune import classify, common
from keras_bert.finetune import metrics as M


def _write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def test_read_csv_tsv_jsonl_with_line_numbers(tmp_path):
    csv_path = _write(tmp_path / "a.csv", '\ufefftext,label\n"multi\nline, quoted",pos\nplain,neg\n')
    rows = common.read_records(csv_path)
    assert [dict(r) for r in rows] == [{"text": "multi\nline, quoted", "label": "pos"},
                                       {"text": "plain", "label": "neg"}]
    assert rows.where(1) == f"{csv_path}:4"  # the quoted newline makes the second row start on line 4
    tsv = common.read_records(_write(tmp_path / "a.tsv", "text\tlabel\nhi, there\tpos\n"))
    assert tsv[0] == {"text": "hi, there", "label": "pos"}
    jsonl = common.read_records(_write(tmp_path / "a.jsonl", '{"text": "x", "label": ["a", "b"]}\n\n{"text": "y"}\n'))
    assert jsonl[0]["label"] == ["a", "b"] and jsonl.line_numbers == [1, 3]


@pytest.mark.parametrize("name, data, message", [
    ("e.csv", "", r"e\.csv is empty"),
    ("e.jsonl", "\n  \n", r"e\.jsonl is empty"),
    ("h.csv", "text,label\n", "has no data rows"),
    ("u.csv", b"text,label\nfine,pos\ncaf\xe9,neg\n", r"u\.csv:3: not valid UTF-8 \(byte 0xe9\)"),
    ("j.jsonl", '{"text": "a"}\n{"text": \n', r"j\.jsonl:2: not a JSON object"),
    ("l.jsonl", '["a", "b"]\n', r"l\.jsonl:1: expected a JSON object"),
    ("s.csv", "text,label\na,b,c\n", r"s\.csv:2: has 3 fields where the header has 2"),
    ("x.parquet", "abc", "unknown file type"),
])
def test_bad_files_name_the_problem(tmp_path, name, data, message):
    with pytest.raises(ValueError, match=message):
        common.read_records(_write(tmp_path / name, data))


def test_missing_file_and_column(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        common.read_records(str(tmp_path / "nope.csv"))
    rows = common.read_records(_write(tmp_path / "a.csv", "sentence,label\nhi,pos\n"))
    with pytest.raises(ValueError, match=r"a\.csv:2: no column 'text'; columns: \['label', 'sentence'\]"):
        common.column(rows, "text")


def _args(**kw):
    base = {"label_column": "label", "regression": False, "multi_label": False, "label_delimiter": ","}
    return argparse.Namespace(**{**base, **kw})


def test_labels_single_multi_and_regression(tmp_path):
    train = common.read_records(_write(tmp_path / "t.csv", "text,label\na,10\nb,2\nc,10\n"))
    names, y, _ = classify.encode_labels(_args(), train, None)
    assert names == ["2", "10"] and y.tolist() == [1, 0, 1]  # numeric labels sort as numbers

    rows = [{"text": "a", "label": ["x", "y"]}, {"text": "b", "label": "[\"z\"]"}, {"text": "c", "label": "y, z"},
            {"text": "d", "label": ""}]
    train = common.read_records(_write(tmp_path / "m.jsonl", "\n".join(json.dumps(r) for r in rows)))
    names, y, _ = classify.encode_labels(_args(multi_label=True), train, None)
    assert names == ["x", "y", "z"]
    assert y.tolist() == [[1, 1, 0], [0, 0, 1], [0, 1, 1], [0, 0, 0]]

    train = common.read_records(_write(tmp_path / "r.csv", "text,label\na,1.5\nb,-2\n"))
    assert classify.encode_labels(_args(regression=True), train, None)[1].tolist() == [1.5, -2.0]
    bad = common.read_records(_write(tmp_path / "rb.csv", "text,label\na,1.5\nb,high\n"))
    with pytest.raises(ValueError, match=r"rb\.csv:3: --regression needs a number in column 'label', got 'high'"):
        classify.encode_labels(_args(regression=True), bad, None)


def test_unknown_eval_label_and_single_class_are_named(tmp_path):
    train = common.read_records(_write(tmp_path / "t.csv", "text,label\na,pos\nb,neg\n"))
    evaluation = common.read_records(_write(tmp_path / "e.csv", "text,label\nc,pos\nd,neutral\n"))
    with pytest.raises(ValueError, match=r"e\.csv:3: label 'neutral' does not occur in the training data"):
        classify.encode_labels(_args(), train, evaluation)
    one = common.read_records(_write(tmp_path / "o.csv", "text,label\na,pos\nb,pos\n"))
    with pytest.raises(ValueError, match="1 distinct label"):
        classify.encode_labels(_args(), one, None)


def test_single_label_metrics_by_hand():
    # classes 0,1,2; true [0,0,1,1,2,2], predicted [0,1,1,1,2,0]
    out = M.single_label([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3)
    # class 0: tp 1 fp 1 fn 1 -> F1 0.5; class 1: tp 2 fp 1 fn 0 -> 0.8; class 2: tp 1 fp 0 fn 1 -> 2/3
    np.testing.assert_allclose(out["per_class_f1"], [0.5, 0.8, 2 / 3])
    assert out["accuracy"] == pytest.approx(4 / 6)
    assert out["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert out["majority_accuracy"] == pytest.approx(2 / 6)


def test_multi_label_and_regression_metrics_by_hand():
    true = [[1, 0], [1, 1], [0, 1]]
    pred = [[1, 1], [1, 0], [0, 1]]
    out = M.multi_label(true, pred)
    # label 0: tp 2 fp 0 fn 0 -> 1.0; label 1: tp 1 fp 1 fn 1 -> 0.5; micro: tp 3 fp 1 fn 1 -> 0.75
    assert out["micro_f1"] == pytest.approx(0.75)
    assert out["macro_f1"] == pytest.approx(0.75)
    assert out["exact_match"] == pytest.approx(1 / 3)
    r = M.regression([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0])
    assert r["pearson_r"] == pytest.approx(1.0)
    assert r["mse"] == pytest.approx((1 + 4 + 9 + 16) / 4)
    assert r["mean_baseline_mse"] == pytest.approx(1.25)
    assert M.regression([1.0, 2.0, 3.0], [1.0, 0.0, 1.0])["pearson_r"] == pytest.approx(0.0, abs=1e-12)
