"""BertTokenizer: BERT's basic tokenization + WordPiece, as TensorFlow graph ops.

Token ids match Hugging Face's `BertTokenizerFast` (its `BertNormalizer`,
`BertPreTokenizer` and `WordPiece` with `max_input_chars_per_word=100`) for
the same vocabulary and `lowercase`/`strip_accents` settings:

1. Invalid UTF-8 is decoded with U+FFFD replacement characters, which BERT's
   text cleaning then removes (as it removes a literal U+FFFD), so bad bytes
   never fail a batch.
2. Each code point gets a class and a normalised form from per-code-point
   tables (`_unicode_tables.py`) extracted from the reference: dropped
   (control/format characters, NUL, U+FFFD, and non-spacing marks when accents
   are stripped), whitespace, isolated (punctuation and CJK ideographs: one
   token each) or word character (lower-cased/accent-stripped when asked).
3. Word characters between separators form words; a word longer than
   `max_chars_per_word` normalised characters becomes `[UNK]`.
4. tensorflow-text's `FastWordpieceTokenizer` (linear-time WordPiece) splits
   each word into vocabulary pieces.

Like `BertTokenizerFast`, the exact strings `[PAD] [UNK] [CLS] [SEP] [MASK]`
in the input are read as those special tokens (not lower-cased, not split),
so `"Paris is the [MASK] of France"` gives the `[MASK]` id. Pass
`split_special_tokens=True` to treat them as ordinary text instead.
`never_split` tokens (and, with `preserve_unused_token=True`, the
vocabulary's `[unusedN]` entries) are kept whole the same way, as Hugging
Face's added special tokens are: cut out of the raw text wherever they occur,
exact case, before normalisation.

Offsets are BYTE offsets into the original UTF-8 string, `[start, end)`;
`byte_to_char_offsets` converts them to character (code point) offsets, the
indices Python's `str` (and Hugging Face's `offset_mapping`) use.
"""

import re

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.core.pybinds import pywrap_fast_wordpiece_tokenizer_model_builder

from keras_bert.text.basic_tokenizer import BasicTokenizer, to_string_tensor
from keras_bert.text.packed_constants import PackedConstants
from keras_bert.text.vocab_file import (
    SPECIAL_TOKENS, VocabError, load_vocab, looks_uncased, resolve_vocab_path, validate_vocab)

_UNUSED_TOKEN = re.compile(r"\[unused\d+\]")


