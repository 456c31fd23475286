"""Tagging data helpers: CoNLL reading, scheme conversion, sub-word alignment, entity spans."""

import pytest

from keras_bert.text.tagging import (
    IGNORE_LABEL,
    bio_to_bioes,
    bioes_to_bio,
    convert_tags,
    encode_tagged,
    entity_spans,
    entity_types,
    label_list,
    read_conll,
    validate_tags,
    word_level_tags,
)

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O
Zoë X X B-PER
"""


def test_read_conll_sentences_docstart_and_columns(tmp_path):
    path = tmp_path / "a.conll"
    path.write_text(CONLL, encoding="utf-8")
    sentences = read_conll(path)
    assert sentences == [(["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"]),
                         (["Peter", "Blackburn"], ["B-PER", "I-PER"]),
                         (["Zoë"], ["B-PER"])]
    assert read_conll(path, tag_column=2)[1][1] == ["B-NP", "I-NP"]
    assert entity_types(sentences) == ["MISC", "ORG", "PER"]
    bad = tmp_path / "bad.conll"
    bad.write_text("Peter B-PER\nBlackburn\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.conll:2: expected a token and a tag column"):
        read_conll(bad)


def test_scheme_validation_and_conversion():
    bio = ["B-PER", "I-PER", "O", "B-LOC", "O", "I-ORG", "I-ORG", "B-ORG"]
    bioes = ["B-PER", "E-PER", "O", "S-LOC", "O", "B-ORG", "E-ORG", "S-ORG"]
    assert bio_to_bioes(bio) == bioes
    # I- after O starts an entity (conlleval), so BIO comes back in IOB2 form.
    assert bioes_to_bio(bioes) == ["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "B-ORG"]
    assert convert_tags(["B-PER", "I-LOC"], "BIO") == ["B-PER", "B-LOC"]
    assert label_list(["PER", "LOC"], "BIOES") == ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC",
                                                   "B-PER", "I-PER", "E-PER", "S-PER"]
    validate_tags(bioes, "BIOES")
    with pytest.raises(ValueError, match=r"tag 1 \('E-PER'\) is not a BIO tag"):
        validate_tags(["B-PER", "E-PER"], "BIO")
    with pytest.raises(ValueError, match=r"tag 0 \('PER'\) is not a BIO tag"):
        validate_tags(["PER"])
    with pytest.raises(ValueError, match="scheme must be one of"):
        label_list(["PER"], "IOB1")


def _aligned(tokenizer, features, y, labels, row):
    tokens = tokenizer.id_to_token([int(i) for i in features["token_ids"][row] if i])
    return list(zip(tokens, [labels[i] if i != IGNORE_LABEL else "-" for i in y[row][:len(tokens)]]))


def test_first_sub_word_gets_the_tag_and_split_words_continue(uncased):
    sentences = [(["John", "Smithson", "visited", "U.S.", "today"], ["B-PER", "I-PER", "O", "B-LOC", "O"]),
                 (["Zoë", "Kravitzová", "flew", "to", "Zürich"], ["B-PER", "I-PER", "O", "O", "S-LOC"])]
    labels = label_list(["LOC", "PER"], "BIOES")
    features, y = encode_tagged(uncased, sentences, labels, scheme="BIOES")
    assert features["token_ids"].shape == y.shape == (2, 11)
    # "U.S." is four BERT words: the entity continues over them; "##" pieces are ignored.
    assert _aligned(uncased, features, y, labels, 0) == [
        ("[CLS]", "-"), ("john", "B-PER"), ("smith", "E-PER"), ("##son", "-"), ("visited", "O"),
        ("u", "B-LOC"), (".", "I-LOC"), ("s", "I-LOC"), (".", "E-LOC"), ("today", "O"), ("[SEP]", "-")]
    assert _aligned(uncased, features, y, labels, 1) == [
        ("[CLS]", "-"), ("zoe", "B-PER"), ("k", "E-PER"), ("##ra", "-"), ("##vi", "-"), ("##tz", "-"),
        ("##ova", "-"), ("flew", "O"), ("to", "O"), ("zurich", "S-LOC"), ("[SEP]", "-")]
    assert features["padding_mask"].sum() == 22
    assert word_level_tags(y, labels)[1] == ["B-PER", "E-PER", "O", "O", "S-LOC"]


def test_truncation_and_unknown_tags(uncased):
    sentences = [(["a", "b", "c", "d"], ["O", "B-PER", "I-PER", "O"])]
    features, y = encode_tagged(uncased, sentences, ["O", "B-PER", "I-PER"], sequence_length=4)
    assert features["token_ids"].shape == (1, 4)
    assert list(y[0]) == [IGNORE_LABEL, 0, 1, IGNORE_LABEL]
    with pytest.raises(ValueError, match=r"sentence 0: tag 'B-LOC' is not in the model's labels"):
        encode_tagged(uncased, [(["Paris"], ["B-LOC"])], ["O", "B-PER", "I-PER"])
    with pytest.raises(ValueError, match="sentence 0: 2 words but 1 tags"):
        encode_tagged(uncased, [(["a", "b"], ["O"])], ["O"])


def test_entity_spans_use_character_offsets():
    text = "Zoë Kravitz met Ålesund's mayor"
    words = [(0, 3), (4, 11), (12, 15), (16, 23), (23, 24), (24, 25), (26, 31)]
    tags = ["B-PER", "I-PER", "O", "I-LOC", "O", "O", "O"]
    spans = entity_spans(text, words, tags, [0.9, 0.7, 0.99, 0.6, 1, 1, 1])
    assert spans == [{"entity": "PER", "start": 0, "end": 11, "text": "Zoë Kravitz", "score": pytest.approx(0.8)},
                     {"entity": "LOC", "start": 16, "end": 23, "text": "Ålesund", "score": pytest.approx(0.6)}]
