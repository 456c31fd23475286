"""Entity-level metrics; expectations derived by hand from seqeval 1.2.2's (conlleval) chunk rules."""

import pytest

from keras_bert.metrics.ner import entity_scores, f1_score, get_entities


@pytest.mark.parametrize("tags, expected", [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),   # seqeval's docstring example
    (["O", "I-PER", "I-PER", "O"], [("PER", 1, 2)]),                      # I- after O starts a chunk
    (["I-PER", "B-PER"], [("PER", 0, 0), ("PER", 1, 1)]),
    (["B-PER", "B-PER"], [("PER", 0, 0), ("PER", 1, 1)]),
    (["B-PER", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 1)]),                 # a type change splits
    (["S-LOC", "B-PER", "I-PER", "E-PER", "E-PER"], [("LOC", 0, 0), ("PER", 1, 3), ("PER", 4, 4)]),
    (["O", "E-PER", "S-PER", "I-PER"], [("PER", 1, 1), ("PER", 2, 2), ("PER", 3, 3)]),
    (["O", "O"], []),
    ([["B-PER"], ["I-PER", "O"]], [("PER", 0, 0), ("PER", 2, 2)]),       # sentences joined with an O
])
def test_get_entities(tags, expected):
    assert get_entities(tags) == expected


def test_scores_match_seqeval_readme_example():
    y_true = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    y_pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    scores = entity_scores(y_true, y_pred)
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.5, 0.5, 0.5)
    assert scores["per_type"]["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert scores["per_type"]["MISC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_micro_scores_and_per_type():
    # true: PER(0,1) LOC(3,3) ORG(5,5); pred: PER(0,1) ORG(3,3) ORG(5,6) -> 1 correct of 3 and 3.
    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    y_pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG"]]
    scores = entity_scores(y_true, y_pred)
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(1 / 3)
    assert (scores["num_true"], scores["num_pred"], scores["num_correct"]) == (3, 3, 1)
    assert scores["per_type"]["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    # Recall 2/3, precision 2/2: F1 = 2 * 1 * 2/3 / (1 + 2/3) = 0.8.
    assert f1_score([["B-PER", "O", "B-LOC", "S-ORG"]], [["B-PER", "O", "O", "S-ORG"]]) == pytest.approx(0.8)
    assert f1_score([["O"]], [["O"]]) == 0.0


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="sentence 0: 2 true tags but 1 predicted"):
        entity_scores([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="y_true has 1 sentences but y_pred has 2"):
        entity_scores([["O"]], [["O"], ["O"]])
