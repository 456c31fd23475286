"""Packing, truncation (vs Hugging Face), dynamic/fixed padding and bucketing."""

import os
import random

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BertPacker, BertPreprocessor, bucketed_dataset, padding_fraction


def test_pack_single_by_hand():
    packer = BertPacker(sequence_length=6, cls_id=101, sep_id=102, pad_id=0)
    out = packer(tf.ragged.constant([[5, 6], [7, 8, 9, 10, 11, 12]]))
    assert out["token_ids"].numpy().tolist() == [[101, 5, 6, 102, 0, 0], [101, 7, 8, 9, 10, 102]]
    assert out["segment_ids"].numpy().tolist() == [[0] * 6, [0] * 6]
    assert out["padding_mask"].numpy().tolist() == [[1, 1, 1, 1, 0, 0], [1] * 6]
    assert all(v.dtype == tf.int32 for v in out.values())


def test_pack_pair_by_hand():
    packer = BertPacker(sequence_length=16, cls_id=1, sep_id=2, pad_id=0)
    out = packer([tf.ragged.constant([[5, 6]]), tf.ragged.constant([[7]])])
    assert out["token_ids"].numpy().tolist() == [[1, 5, 6, 2, 7, 2]]  # dynamic: padded to the longest (6)
    assert out["segment_ids"].numpy().tolist() == [[0, 0, 0, 0, 1, 1]]
    assert out["padding_mask"].numpy().tolist() == [[1] * 6]


def test_waterfall_truncation_by_hand():
    packer = BertPacker(sequence_length=8, cls_id=1, sep_id=2, truncation="waterfall")
    out = packer([tf.ragged.constant([[10, 11, 12], [10, 11, 12, 13, 14, 15]]), tf.ragged.constant([[20, 21, 22]] * 2)])
    # Budget 5: first keeps 3 then second gets 2; first keeps 5 then second gets 0.
    assert out["token_ids"].numpy().tolist() == [[1, 10, 11, 12, 2, 20, 21, 2], [1, 10, 11, 12, 13, 14, 2, 2]]


@pytest.mark.parametrize("length", [8, 9, 16, 33, 64])
def test_matches_hugging_face_longest_first(uncased, movies, data_dir, length):
    transformers = pytest.importorskip("transformers")
    hf = transformers.BertTokenizerFast(os.path.join(data_dir, "bert-base-uncased-vocab.txt"))
    rng = random.Random(length)
    a = movies[:120]
    b = [movies[200 + i] + " more" * rng.randint(0, 12) for i in range(120)]
    pre = BertPreprocessor(uncased, sequence_length=length)
    for args, kwargs in (((a, b), {}), ((a,), {})):
        ours = pre(*args)
        ref = hf(*args, truncation="longest_first", max_length=length, padding="longest")
        np.testing.assert_array_equal(ours["token_ids"].numpy(), np.array(ref["input_ids"]))
        np.testing.assert_array_equal(ours["segment_ids"].numpy(), np.array(ref["token_type_ids"]))
        np.testing.assert_array_equal(ours["padding_mask"].numpy(), np.array(ref["attention_mask"]))


def test_dynamic_fixed_and_multiple_padding(uncased):
    texts = ["a b c", "a"]
    assert BertPreprocessor(uncased, 128)(texts)["token_ids"].shape == (2, 5)
    assert BertPreprocessor(uncased, 128, padding="max_length")(texts)["token_ids"].shape == (2, 128)
    assert BertPreprocessor(uncased, 128, pad_to_multiple_of=8)(texts)["token_ids"].shape == (2, 8)
    assert BertPreprocessor(uncased, 6, pad_to_multiple_of=8)(texts)["token_ids"].shape == (2, 6)  # capped
    long = BertPreprocessor(uncased, 16)(["word " * 100])
    assert long["token_ids"].shape == (1, 16) and long["token_ids"][0, -1] == uncased.sep_id


def test_empty_text_packs_to_cls_sep(uncased):
    out = BertPreprocessor(uncased, 8)(["", "   "], ["", "x"])
    assert out["token_ids"].numpy().tolist() == [[101, 102, 102, 0], [101, 102, 1060, 102]]


def test_bad_settings_fail_clearly(uncased):
    for bad in (0, 2):
        with pytest.raises(ValueError, match="at least 3"):
            BertPreprocessor(uncased, bad)
    with pytest.raises(ValueError, match="truncation"):
        BertPreprocessor(uncased, 16, truncation="only_first")
    with pytest.raises(ValueError, match="padding"):
        BertPreprocessor(uncased, 16, padding="longest")


def test_in_dataset_map(uncased, movies):
    pre = BertPreprocessor(uncased, 64)
    ds = tf.data.Dataset.from_tensor_slices((movies[:40], movies[40:80])).batch(20).map(pre)
    batches = list(ds)
    eager = pre(movies[:20], movies[40:60])
    np.testing.assert_array_equal(batches[0]["token_ids"].numpy(), eager["token_ids"].numpy())


