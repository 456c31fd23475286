"""BERT pretraining data: NSP segment pairs from documents, sharded TFRecords, and a reader.

Corpus format (as google-research/bert's `create_pretraining_data.py`): UTF-8
text, one sentence per line, documents separated by blank lines.

Pairs follow the original `create_instances_from_document`: each document is
cut into chunks of whole sentences filling `max_length - 3` tokens (a shorter
random target with probability `short_seq_prob`); a chunk is split at a random
sentence into A and B; with probability 0.5 (always, for a one-sentence chunk)
B is replaced by text from a random other document (the unused sentences are
put back); the longer side is trimmed from a random end until the pair fits.
The corpus is passed over `dupe_factor` times with different random choices,
and all instances are shuffled. Everything is held in memory while writing,
as in the original; seed -> identical files.

Masking: by default the files hold UNMASKED pairs and `pretraining_dataset`
masks each batch when it is read (dynamic masking, as RoBERTa: a new mask
every epoch). `masking="static"` masks once at write time instead (the
original's behaviour, one mask per duplicate); the reader then uses the stored
masks unless `dynamic_masking=True`.

Output folder: `pretraining-00000-of-0000N.tfrecord` shards, `vocab.txt` (a
copy of the vocabulary) and `metadata.json` (settings and instance count).
Each tf.train.Example holds:
  token_ids            int64 [L]  [CLS] A [SEP] B [SEP], L <= max_length (no padding)
  segment_ids          int64 [L]  0 for [CLS] A [SEP], 1 for B [SEP]
  next_sentence_label  int64 [1]  0: B follows A in the document; 1: B is random
  static masking only: mask_positions int64 [P], mask_ids int64 [P],
  mask_weights float [P], and token_ids already masked.
  with `segmentation` only: word_continuation int64 [L], 1 where a token
  continues the previous token's word (see below).

Chinese whole-word masking: BERT's tokens are single CJK characters, so `##`
pieces cannot mark Chinese words. `segmentation="spaces"` (a pre-segmented
corpus, e.g. gold word segmentation written with spaces between words) or
`"jieba"` (the optional jieba segmenter) finds the word boundaries of each
sentence (`keras_bert.text.chinese`); the files then store per-token
`word_continuation` flags, and whole-word masking takes every character of a
word together. The tokens themselves are those of the plain text.

`pretraining_dataset` yields `(features, labels, sample_weights)` batches for
`model.fit`:
  features: token_ids, segment_ids, padding_mask int32 [B, S] (S: the batch's
            longest, dynamic padding), mask_positions int32 [B, P]
  labels:   {"mlm": mask_ids int32 [B, P], "nsp": next_sentence_label int32 [B]}
  sample_weights: {"mlm": mask_weights float32 [B, P], "nsp": float32 ones [B]}
With `return_sample_weights=False` it yields `(features, labels)` and puts
`mask_weights` in features instead.
"""

import json
import os
import random
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from keras_bert.text import chinese
from keras_bert.text.masking import MlmMasker
from keras_bert.text.packing import BertPacker, bucket_by_length
from keras_bert.text.tokenizer import BertTokenizer
from keras_bert.text.vocab_file import VOCAB_FILENAME
from keras_bert.utils import atomic_replace_dir

METADATA_FILENAME = "metadata.json"
SHARD_PATTERN = "pretraining-{:05d}-of-{:05d}.tfrecord"


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional; fall back to no bar
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="doc")


def read_documents(corpus_files):
    """Reads corpus files -> list of documents, each a list of sentence strings (blank line = new document)."""
    if isinstance(corpus_files, (str, os.PathLike)):
        corpus_files = [corpus_files]
    documents = []
    for path in corpus_files:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Corpus file not found: {path!r}.")
        current = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    if current:
                        documents.append(current)
                    current = []
                else:
                    current.append(line)
        if current:  # a file ends a document even without a trailing blank line
            documents.append(current)
    return documents


