"""BertTokenizer API, vocab loading errors, bad input, tf.data and SavedModel use."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BertTokenizer, VocabError, byte_to_char_offsets


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


SMALL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "un", "##aff", "##able", ",", "!"]


def test_special_ids_and_vocab_lookups(uncased):
    # Positions in Google's bert-base-uncased vocab.txt (0-based line numbers).
    assert (uncased.pad_id, uncased.unk_id, uncased.cls_id, uncased.sep_id, uncased.mask_id) == (0, 100, 101, 102, 103)
    assert uncased.vocab_size == 30522
    assert uncased.token_to_id("hello") == 7592
    assert uncased.token_to_id("no-such-token") == 100
    assert uncased.id_to_token(7592) == "hello"
    assert uncased.id_to_token([101, 102]) == ["[CLS]", "[SEP]"]
    assert uncased.id_to_token(tf.constant([7592])).numpy().tolist() == [b"hello"]
    assert uncased.token_to_id(tf.constant(["hello", "zzzzqq"])).numpy().tolist() == [7592, 100]
    with pytest.raises(ValueError, match="out of range"):
        uncased.id_to_token(30522)


def test_lowercase_is_detected_from_the_vocabulary(uncased, cased):
    assert uncased.lowercase and uncased.strip_accents
    assert not cased.lowercase and not cased.strip_accents
    assert BertTokenizer(SMALL).lowercase


def test_small_vocab_wordpiece_by_hand():
    tok = BertTokenizer(SMALL)
    ids = tok.tokenize("Hello, UNAFFABLE world!!").numpy().tolist()
    assert tok.id_to_token(ids) == ["hello", ",", "un", "##aff", "##able", "world", "!", "!"]
    assert tok.tokenize("xyz").numpy().tolist() == [tok.unk_id]


def test_offsets_are_bytes_into_the_original(uncased):
    text = "Café 北京 x"
    ids, starts, ends = uncased.tokenize_with_offsets(text)
    raw = text.encode("utf-8")
    pieces = [raw[s:e].decode("utf-8") for s, e in zip(starts.numpy(), ends.numpy())]
    assert pieces == ["Café", "北", "京", "x"]
    # Character offsets: "Café"=0..4, "北"=5..6, "京"=6..7, "x"=8..9.
    assert byte_to_char_offsets(text, starts).numpy().tolist() == [0, 5, 6, 8]
    assert byte_to_char_offsets(text, ends).numpy().tolist() == [4, 6, 7, 9]


def test_subword_offsets_split_the_word():
    ids, starts, ends = BertTokenizer(SMALL).tokenize_with_offsets(["  UNAFFABLE"])
    assert ids[0].numpy().tolist() == [7, 8, 9]  # un ##aff ##able
    assert list(zip(starts[0].numpy().tolist(), ends[0].numpy().tolist())) == [(2, 4), (4, 7), (7, 11)]


def test_detokenize(uncased):
    ids = uncased.tokenize(["Hello, unaffable world!"])
    assert uncased.detokenize(ids).numpy().tolist() == [b"hello , unaffable world !"]  # ## pieces glued
    with_specials = tf.constant([[101, 7592, 102, 0, 0]])
    assert uncased.detokenize(with_specials).numpy().tolist() == [b"hello"]
    assert uncased.detokenize(with_specials, skip_special_tokens=False).numpy().tolist() == [
        b"[CLS] hello [SEP] [PAD] [PAD]"]


def test_scalar_and_batch_shapes(uncased):
    assert uncased.tokenize("hello world").shape.rank == 1
    ragged = uncased.tokenize(["hello", "hello world", ""])
    assert ragged.row_lengths().numpy().tolist() == [1, 2, 0]
    assert uncased.tokenize([]).shape[0] == 0
    with pytest.raises(ValueError, match="1-D batch"):
        uncased.tokenize(tf.constant([["a"]]))
    with pytest.raises(TypeError, match="must be strings"):
        uncased.tokenize(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="not None"):
        uncased.tokenize(None)


# ---------------------------------------------------------------- bad input
def test_empty_and_whitespace_only_give_no_tokens(uncased):
    out = uncased.tokenize(["", " ", "\t\n\r", "\u00a0\u3000\u200b", "\x00\x07"])
    assert out.row_lengths().numpy().tolist() == [0, 0, 0, 0, 0]


def test_invalid_utf8_bytes_are_dropped_like_u_fffd(uncased):
    # Invalid bytes decode to U+FFFD, which BERT's cleaning removes (HF removes a literal U+FFFD too).
    bad = tf.constant([b"caf\xff\xfe ok", b"\xc3", b"ok \xe2\x82 fine"])
    ids = uncased.tokenize(bad).to_list()
    assert ids[0] == uncased.tokenize("caf ok").numpy().tolist()
    assert ids[1] == []
    assert ids[2] == uncased.tokenize("ok fine").numpy().tolist()
    _, starts, ends = uncased.tokenize_with_offsets(bad)
    # Dropped bytes belong to no token: "caf" is bytes 0-3, "ok" 6-8.
    assert (starts[0].numpy().tolist(), ends[0].numpy().tolist()) == ([0, 6], [3, 8])


def test_typed_mask_token_is_the_special_token_like_hugging_face(uncased):
    ids = uncased.tokenize("Paris is the [MASK] of France.").numpy().tolist()
    assert uncased.mask_id in ids
    assert uncased.tokenize("[mask]").numpy().tolist() == [1031, 7308, 1033]  # '[', 'mask', ']': not special
    literal = BertTokenizer(uncased.vocabulary, split_special_tokens=True)
    assert literal.tokenize("[MASK]").numpy().tolist() == [1031, 7308, 1033]


def test_words_over_100_chars_become_unk(uncased):
    ids = uncased.tokenize(["a" * 100, "a" * 101, "é" * 101]).to_list()
    assert ids[0] != [uncased.unk_id] and len(ids[0]) > 1
    assert ids[1] == [uncased.unk_id]
    assert ids[2] == [uncased.unk_id]
    # Characters, not bytes: 60 Cyrillic letters (120 bytes) are still word-pieced.
    cyrillic = uncased.tokenize("ж" * 60).numpy().tolist()
    assert len(cyrillic) > 1 and uncased.unk_id not in cyrillic
    _, starts, ends = uncased.tokenize_with_offsets(["x " + "b" * 150])
    assert ends[0].numpy().tolist()[-1] == 152 and starts[0].numpy().tolist()[-1] == 2


# ------------------------------------------------------------- vocab errors
def test_missing_vocab_file(tmp_path):
    with pytest.raises(VocabError, match="not found"):
        BertTokenizer(str(tmp_path / "nope.txt"))


def test_folder_without_vocab(tmp_path):
    with pytest.raises(VocabError, match="No vocab.txt in folder"):
        BertTokenizer(str(tmp_path))


def test_checkpoint_folder_layouts(tmp_path, data_dir):
    google = tmp_path / "google"
    google.mkdir()
    shutil.copy(os.path.join(data_dir, "bert-base-uncased-vocab.txt"), google / "vocab.txt")
    (google / "bert_config.json").write_text("{}")
    assert BertTokenizer(str(google)).vocab_size == 30522
    saved = tmp_path / "saved" / "assets"
    saved.mkdir(parents=True)
    shutil.copy(os.path.join(data_dir, "bert-base-uncased-vocab.txt"), saved / "vocab.txt")
    assert BertTokenizer(str(tmp_path / "saved")).vocab_size == 30522


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n[MASK]\n", "line 3 is blank"),
    ("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n", "appears twice"),
    ("[PAD]\n[UNK]\nhello\n", r"lacks BERT's special token\(s\) \[CLS\], \[SEP\];"),
    ("[PAD]\n[CLS]\n[SEP]\n[MASK]\n", r"lacks BERT's special token\(s\) \[UNK\];"),
])
def test_malformed_vocab(tmp_path, content, message):
    path = _write(tmp_path / "vocab.txt", content)
    with pytest.raises(VocabError, match=message):
        BertTokenizer(path)


def test_binary_vocab(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(VocabError, match="not UTF-8"):
        BertTokenizer(str(path))


def test_crlf_vocab_loads(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("\r\n".join(SMALL).encode() + b"\r\n")
    assert BertTokenizer(str(path)).vocabulary == SMALL


# --------------------------------------------------------- graph contexts
def test_in_tf_data_and_tf_function(uncased, movies):
    ds = tf.data.Dataset.from_tensor_slices(movies[:64]).batch(16).map(uncased.tokenize)
    eager = uncased.tokenize(movies[:64]).to_list()
    graph = [row for batch in ds for row in batch.to_list()]
    assert graph == eager
    fn = tf.function(uncased.tokenize_with_offsets, input_signature=[tf.TensorSpec([None], tf.string)])
    assert fn(tf.constant(movies[:4]))[0].to_list() == eager[:4]


def test_saved_model_round_trip(tmp_path, data_dir, movies):
    tok = BertTokenizer(os.path.join(data_dir, "bert-base-uncased-vocab.txt"))
    tok.serve = tf.function(lambda s: tok.tokenize(s).to_tensor(-1), input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(tok, str(tmp_path / "sm"))
    assert os.path.isfile(tmp_path / "sm" / "assets" / "bert-base-uncased-vocab.txt")
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    got = loaded.serve(tf.constant(movies[:8])).numpy()
    expected = tok.tokenize(movies[:8]).to_tensor(-1).numpy()
    np.testing.assert_array_equal(got, expected)
