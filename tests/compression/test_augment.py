"""Distillation augmentation (Tang et al. 2019): masking and n-gram cuts, checked on hand-made cases."""

import random

import pytest

from keras_bert.compression.augment import augment_text, augment_texts, with_augmented

TEXT = "a gorgeous , witty , seductive movie ."


def test_each_rule_alone():
    words = TEXT.split()
    assert augment_text(TEXT, random.Random(0), mask_prob=1.0, ngram_prob=0.0) == " ".join(["[MASK]"] * len(words))
    assert augment_text(TEXT, random.Random(0), mask_prob=0.0, ngram_prob=0.0) == TEXT
    for seed in range(20):  # an n-gram of at most 2 words, contiguous in the original
        cut = augment_text(TEXT, random.Random(seed), mask_prob=0.0, ngram_prob=1.0, max_ngram=2)
        assert 1 <= len(cut.split()) <= 2 and f" {cut} " in f" {TEXT} "
    masked = augment_text(TEXT, random.Random(3), mask_token="[UNK]", mask_prob=0.5, ngram_prob=0.0).split()
    assert len(masked) == len(words) and all(m in (w, "[UNK]") for m, w in zip(masked, words))
    assert 0 < masked.count("[UNK]") < len(words)


def test_copies_are_new_distinct_reproducible_and_traced_to_their_source():
    texts = ["the film is a masterpiece of quiet observation", "dull", "", "bad bad movie"]
    new, source = augment_texts(texts, 3, seed=1)
    assert new and (new, source) == augment_texts(texts, 3, seed=1)
    assert augment_texts(texts, 3, seed=2) != (new, source)
    assert source == sorted(source) and 2 not in source  # nothing from the empty text
    for i in set(source):
        copies = [t for t, s in zip(new, source) if s == i]
        assert 1 <= len(copies) <= 3 and len(set(copies)) == len(copies) and texts[i] not in copies
    # "dull" can only become "[MASK]": one copy, whatever is asked
    assert [t for t, s in zip(new, source) if s == 1] in ([], ["[MASK]"])
    assert augment_texts(texts, 0) == ([], [])


@pytest.mark.parametrize("kwargs, message", [({"copies": -1}, "copies"), ({"mask_prob": 1.5}, "mask_prob"),
                                              ({"ngram_prob": -0.1}, "ngram_prob"), ({"max_ngram": 0}, "max_ngram")])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        augment_texts(["a b c"], **{"copies": 1, **kwargs})


def test_with_augmented_appends_copies_with_their_source_label_and_weight_zero():
    texts, labels = ["a truly great film", "awful , just awful"], [1, 0]
    new, source = augment_texts(texts, 2, seed=5)
    all_texts, y, weights = with_augmented(texts, labels, 2, seed=5)
    assert all_texts == texts + new and y.tolist() == labels + [labels[i] for i in source]
    assert weights.tolist() == [1.0, 1.0] + [0.0] * len(new)
    same, y0, w0 = with_augmented(texts, labels, 0)
    assert same == texts and y0.tolist() == labels and w0.tolist() == [1.0, 1.0]
