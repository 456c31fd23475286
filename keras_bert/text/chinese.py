"""Chinese word boundaries for whole-word masking (Chinese-BERT-wwm style).

BERT's tokenizer makes every CJK ideograph its own token, so WordPiece's `##`
pieces say nothing about Chinese words: "中共中央" is four independent tokens.
Whole-word masking (Cui et al., "Pre-Training with Whole Word Masking for
Chinese BERT") masks all characters of a word together; the words come from a
segmenter, the model still sees characters.

`segment(text, segmentation)` gives the start (character index) of every word:
  "spaces"  the text is pre-segmented: each run of non-whitespace is one word
            (gold segmentations such as People's Daily, `迈向 充满 希望 的 新 世纪`).
            Whitespace next to a CJK character does not change BERT's tokens,
            so the model sees the unsegmented text.
  "jieba"   jieba's default mode (the optional extra `keras-bert-tf[zh]`, MIT).
  callable  any function text -> list of words that concatenate to the text.

`word_continuation(tokenizer, texts, segmentation)` marks each token that
continues the previous token's word: its first character is not a word start.
That covers `##` pieces and every non-initial character of a Chinese word
("１９９８年" -> "１９９８" "年": "年" continues). The pretraining data stores
these flags and `MlmMasker(whole_word=True)` treats flagged tokens as it
treats `##` pieces.
"""

import re

import numpy as np

SEGMENTATIONS = ("spaces", "jieba")

# BERT's `_is_chinese_char` ranges (tokenization.py): the CJK Unified Ideographs blocks and their
# compatibility blocks. Hangul, kana and CJK punctuation are not in them.
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
_NON_SPACE = re.compile(r"\S+")


def is_cjk_char(char):
    """True for a CJK ideograph that BERT's tokenizer isolates as its own token."""
    cp = ord(char)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def _jieba_cut():
    try:
        import jieba
    except ImportError:
        raise ImportError("segmentation='jieba' needs jieba: pip install 'keras-bert-tf[zh]' (or pip install "
                          "jieba); or pre-segment the corpus with spaces and use segmentation='spaces'") from None
    jieba.setLogLevel(60)  # its dictionary-loading messages go to stderr at INFO
    return jieba.lcut


def word_starts(text, segmentation="spaces", cut=None):
    """Sorted character indices in `text` where a word starts (see the module docstring)."""
    if segmentation == "spaces":
        return [m.start() for m in _NON_SPACE.finditer(text)]
    if callable(segmentation):
        words = segmentation(text)
    elif segmentation == "jieba":
        words = (cut or _jieba_cut())(text)
    else:
        raise ValueError(f"segmentation must be one of {SEGMENTATIONS} or a callable; got {segmentation!r}")
    if "".join(words) != text:
        raise ValueError(f"the segmenter's words do not concatenate to the text: {text[:50]!r}...")
    starts, position = [], 0
    for word in words:
        if word.strip():
            starts.append(position + len(word) - len(word.lstrip()))
        position += len(word)
    return starts


def segment(text, segmentation="spaces"):
    """The words of `text` as strings, whitespace dropped (for inspection and tests)."""
    starts = word_starts(text, segmentation)
    bounds = starts[1:] + [len(text)]
    return [text[s:e].strip() for s, e in zip(starts, bounds)]


def _byte_starts(text, char_starts):
    """Character indices -> UTF-8 byte offsets."""
    lengths = np.fromiter((len(c.encode("utf-8")) for c in text), np.int64, len(text))
    cumulative = np.concatenate([[0], np.cumsum(lengths)])
    return cumulative[np.asarray(char_starts, np.int64)] if len(char_starts) else np.zeros(0, np.int64)


def word_continuation(tokenizer, texts, segmentation="spaces", batch_size=4096):
    """Per text: (token ids, continuation flags) as two lists of equal length.

    A flag is True when the token's first character is not the start of a word
    (`word_starts`), i.e. masking should take it together with the token before.
    """
    import tensorflow as tf

    cut = _jieba_cut() if segmentation == "jieba" else None
    out = []
    for i in range(0, len(texts), batch_size):
        chunk = texts[i:i + batch_size]
        ids, starts, _ = tokenizer.tokenize_with_offsets(tf.constant(chunk or [""], tf.string))
        for text, row_ids, row_starts in zip(chunk, ids.to_list(), starts.to_list()):
            boundaries = _byte_starts(text, word_starts(text, segmentation, cut))
            flags = ~np.isin(np.asarray(row_starts, np.int64), boundaries)
            out.append((row_ids, flags.tolist()))
    return out
