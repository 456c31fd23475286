"""SavedModel export of a BertTokenClassifier: raw strings in, entity spans out."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_bert import BertConfig, BertEncoder, BertTokenClassifier
from keras_bert.export import export
from keras_bert.export.tagger import _tables, chunk_entities
from keras_bert.metrics.ner import get_entities
from keras_bert.pipelines.tag import TokenTagger
from keras_bert.text import BertTokenizer
from keras_bert.text.tagging import label_list

UNCASED_VOCAB = os.path.join(os.path.dirname(__file__), "data", "text", "bert-base-uncased-vocab.txt")


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_graph_chunking_matches_seqeval_rules(scheme):
    labels = label_list(["LOC", "PER"], scheme)
    prefixes, type_ids, types = _tables(labels)
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 9, size=300)
    tags = rng.integers(0, len(labels), size=(300, 9))
    first, last, typ = chunk_entities(tf.constant(tags), tf.constant(lengths), tf.constant(prefixes),
                                      tf.constant(type_ids))
    for row in range(300):
        expected = get_entities([labels[t] for t in tags[row, :lengths[row]]])
        got = [(types[t], f, la) for f, la, t in zip(first[row].numpy(), last[row].numpy(), typ[row].numpy())]
        assert got == expected, [labels[t] for t in tags[row, :lengths[row]]]


@pytest.mark.slow
@pytest.mark.parametrize("use_crf", [False, True])
def test_export_serves_entities_with_character_offsets(tmp_path, use_crf):
    tokenizer = BertTokenizer(UNCASED_VOCAB)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_layers=1, num_heads=2,
                        intermediate_size=32, max_position_embeddings=24)
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    model = BertTokenClassifier(BertEncoder(config), labels, use_crf=use_crf)
    # Bias the head so that words are tagged as entities often: many spans to compare.
    head = model.get_layer("tag_logits")
    head.bias.assign(np.array([0.0, 0.5, 0.3, 0.5, 0.3], np.float32))
    texts = ["Zoë Kravitz flew from Zürich to São Paulo on Tuesday.",
             "",
             " ".join(["Ålesund and Malmö are far from Kraków"] * 6)]  # longer than one 24-token window
    path = export(model, tokenizer, str(tmp_path / "ner"), sequence_length=24)
    served = tf.saved_model.load(path).signatures["serving_default"](text=tf.constant(texts))
    expected = TokenTagger(model, tokenizer, sequence_length=24)(texts)
    assert served["entity_start"].dtype == tf.int64 and served["entity_labels"].dtype == tf.string
    assert list(served["num_entities"].numpy()) == [len(e) for e in expected]
    assert sum(len(e) for e in expected) > 5
    for b, text in enumerate(texts):
        for k, entity in enumerate(expected[b]):
            start, end = int(served["entity_start"][b, k]), int(served["entity_end"][b, k])
            assert (served["entity_labels"][b, k].numpy().decode(), start, end) == (
                entity["entity"], entity["start"], entity["end"])
            assert text[start:end] == entity["text"]
            np.testing.assert_allclose(served["entity_scores"][b, k].numpy(), entity["score"], rtol=1e-4)
        padding = int(served["num_entities"][b])
        assert (served["entity_start"][b, padding:].numpy() == -1).all()
    words = TokenTagger(model, tokenizer, sequence_length=24).word_tags(texts[:1])[0]
    token_labels = [t.decode() for t in served["token_labels"][0].numpy() if t]
    assert token_labels == [tag for *_, tag in words]
    assert words[:2] == [("Zoë", 0, 3, words[0][3]), ("Kravitz", 4, 11, words[1][3])]

    ids = {k: tf.constant(v) for k, v in {
        "token_ids": [[tokenizer.cls_id, *tokenizer.tokenize("kravitz flew").numpy(), tokenizer.sep_id]],
    }.items()}
    ids["segment_ids"] = tf.zeros_like(ids["token_ids"])
    ids["padding_mask"] = tf.ones_like(ids["token_ids"])
    out = tf.saved_model.load(path).signatures["predict_ids"](**ids)
    pieces = tokenizer.id_to_token([int(i) for i in ids["token_ids"][0]])
    starts = [not p.startswith("##") and p not in ("[CLS]", "[SEP]") for p in pieces]
    assert list(out["label_ids"][0].numpy() >= 0) == starts
    assert all((lab.decode() in labels) == s for lab, s in zip(out["labels"][0].numpy(), starts))
