"""BasicTokenizer: BERT's text cleaning, normalisation and word splitting, as TF ops.

Splits strings into normalised words the way Hugging Face's `BertNormalizer`
+ `BertPreTokenizer` do (see `tokenizer.py` for the rules), keeping, for every
character, its byte span in the original string so WordPiece offsets can be
mapped back. Used by `BertTokenizer` and by vocabulary learning (so a learned
vocabulary sees exactly the words the tokenizer will later look up).
"""

import collections

import numpy as np
import tensorflow as tf

from keras_bert.text import _unicode_tables
from keras_bert.text.packed_constants import PackedConstants

DROP, SPACE, ISOLATED, WORD = 0, 1, 2, 3
_TABLES = None

Words = collections.namedtuple("Words", [
    "words",            # [W] normalised words (UTF-8)
    "too_long",         # [W] bool, more than max_chars_per_word normalised characters
    "word_row",         # [W] int64 input row of each word
    "num_rows",         # scalar int64
    "word_start",       # [W] int64 byte offset of the word in its input
    "word_end",         # [W] int64 byte end of the word
    "char_start",       # [C] int64 byte offset of each kept character
    "char_end",         # [C] int64 byte end of each kept character
    "char_norm_start",  # [C] int64 running byte position of the character's normalised text
    "word_norm_start",  # [W] int64 running byte position of the word's first character
])


def _tables():
    global _TABLES
    if _TABLES is None:
        _TABLES = _unicode_tables.load()
    return _TABLES


def to_string_tensor(strings, what="strings"):
    """Python str/bytes/list or tensor -> scalar or 1-D tf.string tensor, with clear errors."""
    if strings is None:
        raise TypeError(f"{what} must be a string or a batch of strings, not None.")
    if isinstance(strings, (str, bytes)):
        strings = tf.constant(strings)
    elif not isinstance(strings, (tf.Tensor, tf.RaggedTensor)):
        strings = list(strings) if not isinstance(strings, np.ndarray) else strings
        strings = tf.constant(strings, dtype=tf.string) if len(strings) else tf.constant([], tf.string)
    if strings.dtype != tf.string:
        raise TypeError(f"{what} must be strings, got a tensor of {strings.dtype.name}.")
    if strings.shape.rank not in (0, 1):
        raise ValueError(f"{what} must be a scalar string or a 1-D batch of strings; got shape {strings.shape}.")
    return strings


