"""Packing token ids into BERT model inputs, with dynamic padding and length bucketing.

Model inputs (the contract the models read): a dict of int32 [B, S] tensors
  token_ids     [CLS] a [SEP] (b [SEP]) then pad_id
  segment_ids   0 for [CLS], a and its [SEP]; 1 for b and its [SEP]; 0 on padding
  padding_mask  1 on real tokens, 0 on padding
S is the batch's own longest packed sequence (dynamic padding), capped at
`sequence_length` and optionally rounded up to `pad_to_multiple_of`; with
`padding="max_length"` it is always `sequence_length`.

Truncation, when a text (pair) does not fit:
  "longest_first" (default): Hugging Face's rule - the shorter segment is
      kept whole if it fits in half the budget, otherwise both get half (the
      second segment gets the odd token when they are equal or the second is
      longer; the first otherwise).
  "waterfall": the first segment keeps as much as fits, the second gets the rest.
"""

import numpy as np
import tensorflow as tf

TRUNCATIONS = ("longest_first", "waterfall")
PADDINGS = ("dynamic", "max_length")


def _as_ragged(ids):
    if isinstance(ids, tf.RaggedTensor):
        return ids
    ids = tf.convert_to_tensor(ids)
    if ids.shape.rank != 2:
        raise ValueError(f"token ids must be [B, None] (ragged or dense); got shape {ids.shape}.")
    return tf.RaggedTensor.from_tensor(ids)


def _keep_first(rt, n):
    """Keeps the first n[i] items of row i of a ragged tensor."""
    position = tf.ragged.range(rt.row_lengths())
    return tf.ragged.boolean_mask(rt, position < tf.expand_dims(n, 1))


@tf.autograph.experimental.do_not_convert
def truncation_lengths(len_a, len_b, budget, truncation="longest_first"):
    """Per-row lengths to keep for a pair given `budget` content tokens (int64 tensors)."""
    budget = tf.cast(budget, tf.int64)
    if truncation == "waterfall":
        keep_a = tf.minimum(len_a, budget)
        return keep_a, tf.minimum(len_b, budget - keep_a)
    short, long_ = tf.minimum(len_a, len_b), tf.maximum(len_a, len_b)
    fits = len_a + len_b <= budget
    short_fits = 2 * short <= budget
    half = budget // 2
    short_t = tf.where(fits | short_fits, short, half)
    long_t = tf.where(fits, long_, tf.where(short_fits, budget - short, half + budget % 2))
    a_longer = len_a > len_b
    return tf.where(a_longer, long_t, short_t), tf.where(a_longer, short_t, long_t)


