"""The real, licensed data sets shipped with the package (see keras_bert/data/README.md)."""

import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
MOVIE_SNIPPETS = os.path.join(DATA_DIR, "sentiment", "movieReviewSnippets_GroundTruth.txt")
UNCASED_VOCAB = os.path.join(DATA_DIR, "vocab-uncased.txt")


def read_rated_sentences(path=MOVIE_SNIPPETS):
    """[(id, score, text)] from a VADER ground-truth file (`id<TAB>score<TAB>text`, CRLF)."""
    rows = []
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            parts = line.split("\t", 2)
            if len(parts) != 3:
                raise ValueError(f"{path}:{number}: expected id<TAB>score<TAB>text")
            rows.append((parts[0], float(parts[1]), parts[2]))
    return rows


def movie_sentiment(task="binary", path=MOVIE_SNIPPETS):
    """Train/test splits of the movie snippets, as defined for comparable figures.

    Line i (0-based) is test when i % 5 == 0. `task`: "binary" (score > 0.5
    positive, < -0.5 negative, the rest left out), "three" (negative < -0.5 <=
    neutral <= 0.5 < positive) or "regression" (the score). Returns
    `(train_texts, train_y), (test_texts, test_y), labels`.
    """
    if task not in ("binary", "three", "regression"):
        raise ValueError(f"task must be binary, three or regression, got {task!r}")
    splits = {"train": ([], []), "test": ([], [])}
    for i, (_, score, text) in enumerate(read_rated_sentences(path)):
        if task == "binary":
            if -0.5 <= score <= 0.5:
                continue
            y = int(score > 0.5)
        elif task == "three":
            y = 0 if score < -0.5 else (2 if score > 0.5 else 1)
        else:
            y = score
        texts, ys = splits["test" if i % 5 == 0 else "train"]
        texts.append(text)
        ys.append(y)
    labels = {"binary": ["negative", "positive"], "three": ["negative", "neutral", "positive"],
              "regression": None}[task]
    return splits["train"], splits["test"], labels
