"""Token tagging data: CoNLL files, BIO/BIOES tags, sub-word alignment, entity spans.

Words and sub-words. A model tags the first sub-word of each "BERT word"
(a token that is not a `##` continuation piece); every other position gets
IGNORE_LABEL (-100) and is left out of the loss. When one CoNLL token splits
into several BERT words ("U.S." -> "u", ".", "s", "."), the first keeps the
CoNLL tag and the others continue the entity (B-LOC -> B-LOC I-LOC I-LOC
I-LOC in BIO; the scheme is re-applied for BIOES), so training and raw-text
inference see the same notion of word.

Entity chunking of tag sequences follows `keras_bert.metrics.ner.get_entities`
(seqeval / conlleval rules). Offsets returned by `entity_spans` are character
(code point) offsets into the original Python string.
"""

import bisect

import numpy as np

from keras_bert.metrics.ner import get_entities

IGNORE_LABEL = -100
SCHEME_PREFIXES = {"BIO": ("B", "I"), "BIOES": ("B", "I", "E", "S")}


# --------------------------------------------------------------- CoNLL files
def read_conll(path, token_column=0, tag_column=-1, encoding="utf-8"):
    """Reads a CoNLL file into [(words, tags)], one pair per sentence.

    Sentences are separated by blank lines; `-DOCSTART-` lines are skipped;
    columns are whitespace-separated (token first, tag last by default, so
    CoNLL-2003's 4-column and plain 2-column files both read).
    """
    sentences, words, tags = [], [], []
    with open(path, encoding=encoding) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0] == "-DOCSTART-":
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
                continue
            if len(fields) < 2:
                raise ValueError(f"{path}:{number}: expected a token and a tag column, got {line.strip()!r}")
            try:
                words.append(fields[token_column])
                tags.append(fields[tag_column])
            except IndexError:
                raise ValueError(f"{path}:{number}: no column {token_column} / {tag_column} in "
                                 f"{line.strip()!r}") from None
    if words:
        sentences.append((words, tags))
    return sentences


# ---------------------------------------------------------------- tag schemes
def validate_tags(tags, scheme="BIO"):
    """Raises ValueError naming the first tag that is not 'O' or '<prefix>-<TYPE>' of `scheme`.

    Sequence rules are not enforced: like conlleval, "O I-PER" is read as an entity.
    """
    if scheme not in SCHEME_PREFIXES:
        raise ValueError(f"scheme must be one of {sorted(SCHEME_PREFIXES)}, got {scheme!r}")
    for i, tag in enumerate(tags):
        prefix, _, entity = str(tag).partition("-")
        if tag != "O" and (prefix not in SCHEME_PREFIXES[scheme] or not entity):
            raise ValueError(f"tag {i} ({tag!r}) is not a {scheme} tag")
    return list(tags)


def _encode(chunks, length, scheme):
    tags = ["O"] * length
    for entity, first, last in chunks:
        if scheme == "BIOES" and first == last:
            tags[first] = f"S-{entity}"
            continue
        tags[first] = f"B-{entity}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{entity}"
        if scheme == "BIOES":
            tags[last] = f"E-{entity}"
    return tags


def convert_tags(tags, scheme):
    """Re-encodes a tag sequence (BIO or BIOES, read with conlleval's rules) in `scheme`."""
    if scheme not in SCHEME_PREFIXES:
        raise ValueError(f"scheme must be one of {sorted(SCHEME_PREFIXES)}, got {scheme!r}")
    return _encode(get_entities(list(tags)), len(tags), scheme)


def bio_to_bioes(tags):
    return convert_tags(tags, "BIOES")


def bioes_to_bio(tags):
    return convert_tags(tags, "BIO")


def label_list(entity_types, scheme="BIO"):
    """["O", "B-PER", "I-PER", ...] for the given entity types, in a stable order."""
    if scheme not in SCHEME_PREFIXES:
        raise ValueError(f"scheme must be one of {sorted(SCHEME_PREFIXES)}, got {scheme!r}")
    return ["O"] + [f"{p}-{t}" for t in sorted(set(entity_types)) for p in SCHEME_PREFIXES[scheme]]


def entity_types(sentences):
    """Sorted entity types found in the tags of [(words, tags)]."""
    return sorted({tag.partition("-")[2] for _, tags in sentences for tag in tags if tag != "O"})


# ------------------------------------------------------------- sub-word level
def continuation_table(tokenizer):
    """bool [vocab]: True for `##` continuation pieces (tokens that do not start a word)."""
    return np.array([t.startswith("##") for t in tokenizer.vocabulary], bool)


def _utf8_spans(words, separator=" "):
    """Byte spans of `words` in separator.join(words)."""
    spans, position, gap = [], 0, len(separator.encode("utf-8"))
    for word in words:
        n = len(word.encode("utf-8"))
        spans.append((position, position + n))
        position += n + gap
    return spans


def char_spans(words, separator=" "):
    """Character spans of `words` in separator.join(words)."""
    spans, position = [], 0
    for word in words:
        spans.append((position, position + len(word)))
        position += len(word) + len(separator)
    return spans