class BertPacker(tf.Module):
    """Packs ragged token ids (one segment or a pair) into the model-input dict.

    Args:
      sequence_length: the model's maximum length S (>= 3).
      cls_id, sep_id, pad_id: special token ids (take them from the tokenizer).
      truncation: "longest_first" or "waterfall" (see module docstring).
      padding: "dynamic" (pad to the batch's longest) or "max_length".
      pad_to_multiple_of: round the dynamic length up to a multiple (e.g. 8 for tensor cores).
    """

    def __init__(self, sequence_length=128, cls_id=101, sep_id=102, pad_id=0, truncation="longest_first",
                 padding="dynamic", pad_to_multiple_of=None, name=None):
        super().__init__(name=name)
        if int(sequence_length) < 3:
            raise ValueError(f"sequence_length must be at least 3 ([CLS], one token, [SEP]); got {sequence_length}.")
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation must be one of {TRUNCATIONS}; got {truncation!r}.")
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}; got {padding!r}.")
        if pad_to_multiple_of is not None and int(pad_to_multiple_of) < 1:
            raise ValueError(f"pad_to_multiple_of must be a positive integer; got {pad_to_multiple_of}.")
        self.sequence_length = int(sequence_length)
        self.cls_id, self.sep_id, self.pad_id = int(cls_id), int(sep_id), int(pad_id)
        self.truncation = truncation
        self.padding = padding
        self.pad_to_multiple_of = None if pad_to_multiple_of is None else int(pad_to_multiple_of)

    @tf.autograph.experimental.do_not_convert
    def __call__(self, segments):
        """`segments`: ragged ids [B, None], or a tuple/list of one or two of them. Returns the dict."""
        return self.pad(self.pack_ragged(segments))

    @tf.autograph.experimental.do_not_convert
    def pack_ragged(self, segments):
        """Truncates and adds special tokens; returns the dict with ragged [B, None] values (no padding)."""
        if isinstance(segments, (tuple, list)):
            segments = list(segments)
        else:
            segments = [segments]
        if not 1 <= len(segments) <= 2:
            raise ValueError(f"BERT packs one segment or a pair; got {len(segments)} segments.")
        segments = [tf.cast(_as_ragged(s), tf.int32) for s in segments]
        budget = self.sequence_length - 1 - len(segments)
        lengths = [s.row_lengths() for s in segments]
        if len(segments) == 1:
            keep = [tf.minimum(lengths[0], budget)]
        else:
            keep = list(truncation_lengths(lengths[0], lengths[1], budget, self.truncation))
        segments = [_keep_first(s, k) for s, k in zip(segments, keep)]
        batch = segments[0].nrows()
        cls = tf.fill([batch, 1], self.cls_id)
        sep = tf.fill([batch, 1], self.sep_id)
        pieces, types = [cls], [tf.zeros([batch, 1], tf.int32)]
        for i, s in enumerate(segments):
            pieces += [s, sep]
            types += [tf.zeros_like(s) + i, tf.fill([batch, 1], i)]
        token_ids = tf.concat(pieces, axis=1)
        segment_ids = tf.concat(types, axis=1)
        return {"token_ids": token_ids, "segment_ids": segment_ids,
                "padding_mask": tf.ones_like(token_ids)}

    @tf.autograph.experimental.do_not_convert
    def padded_length(self, longest):
        """The padded length S for a batch whose longest packed row has `longest` tokens."""
        if self.padding == "max_length":
            return tf.constant(self.sequence_length, tf.int64)
        longest = tf.cast(longest, tf.int64)
        if self.pad_to_multiple_of:
            k = self.pad_to_multiple_of
            longest = (longest + k - 1) // k * k
        return tf.minimum(longest, self.sequence_length)

    @tf.autograph.experimental.do_not_convert
    def pad(self, packed):
        """Ragged packed dict -> dense int32 [B, S] dict (S from `padded_length`)."""
        ids = packed["token_ids"]
        length = self.padded_length(tf.reduce_max(tf.concat([ids.row_lengths(), [0]], 0)))
        shape = tf.stack([ids.nrows(), length])
        defaults = {"token_ids": self.pad_id, "segment_ids": 0, "padding_mask": 0}
        return {k: tf.cast(v.to_tensor(default_value=tf.cast(defaults[k], v.dtype), shape=shape), tf.int32)
                for k, v in packed.items()}