def _encode_continuation(ids, flags):
    """Token ids with word-continuation flags folded in: a continuing token's id is stored as -1 - id."""
    return [-1 - t if f else t for t, f in zip(ids, flags)]


def _split_continuation(tokens):
    """Inverse of `_encode_continuation`: (ids, flags)."""
    return [t if t >= 0 else -1 - t for t in tokens], [int(t < 0) for t in tokens]


def tokenize_documents(documents, tokenizer, batch_size=4096, segmentation=None):
    """Tokenizes every sentence; returns documents as lists of id lists (empty sentences/documents removed).

    With `segmentation` ("spaces", "jieba" or a callable, see `keras_bert.text.chinese`), a token that
    continues the previous token's word is returned as -1 - id (`write_instances` stores the flag).
    """
    flat = [s for doc in documents for s in doc]
    if segmentation is not None:
        ids = [_encode_continuation(row_ids, flags)
               for row_ids, flags in chinese.word_continuation(tokenizer, flat, segmentation, batch_size)]
    else:
        ids = [row for i in range(0, len(flat), batch_size)
               for row in tokenizer.tokenize(flat[i:i + batch_size]).to_list()]
    out, k = [], 0
    for doc in documents:
        sentences = [ids[k + j] for j in range(len(doc)) if ids[k + j]]
        k += len(doc)
        if sentences:
            out.append(sentences)
    return out


def _truncate_pair(a, b, max_tokens, rng):
    while len(a) + len(b) > max_tokens:
        longer = a if len(a) > len(b) else b
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()


def create_instances(documents, max_length=128, short_seq_prob=0.1, dupe_factor=1, seed=12345, progress=False):
    """NSP pairs from tokenized documents: list of (tokens_a, tokens_b, is_random_next).

    A port of google-research/bert's `create_instances_from_document` (see the
    module docstring); deterministic for a given seed.
    """
    if max_length < 5:
        raise ValueError(f"max_length must be at least 5 for a sentence pair; got {max_length}.")
    if not documents:
        raise ValueError("The corpus has no non-empty documents.")
    rng = random.Random(seed)
    documents = list(documents)
    rng.shuffle(documents)
    max_tokens = max_length - 3
    instances = []
    steps = ((d, i) for d in range(dupe_factor) for i in range(len(documents)))
    for _, doc_index in _progress(steps, dupe_factor * len(documents), "pairs", progress):
        document = documents[doc_index]
        target = rng.randint(2, max_tokens) if rng.random() < short_seq_prob else max_tokens
        chunk, chunk_len, i = [], 0, 0
        while i < len(document):
            chunk.append(document[i])
            chunk_len += len(document[i])
            if i == len(document) - 1 or chunk_len >= target:
                a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
                tokens_a = [t for s in chunk[:a_end] for t in s]
                tokens_b = []
                if len(chunk) == 1 or rng.random() < 0.5:
                    is_random = True
                    target_b = target - len(tokens_a)
                    for _ in range(10):  # as the original: 10 tries to pick another document
                        other = rng.randint(0, len(documents) - 1)
                        if other != doc_index:
                            break
                    other_doc = documents[other]
                    for sentence in other_doc[rng.randint(0, len(other_doc) - 1):]:
                        tokens_b.extend(sentence)
                        if len(tokens_b) >= target_b:
                            break
                    i -= len(chunk) - a_end  # give the unused sentences back
                else:
                    is_random = False
                    tokens_b = [t for s in chunk[a_end:] for t in s]
                _truncate_pair(tokens_a, tokens_b, max_tokens, rng)
                if tokens_a and tokens_b:
                    instances.append((tokens_a, tokens_b, is_random))
                chunk, chunk_len = [], 0
            i += 1
    rng.shuffle(instances)
    return instances