def test_bucketing_pads_each_batch_to_its_own_longest(uncased, movies):
    pre = BertPreprocessor(uncased, 128)
    labels = list(range(300))
    ds = bucketed_dataset(tf.data.Dataset.from_tensor_slices((movies[:300], labels)), pre, batch_size=32)
    seen = []
    for features, label in ds:
        mask = features["padding_mask"].numpy()
        assert mask.sum(axis=1).max() == mask.shape[1]  # no all-padding column
        assert features["token_ids"].dtype == tf.int32
        seen.extend(label.numpy().tolist())
        # Labels stay with their texts.
        ref = pre([movies[i] for i in label.numpy()])
        assert ref["token_ids"].shape[1] == mask.shape[1]
        np.testing.assert_array_equal(ref["token_ids"].numpy(), features["token_ids"].numpy())
    assert sorted(seen) == labels


def test_bucketing_pairs_and_padding_waste(uncased, movies):
    pre = BertPreprocessor(uncased, 128)
    pairs = tf.data.Dataset.from_tensor_slices(((movies[:64], movies[64:128]), list(range(64))))
    for features, _ in bucketed_dataset(pairs, pre, batch_size=16):
        assert set(np.unique(features["segment_ids"].numpy())) <= {0, 1}
    texts = tf.data.Dataset.from_tensor_slices(movies[:1000])
    dynamic = padding_fraction(bucketed_dataset(texts, pre, batch_size=32))
    fixed128 = padding_fraction(texts.batch(32).map(BertPreprocessor(uncased, 128, padding="max_length")))
    fixed512 = padding_fraction(texts.batch(32).map(BertPreprocessor(uncased, 512, padding="max_length")))
    assert dynamic < 0.15 < 0.6 < fixed128 < fixed512
    assert fixed512 > 0.9


def test_preprocessor_in_saved_model(uncased, movies, tmp_path):
    pre = BertPreprocessor(uncased, 32)
    pre.serve = tf.function(lambda a, b: pre(a, b), input_signature=[tf.TensorSpec([None], tf.string)] * 2)
    tf.saved_model.save(pre, str(tmp_path / "pre"))
    loaded = tf.saved_model.load(str(tmp_path / "pre"))
    got = loaded.serve(tf.constant(movies[:6]), tf.constant(movies[6:12]))
    want = pre(movies[:6], movies[6:12])
    for k in want:
        np.testing.assert_array_equal(got[k].numpy(), want[k].numpy())


# ------------------------------------------------------------------ text pairs
@pytest.mark.parametrize("nested", [
    [["one", "two"], ["three", "four"]],
    [("one", "two"), ("three", "four")],
    (["one", "two"], ["three", "four"]),   # keras-hub: two segments; Hugging Face: two pairs
])
def test_nested_lists_are_refused_not_guessed(uncased, nested):
    with pytest.raises(ValueError, match=r"nested list.*pairs=\[\(text_a, text_b\), \.\.\.\].*texts_a, texts_b"):
        BertPreprocessor(uncased, 16)(nested)


def test_pairs_argument_reads_pairs_like_hugging_face(uncased, movies, data_dir):
    transformers = pytest.importorskip("transformers")
    hf = transformers.BertTokenizerFast(os.path.join(data_dir, "bert-base-uncased-vocab.txt"), do_lower_case=True)
    pairs = [[movies[i], movies[i + 1]] for i in range(0, 40, 2)] + [["one", "two"], ["three", "four"]]
    ref = hf(pairs, truncation="longest_first", max_length=48, padding="longest")
    pre = BertPreprocessor(uncased, 48)
    for given in (pairs, [tuple(p) for p in pairs], tf.constant(pairs), np.array(pairs)):
        ours = pre(pairs=given)
        assert ours["token_ids"].numpy().tolist() == ref["input_ids"]
        assert ours["segment_ids"].numpy().tolist() == ref["token_type_ids"]
        assert ours["padding_mask"].numpy().tolist() == ref["attention_mask"]
    a, b = zip(*pairs)
    assert pre(list(a), list(b))["token_ids"].numpy().tolist() == ref["input_ids"]


def test_pairs_in_tf_data(uncased, movies):
    pre = BertPreprocessor(uncased, 32)
    pairs = [[movies[i], movies[i + 50]] for i in range(8)]
    batches = list(tf.data.Dataset.from_tensor_slices(pairs).batch(4).map(lambda p: pre(pairs=p)))
    eager = pre([a for a, _ in pairs], [b for _, b in pairs])  # every pair fills the 32 tokens: same widths
    np.testing.assert_array_equal(np.concatenate([b["token_ids"].numpy() for b in batches]), eager["token_ids"].numpy())
    assert set(np.unique(batches[0]["segment_ids"].numpy())) == {0, 1}


def test_pair_input_errors_name_the_problem(uncased):
    pre = BertPreprocessor(uncased, 16)
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*pairs="):
        pre(tf.constant([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match=r"pairs\[1\] is \['c'\]"):
        pre(pairs=[["a", "b"], ["c"]])
    with pytest.raises(ValueError, match=r"shape \[B, 2\]"):
        pre(pairs=tf.constant([["a", "b", "c"]]))
    with pytest.raises(ValueError, match="either texts .* or pairs"):
        pre(["a"], pairs=[["a", "b"]])
    with pytest.raises(ValueError, match="texts has 2 rows and texts_b 1"):
        pre(["a", "b"], ["c"])
    with pytest.raises(TypeError, match="needs texts"):
        pre()