class BertTokenizer(tf.Module):
    """BERT WordPiece tokenizer, usable eagerly, in `tf.data` and in a SavedModel.

    Args:
      vocab_file: path to a `vocab.txt`, a checkpoint folder holding one, or a
        list of tokens. It needs `[PAD] [UNK] [CLS] [SEP]`; `[MASK]` only for
        masked-LM pretraining (`mask_id` is None without it).
      lowercase: lower-case input (uncased models). `None` reads it from the
        vocabulary: cased if any entry has an upper-case letter, bracketed
        entries (`[CLS]`, `[unused0]`) and `never_split` tokens aside.
      strip_accents: remove accents (NFD + drop non-spacing marks). `None`
        follows `lowercase`, as BERT and Hugging Face do.
      max_chars_per_word: longer words become `[UNK]` (BERT and HF use 100).
      split_special_tokens: if False (default, like HF) the five special-token
        strings typed in the text map to their special ids.
      never_split: vocabulary tokens kept whole wherever they occur in the text
        (exact case, not normalised), like Hugging Face's added special tokens
        or `never_split`; e.g. entity markers written over `[unusedN]` lines of
        `vocab.txt` (the embedding table keeps its size). A token missing from
        the vocabulary is a `VocabError`: add it to `vocab.txt` first.
      preserve_unused_token: keep the vocabulary's `[unusedN]` entries whole
        (tensorflow-text's and Model Garden's option of that name).
    """

    def __init__(self, vocab_file, lowercase=None, strip_accents=None, max_chars_per_word=100,
                 split_special_tokens=False, never_split=(), preserve_unused_token=False, name=None):
        super().__init__(name=name)
        if isinstance(vocab_file, (list, tuple)):
            tokens = validate_vocab(vocab_file)
            self.vocab_file = None
        else:
            tokens = load_vocab(vocab_file)
            self.vocab_file = str(vocab_file)
        if max_chars_per_word < 1:
            raise ValueError(f"max_chars_per_word must be >= 1, got {max_chars_per_word}.")
        token_index = {t: i for i, t in enumerate(tokens)}
        never_split = _check_never_split(never_split, token_index)
        if preserve_unused_token:
            never_split += [t for t in tokens if _UNUSED_TOKEN.fullmatch(t) and t not in never_split]
        # _no_dependency: plain Python containers, not wrapped and tracked by tf.Module.
        self.vocabulary = self._no_dependency(list(tokens))
        self.never_split = self._no_dependency(tuple(never_split))
        self.preserve_unused_token = bool(preserve_unused_token)
        self.lowercase = looks_uncased(tokens, ignore=never_split) if lowercase is None else bool(lowercase)
        self.strip_accents = self.lowercase if strip_accents is None else bool(strip_accents)
        self.max_chars_per_word = int(max_chars_per_word)
        self.split_special_tokens = bool(split_special_tokens)
        self._token_index = self._no_dependency(token_index)
        self.pad_id, self.unk_id, self.cls_id, self.sep_id = (
            token_index[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"))
        self.mask_id = token_index.get("[MASK]")  # None: a fine-tuning-only vocabulary
        self.special_ids = self._no_dependency(tuple(
            i for i in (self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id) if i is not None))

        self.basic_tokenizer = BasicTokenizer(self.lowercase, self.strip_accents, self.max_chars_per_word)
        # Words are capped in characters (like BERT); the model's byte cap
        # only has to be above the longest allowed word (4 bytes/char).
        self._max_bytes_per_word = 4 * self.max_chars_per_word + 16
        # The FastWordPiece model (a flatbuffer of ~1.3 MB for 30k tokens) is
        # kept compressed in exports; detokenization needs a larger variant,
        # built on first use.
        model = _wordpiece_model(tokens, self._max_bytes_per_word, support_detokenization=False)
        self._wordpiece_model = PackedConstants({"model": np.frombuffer(model, np.uint8)}, name="wordpiece_model")
        self._eager_wordpiece = self._no_dependency(_fast_wordpiece(self._wordpiece_model["model"]))
        self._detokenizer = None
        self._vocab_tensor = tf.constant(tokens)
        self._token_to_id_table = None
        # Strings cut out of the raw text and looked up whole; longest first, so
        # that of two matches at one position the longer wins (as in HF).
        verbatim = [] if self.split_special_tokens else [t for t in SPECIAL_TOKENS if t in token_index]
        verbatim = sorted(dict.fromkeys(verbatim + never_split), key=len, reverse=True)
        self._special_pattern = "|".join(_re_escape(t) for t in verbatim) or None
        if self.vocab_file is not None:
            # Tracked so that tf.saved_model.save copies vocab.txt into assets/.
            self.vocab_asset = tf.saved_model.Asset(resolve_vocab_path(self.vocab_file))

    # ------------------------------------------------------------------ vocab
    @property
    def vocab_size(self):
        return len(self.vocabulary)

    def token_to_id(self, tokens):
        """Token string(s) -> id(s); unknown tokens give `unk_id`. Python str -> int, tensor -> tensor."""
        if isinstance(tokens, str):
            return self._token_index.get(tokens, self.unk_id)
        if isinstance(tokens, (list, tuple)) and all(isinstance(t, str) for t in tokens):
            return [self._token_index.get(t, self.unk_id) for t in tokens]
        if isinstance(tokens, tf.RaggedTensor):
            return tf.ragged.map_flat_values(self._id_table().lookup, tokens)
        return self._id_table().lookup(tf.convert_to_tensor(tokens, tf.string))

    def _id_table(self):
        # Built on first use: exports that never map strings to ids do not carry the vocabulary twice.
        if self._token_to_id_table is None:
            with tf.init_scope():
                self._token_to_id_table = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        self._vocab_tensor, tf.range(self.vocab_size, dtype=tf.int32)),
                    default_value=self.unk_id)
        return self._token_to_id_table

    def id_to_token(self, ids):
        """Id(s) -> token string(s). Python int -> str, tensor/ragged -> string tensor."""
        if isinstance(ids, (int, np.integer)):
            self._check_id(int(ids))
            return self.vocabulary[int(ids)]
        if isinstance(ids, (list, tuple)) and all(isinstance(i, (int, np.integer)) for i in ids):
            for i in ids:
                self._check_id(int(i))
            return [self.vocabulary[int(i)] for i in ids]
        if isinstance(ids, tf.RaggedTensor):
            return tf.ragged.map_flat_values(self.id_to_token, ids)
        ids = tf.convert_to_tensor(ids)
        # tf.gather on CPU fails with an opaque message for out-of-range ids.
        tf.debugging.assert_less(tf.cast(ids, tf.int64), tf.cast(self.vocab_size, tf.int64),
                                 message=f"token id out of range for a vocabulary of {self.vocab_size}")
        tf.debugging.assert_non_negative(ids, message="token ids must be >= 0")
        return tf.gather(self._vocab_tensor, ids)

    def _check_id(self, i):
        if not 0 <= i < self.vocab_size:
            raise ValueError(f"Token id {i} is out of range for a vocabulary of {self.vocab_size}.")

    # ----------------------------------------------------------- tokenization
    @tf.autograph.experimental.do_not_convert
    def tokenize(self, strings):
        """Strings -> token ids: a scalar gives a 1-D int32 tensor, a batch [B] a RaggedTensor [B, None]."""
        return self.tokenize_with_offsets(strings)[0]

    @tf.autograph.experimental.do_not_convert
    def tokenize_with_offsets(self, strings):
        """Returns (ids, starts, ends): int32 ids and int64 BYTE offsets `[start, end)` into each input.

        A `##` piece gets the bytes of its part of the word; an `[UNK]` word
        spans the whole word. Shapes are as in `tokenize`.
        """
        strings = to_string_tensor(strings)
        if strings.shape.rank == 0:
            ids, starts, ends = self._tokenize_batch(tf.expand_dims(strings, 0))
            return ids[0], starts[0], ends[0]
        return self._tokenize_batch(strings)

    @tf.autograph.experimental.do_not_convert
    def __call__(self, strings):
        return self.tokenize(strings)

    @tf.autograph.experimental.do_not_convert
    def _tokenize_batch(self, texts):
        n = tf.shape(texts, out_type=tf.int64)[0]
        if self._special_pattern is None:
            return self._tokenize_pieces(texts, tf.zeros([n], tf.bool))
        # Cut out exact special-token (and never_split) strings first (Hugging Face
        # matches them on the raw text, before normalisation), tokenize pieces, merge back.
        # regex_split stops at a NUL byte, so swap NUL for U+0001: same length,
        # and both are control characters that tokenization drops anyway.
        texts = tf.strings.regex_replace(texts, "\\x00", "\x01")
        pieces, p_start, _ = tf_text.regex_split_with_offsets(
            texts, self._special_pattern, self._special_pattern)
        flat = pieces.flat_values
        is_special = tf.strings.regex_full_match(flat, self._special_pattern)
        ids, starts, ends = self._tokenize_pieces(flat, is_special)
        base = tf.repeat(p_start.flat_values, starts.row_lengths())
        starts = starts.with_flat_values(starts.flat_values + base)
        ends = ends.with_flat_values(ends.flat_values + base)

        def regroup(r):
            # Rows of pieces -> rows of texts: token row splits indexed by piece row splits.
            return tf.RaggedTensor.from_row_splits(r.flat_values, tf.gather(r.row_splits, pieces.row_splits),
                                                   validate=False)

        return regroup(ids), regroup(starts), regroup(ends)

    @tf.autograph.experimental.do_not_convert
    def _tokenize_pieces(self, texts, is_special):
        """Tokenizes a 1-D batch; rows flagged `is_special` are taken verbatim as one word."""
        w = self.basic_tokenizer.split_internal(texts, is_special)
        words = tf.where(w.too_long, "[UNK]", w.words)
        wordpiece = (_fast_wordpiece(self._wordpiece_model["model"]) if tf.inside_function()
                     else self._eager_wordpiece)
        ids, p_start, p_end = wordpiece.tokenize_with_offsets(words)

        # Map piece offsets (bytes within the normalised word) back to the
        # original string through the running byte count of normalised text.
        piece_word = ids.value_rowids()
        g0 = tf.gather(w.word_norm_start, piece_word)
        first = tf.searchsorted(w.char_norm_start, g0 + p_start.flat_values, side="right") - 1
        last = tf.searchsorted(w.char_norm_start, g0 + p_end.flat_values - 1, side="right") - 1
        piece_start = tf.gather(w.char_start, first)
        piece_end = tf.gather(w.char_end, last)
        long_piece = tf.gather(w.too_long, piece_word)  # an [UNK] for a too-long word spans the word
        piece_start = tf.where(long_piece, tf.gather(w.word_start, piece_word), piece_start)
        piece_end = tf.where(long_piece, tf.gather(w.word_end, piece_word), piece_end)

        # Words are in row order, so a row's tokens are those of its words.
        word_splits = tf.RaggedTensor.from_value_rowids(
            w.word_row, w.word_row, nrows=w.num_rows, validate=False).row_splits
        token_splits = tf.gather(ids.row_splits, word_splits)

        def per_row(flat):
            return tf.RaggedTensor.from_row_splits(flat, token_splits, validate=False)

        return per_row(ids.flat_values), per_row(piece_start), per_row(piece_end)

    # ---------------------------------------------------------- detokenizing
    @tf.autograph.experimental.do_not_convert
    def detokenize(self, ids, skip_special_tokens=True):
        """Ids -> text: pieces joined with spaces, `##` pieces glued to the previous one.

        Lower-casing, accents and spacing around punctuation are not restored
        (`"it's"` comes back as `"it ' s"`). `[CLS]`, `[SEP]` and `[PAD]` are
        left out unless `skip_special_tokens=False`.
        """
        scalar = False
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids)
            if ids.shape.rank == 1:
                scalar, ids = True, tf.expand_dims(ids, 0)
            if ids.shape.rank != 2:
                raise ValueError(f"detokenize expects ids of shape [T] or [B, T]; got {ids.shape}.")
            ids = tf.RaggedTensor.from_tensor(ids)
        ids = tf.cast(ids, tf.int32)
        tf.debugging.assert_less(ids.flat_values, self.vocab_size,
                                 message=f"token id out of range for a vocabulary of {self.vocab_size}")
        if skip_special_tokens:
            flat = ids.flat_values
            keep = ~(tf.equal(flat, self.cls_id) | tf.equal(flat, self.sep_id) | tf.equal(flat, self.pad_id))
            ids = tf.ragged.boolean_mask(ids, ids.with_flat_values(keep))
        if self._detokenizer is None:
            with tf.init_scope():
                model = _wordpiece_model(self.vocabulary, self._max_bytes_per_word, support_detokenization=True)
                self._detokenizer = self._no_dependency(_fast_wordpiece(tf.constant(np.frombuffer(model, np.uint8))))
        text = self._detokenizer.detokenize(ids)
        return text[0] if scalar else text


