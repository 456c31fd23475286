"""Tokenizer options checked against Hugging Face / tensorflow-text: casing rule, tokens kept whole
(never_split, [unusedN]), vocabularies without [MASK]."""

import os
import random
import warnings

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BertPreprocessor, BertTokenizer, MlmMasker, VocabError, byte_to_char_offsets

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# The vocabulary of the real Google-format test checkpoint in ../shared/fixtures/tf1_tiny_checkpoint.
TF1_TINY_VOCAB = SPECIALS + ["all", "work", "and", "no", "play", "makes", "jack", "a", "dull", "boy"]


def _hf(vocab_file, **kwargs):
    transformers = pytest.importorskip("transformers")
    return transformers.BertTokenizerFast(vocab_file, **kwargs)


def _write_vocab(path, tokens):
    path.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    return str(path)


def _ours(tok, texts):
    """ids and character offsets per text, as HF reports them."""
    ids, starts, ends = tok.tokenize_with_offsets(texts)
    starts = byte_to_char_offsets(texts, starts).to_list()
    ends = byte_to_char_offsets(texts, ends).to_list()
    return [(i, list(zip(s, e))) for i, s, e in zip(ids.to_list(), starts, ends)]


def _theirs(hf, texts):
    enc = hf(texts, add_special_tokens=False, return_offsets_mapping=True)
    return [(i, [tuple(o) for o in offs]) for i, offs in zip(enc["input_ids"], enc["offset_mapping"])]


# ------------------------------------------------------------------ casing rule
@pytest.mark.parametrize("vocab, uncased", [
    ("bert-base-uncased", True), ("bert-base-cased", False), ("tf1-tiny", True),
    (SPECIALS + ["hello", "world", "##s"], True),
    (SPECIALS + ["hello", "Hello", "world"], False),   # one upper-case entry is enough
    (SPECIALS + ["THE", "QUICK", "BROWN", "FOX", "the", "quick", "brown", "fox"], False),  # keras-hub's test vocab
    (SPECIALS + ["[unused0]", "[Foo]", "hello"], True),  # bracketed entries are not looked at
])
def test_casing_is_read_from_the_vocabulary(vocab, uncased, data_dir):
    if vocab in ("bert-base-uncased", "bert-base-cased"):
        vocab = os.path.join(data_dir, f"{vocab}-vocab.txt")
    elif vocab == "tf1-tiny":
        vocab = TF1_TINY_VOCAB
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when the reading is clear
        tok = BertTokenizer(vocab)
    assert tok.lowercase is uncased and tok.strip_accents is uncased


def test_minilm_vocabulary_reads_uncased(minilm_folder):
    assert BertTokenizer(minilm_folder).lowercase


def test_never_split_tokens_do_not_decide_casing():
    assert BertTokenizer(SPECIALS + ["COVID-19", "covid"], never_split=["COVID-19"]).lowercase


def test_a_few_upper_case_entries_in_a_large_vocabulary_read_cased_with_a_warning(uncased):
    with pytest.warns(UserWarning, match=r"cased .* 1 of its 29,5\d\d entries .*'Covid'.* lowercase=True"):
        tok = BertTokenizer(uncased.vocabulary + ["Covid"])
    assert not tok.lowercase


# --------------------------------------------------------- tokens kept whole
def _marked_texts(movies, markers, n=300, seed=0):
    """Real sentences with markers inserted at random character positions (inside words too)."""
    rng = random.Random(seed)
    out = []
    for text in movies[:n]:
        for _ in range(rng.randint(1, 3)):
            i = rng.randint(0, len(text))
            text = text[:i] + rng.choice(markers) + text[i:]
        out.append(text)
    return out + ["[unused0][unused1]", "x[unused0]y", "[UNUSED0] [unused 0] [unused0", "[unused10]", "[unused1]0"]


