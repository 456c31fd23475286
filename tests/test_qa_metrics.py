"""SQuAD EM/F1 against values derived by hand from the official scripts' rules."""

import pytest

from keras_bert.metrics.squad import exact_match, f1, normalize_answer, squad_scores


@pytest.mark.parametrize("raw, normalized", [
    ("The  Quick, brown fox!", "quick brown fox"),
    ("an apple a day", "apple day"),
    ("Theater", "theater"),          # articles only as whole words
    ("a-b", "ab"),                   # punctuation removed before splitting
    ("l'Amour\tÉté", "lamour été"),  # non-ASCII letters kept, lower-cased
    ("", ""),
])
def test_normalize_answer(raw, normalized):
    assert normalize_answer(raw) == normalized


def test_exact_match_and_f1():
    assert exact_match("The Broncos.", "broncos") == 1
    # [cat, sat, on, mat] vs [cat, on, mat]: P = 3/4, R = 1, F1 = 6/7.
    assert f1("the cat sat on the mat", "a cat on a mat") == pytest.approx(6 / 7)
    assert f1("cat cat", "cat") == pytest.approx(2 * 0.5 * 1 / 1.5)  # multiset overlap: 1 common token
    assert f1("dog", "cat") == 0.0
    assert f1("", "", version=2) == 1.0 and f1("", "", version=1) == 0.0
    assert f1("the", "", version=2) == 1.0  # "the" normalises to nothing: both sides empty


def test_squad_v2_scores_with_unanswerable_questions():
    predictions = ["Denver Broncos", "", "the early 1990s", "Paris"]
    references = [{"text": ["Denver Broncos", "Broncos"], "answer_start": [0, 7]}, {"text": [], "answer_start": []},
                  [{"text": "1990s"}, {"text": "in the 1990s"}], []]
    # q1 EM 1 F1 1; q2 no answer and "" predicted: 1, 1; q3 "early 1990s" vs "1990s": EM 0, F1 2/3
    # (vs "in 1990s" only 1/2); q4 no answer but "Paris" predicted: 0, 0.
    scores = squad_scores(predictions, references, version=2)
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (2 + 2 / 3) / 4)
    assert scores["total"] == 4
    assert scores["HasAns_exact"] == pytest.approx(50.0) and scores["HasAns_f1"] == pytest.approx(100 * 5 / 6)
    assert scores["NoAns_exact"] == pytest.approx(50.0) and scores["NoAns_f1"] == pytest.approx(50.0)
    assert scores["HasAns_total"] == 2 and scores["NoAns_total"] == 2


def test_squad_v1_scores():
    scores = squad_scores(["Denver Broncos", "the early 1990s"], [["Broncos", "Denver Broncos"], ["1990s"]],
                          version=1)
    assert scores == pytest.approx({"exact_match": 50.0, "f1": 100 * (1 + 2 / 3) / 2, "total": 2})
    with pytest.raises(ValueError, match="has no gold answer; SQuAD v1.1 needs one"):
        squad_scores(["x"], [[]], version=1)


@pytest.mark.parametrize("args, error, message", [
    ((["a"], [["a"], ["b"]]), ValueError, "1 predictions for 2 references"),
    (([], []), ValueError, "no predictions"),
    (([None], [["a"]]), TypeError, r"predictions\[0\] must be a str"),
])
def test_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        squad_scores(*args)