@tf.autograph.experimental.do_not_convert
def byte_to_char_offsets(strings, byte_offsets):
    """Converts BYTE offsets into `strings` to CHARACTER (code point) offsets.

    `strings`: [B] strings; `byte_offsets`: ragged [B, None] int (starts or
    ends from `tokenize_with_offsets`). A character offset counts the code
    points that start before the byte offset, so both starts and ends convert.
    Invalid UTF-8 bytes count as one replacement character each.
    """
    strings = to_string_tensor(strings)
    scalar = strings.shape.rank == 0
    if scalar:
        strings = tf.expand_dims(strings, 0)
        byte_offsets = tf.RaggedTensor.from_tensor(tf.expand_dims(tf.convert_to_tensor(byte_offsets), 0))
    _, char_starts = tf.strings.unicode_decode_with_offsets(strings, "UTF-8", errors="replace")
    big = tf.constant(np.iinfo(np.int64).max, tf.int64)
    dense_starts = char_starts.to_tensor(default_value=big)
    offsets = tf.cast(byte_offsets, tf.int64)
    dense_offsets = offsets.to_tensor(default_value=0)
    chars = tf.searchsorted(dense_starts, dense_offsets, side="left")
    result = tf.RaggedTensor.from_tensor(chars, lengths=offsets.row_lengths())
    return result[0] if scalar else result