class BertPreprocessor(tf.Module):
    """Strings (or pairs of strings) -> model-input dict: tokenize, truncate, pack, pad.

    Three ways to call it (eagerly, in `Dataset.map` after `.batch()`, in a SavedModel):
      preprocessor(texts)              a batch [B] of strings (a scalar string gives [1, S] outputs)
      preprocessor(texts_a, texts_b)   two parallel batches [B]: pairs (a[i], b[i])
      preprocessor(pairs=pairs)        a list of (text_a, text_b), or a [B, 2] string tensor
    A tuple of two tensors `(texts_a, texts_b)`, as `tf.data` yields a pair
    element, is read as two batches (keras-hub's convention). A nested Python
    list such as `[["one", "two"], ["three", "four"]]` is refused: Hugging Face
    reads it as a batch of pairs, keras-hub refuses it, and a wrong guess trains
    on silently mis-paired text; say which you mean with `pairs=` or two arguments.
    """

    def __init__(self, tokenizer, sequence_length=128, truncation="longest_first", padding="dynamic",
                 pad_to_multiple_of=None, name=None):
        super().__init__(name=name)
        self.tokenizer = tokenizer
        self.packer = BertPacker(sequence_length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id,
                                 truncation=truncation, padding=padding, pad_to_multiple_of=pad_to_multiple_of)
        self.sequence_length = self.packer.sequence_length

    def _segments(self, texts, texts_b, pairs):
        if pairs is not None:
            if texts is not None or texts_b is not None:
                raise ValueError("Pass either texts (and texts_b) or pairs=, not both.")
            texts, texts_b = _split_pairs(pairs)
        elif texts is None:
            raise TypeError("BertPreprocessor needs texts (a string or a batch of strings), texts and texts_b, "
                            "or pairs=[(text_a, text_b), ...].")
        elif texts_b is None and _is_tensor_pair(texts):
            texts, texts_b = texts  # a (texts_a, texts_b) element from tf.data
        batches = [_text_batch(t, what) for t, what in ((texts, "texts"), (texts_b, "texts_b")) if t is not None]
        if len(batches) == 2:
            n_a, n_b = batches[0].shape[0], batches[1].shape[0]
            if n_a is not None and n_b is not None and n_a != n_b:
                raise ValueError(f"texts has {n_a} rows and texts_b {n_b}; pairs need one second text per text.")
        return [self.tokenizer.tokenize(t) for t in batches]

    @tf.autograph.experimental.do_not_convert
    def __call__(self, texts=None, texts_b=None, *, pairs=None):
        return self.packer(self._segments(texts, texts_b, pairs))

    @tf.autograph.experimental.do_not_convert
    def pack_ragged(self, texts=None, texts_b=None, *, pairs=None):
        """Like `__call__` but unpadded: ragged [B, None] values."""
        return self.packer.pack_ragged(self._segments(texts, texts_b, pairs))


_NESTED_TEXTS = ("{what} is a nested list ({example}). Hugging Face reads that as a batch of (text_a, text_b) "
                 "pairs and keras-hub refuses it, so it is not guessed here: pass pairs=[(text_a, text_b), ...] "
                 "for a list of pairs, or preprocessor(texts_a, texts_b) for two parallel batches.")


def _is_tensor_pair(x):
    return (isinstance(x, (tuple, list)) and len(x) == 2
            and all(isinstance(t, (tf.Tensor, tf.RaggedTensor, np.ndarray)) for t in x))


def _text_batch(texts, what):
    """`texts` as a 1-D tf.string tensor (a scalar becomes a batch of one), or a clear error."""
    if isinstance(texts, (list, tuple)):
        for t in texts:
            if isinstance(t, (list, tuple, np.ndarray, tf.Tensor, tf.RaggedTensor)):
                raise ValueError(_NESTED_TEXTS.format(what=what, example=repr(texts)[:60]))
    t = texts if isinstance(texts, tf.Tensor) else tf.convert_to_tensor(texts, tf.string)
    if t.dtype != tf.string:
        raise TypeError(f"{what} must be strings, got a tensor of {t.dtype.name}.")
    if t.shape.rank == 0:
        return tf.expand_dims(t, 0)
    if t.shape.rank != 1:
        hint = " For a batch of (text_a, text_b) pairs pass pairs=." if t.shape.rank == 2 else ""
        raise ValueError(f"{what} must be a string or a 1-D batch of strings; got shape {t.shape}.{hint}")
    return t


def _split_pairs(pairs):
    """`pairs` ([B, 2] strings, or a list of 2-item sequences) -> (texts_a, texts_b)."""
    if isinstance(pairs, (tf.Tensor, np.ndarray)):
        pairs = tf.convert_to_tensor(pairs, tf.string) if not isinstance(pairs, tf.Tensor) else pairs
        if pairs.shape.rank != 2 or pairs.shape[1] != 2:
            raise ValueError(f"pairs must have shape [B, 2] (text_a, text_b per row); got {pairs.shape}.")
        return pairs[:, 0], pairs[:, 1]
    if isinstance(pairs, (str, bytes)):
        raise TypeError("pairs must be a list of (text_a, text_b), not a string.")
    pairs = list(pairs)
    for i, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise ValueError(f"pairs[{i}] is {pair!r}; each pair must be (text_a, text_b).")
    return [a for a, _ in pairs], [b for _, b in pairs]


