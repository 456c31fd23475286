"""Reading and validating WordPiece `vocab.txt` files (one token per line, id = line number)."""

import os
import warnings

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# [MASK] is only needed for masked-LM pretraining: a fine-tuning vocabulary may lack it.
REQUIRED_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")
VOCAB_FILENAME = "vocab.txt"


class VocabError(ValueError):
    """A vocabulary file is missing, unreadable or lacks what BERT needs."""


def resolve_vocab_path(path):
    """Returns the vocab file for `path`: the file itself, or `vocab.txt` inside a checkpoint folder.

    Google's checkpoints (`bert_config.json`, `bert_model.ckpt.*`, `vocab.txt`)
    and Hugging Face's (`config.json`, `*.safetensors`, `vocab.txt`) both keep it
    at the top level; a SavedModel keeps it under `assets/`.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        for candidate in (VOCAB_FILENAME, os.path.join("assets", VOCAB_FILENAME)):
            full = os.path.join(path, candidate)
            if os.path.isfile(full):
                return full
        raise VocabError(f"No {VOCAB_FILENAME} in folder {path!r} (looked at the top level and in assets/).")
    if not os.path.exists(path):
        raise VocabError(f"Vocabulary file not found: {path!r}.")
    return path


def load_vocab(path):
    """Reads `path` (file or checkpoint folder) and returns its tokens as a list; raises VocabError."""
    path = resolve_vocab_path(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise VocabError(f"Cannot read vocabulary file {path!r}: {e}") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise VocabError(f"Vocabulary file {path!r} is not UTF-8 text ({e}); "
                         "expected one WordPiece token per line.") from e
    if text.startswith("\ufeff"):  # a byte-order mark some editors add: not part of "[PAD]"
        text = text[1:]
    # Like Google's and Hugging Face's loaders: one token per line, the line
    # break removed but other whitespace kept; a final newline is optional.
    tokens = text.split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    tokens = [t[:-1] if t.endswith("\r") else t for t in tokens]
    return validate_vocab(tokens, source=path)


def validate_vocab(tokens, source="vocabulary"):
    """Checks a token list: non-empty, no blank or duplicate entries, `REQUIRED_TOKENS` present."""
    tokens = list(tokens)
    if not tokens:
        raise VocabError(f"{source} is empty; expected one WordPiece token per line.")
    seen = {}
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise VocabError(f"{source}: entry {i} is {type(token).__name__}, not a string.")
        if token.strip() == "":
            raise VocabError(f"{source}: line {i + 1} is blank; every line must hold one token "
                             "(ids are line numbers, so a blank line would shift them).")
        if token in seen:
            raise VocabError(f"{source}: token {token!r} appears twice (lines {seen[token] + 1} and {i + 1}).")
        seen[token] = i
    missing = [t for t in REQUIRED_TOKENS if t not in seen]
    if missing:
        raise VocabError(f"{source} lacks BERT's special token(s) {', '.join(missing)}; "
                         f"a BERT vocabulary needs all of {', '.join(REQUIRED_TOKENS)} "
                         "(and [MASK] for masked-LM pretraining).")
    return tokens


def looks_uncased(tokens, ignore=()):
    """True when no entry of the vocabulary has an upper-case letter, i.e. it was built from lower-cased text.

    Bracketed entries (`[CLS]`, `[unused0]`, ...) and `ignore` (tokens kept
    whole, which skip normalisation) are not looked at. One upper-case entry is
    enough to read a vocabulary as cased: bert-base-cased has 8,366 of them,
    the uncased vocabularies (bert-base-uncased, MiniLM) none, and a small
    hand-made vocabulary may have only one. Cased readings that rest on a few
    entries of a large vocabulary are warned about, since a stray entry in an
    uncased vocabulary would turn lower-casing off.
    """
    ignore = set(ignore)
    ordinary = [t for t in tokens if t not in ignore and not (t.startswith("[") and t.endswith("]"))]
    upper = [t for t in ordinary if t != t.lower()]
    if upper and len(ordinary) >= 1000 and len(upper) * 1000 < len(ordinary):
        warnings.warn(f"Reading the vocabulary as cased (no lower-casing) because {len(upper)} of its "
                      f"{len(ordinary):,} entries have upper-case letters ({', '.join(map(repr, upper[:3]))}); "
                      "pass lowercase=True if it is an uncased vocabulary.", stacklevel=3)
    return not upper
