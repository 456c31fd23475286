"""NSP pair creation, TFRecord writing/reading, determinism, dynamic vs static masking."""

import filecmp
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import pretraining_dataset, write_pretraining_data
from keras_bert.text.pretraining_data import create_instances, read_documents


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, movies):
    """Real sentences as documents: blank-line separated groups of 6 movie snippets + sample_text."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    docs = ["\n".join(movies[i:i + 6]) for i in range(0, 1800, 6)]
    path.write_text("\n\n".join(docs) + "\n", encoding="utf-8")
    return str(path)


def test_read_documents(data_dir):
    docs = read_documents(os.path.join(data_dir, "sample_text.txt"))
    assert len(docs) == 3  # sample_text.txt holds three blank-line separated documents
    assert docs[0][0].startswith("This text is included")
    with pytest.raises(FileNotFoundError):
        read_documents(os.path.join(data_dir, "missing.txt"))


def _docs(n_docs=200, sentences=6, length=10):
    # Token ids encode (document, sentence, position) so pairs can be checked against their source.
    return [[[d * 10000 + s * 100 + p for p in range(length)] for s in range(sentences)] for d in range(n_docs)]


def test_nsp_pairs_follow_the_original_rules():
    docs = _docs()
    instances = create_instances(docs, max_length=40, short_seq_prob=0.1, dupe_factor=2, seed=1)
    randoms = 0
    for a, b, is_random in instances:
        assert a and b and len(a) + len(b) <= 37
        doc_a = {t // 10000 for t in a}
        assert len(doc_a) == 1
        if is_random:
            randoms += 1
            assert {t // 10000 for t in b} != doc_a  # B comes from another document
        else:
            assert {t // 10000 for t in b} == doc_a
            # B continues A: B's first sentence comes right after A's last one.
            assert (b[0] // 100) % 100 == (a[-1] // 100) % 100 + 1 or (b[0] // 100) % 100 > (a[-1] // 100) % 100
    fraction = randoms / len(instances)
    assert len(instances) > 500
    # 50%, plus the one-sentence chunks (at document ends), which the original always pairs at random.
    assert 0.45 < fraction < 0.65


def test_nsp_is_half_random_when_chunks_have_several_sentences():
    # Many short sentences per document: one-sentence chunks are rare, so the coin flip dominates.
    docs = _docs(n_docs=300, sentences=60, length=3)
    instances = create_instances(docs, max_length=40, short_seq_prob=0.0, dupe_factor=2, seed=2)
    fraction = np.mean([r for _, _, r in instances])
    assert len(instances) > 3000
    assert abs(fraction - 0.5) < 0.04


def test_nsp_fraction_on_real_text(uncased, corpus, tmp_path):
    meta = write_pretraining_data([corpus], uncased, tmp_path / "out", max_length=64, seed=3, progress=False)
    assert 0.45 < meta["random_next_fraction"] < 0.62


def test_round_trip_and_determinism(uncased, corpus, tmp_path):
    a = write_pretraining_data([corpus], uncased, tmp_path / "a", max_length=64, num_shards=3, seed=7,
                               dupe_factor=2, progress=False)
    b = write_pretraining_data([corpus], uncased, tmp_path / "b", max_length=64, num_shards=3, seed=7,
                               dupe_factor=2, progress=False)
    names = sorted(os.listdir(tmp_path / "a"))
    assert names == ["metadata.json", "pretraining-00000-of-00003.tfrecord", "pretraining-00001-of-00003.tfrecord",
                     "pretraining-00002-of-00003.tfrecord", "vocab.txt"]
    for n in names:
        assert filecmp.cmp(tmp_path / "a" / n, tmp_path / "b" / n, shallow=False)
    assert a == b
    with open(tmp_path / "a" / "metadata.json") as f:
        assert json.load(f)["num_instances"] == a["num_instances"]

    # Raw records: [CLS] A [SEP] B [SEP], segment ids 0...0 1...1, labels 0/1, all <= 64 tokens.
    n = 0
    for raw in tf.data.TFRecordDataset(tf.io.gfile.glob(str(tmp_path / "a" / "*.tfrecord"))):
        ex = tf.train.Example.FromString(raw.numpy()).features.feature
        ids = list(ex["token_ids"].int64_list.value)
        seg = list(ex["segment_ids"].int64_list.value)
        assert len(ids) == len(seg) <= 64
        assert ids[0] == uncased.cls_id and ids[-1] == uncased.sep_id and ids.count(uncased.sep_id) == 2
        first_sep = ids.index(uncased.sep_id)
        assert seg == [0] * (first_sep + 1) + [1] * (len(ids) - first_sep - 1)
        assert uncased.mask_id not in ids  # dynamic masking: stored unmasked
        assert list(ex["next_sentence_label"].int64_list.value) in ([0], [1])
        n += 1
    assert n == a["num_instances"]

    write_pretraining_data([corpus], uncased, tmp_path / "c", max_length=64, num_shards=3, seed=8,
                           progress=False)
    assert not filecmp.cmp(tmp_path / "a" / names[1], tmp_path / "c" / names[1], shallow=False)


def test_reader_dynamic_masking(uncased, corpus, tmp_path):
    meta = write_pretraining_data([corpus], uncased, tmp_path / "d", max_length=64, seed=1, progress=False)
    ds = pretraining_dataset(tmp_path / "d", batch_size=16, seed=5, max_predictions=10)
    features, labels, weights = next(iter(ds))
    assert set(features) == {"token_ids", "segment_ids", "padding_mask", "mask_positions"}
    assert set(labels) == {"mlm", "nsp"} and set(weights) == {"mlm", "nsp"}
    assert features["token_ids"].dtype == tf.int32 and features["token_ids"].shape[1] <= 64
    assert features["mask_positions"].shape == (16, 10) and labels["mlm"].shape == (16, 10)
    assert weights["mlm"].dtype == tf.float32 and labels["nsp"].shape == (16,)
    # Dynamic padding: the batch is as long as its longest pair.
    assert features["padding_mask"].numpy().sum(axis=1).max() == features["token_ids"].shape[1]
    # Labels at masked positions are the unmasked ids; same seed -> same batches; new seed -> new masks.
    again = next(iter(pretraining_dataset(tmp_path / "d", batch_size=16, seed=5, max_predictions=10)))
    np.testing.assert_array_equal(again[0]["token_ids"].numpy(), features["token_ids"].numpy())
    # Fresh masks every epoch, also when a global seed is set (as keras.utils.set_random_seed does).
    tf.random.set_seed(3)
    for kwargs in ({}, {"seed": 5}):
        epochs = pretraining_dataset(tmp_path / "d", batch_size=16, shuffle=False, **kwargs)
        first, second = next(iter(epochs)), next(iter(epochs))
        np.testing.assert_array_equal(first[0]["segment_ids"].numpy(), second[0]["segment_ids"].numpy())
        assert not np.array_equal(first[0]["mask_positions"].numpy(), second[0]["mask_positions"].numpy())
    total = sum(int(f["token_ids"].shape[0]) for f, _, _ in pretraining_dataset(tmp_path / "d", 16, seed=1))
    assert total == meta["num_instances"]


def _raw_pairs(folder):
    """(segment_ids, nsp label) of every stored record, read with protobuf, not the reader under test."""
    pairs = []
    for raw in tf.data.TFRecordDataset(tf.io.gfile.glob(os.path.join(folder, "*.tfrecord"))):
        ex = tf.train.Example.FromString(raw.numpy()).features.feature
        pairs.append((tuple(ex["segment_ids"].int64_list.value), ex["next_sentence_label"].int64_list.value[0]))
    return pairs


def test_length_bucketing_keeps_every_pair_and_cuts_padding(uncased, corpus, tmp_path):
    write_pretraining_data([corpus], uncased, tmp_path / "b", max_length=64, seed=2, progress=False)
    raw = _raw_pairs(tmp_path / "b")
    boundaries = (8, 16, 24, 32, 40, 48, 56)
    upper = [b + 1 for b in boundaries] + [65]  # a bucket holds lengths below its upper bound

    def bucket(n):
        return next(i for i, u in enumerate(upper) if n < u)

    def read(**kwargs):
        seen, padded, total = [], 0, 0
        for features, labels, _ in pretraining_dataset(tmp_path / "b", 16, seed=4, max_predictions=5, **kwargs):
            mask = features["padding_mask"].numpy()
            lengths = mask.sum(axis=1)
            assert features["token_ids"].shape[1] == lengths.max()  # padded to the batch's own longest
            if kwargs:
                assert len({bucket(n) for n in lengths}) == 1, lengths  # one bucket per batch
            seg = features["segment_ids"].numpy()
            seen += [(tuple(seg[i, :n]), y) for i, (n, y) in enumerate(zip(lengths, labels["nsp"].numpy()))]
            padded += mask.size - mask.sum()
            total += mask.size
        return seen, padded / total

    plain, plain_padding = read()
    bucketed, bucketed_padding = read(length_bucketing=True, bucket_boundaries=boundaries)
    assert sorted(bucketed) == sorted(plain) == sorted(raw)  # every pair once, labels kept with their pair
    # Padding within a bucket is at most (its upper bound - 1 - length) per pair.
    bound = sum(upper[bucket(len(seg))] - 1 - len(seg) for seg, _ in raw)
    assert bucketed_padding < plain_padding / 2, (bucketed_padding, plain_padding)
    assert bucketed_padding <= bound / (bound + sum(len(seg) for seg, _ in raw))
    again, _ = read(length_bucketing=True, bucket_boundaries=boundaries)
    assert again == bucketed  # order is still a function of the seed
    default = pretraining_dataset(tmp_path / "b", 16, seed=4, length_bucketing=True)  # packing.DEFAULT_BUCKETS
    assert sum(int(f["token_ids"].shape[0]) for f, _, _ in default) == len(raw)
    # Resuming skips the batches already trained: the rest of the stream is unchanged.
    stream = pretraining_dataset(tmp_path / "b", 16, seed=4, repeat=True, drop_remainder=True, length_bucketing=True)
    batches = [(f["token_ids"].numpy().tolist(), f["mask_positions"].numpy().tolist()) for f, _, _ in stream.take(90)]
    resumed = [(f["token_ids"].numpy().tolist(), f["mask_positions"].numpy().tolist())
               for f, _, _ in stream.skip(70).take(20)]
    assert resumed == batches[70:]  # 90 batches run past the first pass (~63 batches)


def test_reader_static_masking_and_feature_weights(uncased, corpus, tmp_path):
    write_pretraining_data([corpus], uncased, tmp_path / "s", max_length=64, seed=1, masking="static",
                           whole_word=True, max_predictions=12, progress=False)
    features, labels = next(iter(pretraining_dataset(tmp_path / "s", 8, seed=1, return_sample_weights=False)))
    assert labels["mlm"].shape == (8, 12) and "mask_weights" in features
    ids = features["token_ids"].numpy()
    assert (ids == uncased.mask_id).sum() > 0
    # Stored masks are reused: reading twice gives identical masked ids.
    again = next(iter(pretraining_dataset(tmp_path / "s", 8, seed=1, return_sample_weights=False)))
    np.testing.assert_array_equal(again[0]["token_ids"].numpy(), ids)


def test_fits_a_keras_model(uncased, corpus, tmp_path):
    keras = pytest.importorskip("keras")
    write_pretraining_data([corpus], uncased, tmp_path / "k", max_length=32, seed=1, progress=False)
    ds = pretraining_dataset(tmp_path / "k", 8, seed=1, max_predictions=5, repeat=True)
    ids = keras.Input((None,), dtype="int32", name="token_ids")
    seg = keras.Input((None,), dtype="int32", name="segment_ids")
    pad = keras.Input((None,), dtype="int32", name="padding_mask")
    pos = keras.Input((5,), dtype="int32", name="mask_positions")
    h = keras.layers.Embedding(uncased.vocab_size, 8)(ids)
    gathered = keras.ops.take_along_axis(h, keras.ops.expand_dims(pos, -1), axis=1)
    mlm = keras.layers.Dense(uncased.vocab_size, name="mlm")(gathered)
    nsp = keras.layers.Dense(2, name="nsp")(keras.ops.mean(h, axis=1) + 0 * keras.ops.cast(
        keras.ops.sum(seg + pad), "float32"))
    model = keras.Model({"token_ids": ids, "segment_ids": seg, "padding_mask": pad, "mask_positions": pos},
                        {"mlm": mlm, "nsp": nsp})
    model.compile("adam", {"mlm": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                           "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True)})
    history = model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])


def test_bad_arguments(uncased, corpus, tmp_path):
    with pytest.raises(ValueError, match="masking"):
        write_pretraining_data([corpus], uncased, tmp_path / "x", masking="sometimes", progress=False)
    with pytest.raises(ValueError, match="max_length"):
        write_pretraining_data([corpus], uncased, tmp_path / "x", max_length=4, progress=False)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n")
    with pytest.raises(ValueError, match="no non-empty documents"):
        write_pretraining_data([str(empty)], uncased, tmp_path / "x", progress=False)
    with pytest.raises(FileNotFoundError, match="No TFRecord"):
        pretraining_dataset(tmp_path / "nothing-here-*.tfrecord", 4)
    with pytest.raises(ValueError, match="bucket_boundaries must be positive lengths, with length_bucketing"):
        pretraining_dataset(tmp_path / "nothing-here-*.tfrecord", 4, bucket_boundaries=[16, 32])
    with pytest.raises(ValueError, match="bucket_boundaries must be positive"):
        pretraining_dataset(tmp_path / "nothing-here-*.tfrecord", 4, length_bucketing=True, bucket_boundaries=[0, 8])
    assert not os.path.exists(tmp_path / "x")  # failed writes leave nothing behind