def test_never_split_matches_hugging_face_added_special_tokens(uncased, movies, data_dir):
    markers = ["[unused0]", "[unused1]", "[unused10]"]
    vocab = os.path.join(data_dir, "bert-base-uncased-vocab.txt")
    hf = _hf(vocab, do_lower_case=True, additional_special_tokens=markers)
    tok = BertTokenizer(vocab, never_split=markers)
    texts = _marked_texts(movies, markers + [" [MASK] ", "[SEP]"])
    assert _ours(tok, texts) == _theirs(hf, texts)
    # Without the option they are split, as by HF without added tokens: the option is what keeps them.
    assert tok.tokenize("x[unused0]y").numpy().tolist() == [1060, 1, 1061]
    assert uncased.tokenize("x[unused0]y").numpy().tolist() == _hf(vocab).encode("x[unused0]y",
                                                                                add_special_tokens=False)


def test_preserve_unused_token_matches_hugging_face_and_tensorflow_text(movies, data_dir):
    vocab = os.path.join(data_dir, "bert-base-uncased-vocab.txt")
    tok = BertTokenizer(vocab, preserve_unused_token=True)
    unused = [t for t in tok.vocabulary if t.startswith("[unused")]
    assert len(unused) == 994 and set(unused) <= set(tok.never_split)
    texts = _marked_texts(movies, ["[unused0]", "[unused7]", "[unused993]", "[unused994]"], n=200, seed=1)
    hf = _hf(vocab, do_lower_case=True, additional_special_tokens=unused)
    assert _ours(tok, texts) == _theirs(hf, texts)
    # tensorflow-text's own option, on ASCII text (its NFKC case folding differs from BERT's on some
    # Unicode) and on vocabulary entries: it also keeps "[unused994]" (no such entry) or a case-folded
    # "[UNUSED0]" as one word, where we, Google's preserve_unused_tokens and HF split them.
    import tensorflow_text as tf_text
    table = tf.lookup.StaticVocabularyTable(tf.lookup.KeyValueTensorInitializer(
        tok.vocabulary, tf.range(tok.vocab_size, dtype=tf.int64)), num_oov_buckets=1)
    texts = _marked_texts(movies, ["[unused0]", "[unused7]", "[unused993]"], n=200, seed=1)[:-5]
    ascii_texts = [t for t in texts if t.isascii()]
    ref = tf_text.BertTokenizer(table, lower_case=True, preserve_unused_token=True, unknown_token="[UNK]",
                                token_out_type=tf.int64).tokenize(ascii_texts).merge_dims(1, 2).to_list()
    assert len(ascii_texts) > 150 and tok.tokenize(ascii_texts).to_list() == ref


def test_never_split_with_capitals_in_cased_and_uncased_vocabularies(tmp_path, data_dir):
    for which, lowercase in (("uncased", True), ("cased", False)):
        base = open(os.path.join(data_dir, f"bert-base-{which}-vocab.txt"), encoding="utf-8").read().split("\n")[:-1]
        vocab = _write_vocab(tmp_path / f"{which}.txt", base + ["COVID-19"])
        hf = _hf(vocab, do_lower_case=lowercase, additional_special_tokens=["COVID-19"])
        tok = BertTokenizer(vocab, never_split=["COVID-19"])
        assert tok.lowercase is lowercase
        texts = ["COVID-19 cases", "Covid-19 and covid-19 and COVID-19.", "preCOVID-19era"]
        assert _ours(tok, texts) == _theirs(hf, texts)
        assert tok.token_to_id("COVID-19") in tok.tokenize(texts[0]).numpy().tolist()


def test_never_split_survives_split_special_tokens(uncased):
    tok = BertTokenizer(uncased.vocabulary, never_split=["[unused0]"], split_special_tokens=True)
    assert tok.id_to_token(tok.tokenize("[unused0] [MASK]").numpy().tolist()) == ["[unused0]", "[", "mask", "]"]


def test_never_split_bad_values_fail_clearly(uncased):
    with pytest.raises(VocabError, match=r"'COVID-19' is not in the vocabulary.*\[unusedN\]"):
        BertTokenizer(uncased.vocabulary, never_split=["COVID-19"])
    with pytest.raises(TypeError, match="list of tokens, not the string"):
        BertTokenizer(uncased.vocabulary, never_split="[unused0]")
    with pytest.raises(ValueError, match="continuation piece"):
        BertTokenizer(uncased.vocabulary, never_split=["##s"])
    with pytest.raises(ValueError, match="non-blank"):
        BertTokenizer(uncased.vocabulary, never_split=[" "])