def _wordpiece_model(tokens, max_bytes_per_word, support_detokenization):
    """The FastWordpieceTokenizer flatbuffer for `tokens` (bytes), as tf_text builds it."""
    return pywrap_fast_wordpiece_tokenizer_model_builder.build_fast_wordpiece_model(
        tokens, max_bytes_per_word, "##", "[UNK]", True, support_detokenization)  # True: no pretokenization


def _fast_wordpiece(model):
    return tf_text.FastWordpieceTokenizer(model_buffer=model, token_out_type=tf.int32)


def _check_never_split(never_split, token_index):
    """`never_split` as a list of vocabulary tokens, or a clear error."""
    if isinstance(never_split, (str, bytes)):
        raise TypeError(f"never_split must be a list of tokens, not the string {never_split!r}.")
    out = []
    for token in never_split or ():
        if not isinstance(token, str) or not token.strip():
            raise ValueError(f"never_split tokens must be non-blank strings; got {token!r}.")
        if token.startswith("##"):
            raise ValueError(f"never_split token {token!r} is a word-continuation piece; only whole tokens "
                             "can be kept whole.")
        if token not in token_index:
            raise VocabError(f"never_split token {token!r} is not in the vocabulary. Write it into vocab.txt "
                             "first, e.g. over an [unusedN] line (the checkpoint's embedding table keeps its "
                             "size), or append it and build the model with the larger vocab_size.")
        if token not in out:
            out.append(token)
    return out


def _re_escape(token):
    # RE2 syntax: escape ASCII punctuation and spaces; other characters stand for themselves
    # (RE2 rejects an escaped non-ASCII character).
    return "".join(c if c.isalnum() or ord(c) > 127 else "\\" + c for c in token)
