"""Assertions of peer libraries' tokenizer and packer test suites, re-expressed for keras_bert.

Each test item is one assertion of a peer's suite, with the peer's inputs and
expected values (facts about BERT tokenization, not code), written anew for
our API. Sources (all Apache-2.0):
  google   google-research/bert `tokenization_test.py`
  hf       huggingface/transformers `tests/models/bert/test_tokenization_bert.py`
  khub     keras-team/keras-hub `bert_tokenizer_test.py`, `bert_text_classifier_preprocessor_test.py`,
           `multi_segment_packer_test.py`
  tftext   tensorflow/text `python/ops/bert_tokenizer_test.py`
  garden   tensorflow/models `official/nlp/modeling/layers/text_layers_test.py`
Adaptations (ours works on ids in batches): string tokens are compared
through `id_to_token`; unbatched packer inputs get a batch of one; a peer
vocabulary without `[PAD]`/`[UNK]` gets them appended (ids unchanged);
fixed-length outputs use `padding="max_length"`. The `_is_whitespace` /
`_is_control` / `_is_punctuation` checks, identical in google's and HF's
suites, are checked through `BasicTokenizer.split`; the tests both suites
share (Chinese characters, basic lower/no-lower, WordPiece, character
classes) are counted once.

Where we deliberately differ, the test is named `test_differs_*`: it asserts
the peer's value is not ours and what ours is (docs/text-pipeline.md says
why). Not ported, for options we do not have: HF `remove_control_chars=False`
and `tokenize_chinese_chars=False`, tf.text `normalization_form="NFD"`,
keras-hub's list-valued `sep_value` (RoBERTa) and packer `get_config`, and
Model Garden's three-segment packing and Estimator plumbing.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BasicTokenizer, BertPacker, BertPreprocessor, BertTokenizer, VocabError
from keras_bert.text.tokenizer import byte_to_char_offsets

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "text")
UNCASED_VOCAB = os.path.join(DATA, "bert-base-uncased-vocab.txt")
CASED_VOCAB = os.path.join(DATA, "bert-base-cased-vocab.txt")

PAD_UNK_CLS_SEP_MASK = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _tokens(tok, text):
    return tok.id_to_token(tok.tokenize(text).numpy().tolist())


def _split(text, lowercase=True, strip_accents=None):
    return [w.decode("utf-8") for w in BasicTokenizer(lowercase, strip_accents).split(text).numpy().tolist()]


# ------------------------------------------------- google-research/bert (and HF, same tests)
GOOGLE_VOCAB = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ","]
GOOGLE_WORDPIECE_VOCAB = GOOGLE_VOCAB[:-1]


def test_google_full_tokenizer_tokens():
    tok = BertTokenizer(GOOGLE_VOCAB + ["[PAD]"])  # no [MASK]: a fine-tuning vocabulary
    assert _tokens(tok, "UNwant\u00E9d,running") == ["un", "##want", "##ed", ",", "runn", "##ing"]


def test_google_full_tokenizer_ids():
    tok = BertTokenizer(GOOGLE_VOCAB + ["[PAD]"])
    assert tok.tokenize("UNwant\u00E9d,running").numpy().tolist() == [7, 4, 5, 10, 8, 9]


def test_chinese_characters_are_split():
    assert _split("ah\u535A\u63A8zz") == ["ah", "\u535A", "\u63A8", "zz"]


def test_basic_tokenizer_lower():
    assert _split(" \tHeLLo!how  \n Are yoU?  ") == ["hello", "!", "how", "are", "you", "?"]


def test_basic_tokenizer_lower_strips_accents():
    assert _split("H\u00E9llo") == ["hello"]


def test_basic_tokenizer_no_lower():
    assert _split(" \tHeLLo!how  \n Are yoU?  ", lowercase=False) == ["HeLLo", "!", "how", "Are", "yoU", "?"]


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("unwanted running", ["un", "##want", "##ed", "runn", "##ing"]),
    ("unwantedX running", ["[UNK]", "runn", "##ing"]),
])
def test_wordpiece(text, expected):
    tok = BertTokenizer(GOOGLE_WORDPIECE_VOCAB + ["[PAD]"], lowercase=False)
    assert _tokens(tok, text) == expected


def test_google_convert_tokens_to_ids():
    tok = BertTokenizer(GOOGLE_WORDPIECE_VOCAB + ["[PAD]"])
    assert tok.token_to_id(["un", "##want", "##ed", "runn", "##ing"]) == [7, 4, 5, 8, 9]


# Character classes through their effect: whitespace separates and vanishes,
# a control character vanishes without separating, punctuation is a word.
@pytest.mark.parametrize("char, is_whitespace", [
    (" ", True), ("\t", True), ("\r", True), ("\n", True), ("\u00A0", True), ("A", False), ("-", False)])
def test_is_whitespace(char, is_whitespace):
    assert (_split("x" + char + "y", lowercase=False) == ["x", "y"]) == is_whitespace


@pytest.mark.parametrize("char, is_control", [("\u0005", True), ("A", False), (" ", False), ("\t", False),
                                              ("\r", False)])
def test_is_control(char, is_control):
    assert (_split("x" + char + "y", lowercase=False) == ["xy"]) == is_control


@pytest.mark.parametrize("char, is_punctuation", [
    ("-", True), ("$", True), ("`", True), (".", True), ("A", False), (" ", False)])
def test_is_punctuation(char, is_punctuation):
    assert (_split("x" + char + "y", lowercase=False) == ["x", char, "y"]) == is_punctuation


# ---------------------------------------------------------------------- Hugging Face
HF_VOCAB = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "want", "##want", "##ed", "wa", "un", "runn", "##ing",
            ",", "low", "lowest"]


def test_hf_full_tokenizer_tokens():
    assert _tokens(BertTokenizer(HF_VOCAB), "UNwant\u00E9d,running") == ["un", "##want", "##ed", ",", "runn", "##ing"]


def test_hf_full_tokenizer_ids():
    assert BertTokenizer(HF_VOCAB).tokenize("UNwant\u00E9d,running").numpy().tolist() == [9, 6, 7, 12, 10, 11]


@pytest.mark.parametrize("special_tokens", [False, True])
def test_hf_rust_tokenizer_ids(tmp_path, special_tokens):
    transformers = pytest.importorskip("transformers")
    path = tmp_path / "vocab.txt"
    path.write_text("".join(t + "\n" for t in HF_VOCAB), encoding="utf-8")
    hf = transformers.BertTokenizerFast(str(path), do_lower_case=True)
    text = "UNwant\u00E9d,running"
    tok = BertTokenizer(str(path))
    ours = (BertPreprocessor(tok, 32)([text])["token_ids"][0].numpy().tolist() if special_tokens
            else tok.tokenize(text).numpy().tolist())
    assert ours == hf.encode(text, add_special_tokens=special_tokens)


@pytest.mark.parametrize("lowercase, strip_accents, expected", [
    (True, False, ["hällo", "!", "how", "are", "you", "?"]),
    (True, True, ["hallo", "!", "how", "are", "you", "?"]),
    (True, None, ["hallo", "!", "how", "are", "you", "?"]),
    (False, False, ["HäLLo", "!", "how", "Are", "yoU", "?"]),
    (False, True, ["HaLLo", "!", "how", "Are", "yoU", "?"]),
])
def test_hf_basic_tokenizer_accents(lowercase, strip_accents, expected):
    assert _split(" \tHäLLo!how  \n Are yoU?  ", lowercase, strip_accents) == expected


@pytest.mark.parametrize("strip_accents, expected", [(False, ["h\u00E9llo"]), (True, ["hello"]), (None, ["hello"])])
def test_hf_basic_tokenizer_lower_accent_word(strip_accents, expected):
    assert _split("H\u00E9llo", True, strip_accents) == expected


def test_hf_never_split():
    vocab = PAD_UNK_CLS_SEP_MASK + ["HeLLo", "!", "how", "Are", "yoU", "?"]
    tok = BertTokenizer(vocab, lowercase=False, never_split=["[UNK]"])
    assert _tokens(tok, " \tHeLLo!how  \n Are yoU? [UNK]") == ["HeLLo", "!", "how", "Are", "yoU", "?", "[UNK]"]


def test_hf_splits_on_punctuation():
    expected = ["a", "'", "ll", "!", "!", "to", "?", "'", "d", "of", ",", "can", "'", "t", "."]
    assert _split("a\n'll !!to?'d of, can't.") == expected


def test_hf_removes_bidi_marks():
    assert _split("\u200E\u200F") == []


def test_hf_clean_text():
    tok = BertTokenizer(HF_VOCAB)
    assert [_tokens(tok, t) for t in ["Test", "\xad", "test"]] == [["[UNK]"], [], ["[UNK]"]]


def test_hf_sequence_builders_single(uncased):
    pre = BertPreprocessor(uncased, 64)
    text = uncased.tokenize("sequence builders").numpy().tolist()
    assert pre(["sequence builders"])["token_ids"][0].numpy().tolist() == [101] + text + [102]


def test_hf_sequence_builders_pair(uncased):
    pre = BertPreprocessor(uncased, 64)
    a = uncased.tokenize("sequence builders").numpy().tolist()
    b = uncased.tokenize("multi-sequence build").numpy().tolist()
    assert pre(["sequence builders"], ["multi-sequence build"])["token_ids"][0].numpy().tolist() == (
        [101] + a + [102] + b + [102])


HF_OFFSETS_SENTENCE = "A, naïve [MASK] AllenNLP sentence."
HF_OFFSETS = {
    "cased": [((0, 1), "A"), ((1, 2), ","), ((3, 5), "na"), ((5, 6), "##ï"), ((6, 8), "##ve"),
              ((9, 15), "[MASK]"), ((16, 21), "Allen"), ((21, 23), "##NL"), ((23, 24), "##P"),
              ((25, 33), "sentence"), ((33, 34), ".")],
    "uncased": [((0, 1), "a"), ((1, 2), ","), ((3, 8), "naive"), ((9, 15), "[MASK]"), ((16, 21), "allen"),
                ((21, 23), "##nl"), ((23, 24), "##p"), ((25, 33), "sentence"), ((33, 34), ".")],
}


@pytest.mark.parametrize("which", ["cased", "uncased"])
def test_hf_offsets_with_special_characters_tokens(which):
    tok = BertTokenizer(CASED_VOCAB if which == "cased" else UNCASED_VOCAB)
    assert _tokens(tok, HF_OFFSETS_SENTENCE) == [t for _, t in HF_OFFSETS[which]]


@pytest.mark.parametrize("which", ["cased", "uncased"])
def test_hf_offsets_with_special_characters_offsets(which):
    tok = BertTokenizer(CASED_VOCAB if which == "cased" else UNCASED_VOCAB)
    _, starts, ends = tok.tokenize_with_offsets(HF_OFFSETS_SENTENCE)
    got = list(zip(byte_to_char_offsets(HF_OFFSETS_SENTENCE, starts).numpy().tolist(),
                   byte_to_char_offsets(HF_OFFSETS_SENTENCE, ends).numpy().tolist()))
    assert got == [o for o, _ in HF_OFFSETS[which]]


def test_hf_tokenize_chinese_chars(uncased):
    assert _tokens(uncased, "的人有") == ["的", "人", "有"]


# ------------------------------------------------------------------------- keras-hub
KHUB_VOCAB = PAD_UNK_CLS_SEP_MASK + ["THE", "QUICK", "BROWN", "FOX", "the", "quick", "brown", "fox"]


def test_khub_tokenizer_basics():
    tok = BertTokenizer(KHUB_VOCAB)  # a vocabulary with upper-case entries is cased
    assert tok.tokenize(["THE QUICK BROWN FOX", "THE FOX"]).to_list() == [[5, 6, 7, 8], [5, 8]]


def test_khub_lowercase():
    tok = BertTokenizer(KHUB_VOCAB, lowercase=True)
    assert tok.tokenize(["THE QUICK BROWN FOX", "THE FOX"]).to_list() == [[9, 10, 11, 12], [9, 12]]


def test_khub_special_tokens_in_strings():
    tok = BertTokenizer(KHUB_VOCAB)
    assert tok.tokenize(["[CLS] THE [MASK] FOX [SEP] [PAD]"]).to_list() == [[2, 5, 4, 8, 3, 0]]


def test_khub_errors_missing_special_tokens():
    with pytest.raises(ValueError):
        BertTokenizer(["a", "b", "c"])


def test_khub_smallest_preset_ids(uncased):  # bert_tiny_en_uncased uses the bert-base-uncased vocabulary
    assert uncased.tokenize(["The quick brown fox."]).to_list() == [[1996, 4248, 2829, 4419, 1012]]


@pytest.mark.parametrize("key, expected", [
    ("token_ids", [[2, 5, 6, 7, 8, 1, 3, 0]]),
    ("segment_ids", [[0, 0, 0, 0, 0, 0, 0, 0]]),
    ("padding_mask", [[1, 1, 1, 1, 1, 1, 1, 0]]),
])
def test_khub_classifier_preprocessor_basics(key, expected):
    pre = BertPreprocessor(BertTokenizer(KHUB_VOCAB), 8, padding="max_length")
    assert pre(["THE QUICK BROWN FOX."])[key].numpy().tolist() == expected


def test_khub_classifier_preprocessor_errors_for_2d_list_input():
    pre = BertPreprocessor(BertTokenizer(KHUB_VOCAB), 8)
    with pytest.raises(ValueError):
        pre([["one", "two"], ["three", "four"]])


# keras-hub's MultiSegmentPacker, with strings mapped to ids.
PACK_IDS = {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3, "b": 4, "c": 5, "d": 6, "x": 7, "y": 8, "z": 9}
PACK_TOKENS = {v: k for k, v in PACK_IDS.items()}


def _pack(segments, sequence_length, truncation="longest_first", padding="max_length"):
    packer = BertPacker(sequence_length, cls_id=1, sep_id=2, pad_id=0, truncation=truncation, padding=padding)
    ragged = [tf.ragged.constant([[PACK_IDS[t] for t in row] for row in seg], tf.int32) for seg in segments]
    out = packer(ragged)
    tokens = [[PACK_TOKENS[i] for i in row] for row in out["token_ids"].numpy().tolist()]
    return tokens, out["segment_ids"].numpy().tolist()


def test_khub_trim_single_input_ints_token_ids():
    packer = BertPacker(8, cls_id=1, sep_id=2, pad_id=0)
    assert packer(tf.ragged.constant([np.arange(3, 10)]))["token_ids"].numpy().tolist() == [[1, 3, 4, 5, 6, 7, 8, 2]]


def test_khub_trim_single_input_ints_segment_ids():
    packer = BertPacker(8, cls_id=1, sep_id=2, pad_id=0)
    assert packer(tf.ragged.constant([np.arange(3, 10)]))["segment_ids"].numpy().tolist() == [[0] * 8]


@pytest.mark.parametrize("part", [0, 1])
def test_khub_trim_single_input_strings(part):
    got = _pack([[["a", "b", "c", "d"]]], 5)
    assert got[part] == [[["[CLS]", "a", "b", "c", "[SEP]"]], [[0, 0, 0, 0, 0]]][part]


KHUB_PACKER_CASES = {
    # name: (segments, sequence_length, truncation, expected tokens, expected segment ids)
    "round_robin": ([[["a", "b", "c"]], [["x", "y", "z"]]], 7, "longest_first",
                    [["[CLS]", "a", "b", "[SEP]", "x", "y", "[SEP]"]], [[0, 0, 0, 0, 1, 1, 1]]),
    "waterfall": ([[["a", "b", "c"]], [["x", "y", "z"]]], 7, "waterfall",
                  [["[CLS]", "a", "b", "c", "[SEP]", "x", "[SEP]"]], [[0, 0, 0, 0, 0, 1, 1]]),
    "batched_round_robin": ([[["a", "b", "c"]] * 2, [["x", "y", "z"]] * 2], 7, "longest_first",
                            [["[CLS]", "a", "b", "[SEP]", "x", "y", "[SEP]"]] * 2, [[0, 0, 0, 0, 1, 1, 1]] * 2),
    "batched_waterfall": ([[["a", "b", "c"], ["a", "b"]], [["x", "y", "z"]] * 2], 7, "waterfall",
                          [["[CLS]", "a", "b", "c", "[SEP]", "x", "[SEP]"], ["[CLS]", "a", "b", "[SEP]", "x", "y", "[SEP]"]],
                          [[0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1, 1]]),
    "pad_inputs": ([[["a"]], [["x"]]], 6, "longest_first",
                   [["[CLS]", "a", "[SEP]", "x", "[SEP]", "[PAD]"]], [[0, 0, 0, 1, 1, 0]]),
    "pad_batched_inputs": ([[["a"], ["a"]], [["x"], ["x", "y"]]], 7, "longest_first",
                           [["[CLS]", "a", "[SEP]", "x", "[SEP]", "[PAD]", "[PAD]"],
                            ["[CLS]", "a", "[SEP]", "x", "y", "[SEP]", "[PAD]"]],
                           [[0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1, 0]]),
}


@pytest.mark.parametrize("part", [0, 1])
@pytest.mark.parametrize("name", list(KHUB_PACKER_CASES))
def test_khub_multi_segment_packer(name, part):
    segments, length, truncation, tokens, segment_ids = KHUB_PACKER_CASES[name]
    assert _pack(segments, length, truncation)[part] == [tokens, segment_ids][part]


# --------------------------------------------------------------------------- tf.text
def _utf8_list(rows):
    return [[t.decode("utf-8") if isinstance(t, bytes) else t for t in row] for row in rows]


TFTEXT_BASIC_CASES = {
    "scalar": ("taste the rustisc indiefrost", False, ["taste", "the", "rustisc", "indiefrost"]),
    "han": ("Han Kuo-yu (韓國食)🤔", False, ["Han", "Kuo", "-", "yu", "(", "韓", "國", "食", ")", "🤔"]),
    "spanish": ("Añade la información del formulario y tus preguntas", False,
                ["Añade", "la", "información", "del", "formulario", "y", "tus", "preguntas"]),
    "lower": ("UNwant\u00E9d,running", True, ["unwanted", ",", "running"]),
    "lower_spanish": ("Añade la información del formulario y tus preguntas", True,
                      ["anade", "la", "informacion", "del", "formulario", "y", "tus", "preguntas"]),
    "cjk_japanese": ("香港では４日", False, ["香", "港", "では４", "日"]),
    "cjk_korean": ("영어독해 자만심 왜 문제일까", False, ["영어독해", "자만심", "왜", "문제일까"]),
    "cjk_chinese": ("據港媒《東網》報導", False, ["據", "港", "媒", "《", "東", "網", "》", "報", "導"]),
    "katakana_hiragana": ("のテキストとして", False, ["のテキストとして"]),
}


@pytest.mark.parametrize("name", list(TFTEXT_BASIC_CASES))
def test_tftext_basic_tokenize(name):
    text, lower, expected = TFTEXT_BASIC_CASES[name]
    assert _split(text, lowercase=lower) == expected


TFTEXT_VOCAB = [
    "[unused1]", "[unused23]", "'", "##%", "##af", "##book", "##c", "##fr", "##hey", "##is", "##o", "##ost", "##s",
    "##tri", "##y", "$", "%", "&", "(", ")", "*", "-", ".", "20", ":", "?", "[CLS]", "[SEP]", "國", "暐", "瀚", "韓",
    "食", "黃", "🤔", "🤣", "^", "a", "ago", "among", "an", "and", "are", "aren", "awesome", "between", "candy",
    "china", "companies", "company", "crushed", "dug", "earnings", "engaged", "even", "few", "forecast", "getting",
    "had", "han", "has", "hers", "high", "hit", "hs", "hurting", "in", "indie", "is", "isn", "ka", "ku", "major",
    "maker", "moth", "nearly", "new", "now", "president", "record", "regulators", "reported", "rift", "rust",
    "sales", "shares", "slightly", "sprint", "states", "stock", "t", "taste", "tension", "that", "the", "this",
    "today", "told", "topped", "trade", "trump", "united", "up", "weeks", "what", "why", "with", "year", "yo", "yu",
    "\u7231", "\u4e0a", "\u4e00", "\u4e2a", "\u4e0d", "\u56de", "\u5bb6", "\u7684", "\u4eba",
] + ["[PAD]", "[UNK]"]  # appended: tf.text maps unknown words to an OOV bucket, we to [UNK]

TFTEXT_CASES = {
    # name: (texts, expected word pieces per text, expected extracted substrings or None, options)
    "scalar": ("taste the rustisc indiefrost",
               ["taste", "the", "rust", "##is", "##c", "indie", "##fr", "##ost"], None, {}),
    "batch": (["taste the rustisc indiefrost", "Han Kuo-yu (韓國食)🤔", "dugtrio had an awesome 🤣 dugbook",
               "yo^what$is*up?", "mothaf*&%ka"],
              [["taste", "the", "rust", "##is", "##c", "indie", "##fr", "##ost"],
               ["han", "ku", "##o", "-", "yu", "(", "韓", "國", "食", ")", "🤔"],
               ["dug", "##tri", "##o", "had", "an", "awesome", "🤣", "dug", "##book"],
               ["yo", "^", "what", "$", "is", "*", "up", "?"],
               ["moth", "##af", "*", "&", "%", "ka"]],
              [["taste", "the", "rust", "is", "c", "indie", "fr", "ost"],
               ["Han", "Ku", "o", "-", "yu", "(", "韓", "國", "食", ")", "🤔"],
               ["dug", "tri", "o", "had", "an", "awesome", "🤣", "dug", "book"],
               ["yo", "^", "what", "$", "is", "*", "up", "?"],
               ["moth", "af", "*", "&", "%", "ka"]], {}),
    "oov": (["mothaf*&%ka cantfindme whodis"], [["moth", "##af", "*", "&", "%", "ka", "[UNK]", "[UNK]"]],
            [["moth", "af", "*", "&", "%", "ka", "cantfindme", "whodis"]], {}),
    "candy": (["candy"], [["candy"]], None, {}),
    "chinese": (["爱上一个不回家的人"], [list("爱上一个不回家的人")], None, {}),
    "preserve_unused_token": (["taste the rustisc indiefrost [unused1]", "爱上一个不回家的人[unused23]"],
                              [["taste", "the", "rust", "##is", "##c", "indie", "##fr", "##ost", "[unused1]"],
                               list("爱上一个不回家的人") + ["[unused23]"]],
                              None, {"preserve_unused_token": True}),
}


def _tftext_case(name):
    texts, pieces, extracted, options = TFTEXT_CASES[name]
    tok = BertTokenizer(TFTEXT_VOCAB, lowercase=True, **options)
    return tok, texts, pieces, extracted


@pytest.mark.parametrize("name", list(TFTEXT_CASES))
def test_tftext_bert_tokenizer_tokens(name):
    tok, texts, pieces, _ = _tftext_case(name)
    ids = tok.tokenize(texts)
    got = tok.id_to_token(ids.numpy().tolist()) if isinstance(texts, str) else [
        tok.id_to_token(row) for row in ids.to_list()]
    assert got == pieces


@pytest.mark.parametrize("name", list(TFTEXT_CASES))
def test_tftext_bert_tokenizer_ids(name):
    tok, texts, pieces, _ = _tftext_case(name)
    ids = tok.tokenize(texts)
    ids = ids.numpy().tolist() if isinstance(texts, str) else ids.to_list()
    index = {t: i for i, t in enumerate(TFTEXT_VOCAB)}
    expected = [index[p] for p in pieces] if isinstance(texts, str) else [[index[p] for p in row] for row in pieces]
    assert ids == expected


@pytest.mark.parametrize("name", list(TFTEXT_CASES))
def test_tftext_bert_tokenizer_offsets_extract_the_pieces(name):
    tok, texts, pieces, extracted = _tftext_case(name)
    batch = [texts] if isinstance(texts, str) else texts
    pieces = [pieces] if isinstance(texts, str) else pieces
    if extracted is None:
        extracted = [[p[2:] if p.startswith("##") else p for p in row] for row in pieces]
    _, starts, ends = tok.tokenize_with_offsets(batch)
    got = [[text.encode("utf-8")[s:e].decode("utf-8") for s, e in zip(srow, erow)]
           for text, srow, erow in zip(batch, starts.to_list(), ends.to_list())]
    assert got == extracted


def test_tftext_bert_tokenizer_outputs_int32():
    assert BertTokenizer(TFTEXT_VOCAB).tokenize(["Test"]).dtype == tf.int32


# ------------------------------------------------------------------- Model Garden
def _garden_tokenizer(vocab, lowercase):
    return BertTokenizer(vocab, lowercase=lowercase)


GARDEN_UNCASED = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "d", "##ef", "abc", "xy"]  # no [MASK]
GARDEN_CASED = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "d", "##ef", "abc", "ABC"]


@pytest.mark.parametrize("output, expected", [
    (0, [[6, 4, 5], [6, 4, 5, 4]]), (1, [[0, 4, 5], [0, 4, 5, 8]]), (2, [[3, 5, 7], [3, 5, 7, 9]])])
def test_garden_uncased(output, expected):
    tok = _garden_tokenizer(GARDEN_UNCASED, True)
    assert tok.tokenize_with_offsets(["abc def", "ABC DEF d"])[output].to_list() == expected


def test_garden_uncased_vocab_size():
    assert _garden_tokenizer(GARDEN_UNCASED, True).vocab_size == 8


@pytest.mark.parametrize("output, expected", [
    (0, [[6, 4, 5], [7, 1]]), (1, [[0, 4, 5], [0, 4]]), (2, [[3, 5, 7], [3, 7]])])
def test_garden_cased(output, expected):
    tok = _garden_tokenizer(GARDEN_CASED, False)
    assert tok.tokenize_with_offsets(["abc def", "ABC DEF"])[output].to_list() == expected


def _special_tokens_dict(tok):
    out = dict(padding_id=tok.pad_id, start_of_sequence_id=tok.cls_id, end_of_segment_id=tok.sep_id,
               vocab_size=tok.vocab_size)
    if tok.mask_id is not None:
        out["mask_id"] = tok.mask_id
    return out


def test_garden_special_tokens_complete():
    tok = _garden_tokenizer(["foo", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "xy"], True)
    assert _special_tokens_dict(tok) == dict(padding_id=1, start_of_sequence_id=3, end_of_segment_id=4, mask_id=5,
                                             vocab_size=7)


def test_garden_special_tokens_partial():
    tok = _garden_tokenizer(["[PAD]", "[CLS]", "[SEP]", "[UNK]"], True)  # FastWordpiece variant: [UNK] required
    assert _special_tokens_dict(tok) == dict(padding_id=0, start_of_sequence_id=1, end_of_segment_id=2, vocab_size=4)


def test_garden_pack_inputs_in_dataset():
    pre = BertPreprocessor(_garden_tokenizer(GARDEN_UNCASED, True), 4, padding="max_length")
    ds = tf.data.Dataset.from_tensors((tf.constant(["abc", "DEF"]), tf.constant([0, 1])))
    features, _ = next(iter(ds.map(lambda x, y: (pre(x), y))))
    assert features["token_ids"].numpy().tolist() == [[2, 6, 3, 0], [2, 4, 5, 3]]


GARDEN_PACK = dict(sequence_length=10, cls_id=1001, sep_id=1002, pad_id=999, padding="max_length")
GARDEN_SINGLE = [[11, 12, 13], [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]]
GARDEN_PAIR = ([[111, 112, 113], [121, 122, 123, 124, 125, 126, 127, 128]],
               [[211, 212, 213], [221, 222, 223, 224, 225, 226, 227, 228]])
GARDEN_PACK_CASES = {
    # (truncation, inputs, output key): expected
    ("longest_first", "single", "token_ids"): [[1001, 11, 12, 13, 1002, 999, 999, 999, 999, 999],
                                               [1001, 21, 22, 23, 24, 25, 26, 27, 28, 1002]],
    ("longest_first", "single", "padding_mask"): [[1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1] * 10],
    ("longest_first", "single", "segment_ids"): [[0] * 10, [0] * 10],
    ("longest_first", "pair", "padding_mask"): [[1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [1] * 10],
    ("waterfall", "single", "token_ids"): [[1001, 11, 12, 13, 1002, 999, 999, 999, 999, 999],
                                           [1001, 21, 22, 23, 24, 25, 26, 27, 28, 1002]],
    ("waterfall", "single", "padding_mask"): [[1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1] * 10],
    ("waterfall", "single", "segment_ids"): [[0] * 10, [0] * 10],
    ("waterfall", "pair", "token_ids"): [[1001, 111, 112, 113, 1002, 211, 212, 213, 1002, 999],
                                         [1001, 121, 122, 123, 124, 125, 126, 127, 1002, 1002]],
    ("waterfall", "pair", "padding_mask"): [[1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [1] * 10],
    ("waterfall", "pair", "segment_ids"): [[0, 0, 0, 0, 0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
}


def _garden_pack(truncation, inputs):
    packer = BertPacker(truncation=truncation, **GARDEN_PACK)
    if inputs == "single":
        return packer(tf.ragged.constant(GARDEN_SINGLE))
    return packer([tf.ragged.constant(s) for s in GARDEN_PAIR])


@pytest.mark.parametrize("case", list(GARDEN_PACK_CASES), ids="-".join)
def test_garden_bert_pack_inputs(case):
    truncation, inputs, key = case
    assert _garden_pack(truncation, inputs)[key].numpy().tolist() == GARDEN_PACK_CASES[case]


# ----------------------------------------------------------- deliberate differences
def test_differs_google_typed_mask_is_a_special_token(uncased):
    """google-research/bert splits a typed "[MASK]" into "[", "mask", "]"; we follow Hugging Face."""
    assert _tokens(uncased, "the [MASK] of") == ["the", "[MASK]", "of"]


@pytest.mark.parametrize("key, garden, ours", [
    # Model Garden's round_robin gives the first segment the odd token when both are too long and
    # equally long; Hugging Face's longest_first (ours) gives it to the second.
    ("token_ids", [[1001, 111, 112, 113, 1002, 211, 212, 213, 1002, 999],
                   [1001, 121, 122, 123, 124, 1002, 221, 222, 223, 1002]],
     [[1001, 111, 112, 113, 1002, 211, 212, 213, 1002, 999],
      [1001, 121, 122, 123, 1002, 221, 222, 223, 224, 1002]]),
    ("segment_ids", [[0, 0, 0, 0, 0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]],
     [[0, 0, 0, 0, 0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]]),
])
def test_differs_garden_round_robin_odd_token(key, garden, ours):
    got = _garden_pack("longest_first", "pair")[key].numpy().tolist()
    assert got != garden and got == ours


def test_differs_garden_vocab_without_unk():
    """Model Garden's (slow) BertTokenizer accepts a vocabulary without [UNK]; WordPiece needs one here."""
    with pytest.raises(VocabError, match=r"\[UNK\]"):
        BertTokenizer(["[PAD]", "[CLS]", "[SEP]"])


def test_differs_google_vocab_without_pad():
    """google-research/bert's test vocabulary has no [PAD]; packing needs it, so we require it."""
    with pytest.raises(VocabError, match=r"\[PAD\]"):
        BertTokenizer(GOOGLE_VOCAB)
