"""SavedModel export of BertSpanQA: raw strings in, the same answers as the Python pipeline out."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert.export import export
from keras_bert.pipelines.qa import QuestionAnswerer
from keras_bert.text import BertTokenizer

VOCAB = os.path.join(os.path.dirname(__file__), "data", "text", "bert-base-uncased-vocab.txt")
QUESTIONS = ["Where was the first telescope made?", "Who founded it?", "What is it?", "Where?"]
CONTEXTS = [
    ("The Halvard Observatory sits on a ridge 1,900 metres above the town of Esk. Its first telescope, a "
    "refractor with a lens of 60 centimetres, was made in Zürich and carried up the mountain by mules. "
    "On clear summer nights the old refractor is opened to the public, and visitors can look at Saturn."),
    "Élise Moreau 🙂 founded a laboratory in Grenoble in 1931; she directed it until 1958.",
    "A short one.",
    "",
]


OPTIONS = {"stride": 5, "max_answer_length": 6, "n_best": 8, "null_threshold": 1.0}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(3)
    config = keras_bert.BertConfig(vocab_size=30522, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                                   max_position_embeddings=32)
    model = keras_bert.BertSpanQA(keras_bert.BertEncoder(config))
    # Larger head weights spread the untrained logits, so spans differ from window to window.
    head = model.get_layer("span_logits")
    head.kernel.assign(head.kernel * 50.0)
    tokenizer = BertTokenizer(VOCAB)
    version_dir = export(model, tokenizer, str(tmp_path_factory.mktemp("qa")), sequence_length=24, **OPTIONS)
    return model, tokenizer, version_dir, tf.saved_model.load(version_dir)


def test_served_answers_match_the_pipeline(exported):
    model, tokenizer, version_dir, served = exported
    out = served.signatures["serving_default"](question=tf.constant(QUESTIONS), context=tf.constant(CONTEXTS))
    expected = QuestionAnswerer(model, tokenizer, sequence_length=24, **OPTIONS)(QUESTIONS, CONTEXTS)
    assert os.path.exists(os.path.join(version_dir, "assets", "bert-base-uncased-vocab.txt"))
    for i, (context, e) in enumerate(zip(CONTEXTS, expected)):
        answer = out["answer"][i].numpy().decode("utf-8")
        start, end = int(out["answer_start"][i]), int(out["answer_end"][i])
        assert (answer, start, end) == (e["answer"], e["start"], e["end"])
        assert context[start:end] == answer  # character offsets, also after "É" and the emoji
        assert bool(out["has_answer"][i]) == bool(answer)
        np.testing.assert_allclose(float(out["score"][i]), e["score"], rtol=1e-4)
    # The first context needs several windows of 24 - 3 - (question tokens) tokens.
    assert len(tokenizer.tokenize(CONTEXTS[0]).numpy()) > 24
    assert expected[3]["answer"] == ""  # an empty context has no span
    assert any(e["answer"] for e in expected)


def test_predict_ids_returns_the_model_logits(exported):
    model, tokenizer, _, served = exported
    ids = np.array([[tokenizer.cls_id, 2054, 3, 1996, 2154, 3, 0]], np.int32)
    x = {"token_ids": ids, "segment_ids": np.array([[0, 0, 0, 1, 1, 1, 0]], np.int32),
         "padding_mask": (ids > 0).astype(np.int32)}
    out = served.signatures["predict_ids"](**{k: tf.constant(v) for k, v in x.items()})
    ref = model(x)
    for name in ("start_logits", "end_logits"):
        np.testing.assert_allclose(out[name].numpy(), keras.ops.convert_to_numpy(ref[name]), atol=1e-5)