def window_spans(num_tokens, window, stride):
    """[(start, end)] token spans of the windows over `num_tokens` tokens, as `make_windows` cuts them.

    Window k starts at k * stride (stride capped at `window`); the last one reaches the last token.
    """
    step = max(1, min(int(stride), window))
    count = 1 + -(-max(num_tokens - window, 0) // step)
    return [(k * step, min(k * step + window, num_tokens)) for k in range(count)]


def encode_tagged(tokenizer, sentences, labels, sequence_length=128, scheme="BIO", stride=None,
                  return_sentence_index=False, separator=" "):
    """[(words, tags)] -> (features, y): numpy int32 [N, S] model inputs and label ids.

    Words are joined with `separator` (a space; "" for Chinese characters given one per
    token, so the model sees the original text, as it will at inference: "１９９８年" is then
    the BERT words "１９９８" "年", the first taking the tag of "１") and tokenized; y holds the label index on the
    first sub-word of each BERT word (see the module docstring) and
    IGNORE_LABEL elsewhere. `labels` is the model's tag list. A sentence longer
    than `sequence_length - 2` tokens is truncated (its last words are not
    trained on), or with `stride` cut into overlapping windows (`window_spans`,
    the cut `make_windows` makes at inference), one row each, so every word is
    trained on. S is the longest packed row. `return_sentence_index=True` adds
    a third result: the sentence of each row (int32 [N]).
    """
    import tensorflow as tf

    index = {label: i for i, label in enumerate(labels)}
    texts = [separator.join(words) for words, _ in sentences]
    ids, starts, _ = tokenizer.tokenize_with_offsets(tf.constant(texts or [""], tf.string))
    ids, starts = ids.to_list(), starts.to_list()
    is_continuation = continuation_table(tokenizer)
    budget = sequence_length - 2
    if budget < 1:
        raise ValueError(f"sequence_length must be at least 3; got {sequence_length}")
    rows_ids, rows_y, rows_sentence = [], [], []
    for n, (words, tags) in enumerate(sentences):
        if len(words) != len(tags):
            raise ValueError(f"sentence {n}: {len(words)} words but {len(tags)} tags")
        validate_tags(tags, scheme)
        word_starts = [s for s, _ in _utf8_spans(words, separator)]
        token_ids, token_starts = ids[n], starts[n]
        # The BERT words of each CoNLL word, then their tags (first keeps it, the others continue it).
        owner = [bisect.bisect_right(word_starts, s) - 1 for s in token_starts]
        begins = [k for k, t in enumerate(token_ids) if not is_continuation[t]]
        bio = convert_tags(tags, "BIO")
        expanded, previous = [], None
        for k in begins:
            tag = bio[owner[k]]
            if owner[k] == previous and tag != "O":
                tag = "I-" + tag[2:]
            expanded.append(tag)
            previous = owner[k]
        expanded = convert_tags(expanded, scheme)
        y = [IGNORE_LABEL] * len(token_ids)
        for k, tag in zip(begins, expanded):
            if tag not in index:
                raise ValueError(f"sentence {n}: tag {tag!r} is not in the model's labels {labels}")
            y[k] = index[tag]
        spans = [(0, min(len(token_ids), budget))] if stride is None else window_spans(len(token_ids), budget, stride)
        for first, last in spans:
            rows_ids.append([tokenizer.cls_id, *token_ids[first:last], tokenizer.sep_id])
            rows_y.append([IGNORE_LABEL, *y[first:last], IGNORE_LABEL])
            rows_sentence.append(n)
    length = max([len(r) for r in rows_ids], default=2)
    features = {"token_ids": np.full((len(rows_ids), length), tokenizer.pad_id, np.int32),
                "segment_ids": np.zeros((len(rows_ids), length), np.int32),
                "padding_mask": np.zeros((len(rows_ids), length), np.int32)}
    y = np.full((len(rows_ids), length), IGNORE_LABEL, np.int32)
    for n, (row, row_y) in enumerate(zip(rows_ids, rows_y)):
        features["token_ids"][n, :len(row)] = row
        features["padding_mask"][n, :len(row)] = 1
        y[n, :len(row)] = row_y
    if return_sentence_index:
        return features, y, np.asarray(rows_sentence, np.int32)
    return features, y


def word_tags_from_spans(num_words, word_char_spans, entity_char_spans, scheme="BIO"):
    """Tags of `num_words` words from entities found in their text (e.g. by a `TokenTagger`).

    `word_char_spans`: [(start, end)] of each word in the text; `entity_char_spans`:
    [(type, start, end)]. An entity covers the words from the one holding its first
    character to the one holding its last; words no entity touches are "O".
    """
    starts = [s for s, _ in word_char_spans]
    chunks = []
    for kind, start, end in sorted(entity_char_spans, key=lambda e: (e[1], e[2])):
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        last = max(bisect.bisect_right(starts, end - 1) - 1, first)
        if chunks and first <= chunks[-1][2]:  # overlaps the previous entity: keep the first
            continue
        chunks.append((kind, first, last))
    return _encode(chunks, num_words, scheme)


def word_level_tags(y, labels):
    """Label ids [N, S] (IGNORE_LABEL off word starts) -> per-sentence lists of tag strings."""
    return [[labels[int(i)] for i in row if i != IGNORE_LABEL] for row in np.asarray(y)]


# ---------------------------------------------------------------- entity spans
def entity_spans(text, word_spans, word_tags, word_scores=None):
    """Entities of one text from its words' tags.

    `word_spans`: [(start, end)] character offsets of each word in `text`;
    `word_tags`: their tag strings; `word_scores`: optional per-word
    probabilities (the entity's score is their mean). Returns
    [{"entity", "start", "end", "text", "score"}] with character offsets.
    """
    if len(word_spans) != len(word_tags):
        raise ValueError(f"{len(word_spans)} word spans but {len(word_tags)} tags")
    entities = []
    for entity, first, last in get_entities(list(word_tags)):
        start, end = int(word_spans[first][0]), int(word_spans[last][1])
        score = float(np.mean(word_scores[first:last + 1])) if word_scores is not None else None
        entities.append({"entity": entity, "start": start, "end": end, "text": text[start:end], "score": score})
    return entities
