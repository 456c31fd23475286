"""Tagging data for long and Chinese sentences: training windows, the token separator, entity spans -> word tags."""

import os

import numpy as np
import tensorflow as tf

from keras_bert.text import BertTokenizer, make_windows
from keras_bert.text.tagging import IGNORE_LABEL, char_spans, encode_tagged, window_spans, word_tags_from_spans

VOCAB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "chinese", "vocab.txt")
LABELS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_window_spans_hand_checked():
    assert window_spans(10, 4, 2) == [(0, 4), (2, 6), (4, 8), (6, 10)]
    assert window_spans(9, 4, 3) == [(0, 4), (3, 7), (6, 9)]
    assert window_spans(3, 4, 2) == [(0, 3)]
    assert window_spans(0, 4, 2) == [(0, 0)]
    assert window_spans(10, 4, 9) == [(0, 4), (4, 8), (8, 10)]  # stride capped at the window


def test_window_spans_match_make_windows():
    tok = BertTokenizer(VOCAB)
    texts = ["中" * 57, "北京" * 3, "１９９８年江泽民" * 9]
    w = make_windows(tok, tf.constant(texts), sequence_length=18, stride=7)
    lengths = tok.tokenize(tf.constant(texts)).row_lengths().numpy()
    got = list(zip(w["window_doc"].numpy(), w["window_start"].numpy(),
                   w["window_start"].numpy() + w["window_length"].numpy()))
    expected = [(d, s, e) for d, n in enumerate(lengths) for s, e in window_spans(int(n), 16, 7)]
    assert got == expected


def test_chinese_characters_joined_without_separator():
    tok = BertTokenizer(VOCAB)
    text = "１９９８年江泽民访问ｘｐ北京"
    tags = ["O"] * 5 + ["B-PER", "I-PER", "I-PER"] + ["O"] * 4 + ["B-LOC", "I-LOC"]
    x, y = encode_tagged(tok, [(list(text), tags)], LABELS, separator="")
    n = x["padding_mask"][0].sum()
    tokens = [tok.id_to_token(int(i)) for i in x["token_ids"][0][:n]]
    # The model reads the raw text: the digit run is one BERT word, tagged from its first character.
    assert tokens == ["[CLS]", "１９９８", "年", "江", "泽", "民", "访", "问", "ｘ", "##ｐ", "北", "京", "[SEP]"]
    assert [LABELS[i] if i != IGNORE_LABEL else None for i in y[0][:n]] == [
        None, "O", "O", "B-PER", "I-PER", "I-PER", "O", "O", "O", None, "B-LOC", "I-LOC", None]
    # With the default separator each character is its own word.
    x, _ = encode_tagged(tok, [(list(text), tags)], LABELS)
    assert tok.id_to_token(int(x["token_ids"][0][1])) == "１"


def test_long_sentence_becomes_overlapping_training_windows():
    tok = BertTokenizer(VOCAB)
    text = "江泽民在北京会见李鹏"  # 10 characters, 10 tokens
    tags = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O", "B-PER", "I-PER"]
    x, y, sentence = encode_tagged(tok, [(list(text), tags), (["京"], ["B-LOC"])], LABELS, sequence_length=6,
                                   stride=2, separator="", return_sentence_index=True)
    assert sentence.tolist() == [0, 0, 0, 0, 1]
    ids = tok.tokenize(tf.constant([text])).to_list()[0]
    for row, (start, end) in enumerate([(0, 4), (2, 6), (4, 8), (6, 10)]):
        np.testing.assert_array_equal(x["token_ids"][row], [tok.cls_id, *ids[start:end], tok.sep_id])
        assert [LABELS[i] for i in y[row][1:5]] == tags[start:end]
        assert y[row][0] == y[row][5] == IGNORE_LABEL
    # Without a stride the sentence is truncated to one row.
    x, y = encode_tagged(tok, [(list(text), tags)], LABELS, sequence_length=6, separator="")
    assert len(y) == 1 and [LABELS[i] for i in y[0][1:5]] == tags[:4]


def test_word_tags_from_entity_spans():
    words = ["１９９８", "年", "江", "泽", "民"]
    spans = char_spans(words, "")
    assert spans == [(0, 4), (4, 5), (5, 6), (6, 7), (7, 8)]
    assert char_spans(["New", "York"]) == [(0, 3), (4, 8)]
    # Entities by character span; given out of order; one starting inside a word takes the whole word.
    tags = word_tags_from_spans(5, spans, [("PER", 5, 8), ("LOC", 1, 4)])
    assert tags == ["B-LOC", "O", "B-PER", "I-PER", "I-PER"]
    assert word_tags_from_spans(5, spans, [("PER", 5, 8)], scheme="BIOES") == ["O", "O", "B-PER", "I-PER", "E-PER"]
