"""SQuAD v1.1 and v2.0 exact match and F1, normalised exactly as the official evaluation scripts.

Answers are lower-cased, punctuation (`string.punctuation`) removed, the
articles a/an/the removed and whitespace collapsed; each prediction takes
the maximum over its gold answers; totals are percentages.

v1.1 (`evaluate-v1.1.py`): gold answers used as given; F1 is 0 when the
prediction and gold share no token (including both empty).
v2.0 (`evaluate-v2.0.py`): gold answers that normalise to "" are dropped and
a question with none left is unanswerable (gold = ""); F1 is 1 when both
sides are empty, 0 when only one is. Also reports HasAns_/NoAns_ splits.
"""

import collections
import re
import string

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(s):
    """Lower-case, drop punctuation, drop articles, collapse whitespace (official order)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCTUATION)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction, gold):
    return int(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction, gold, version=2):
    """Token-overlap F1 of one prediction against one gold answer (0..1)."""
    pred_tokens = normalize_answer(prediction).split() if (prediction or version == 1) else []
    gold_tokens = normalize_answer(gold).split() if (gold or version == 1) else []
    if version != 1 and (not pred_tokens or not gold_tokens):
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_texts(answers):
    """Gold answer strings from ["..."], {"text": [...]} or [{"text": ...}, ...] (SQuAD JSON)."""
    if answers is None:
        return []
    if isinstance(answers, str):
        return [answers]
    if isinstance(answers, dict):
        texts = answers.get("text", [])
        return [texts] if isinstance(texts, str) else list(texts)
    return [a["text"] if isinstance(a, dict) else a for a in answers]


def squad_scores(predictions, references, version=2):
    """EM and F1 (percent) of `predictions` [str] against `references` (gold answers per question).

    `references[i]`: the gold answers of question i in any layout `gold_texts`
    reads; empty = unanswerable (v2.0). Returns {"exact_match", "f1",
    "total"} and for v2.0 also "HasAns_exact", "HasAns_f1", "HasAns_total",
    "NoAns_exact", "NoAns_f1", "NoAns_total" (splits only when non-empty).
    """
    if version not in (1, 2):
        raise ValueError(f"version must be 1 (SQuAD v1.1) or 2 (SQuAD v2.0); got {version!r}")
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if not predictions:
        raise ValueError("no predictions to score")
    rows = []
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        if not isinstance(pred, str):
            raise TypeError(f"predictions[{i}] must be a str, got {type(pred).__name__}")
        golds = gold_texts(ref)
        has_answer = bool(golds)  # as the official script: any gold answer given, even one normalising to ""
        if version == 2:
            golds = [g for g in golds if normalize_answer(g)] or [""]
        elif not golds:
            raise ValueError(f"references[{i}] has no gold answer; SQuAD v1.1 needs one (use version=2)")
        rows.append((max(exact_match(pred, g) for g in golds), max(f1(pred, g, version) for g in golds),
                     has_answer))

    def summary(subset, prefix=""):
        n = len(subset)
        return {f"{prefix}exact" if prefix else "exact_match": 100.0 * sum(r[0] for r in subset) / n,
                f"{prefix}f1": 100.0 * sum(r[1] for r in subset) / n, f"{prefix}total": n}

    result = summary(rows)
    if version == 2:
        for prefix, keep in (("HasAns_", True), ("NoAns_", False)):
            subset = [r for r in rows if r[2] is keep]
            if subset:
                result.update(summary(subset, prefix))
    return result
