"""Learning a WordPiece vocabulary from a corpus.

Words come from this package's `BasicTokenizer` (the same cleaning,
normalisation and splitting `BertTokenizer` applies), counted, then given to
tensorflow-text's WordPiece learner (`wordpiece_tokenizer_learner_lib.learn`,
the algorithm behind `bert_vocab_from_dataset`). tensorflow-text's own
`bert_vocab_from_dataset` is not called directly because its basic tokenizer
normalises differently (NFKC case folding), which would learn pieces our
tokenizer never produces.

Vocabulary order: `[PAD] [UNK] [CLS] [SEP] [MASK]` (ids 0-4), then any extra
`reserved_tokens`, then the learned tokens (single characters and their `##`
forms first, then longer pieces). The size is a target: the learner's
threshold search can land slightly under it.

Characters. Every character of the alphabet gets a token, so no text
splits into `[UNK]` below the character level. The learner's alphabet is
the `max_unique_chars` most frequent characters; its fixed default (1,000)
would drop most Chinese characters (a Chinese corpus has thousands), so the
alphabet here is the most frequent characters that cover `char_coverage` of
all character occurrences, at least 1,000. Characters BERT's tokenizer always
isolates (CJK ideographs, punctuation: seen only as one-character words) get
no `##` form, which the tokenizer could never produce; the learner is asked
for that many more tokens so the size target still holds.
"""

import collections
import os

import tensorflow as tf

from keras_bert.text.basic_tokenizer import BasicTokenizer
from keras_bert.text.vocab_file import SPECIAL_TOKENS
from keras_bert.utils import atomic_write_text


def _text_dataset(corpus):
    if isinstance(corpus, tf.data.Dataset):
        spec = corpus.element_spec
        if not (isinstance(spec, tf.TensorSpec) and spec.dtype == tf.string):
            raise TypeError(f"learn_vocab expects a dataset of strings; got element_spec {spec}.")
        return corpus.unbatch() if spec.shape.rank else corpus
    if isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    files = [os.fspath(f) for f in corpus]
    if not files:
        raise ValueError("learn_vocab needs at least one corpus file.")
    for f in files:
        if not os.path.isfile(f):
            raise FileNotFoundError(f"Corpus file not found: {f!r}.")
    return tf.data.TextLineDataset(files)


def count_words(corpus, lowercase=True, strip_accents=None, batch_size=4096):
    """Counts the normalised words of a corpus (files or a dataset of strings) -> Counter."""
    basic = BasicTokenizer(lowercase, strip_accents)
    counts = collections.Counter()
    ds = _text_dataset(corpus).batch(batch_size).map(basic.split, num_parallel_calls=tf.data.AUTOTUNE)
    for words in ds.prefetch(2):
        counts.update(words.flat_values.numpy().tolist())
    return collections.Counter({w.decode("utf-8"): c for w, c in counts.items()})


def _alphabet(counts, char_coverage):
    """(alphabet size covering `char_coverage` of character occurrences (>= 1,000), isolated characters)."""
    chars, in_longer = collections.Counter(), set()
    for word, count in counts.items():
        for char in word:
            chars[char] += count
        if len(word) > 1:
            in_longer.update(word)
    ranked = [c for c, _ in sorted(chars.items(), key=lambda item: (-item[1], item[0]))]
    total, running, size = sum(chars.values()), 0, len(ranked)
    for i, char in enumerate(ranked):
        running += chars[char]
        if running >= char_coverage * total:
            size = i + 1
            break
    size = max(size, min(1000, len(ranked)))
    return size, {c for c in ranked[:size] if c not in in_longer}


def learn_vocab(corpus, vocab_size, out_file=None, lowercase=True, strip_accents=None, reserved_tokens=(),
                min_count=None, max_token_length=50, char_coverage=0.9999, **learn_params):
    """Learns a WordPiece vocabulary; returns the token list and writes it to `out_file` if given.

    Args:
      corpus: corpus file path(s) (one text per line) or a `tf.data.Dataset` of strings.
      vocab_size: target size, special tokens included.
      lowercase, strip_accents: as `BertTokenizer` (uncased by default).
      reserved_tokens: extra tokens placed right after the five special tokens.
      min_count: ignore words seen fewer times (the learner's `lower_thresh`).
      char_coverage: the alphabet covers this fraction of character occurrences (module docstring);
        `max_unique_chars=N` in `learn_params` fixes its size instead.
    """
    from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

    reserved = list(SPECIAL_TOKENS) + [t for t in reserved_tokens if t not in SPECIAL_TOKENS]
    if int(vocab_size) <= len(reserved):
        raise ValueError(f"vocab_size must exceed the {len(reserved)} reserved tokens; got {vocab_size}.")
    counts = count_words(corpus, lowercase, strip_accents)
    if not counts:
        raise ValueError("The corpus holds no words; cannot learn a vocabulary.")
    if min_count is not None:
        learn_params["lower_thresh"] = int(min_count)
    else:  # the learner's default (10) leaves nothing to learn from a small corpus
        learn_params.setdefault("lower_thresh", 1 if sum(counts.values()) < 1_000_000 else 10)
    if not 0.0 < char_coverage <= 1.0:
        raise ValueError(f"char_coverage must be in (0, 1]; got {char_coverage}.")
    size, isolated = _alphabet(counts, char_coverage)
    learn_params.setdefault("max_unique_chars", size)
    # The learner gives every alphabet character a ## form; those of isolated characters are dropped.
    vocab = learner.learn(counts, int(vocab_size) + len(isolated), reserved, max_token_length=max_token_length,
                          **learn_params)
    vocab = [t for t in vocab if not (t.startswith("##") and t[2:] in isolated)][:int(vocab_size)]
    if out_file is not None:
        atomic_write_text(os.fspath(out_file), "\n".join(vocab) + "\n")
    return vocab