class BasicTokenizer(tf.Module):
    """Cleans, normalises and splits text into words (no vocabulary needed)."""

    def __init__(self, lowercase=True, strip_accents=None, max_chars_per_word=100, name=None):
        super().__init__(name=name)
        self.lowercase = bool(lowercase)
        self.strip_accents = self.lowercase if strip_accents is None else bool(strip_accents)
        self.max_chars_per_word = int(max_chars_per_word)
        table = _tables()[f"{int(self.lowercase)}{int(self.strip_accents)}"]
        keys = sorted(int(k) for k in table["map"])
        values = [table["map"][str(k)] for k in keys]
        lengths = [len(v) for v in values]
        # Compressed in exports (about 0.3 MB raw); see packed_constants.
        self._packed = PackedConstants({
            # Classes by code-point range (searchsorted on range starts).
            "class_starts": np.asarray(table["starts"], np.int32),
            "class_values": np.asarray(table["classes"], np.int32),
            # Characters whose normalised form differs: sorted keys -> slices of a flat value array.
            "map_keys": np.asarray(keys or [-1], np.int32),
            "map_offsets": (np.concatenate([[0], np.cumsum(lengths)[:-1]]) if keys else np.zeros(1)).astype(np.int32),
            "map_lengths": np.asarray(lengths or [0], np.int32),
            "map_values": np.asarray([c for v in values for c in v] or [0], np.int32),
        }, name="unicode_tables")
        self._num_map_values = sum(lengths) if keys else 1

    @tf.autograph.experimental.do_not_convert
    def split(self, strings):
        """Strings [B] -> RaggedTensor [B, None] of normalised words (a scalar gives a 1-D tensor)."""
        strings = to_string_tensor(strings)
        scalar = strings.shape.rank == 0
        texts = tf.expand_dims(strings, 0) if scalar else strings
        w = self.split_internal(texts, tf.zeros(tf.shape(texts), tf.bool))
        words = tf.RaggedTensor.from_value_rowids(w.words, w.word_row, nrows=w.num_rows, validate=False)
        return words[0] if scalar else words

    @tf.autograph.experimental.do_not_convert
    def split_internal(self, texts, verbatim):
        """1-D texts -> `Words`. Rows flagged in `verbatim` are one word, not normalised (special tokens)."""
        cps, c_starts = tf.strings.unicode_decode_with_offsets(
            texts, "UTF-8", errors="replace", replacement_char=0xFFFD)
        cp = cps.flat_values
        start = c_starts.flat_values
        row = cps.value_rowids()
        total = tf.shape(cp, out_type=tf.int64)[0]
        # A character ends where the next one starts, or at the end of its string
        # (with invalid bytes, byte lengths cannot be derived from code points).
        is_last = tf.equal(tf.range(total), tf.gather(cps.row_limits(), row) - 1)
        next_start = tf.concat([start[1:], tf.zeros([1], tf.int64)], 0)[:total]
        end = tf.where(is_last, tf.cast(tf.gather(tf.strings.length(texts, unit="BYTE"), row), tf.int64),
                       next_start)

        t = self._packed
        cls = tf.gather(t["class_values"], tf.searchsorted(t["class_starts"], cp, side="right") - 1)
        special = tf.gather(verbatim, row)
        cls = tf.where(special, WORD, cls)

        keep = tf.not_equal(cls, DROP)
        cp, start, end, row, cls, special = (tf.boolean_mask(t, keep) for t in (cp, start, end, row, cls, special))
        # Words start after whitespace, at and after isolated characters, and at row starts.
        prev_cls = tf.concat([[SPACE], cls[:-1]], 0)
        prev_row = tf.concat([[-1], row[:-1]], 0)
        word_first = (tf.equal(cls, ISOLATED) | tf.equal(prev_cls, SPACE) | tf.equal(prev_cls, ISOLATED)
                      | tf.not_equal(row, prev_row))
        in_word = tf.not_equal(cls, SPACE)
        cp, start, end, row, special, word_first = (
            tf.boolean_mask(t, in_word) for t in (cp, start, end, row, special, word_first))
        n_chars = tf.shape(cp, out_type=tf.int64)[0]
        word_id = tf.cumsum(tf.cast(word_first, tf.int64)) - 1
        num_words = tf.reduce_sum(tf.cast(word_first, tf.int64))

        # Normalised code points: the table's entry for changed characters, else the character.
        map_keys = t["map_keys"]
        pos = tf.searchsorted(map_keys, cp, side="left")
        pos = tf.minimum(pos, tf.size(map_keys) - 1)
        changed = tf.equal(tf.gather(map_keys, pos), cp) & tf.logical_not(special)
        sources = tf.concat([t["map_values"], cp], 0)
        src_start = tf.where(changed, tf.gather(t["map_offsets"], pos),
                             self._num_map_values + tf.range(tf.cast(n_chars, tf.int32)))
        src_len = tf.where(changed, tf.gather(t["map_lengths"], pos), 1)
        norm_cp = tf.gather(sources, tf.ragged.range(src_start, src_start + src_len).flat_values)
        words_cp = tf.RaggedTensor.from_value_rowids(norm_cp, tf.repeat(word_id, src_len), nrows=num_words,
                                                    validate=False)
        words = tf.strings.unicode_encode(words_cp, "UTF-8")

        cp_bytes = (1 + tf.cast(norm_cp >= 0x80, tf.int64) + tf.cast(norm_cp >= 0x800, tf.int64)
                    + tf.cast(norm_cp >= 0x10000, tf.int64))
        char_bytes = tf.math.segment_sum(cp_bytes, tf.repeat(tf.range(n_chars), src_len))
        char_norm_start = tf.cumsum(char_bytes, exclusive=True)
        return Words(
            words=words,
            too_long=words_cp.row_lengths() > self.max_chars_per_word,
            word_row=tf.boolean_mask(row, word_first),
            num_rows=cps.nrows(),
            word_start=tf.boolean_mask(start, word_first),
            word_end=tf.math.unsorted_segment_max(end, word_id, num_words),
            char_start=start,
            char_end=end,
            char_norm_start=char_norm_start,
            word_norm_start=tf.boolean_mask(char_norm_start, word_first),
        )