DEFAULT_BUCKETS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448)


def bucket_by_length(dataset, length_fn, bucket_boundaries, max_length, batch_size, drop_remainder):
    """`dataset.bucket_by_sequence_length` with inclusive boundaries (default `DEFAULT_BUCKETS`) below `max_length`.

    A bucket holds lengths up to its boundary; the last one everything up to `max_length`.
    """
    boundaries = sorted({int(b) for b in (bucket_boundaries or DEFAULT_BUCKETS) if int(b) < max_length})
    return dataset.bucket_by_sequence_length(
        length_fn, bucket_boundaries=[b + 1 for b in boundaries],  # tf.data's boundaries are exclusive
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1), drop_remainder=drop_remainder,
        pad_to_bucket_boundary=False)


def bucketed_dataset(dataset, preprocessor, batch_size, bucket_boundaries=None, drop_remainder=False,
                     tokenize_batch_size=1024):
    """Builds a length-bucketed, dynamically padded `tf.data` pipeline.

    `dataset` yields `text`, `(text, label)`, `(text_a, text_b)` is NOT
    accepted (ambiguous): give pairs as `((text_a, text_b), label)`. Texts are
    tokenized in large batches, split back into examples, grouped by packed
    length into buckets (`bucket_boundaries`, default powers up to the model
    length) and each batch is padded to its own longest sequence, so short
    texts are not padded to `sequence_length`. Yields `features` or
    `(features, label)`. Order is grouped by length (shuffle before, if needed).
    """
    packer = preprocessor.packer
    spec = dataset.element_spec
    has_labels = isinstance(spec, tuple) and len(spec) == 2 and not (
        isinstance(spec[1], tf.TensorSpec) and spec[1].dtype == tf.string)
    if isinstance(spec, tuple) and len(spec) == 2 and not has_labels:
        raise ValueError("bucketed_dataset: a 2-tuple of strings is ambiguous; give pairs as "
                         "((text_a, text_b), label) or ((text_a, text_b),).")
    if isinstance(spec, tuple) and len(spec) == 1:
        dataset = dataset.map(lambda x: x)
        spec = dataset.element_spec

    def pack(*element):
        texts = element[0] if has_labels else element
        if isinstance(texts, tuple) and len(texts) == 1:
            texts = texts[0]
        features = preprocessor.pack_ragged(texts)
        return (features, element[1]) if has_labels else features

    def dense(*element):  # unbatched ragged rows are RaggedTensors of rank 1; bucketing needs Tensors
        return tf.nest.map_structure(
            lambda t: t.flat_values if isinstance(t, tf.RaggedTensor) else t, element[0] if len(element) == 1
            else element)

    ds = dataset.batch(tokenize_batch_size).map(pack, num_parallel_calls=tf.data.AUTOTUNE).unbatch().map(dense)

    def length(*element):
        return tf.shape(element[0]["token_ids"])[0]

    ds = bucket_by_length(ds, length, bucket_boundaries, packer.sequence_length, batch_size, drop_remainder)

    def finish(*element):
        features = element[0]
        if packer.pad_to_multiple_of:
            lengths = tf.reduce_sum(tf.cast(features["padding_mask"], tf.int64), axis=1)
            features = packer.pad({k: tf.RaggedTensor.from_tensor(v, lengths=lengths) for k, v in features.items()})
        if packer.pad_id != 0:  # bucket_by_sequence_length pads with zeros
            features["token_ids"] = tf.where(features["padding_mask"] > 0, features["token_ids"], packer.pad_id)
        features = {k: tf.cast(v, tf.int32) for k, v in features.items()}
        return (features, element[1]) if has_labels else features

    return ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def padding_fraction(batches):
    """Fraction of padded positions over an iterable of feature dicts (or (features, labels))."""
    padded = total = 0
    for batch in batches:
        features = batch[0] if isinstance(batch, tuple) else batch
        mask = features["padding_mask"]
        total += int(tf.size(mask))
        padded += int(tf.size(mask)) - int(tf.reduce_sum(tf.cast(mask, tf.int64)))
    return padded / total if total else 0.0
