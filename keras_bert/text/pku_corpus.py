"""The PKU People's Daily format (`word/TAG` tokens, gold segmentation): words, text, NER labels.

A line is one paragraph, tokens separated by whitespace, each `word/TAG` with
a PKU part-of-speech tag (`江/nr 泽民/nr 发表/v １９９８年/t 新年/t 讲话/n`).
NER labels follow the usual reading of the tags: a run of adjacent `/nr`
tokens is one PER (surname and given name are separate tokens), each `/ns`
token one LOC, each `/nt` token one ORG, everything else O. The text is the
words concatenated (the newspaper has no spaces); labels are per character,
BIO.
"""

ENTITY_TAGS = {"nr": "PER", "ns": "LOC", "nt": "ORG"}


def parse_line(line):
    """'word/TAG word/TAG ...' -> [(word, tag)]; a word may itself contain '/' (the last one splits)."""
    tokens = []
    for item in line.split():
        word, sep, tag = item.rpartition("/")
        if not sep or not word or not tag:
            raise ValueError(f"not a word/TAG token: {item!r}")
        tokens.append((word, tag))
    return tokens


def entities(tokens):
    """[(type, start, end)] character spans of one parsed line (rules in the module docstring)."""
    spans, position, open_per = [], 0, None
    for word, tag in tokens:
        kind = ENTITY_TAGS.get(tag)
        end = position + len(word)
        if kind == "PER" and open_per is not None:
            spans[-1] = ("PER", spans[-1][1], end)  # adjacent /nr tokens form one name
        elif kind is not None:
            spans.append((kind, position, end))
        open_per = spans[-1] if kind == "PER" else None
        position = end
    return spans


def char_bio(length, spans):
    """Character-level BIO tags for `length` characters and [(type, start, end)] spans."""
    tags = ["O"] * length
    for kind, start, end in spans:
        tags[start] = f"B-{kind}"
        for i in range(start + 1, end):
            tags[i] = f"I-{kind}"
    return tags


def read_line(line):
    """One People's Daily line -> dict(text, words, tags (char BIO), entities [(type, start, end)])."""
    tokens = parse_line(line)
    words = [w for w, _ in tokens]
    text = "".join(words)
    spans = entities(tokens)
    return {"text": text, "words": words, "tags": char_bio(len(text), spans), "entities": spans}


def read_file(path, encoding="utf-8"):
    """Every non-empty line of a People's Daily file as `read_line` dicts, with its 0-based `line` index.

    The index counts every physical line, so split rules like `index % 5 == 0` refer to line numbers.
    """
    out = []
    with open(path, encoding=encoding) as f:
        for i, line in enumerate(f):
            if line.strip():
                try:
                    record = read_line(line)
                except ValueError as error:
                    raise ValueError(f"{path}:{i + 1}: {error}") from None
                record["line"] = i
                out.append(record)
    return out
