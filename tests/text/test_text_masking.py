"""MLM masking: statistics over many samples, special tokens, whole words, determinism."""

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BertPreprocessor, MlmMasker


@pytest.fixture(scope="module")
def batch(uncased, movies):
    return BertPreprocessor(uncased, 64)(movies[:3000])


def _selected(features, out):
    w = out["mask_weights"].numpy() > 0
    pos = out["mask_positions"].numpy()
    before = np.take_along_axis(features["token_ids"].numpy(), pos, 1)[w]
    after = np.take_along_axis(out["token_ids"].numpy(), pos, 1)[w]
    return w, pos, before, after


def test_rates_and_split(uncased, batch):
    out = MlmMasker(uncased, max_predictions=20)(batch, seed=[3, 4])
    ids = batch["token_ids"].numpy()
    candidates = (batch["padding_mask"].numpy() == 1) & ~np.isin(ids, [uncased.cls_id, uncased.sep_id, uncased.pad_id])
    w, pos, before, after = _selected(batch, out)
    n = w.sum()
    assert n > 10000
    assert abs(n / candidates.sum() - 0.15) < 0.01
    # 80% [MASK], 10% random, 10% unchanged (binomial sd ~0.004 at n>10k).
    assert abs((after == uncased.mask_id).mean() - 0.8) < 0.02
    assert abs((after == before).mean() - 0.1) < 0.015
    random = (after != uncased.mask_id) & (after != before)
    assert abs(random.mean() - 0.1) < 0.015
    # Labels are the original ids; unchanged positions elsewhere.
    np.testing.assert_array_equal(out["mask_ids"].numpy()[w], before)
    changed = out["token_ids"].numpy() != ids
    rows, cols = np.nonzero(changed)
    assert all(w[r][pos[r] == c].any() for r, c in zip(rows, cols))


def test_never_masks_special_tokens_or_padding(uncased, batch):
    out = MlmMasker(uncased, max_predictions=20, mask_rate=0.5)(batch, seed=[1, 1])
    w, pos, before, after = _selected(batch, out)
    assert not np.isin(before, [uncased.cls_id, uncased.sep_id, uncased.pad_id]).any()
    mask = batch["padding_mask"].numpy()
    assert (np.take_along_axis(mask, pos, 1)[w] == 1).all()
    ids, new = batch["token_ids"].numpy(), out["token_ids"].numpy()
    special = np.isin(ids, [uncased.cls_id, uncased.sep_id, uncased.pad_id])
    np.testing.assert_array_equal(new[special], ids[special])
    # Random replacements never insert special tokens.
    assert not np.isin(after[after != before], [uncased.cls_id, uncased.sep_id, uncased.pad_id, uncased.unk_id]).any()


def test_layout_and_max_predictions(uncased, batch):
    out = MlmMasker(uncased, max_predictions=5, mask_rate=0.9)(batch, seed=[0, 9])
    assert out["mask_positions"].dtype == tf.int32 and out["mask_ids"].dtype == tf.int32
    assert out["mask_weights"].dtype == tf.float32
    assert out["mask_positions"].shape == (3000, 5)
    w = out["mask_weights"].numpy()
    assert w.sum(axis=1).max() == 5
    pos = out["mask_positions"].numpy()
    for row_pos, row_w in zip(pos, w):
        real = row_pos[row_w > 0]
        assert (np.diff(real) > 0).all()  # ascending, distinct
        assert (row_pos[row_w == 0] == 0).all()
    assert (out["mask_ids"].numpy()[w == 0] == 0).all()


def test_count_per_sequence_matches_bert_rule(uncased):
    # 20 candidate tokens -> round(0.15 * 20) = 3 predictions; 2 candidates -> max(1, 0) = 1.
    feats = {"token_ids": tf.constant([[101] + [2000 + i for i in range(20)] + [102],
                                       [101, 2000, 2001, 102] + [0] * 18]),
             "segment_ids": tf.zeros([2, 22], tf.int32),
             "padding_mask": tf.constant([[1] * 22, [1] * 4 + [0] * 18])}
    for s in range(20):
        w = MlmMasker(uncased)(feats, seed=[s, 0])["mask_weights"].numpy()
        assert w.sum(axis=1).tolist() == [3, 1]


def test_whole_word_keeps_pieces_together(uncased, movies):
    feats = BertPreprocessor(uncased, 64)(movies[:1000])
    out = MlmMasker(uncased, whole_word=True, max_predictions=20)(feats, seed=[5, 6])
    ids = feats["token_ids"].numpy()
    continuation = np.array([t.startswith("##") for t in uncased.vocabulary])
    is_cont = continuation[ids]
    w = out["mask_weights"].numpy() > 0
    selected = np.zeros_like(ids, bool)
    for r in range(len(ids)):
        selected[r, out["mask_positions"].numpy()[r][w[r]]] = True
    words_seen = 0
    for r in range(len(ids)):
        s = 0
        while s < ids.shape[1]:
            e = s + 1
            while e < ids.shape[1] and is_cont[r, e]:
                e += 1
            if e - s > 1:
                words_seen += 1
                assert selected[r, s:e].all() or not selected[r, s:e].any()
            s = e
    assert words_seen > 500
    cand = (feats["padding_mask"].numpy() == 1) & ~np.isin(ids, [101, 102, 0])
    assert 0.12 < w.sum() / cand.sum() <= 0.155  # words are taken while they fit: at most k


def test_seeded_masks_are_reproducible_and_vary(uncased, batch):
    masker = MlmMasker(uncased)
    a, b, c = masker(batch, seed=[7, 7]), masker(batch, seed=[7, 7]), masker(batch, seed=[7, 8])
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
    assert not np.array_equal(a["mask_positions"].numpy(), c["mask_positions"].numpy())


def test_single_example_and_dataset_map(uncased, movies):
    pre = BertPreprocessor(uncased, 32)
    masker = MlmMasker(uncased)
    single = {k: v[0] for k, v in pre(movies[:1]).items()}
    out = masker(single, seed=[1, 2])
    assert out["mask_positions"].shape == (20,)
    ds = tf.data.Dataset.from_tensor_slices(movies[:64]).batch(32).map(pre).map(masker)
    for f in ds:
        assert f["mask_weights"].shape == (32, 20)


def test_bad_settings(uncased):
    with pytest.raises(ValueError, match="mask_rate"):
        MlmMasker(uncased, mask_rate=0)
    with pytest.raises(ValueError, match="max_predictions"):
        MlmMasker(uncased, max_predictions=0)
    with pytest.raises(ValueError, match="sum to at most 1"):
        MlmMasker(uncased, mask_token_rate=0.9, random_token_rate=0.2)
