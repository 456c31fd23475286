"""Token ids and offsets must equal Hugging Face's BertTokenizerFast on real multilingual text."""

import pytest

from keras_bert.text import BertTokenizer, byte_to_char_offsets


def _compare(tokenizer, encode, texts):
    ids, starts, ends = tokenizer.tokenize_with_offsets(texts)
    char_starts = byte_to_char_offsets(texts, starts).to_list()
    char_ends = byte_to_char_offsets(texts, ends).to_list()
    ids = ids.to_list()
    id_mismatch, offset_mismatch = [], []
    for i, text in enumerate(texts):
        ref_ids, ref_offsets = encode(text)
        if ref_ids != ids[i]:
            id_mismatch.append((text[:60], ref_ids[:10], ids[i][:10]))
        elif ref_offsets != list(zip(char_starts[i], char_ends[i])):
            offset_mismatch.append((text[:60], ref_offsets[:10]))
    return id_mismatch, offset_mismatch


def test_parity_set_is_big_and_varied(texts_for_parity):
    assert len(texts_for_parity) >= 1500
    joined = "".join(texts_for_parity)
    for sample in ("北京", "東京", "안녕", "Москва", "العربية", "Việt", "Größere", "😀", "\u00a0", "\u3000",
                   "\u200b", "\u0007", "e\u0301", "https://", "@example.co", "[MASK]"):
        assert sample in joined


@pytest.mark.parametrize("which", ["uncased", "cased"])
def test_ids_and_offsets_match_hugging_face(which, uncased, cased, hf_reference, texts_for_parity, data_dir):
    import os
    tokenizer = uncased if which == "uncased" else cased
    vocab = os.path.join(data_dir, f"bert-base-{which}-vocab.txt")
    encode = hf_reference(vocab, lowercase=which == "uncased")
    id_mismatch, offset_mismatch = _compare(tokenizer, encode, texts_for_parity)
    assert id_mismatch == []
    assert offset_mismatch == []


def test_minilm_vocab_matches_its_tokenizer_json(minilm_folder, hf_reference, texts_for_parity):
    tokenizer = BertTokenizer(minilm_folder)  # a Hugging Face checkpoint folder
    assert tokenizer.lowercase
    encode = hf_reference(folder=minilm_folder)
    id_mismatch, offset_mismatch = _compare(tokenizer, encode, texts_for_parity)
    assert id_mismatch == []
    assert offset_mismatch == []


def _check_code_points(tokenizers_list, step):
    pytest.importorskip("tokenizers")
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    pre = BertPreTokenizer()
    for tokenizer in tokenizers_list:
        norm = BertNormalizer(lowercase=tokenizer.lowercase, strip_accents=tokenizer.strip_accents)
        cps = [c for c in range(0, 0x110000, step) if not 0xD800 <= c <= 0xDFFF]
        texts = ["a" + chr(c) + "b" for c in cps]
        ours = tokenizer.basic_tokenizer.split(texts).to_list()
        for c, text, words in zip(cps, texts, ours):
            ref = [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text))]
            assert [w.decode("utf-8") for w in words] == ref, hex(c)


def test_code_points_normalise_like_hugging_face(uncased, cased):
    """Each code point (every 7th here), between two letters, splits and normalises as the reference does."""
    _check_code_points([uncased, cased], step=7)


@pytest.mark.slow
def test_every_code_point_normalises_like_hugging_face(uncased, cased):
    """Exhaustive over all 1.1M code points and the four lowercase/strip_accents settings."""
    _check_code_points([uncased, cased, BertTokenizer(uncased.vocabulary, lowercase=True, strip_accents=False),
                        BertTokenizer(uncased.vocabulary, lowercase=False, strip_accents=True)], step=1)