def _int64_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _float_feature(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def _check_write_options(masking, num_shards, segmentation=None):
    if segmentation is not None and not callable(segmentation) and segmentation not in chinese.SEGMENTATIONS:
        raise ValueError(f"segmentation must be None, one of {chinese.SEGMENTATIONS} or a callable; "
                         f"got {segmentation!r}.")
    if masking not in ("dynamic", "static"):
        raise ValueError(f"masking must be 'dynamic' or 'static'; got {masking!r}.")
    if int(num_shards) < 1:
        raise ValueError(f"num_shards must be >= 1; got {num_shards}.")


def write_pretraining_data(corpus_files, vocab, out_dir, max_length=128, num_shards=1, seed=12345,
                           dupe_factor=1, short_seq_prob=0.1, masking="dynamic", whole_word=False,
                           mask_rate=0.15, max_predictions=20, lowercase=None, progress=True, segmentation=None):
    """Writes sharded TFRecords of NSP pairs (see the module docstring). Returns the metadata dict.

    `vocab`: a `BertTokenizer`, or a vocab file / checkpoint folder.
    `segmentation`: None, "spaces" or "jieba": store word boundaries for Chinese whole-word masking.
    """
    _check_write_options(masking, num_shards, segmentation)  # before the slow part
    if int(dupe_factor) < 1:
        raise ValueError(f"dupe_factor must be >= 1; got {dupe_factor}.")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    tokenizer = vocab if isinstance(vocab, BertTokenizer) else BertTokenizer(vocab, lowercase=lowercase)
    documents = tokenize_documents(read_documents(corpus_files), tokenizer, segmentation=segmentation)
    instances = create_instances(documents, max_length, short_seq_prob, int(dupe_factor), seed, progress)
    return write_instances(instances, tokenizer, out_dir, max_length, num_shards, seed, masking, whole_word,
                           mask_rate, max_predictions,
                           metadata={"dupe_factor": int(dupe_factor), "short_seq_prob": float(short_seq_prob)},
                           segmentation=segmentation)


def write_instances(instances, tokenizer, out_dir, max_length=128, num_shards=1, seed=12345, masking="dynamic",
                    whole_word=False, mask_rate=0.15, max_predictions=20, metadata=None, segmentation=None):
    """Writes NSP pairs `[(tokens_a, tokens_b, is_random_next)]` to `out_dir` as `write_pretraining_data` does.

    For pairs made by another recipe; `metadata` adds entries to metadata.json.
    With `segmentation` set (its name is recorded), tokens that continue a word are given as
    -1 - id (as `tokenize_documents` returns them) and `word_continuation` flags are stored.
    The folder is written to a temporary folder and renamed into place.
    """
    _check_write_options(masking, num_shards, segmentation)
    if not instances:
        raise ValueError("The corpus produced no sentence pairs (documents need at least one token).")
    packer = BertPacker(max_length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id)
    masker = MlmMasker(tokenizer, mask_rate, max_predictions, whole_word) if masking == "static" else None

    out_dir = os.fspath(out_dir)
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-pretraining-", dir=parent)
    try:
        writers = [tf.io.TFRecordWriter(os.path.join(tmp, SHARD_PATTERN.format(i, num_shards)))
                   for i in range(num_shards)]
        batch = 1024
        for start in range(0, len(instances), batch):
            chunk = instances[start:start + batch]
            flags = None
            if segmentation is not None:
                split = [(_split_continuation(a), _split_continuation(b), r) for a, b, r in chunk]
                chunk = [(a[0], b[0], r) for a, b, r in split]
                flags = [[0, *a[1], 0, *b[1], 0] for a, b, _ in split]
            elif any(t < 0 for a, b, _ in chunk for t in (*a, *b)):
                raise ValueError("negative token ids (word-continuation flags) need segmentation=...")
            packed = packer([tf.ragged.constant([a for a, _, _ in chunk], tf.int32, row_splits_dtype=tf.int64),
                             tf.ragged.constant([b for _, b, _ in chunk], tf.int32, row_splits_dtype=tf.int64)])
            lengths = packed["padding_mask"].numpy().sum(axis=1)
            if flags is not None:
                width = packed["token_ids"].shape[1]
                packed["word_continuation"] = tf.constant([f + [0] * (width - len(f)) for f in flags], tf.int32)
            if masker is not None:
                packed = masker(packed, seed=tf.constant([seed, start], tf.int64))
            arrays = {k: v.numpy() for k, v in packed.items()}
            for j, (_, _, is_random) in enumerate(chunk):
                n = lengths[j]
                feature = {"token_ids": _int64_feature(arrays["token_ids"][j, :n]),
                           "segment_ids": _int64_feature(arrays["segment_ids"][j, :n]),
                           "next_sentence_label": _int64_feature([int(is_random)])}
                if flags is not None:
                    feature["word_continuation"] = _int64_feature(flags[j])
                if masker is not None:
                    feature["mask_positions"] = _int64_feature(arrays["mask_positions"][j])
                    feature["mask_ids"] = _int64_feature(arrays["mask_ids"][j])
                    feature["mask_weights"] = _float_feature(arrays["mask_weights"][j])
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writers[(start + j) % num_shards].write(example.SerializeToString())
        for w in writers:
            w.close()
        metadata = {"num_instances": len(instances), "num_shards": int(num_shards), "max_length": int(max_length),
                    "masking": masking, "whole_word": bool(whole_word), "mask_rate": float(mask_rate),
                    "max_predictions": int(max_predictions), **(metadata or {}),
                    "segmentation": segmentation if segmentation is None or isinstance(segmentation, str)
                    else getattr(segmentation, "__name__", "custom"),
                    "seed": seed, "lowercase": tokenizer.lowercase,
                    "strip_accents": tokenizer.strip_accents, "vocab_size": tokenizer.vocab_size,
                    "random_next_fraction": float(np.mean([r for _, _, r in instances]))}
        with open(os.path.join(tmp, VOCAB_FILENAME), "w", encoding="utf-8") as f:
            f.write("\n".join(tokenizer.vocabulary) + "\n")
        with open(os.path.join(tmp, METADATA_FILENAME), "w") as f:
            json.dump(metadata, f, indent=2)
        atomic_replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return metadata


def _permute(values, seed):
    """`values` in a random order that depends only on `seed` (int64 [2])."""
    return tf.gather(values, tf.argsort(tf.random.stateless_uniform(tf.shape(values)[:1], seed=seed)))


def _with_lengths(records, keys):
    """Adds each serialized pair's token count (bucketing happens before batches are parsed)."""
    ids = tf.io.parse_example(records, {"token_ids": tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64)})
    return records, keys, tf.cast(ids["token_ids"].row_lengths(), tf.int32)