def test_never_split_in_a_saved_model(tmp_path, movies, data_dir):
    markers = ["[unused0]", "[unused1]"]
    vocab = os.path.join(data_dir, "bert-base-uncased-vocab.txt")
    tok = BertTokenizer(vocab, never_split=markers)
    tok.serve = tf.function(lambda s: tok.tokenize(s).to_tensor(-1), input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(tok, str(tmp_path / "sm"))
    texts = _marked_texts(movies, markers, n=20)
    served = tf.saved_model.load(str(tmp_path / "sm")).serve(tf.constant(texts)).numpy()
    hf = _hf(vocab, do_lower_case=True, additional_special_tokens=markers)
    assert [[i for i in row if i >= 0] for row in served.tolist()] == hf(texts, add_special_tokens=False)["input_ids"]


# ------------------------------------------------------ vocabulary without [MASK]
NO_MASK = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "film", "was", "great", "bad", "[", "]", "mask", ".",
           "[unused0]", "unused", "##0"]


def test_vocabulary_without_mask_tokenizes_and_packs_like_hugging_face(tmp_path):
    tok = BertTokenizer(NO_MASK)
    assert tok.mask_id is None and tok.special_ids == (0, 1, 2, 3)
    texts = ["The film was great.", "The [MASK] was bad", "[CLS] film"]
    hf = _hf(_write_vocab(tmp_path / "vocab.txt", NO_MASK), do_lower_case=True)
    out = BertPreprocessor(tok, 16)(texts)
    ours = [[i for i, m in zip(row, mask) if m] for row, mask in zip(out["token_ids"].numpy().tolist(),
                                                                      out["padding_mask"].numpy().tolist())]
    ref = hf(texts)["input_ids"]
    assert ours[0] == ref[0] and ours[2] == ref[2]
    # HF registers a missing [MASK] as an extra id (outside the vocabulary): here a typed
    # "[MASK]" is ordinary text, since there is no such token to map it to.
    assert ref[1][2] == len(NO_MASK)
    assert tok.id_to_token(ours[1]) == ["[CLS]", "the", "[", "mask", "]", "was", "bad", "[SEP]"]


def test_vocabulary_without_mask_refuses_mlm_masking_only():
    with pytest.raises(VocabError, match=r"needs a \[MASK\] token.*fine for fine-tuning"):
        MlmMasker(BertTokenizer(NO_MASK))


def test_vocabulary_without_mask_and_never_split_export_and_serve(tmp_path):
    import keras

    from keras_bert import BertClassifier, BertConfig, BertEncoder
    from keras_bert.export import export

    keras.utils.set_random_seed(0)
    config = BertConfig(vocab_size=len(NO_MASK), hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                        max_position_embeddings=32, initializer_range=0.5)  # wide weights: outputs tell inputs apart
    model = BertClassifier(BertEncoder(config), labels=["neg", "pos"])
    vocab = _write_vocab(tmp_path / "vocab.txt", NO_MASK)
    tok = BertTokenizer(vocab, never_split=["[unused0]"])
    folder = export(model, BertPreprocessor(tok, 16), str(tmp_path / "export"))
    assert os.path.isfile(os.path.join(folder, "assets", "vocab.txt"))
    texts = ["The film was great.", "bad [MASK] film", "the [unused0] film[unused0]was great"]
    served = tf.saved_model.load(folder).signatures["serving_default"](text=tf.constant(texts))
    expected = tf.nn.softmax(model(BertPreprocessor(tok, 16)(texts))).numpy()
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    # The served graph keeps [unused0] whole: without never_split the last text scores differently.
    split = tf.nn.softmax(model(BertPreprocessor(BertTokenizer(vocab), 16)(texts[2:]))).numpy()
    assert np.abs(served["probabilities"].numpy()[2] - split[0]).max() > 1e-3
