"""Text augmentation for distillation: more inputs for the teacher to label (Tang et al., 2019).

A small student learns the teacher's function only where it sees the
teacher's outputs; a few thousand labelled sentences leave most of that
function unseen. "Distilling Task-Specific Knowledge from BERT into Simple
Neural Networks" (Tang et al., 2019, section 3.2) makes new inputs from the
training texts: each word is replaced by `[MASK]` with probability
`mask_prob`, and with probability `ngram_prob` the result is cut to a random
n-gram of it (n from 1 to `max_ngram`). The teacher's logits label the new
texts; they have no gold label (`Distiller` gives them label weight 0).
Their part-of-speech swap needs a tagger and is left out. Pure Python: no
TensorFlow, reproducible from `seed`.
"""

import random

import numpy as np


def augment_text(text, rng, mask_token="[MASK]", mask_prob=0.1, ngram_prob=0.25, max_ngram=5):
    """One augmented copy of `text` (words split on whitespace), drawn with `rng` (a `random.Random`)."""
    words = text.split()
    if not words:
        return text
    words = [mask_token if rng.random() < mask_prob else w for w in words]
    if rng.random() < ngram_prob:
        n = rng.randint(1, min(max_ngram, len(words)))
        start = rng.randint(0, len(words) - n)
        words = words[start:start + n]
    return " ".join(words)


def augment_texts(texts, copies, seed=0, mask_token="[MASK]", mask_prob=0.1, ngram_prob=0.25, max_ngram=5,
                  max_tries=4):
    """Up to `copies` new texts per text, each different from the original and from each other.

    Returns `(new_texts, source_index)`: `source_index[i]` is the position in
    `texts` that `new_texts[i]` came from. A text with few words may yield
    fewer copies (at most `max_tries * copies` draws each); empty texts yield none.
    """
    if copies < 0:
        raise ValueError(f"copies must be >= 0, got {copies}")
    for name, p in (("mask_prob", mask_prob), ("ngram_prob", ngram_prob)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {p}")
    if max_ngram < 1:
        raise ValueError(f"max_ngram must be >= 1, got {max_ngram}")
    rng = random.Random(seed)
    new_texts, source = [], []
    for i, text in enumerate(texts):
        seen = {" ".join(text.split())}
        for _ in range(max_tries * copies):
            if len(seen) > copies:
                break
            candidate = augment_text(text, rng, mask_token, mask_prob, ngram_prob, max_ngram)
            if candidate and candidate not in seen:
                seen.add(candidate)
                new_texts.append(candidate)
                source.append(i)
    return new_texts, source


def with_augmented(texts, labels, copies, seed=0, mask_token="[MASK]"):
    """(texts + copies, labels extended from each copy's source, label weights: 1 original, 0 copy).

    What `Distiller` trains on: pass `{"labels", "label_weights"}` (and the teacher's logits) as `y`.
    """
    new, source = augment_texts(texts, copies, seed=seed, mask_token=mask_token)
    labels = np.asarray(labels)
    weights = np.r_[np.ones(len(texts)), np.zeros(len(new))].astype(np.float32)
    return list(texts) + new, np.r_[labels, labels[np.asarray(source, np.int64)]].astype(np.int32), weights