def _resolve_files(file_pattern):
    pattern = os.fspath(file_pattern)
    folder = None
    if os.path.isdir(pattern):
        folder = pattern
        pattern = os.path.join(pattern, "*.tfrecord")
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"No TFRecord files match {os.fspath(file_pattern)!r}.")
    folder = folder or os.path.dirname(files[0])
    metadata = {}
    path = os.path.join(folder, METADATA_FILENAME)
    if os.path.isfile(path):
        with open(path, "rb") as f:
            try:
                metadata = json.loads(f.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise ValueError(f"{path}: not valid JSON ({error})") from None
        if not isinstance(metadata, dict):
            raise ValueError(f"{path}: expected a JSON object, got {type(metadata).__name__}")
    return files, folder, metadata


def pretraining_dataset(file_pattern, batch_size, tokenizer=None, max_predictions=None, mask_rate=None,
                        whole_word=None, dynamic_masking=None, shuffle=True, shuffle_buffer=10000, repeat=False,
                        seed=None, drop_remainder=False, pad_to_multiple_of=None, return_sample_weights=True,
                        next_sentence=True, length_bucketing=False, bucket_boundaries=None, padding="dynamic",
                        unselectable_token_ids=()):
    """Reads `write_pretraining_data` output into batches for `model.fit` (layout in the module docstring).

    `file_pattern`: the output folder or a glob of its shards. Masking
    settings default to those in `metadata.json`; the tokenizer to the
    folder's `vocab.txt`. `seed` makes shuffling and masks reproducible: with `repeat=True`
    the stream is a function of `seed` alone (each pass over the files has its own order, each
    batch its own masks), however many iterators are made over it (Keras makes an extra one
    under a `tf.distribute` strategy); with `repeat=False` each new iterator (Keras epoch)
    gets a new order and new masks. `next_sentence=False` drops the NSP labels and weights (for an
    MLM-only `BertPretrainer(encoder, next_sentence=False)`).

    `length_bucketing=True` batches pairs of similar length together (buckets split at
    `bucket_boundaries`, default `packing.DEFAULT_BUCKETS` below `max_length`), so short pairs
    (document ends, `short_seq_prob`) are not padded to the longest pair of a mixed batch.
    Order stays a function of `seed`; each batch holds one bucket, so batch lengths correlate
    with content length. Under XLA, add `pad_to_multiple_of` to bound the number of shapes.
    `padding="max_length"` pads every batch to the files' `max_length` with static shapes
    (`[batch_size, max_length]` with `drop_remainder=True`), as TPUs need.
    Files written with `segmentation` carry word boundaries: `whole_word=True` then masks whole
    Chinese words. `unselectable_token_ids`: ids never chosen for prediction (`MlmMasker`).
    """
    if bucket_boundaries is not None and (not length_bucketing or any(int(b) < 1 for b in bucket_boundaries)):
        raise ValueError(f"bucket_boundaries must be positive lengths, with length_bucketing=True; got "
                         f"{list(bucket_boundaries)} with length_bucketing={length_bucketing}.")
    if padding == "max_length" and length_bucketing:
        raise ValueError("length_bucketing=True has no effect with padding='max_length' (every batch is full "
                         "length); use one or the other.")
    files, folder, meta = _resolve_files(file_pattern)
    static = meta.get("masking") == "static"
    dynamic = (not static) if dynamic_masking is None else bool(dynamic_masking)
    if not dynamic and not static:
        raise ValueError("These files hold unmasked pairs: use dynamic_masking=True (the default).")
    max_length = int(meta.get("max_length", 512))
    if tokenizer is None and dynamic:
        tokenizer = BertTokenizer(folder)
    features_spec = {
        "token_ids": tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64),
        "segment_ids": tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64),
        "next_sentence_label": tf.io.FixedLenFeature([1], tf.int64),
    }
    if meta.get("segmentation") and dynamic:
        features_spec["word_continuation"] = tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64)
    if not dynamic:
        p = int(meta["max_predictions"])
        features_spec.update(mask_positions=tf.io.FixedLenFeature([p], tf.int64),
                             mask_ids=tf.io.FixedLenFeature([p], tf.int64),
                             mask_weights=tf.io.FixedLenFeature([p], tf.float32))
    packer = BertPacker(max_length, pad_id=tokenizer.pad_id if tokenizer else 0, padding=padding,
                        pad_to_multiple_of=pad_to_multiple_of)
    rows = batch_size if drop_remainder else None

    # Order and masks are a pure function of (seed, position in the stream), never of how
    # many iterators were made: Keras makes a throwaway one to build the model under a
    # tf.distribute strategy, which with per-iteration reshuffle/rerandomize seeds moved
    # training onto another data stream than on one device. Each pass over the files gets
    # its own shuffle seeds (from `repeat`'s pass counter) and each batch its own mask seed
    # (pass key, batch index). Without `repeat` every new iterator (each Keras epoch) draws
    # a new pass key, so every epoch still gets a new order and new masks.
    base = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
    if repeat:
        passes = tf.data.Dataset.counter()
    else:
        passes = tf.data.Dataset.random(seed=base, rerandomize_each_iteration=True).take(1)

    def one_pass(pass_id):
        keys = tf.random.stateless_uniform([3], seed=tf.stack([tf.constant(base, tf.int64), pass_id]),
                                           minval=0, maxval=2**31 - 1, dtype=tf.int64)
        # Stateless permutations, not Dataset.shuffle: its seed must be a Python value
        # (a tensor seed fails under a global seed), and these seeds vary per pass.
        names = tf.constant(files)
        ds = tf.data.Dataset.from_tensor_slices(_permute(names, tf.stack([keys[0], pass_id])) if shuffle else names)
        ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=seed is not None or not shuffle)
        if shuffle:  # a block shuffle: each run of `shuffle_buffer` records is permuted
            ds = ds.batch(shuffle_buffer).enumerate().map(
                lambda i, block: _permute(block, tf.stack([keys[1], i]))).unbatch()
        return ds.map(lambda record: (record, keys[2]))

    records = passes.flat_map(one_pass)
    if length_bucketing:
        # Lengths are parsed in parallel over blocks of records; grouping itself is sequential.
        records = records.batch(1024).map(_with_lengths, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
        ds = bucket_by_length(records, lambda record, keys, length: length, bucket_boundaries, max_length,
                              batch_size, drop_remainder)
        ds = ds.map(lambda record, keys, length: (record, keys))
    else:
        ds = records.batch(batch_size, drop_remainder=drop_remainder)
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.counter()))

    def parse(batch, index):
        serialized, keys = batch
        ex = tf.io.parse_example(serialized, features_spec)
        ids = ex["token_ids"]
        packed = {"token_ids": ids, "segment_ids": ex["segment_ids"], "padding_mask": tf.ones_like(ids)}
        out = packer.pad(packed)
        if "word_continuation" in ex:
            out["word_continuation"] = tf.cast(ex["word_continuation"].to_tensor(
                shape=tf.shape(out["token_ids"], out_type=tf.int64)), tf.int32)
        if padding == "max_length":  # the shape is known: say so, for XLA on TPU
            out = {k: tf.ensure_shape(v, [rows, max_length]) for k, v in out.items()}
        for k in ("mask_positions", "mask_ids"):
            if k in ex:
                out[k] = tf.cast(ex[k], tf.int32)
        if "mask_weights" in ex:
            out["mask_weights"] = ex["mask_weights"]
        out["next_sentence_label"] = tf.cast(ex["next_sentence_label"][:, 0], tf.int32)
        out["mask_seed"] = tf.stack([keys[0], index])
        return out

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    if dynamic:
        masker = MlmMasker(tokenizer,
                           mask_rate=meta.get("mask_rate", 0.15) if mask_rate is None else mask_rate,
                           max_predictions=meta.get("max_predictions", 20) if max_predictions is None
                           else max_predictions,
                           whole_word=meta.get("whole_word", False) if whole_word is None else whole_word,
                           unselectable_token_ids=unselectable_token_ids)
        ds = ds.map(lambda f: masker({k: v for k, v in f.items() if k != "mask_seed"}, seed=f["mask_seed"]),
                    num_parallel_calls=tf.data.AUTOTUNE)

    def split(f):
        features = {k: f[k] for k in ("token_ids", "segment_ids", "padding_mask", "mask_positions")}
        labels = {"mlm": f["mask_ids"], "nsp": f["next_sentence_label"]}
        weights = {"mlm": f["mask_weights"], "nsp": tf.ones_like(f["next_sentence_label"], tf.float32)}
        if not next_sentence:
            del labels["nsp"], weights["nsp"]
        if not return_sample_weights:
            features["mask_weights"] = f["mask_weights"]
            return features, labels
        return features, labels, weights

    return ds.map(split, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
