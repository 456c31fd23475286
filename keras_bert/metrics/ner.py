"""Entity-level precision / recall / F1 for tag sequences, compatible with seqeval's default mode.

Chunks follow seqeval's `get_entities` (the conlleval.pl rules): a chunk
starts at B-/S-, at I-/E- after O, E- or S-, and wherever the entity type
changes; it ends before B-/S-/O after B-/I-, after E-/S-, and at a type
change. So "O I-PER I-PER" is one PER entity and "B-PER I-LOC" two. Lists of
sentences are joined with an "O" between them. Scores are micro-averaged over
entities matched exactly (type, first token, last token), like
`seqeval.metrics.f1_score(y_true, y_pred)`. Pure Python, no TensorFlow.
"""

from collections import defaultdict


def _split(tag):
    prefix = tag[0]
    entity = tag[1:].split("-", maxsplit=1)[-1] or "_"
    return prefix, entity


def _end_of_chunk(prev_tag, tag, prev_type, type_):
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != type_


def _start_of_chunk(prev_tag, tag, prev_type, type_):
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag not in ("O", ".") and prev_type != type_


def get_entities(tags):
    """[(type, first index, last index)] of the chunks in `tags` (a list, or a list of lists)."""
    if any(isinstance(t, (list, tuple)) for t in tags):
        tags = [t for sentence in tags for t in [*sentence, "O"]]
    prev_tag, prev_type, begin, chunks = "O", "", 0, []
    for i, chunk in enumerate([*tags, "O"]):
        tag, type_ = _split(str(chunk))
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


def _prf(n_correct, n_pred, n_true):
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_scores(y_true, y_pred):
    """Micro precision/recall/F1 over entities, plus per-type scores.

    `y_true`, `y_pred`: lists of sentences (lists of tag strings) of equal
    lengths. Returns {"precision", "recall", "f1", "num_true", "num_pred",
    "num_correct", "per_type": {type: {"precision", "recall", "f1", "support"}}}.
    A score with a zero denominator is 0 (seqeval's zero_division=0).
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} sentences but y_pred has {len(y_pred)}")
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        if len(t) != len(p):
            raise ValueError(f"sentence {i}: {len(t)} true tags but {len(p)} predicted tags")
    true = set(get_entities([list(s) for s in y_true]))
    pred = set(get_entities([list(s) for s in y_pred]))
    correct = true & pred
    counts = defaultdict(lambda: [0, 0, 0])  # correct, predicted, true
    for entity_set, k in ((correct, 0), (pred, 1), (true, 2)):
        for entity in entity_set:
            counts[entity[0]][k] += 1
    per_type = {}
    for type_ in sorted(counts):
        c, p, t = counts[type_]
        precision, recall, f1 = _prf(c, p, t)
        per_type[type_] = {"precision": precision, "recall": recall, "f1": f1, "support": t}
    precision, recall, f1 = _prf(len(correct), len(pred), len(true))
    return {"precision": precision, "recall": recall, "f1": f1, "num_true": len(true), "num_pred": len(pred),
            "num_correct": len(correct), "per_type": per_type}


def f1_score(y_true, y_pred):
    """Micro entity F1 (seqeval's default `f1_score`)."""
    return entity_scores(y_true, y_pred)["f1"]
