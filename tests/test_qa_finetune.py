"""`keras-bert finetune qa` end to end on the hand-written QA set (tests/data/qa), plus input reading."""

import json
import os

import pytest

from keras_bert.cli import main
from keras_bert.finetune.qa import read_examples
from keras_bert.metrics.squad import squad_scores

DATA = os.path.join(os.path.dirname(__file__), "data", "qa")
TRAIN = os.path.join(DATA, "train.jsonl")


def _rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.mark.slow
def test_tiny_model_learns_the_training_questions_with_doc_stride(tmp_path):
    # Windows of 64 tokens with questions of up to 32 leave ~45 context tokens: the long contexts
    # (up to ~230 tokens) need several windows, 24 tokens apart.
    out = tmp_path / "run"
    rc = main(["finetune", "qa", "--train", TRAIN, "--eval", TRAIN, "--checkpoint", "none", "--sequence-length",
               "64", "--stride", "24", "--epochs", "30", "--batch-size", "16", "--learning-rate", "1e-3",
               "--output-dir", str(out), "--export", str(tmp_path / "export")])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    rows = _rows(TRAIN)
    assert metrics["num_train_windows"] > 2 * len(rows) and metrics["null_threshold"] == 0.0
    baseline = squad_scores(["" for _ in rows], [r["answers"] for r in rows])  # everything unanswerable
    assert metrics["eval"]["squad_version"] == "2.0"
    assert metrics["eval"]["exact_match"] > baseline["exact_match"] + 50, metrics["eval"]
    assert metrics["eval"]["f1"] > baseline["f1"] + 50
    assert os.path.exists(out / "model.keras") and os.listdir(out / "logs")

    # The served model answers with character offsets of the original (non-ASCII) contexts.
    import tensorflow as tf

    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["serving_default"]
    result = served(question=tf.constant([r["question"] for r in rows]),
                    context=tf.constant([r["context"] for r in rows]))
    predictions = json.loads((out / "predictions.json").read_text())
    right = 0
    for i, r in enumerate(rows):
        answer = result["answer"][i].numpy().decode("utf-8")
        start, end = int(result["answer_start"][i]), int(result["answer_end"][i])
        assert r["context"][start:end] == answer and predictions[r["id"]] == answer
        if r["answers"]["text"] and answer == r["answers"]["text"][0]:
            right += start == r["answers"]["answer_start"][0]
    assert right >= 0.5 * len(rows)
    non_ascii = [i for i, r in enumerate(rows) if r["answers"]["text"] and not r["context"][
        :r["answers"]["answer_start"][0]].isascii()]
    assert non_ascii  # answers after "ö", "É", "ü" in their contexts are part of the set


def test_reads_official_squad_json_and_checks_offsets(tmp_path):
    squad = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{
        "context": "Zoë lives in Kraków.",
        "qas": [{"id": "q1", "question": "Where?", "answers": [{"text": "Kraków", "answer_start": 13}],
                 "is_impossible": False},
                {"id": "q2", "question": "When?", "answers": [], "is_impossible": True}]}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    examples = read_examples(str(path))
    assert [(e["id"], e["answers"]["text"]) for e in examples] == [("q1", ["Kraków"]), ("q2", [])]

    squad["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 12
    path.write_text(json.dumps(squad), encoding="utf-8")
    rc = main(["finetune", "qa", "--train", str(path), "--checkpoint", "none", "--output-dir",
               str(tmp_path / "out")])
    assert rc == 1  # "answer 'Kraków' is not at character 12", naming data[0].paragraphs[0].qas[0]


def test_reads_jsonl_with_answer_lists(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"question": "Who?", "context": "Ann ran.",
                                "answers": [{"text": "Ann", "answer_start": 0}]}) + "\n"
                    + json.dumps({"question": "Who?", "context": "x"}) + "\n", encoding="utf-8")
    examples = read_examples(str(path))
    assert examples[0]["answers"] == {"text": ["Ann"], "answer_start": [0]}
    assert examples[1]["answers"] == {"text": [], "answer_start": []}
    path.write_text(json.dumps({"question": "Who?"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"qa.jsonl:1: needs a text field 'context'"):
        read_examples(str(path))
