"""export(): dispatch, signatures, versions, atomicity, and parity with the Keras models."""

import os

import numpy as np
import pytest
import tensorflow as tf

TEXTS = ["a good film", "a dreadful, boring mess!", "Héllo wörld [MASK] 東京", ""]

def _load(path):
    return tf.saved_model.load(path)


def test_classifier_export_matches_keras(tmp_path, classifier, tokenizer):
    from keras_bert.export import export
    from keras_bert.text import BertPreprocessor

    path = export(classifier, tokenizer, str(tmp_path / "clf"), sequence_length=32)
    assert path == str(tmp_path / "clf" / "1")
    assert sorted(os.listdir(tmp_path / "clf")) == ["1"]  # no temporary folder left behind
    assert os.listdir(os.path.join(path, "assets")) == ["bert-base-uncased-vocab.txt"]

    loaded = _load(path)
    assert set(loaded.signatures) == {"serving_default", "predict_ids"}
    inputs = BertPreprocessor(tokenizer, 32)(tf.constant(TEXTS))
    expected = tf.nn.softmax(classifier(inputs)).numpy()
    served = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-6)
    assert served["label_ids"].numpy().tolist() == expected.argmax(-1).tolist()
    names = ["negative", "neutral", "positive"]
    assert [s.decode() for s in served["labels"].numpy()] == [names[i] for i in expected.argmax(-1)]
    by_ids = loaded.signatures["predict_ids"](**inputs)
    np.testing.assert_allclose(by_ids["probabilities"].numpy(), expected, atol=1e-6)


def test_pairs_and_sequence_length(tmp_path, classifier, tokenizer):
    from keras_bert.export import export
    from keras_bert.text import BertPreprocessor

    pre = BertPreprocessor(tokenizer, 16)
    path = export(classifier, pre, str(tmp_path / "pairs"), pairs=True)
    fn = _load(path).signatures["serving_default"]
    assert sorted(fn.structured_input_signature[1]) == ["text", "text_pair"]
    a, b = ["is it good?", "a long question " * 20], ["yes it is", "no"]
    expected = tf.nn.softmax(classifier(pre(tf.constant(a), tf.constant(b)))).numpy()
    np.testing.assert_allclose(fn(text=tf.constant(a), text_pair=tf.constant(b))["probabilities"].numpy(),
                               expected, atol=1e-6)
    with pytest.raises(ValueError, match="conflicts"):
        export(classifier, pre, str(tmp_path / "x"), sequence_length=32)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        export(classifier, tokenizer, str(tmp_path / "x"), sequence_length=65)


def test_embedder_export(tmp_path, embedder, tokenizer):
    from keras_bert.export import export
    from keras_bert.text import BertPreprocessor

    path = export(embedder, tokenizer, str(tmp_path / "emb"))
    loaded = _load(path)
    out = loaded.signatures["serving_default"](text=tf.constant(TEXTS))["embeddings"].numpy()
    assert out.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-5)
    expected = embedder(BertPreprocessor(tokenizer, 64)(tf.constant(TEXTS))).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_versions_are_integers_and_immutable(tmp_path, embedder, tokenizer):
    from keras_bert.export import export, next_version

    root = str(tmp_path / "m")
    assert next_version(root) == 1
    assert export(embedder, tokenizer, root).endswith(os.sep + "1")
    assert export(embedder, tokenizer, root, version=7).endswith(os.sep + "7")
    assert export(embedder, tokenizer, root).endswith(os.sep + "8")
    with pytest.raises(FileExistsError, match="immutable"):
        export(embedder, tokenizer, root, version=7)
    assert sorted(os.listdir(root)) == ["1", "7", "8"]


def test_failed_export_leaves_nothing(tmp_path, embedder, tokenizer, monkeypatch):
    from keras_bert.export import export

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        export(embedder, tokenizer, str(tmp_path / "m"))
    assert os.listdir(tmp_path / "m") == []


def test_unsupported_inputs_are_named(tmp_path, classifier, tokenizer):
    from keras_bert.export import export

    with pytest.raises(TypeError, match="BertEncoder models; supported: BertClassifier, BertEmbedder"):
        export(classifier.encoder, tokenizer, str(tmp_path / "m"))
    with pytest.raises(TypeError, match="BertTokenizer or BertPreprocessor; got str"):
        export(classifier, "vocab.txt", str(tmp_path / "m"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        export(classifier, tokenizer, str(tmp_path / "m"), colour="red")


def test_trained_regressor_export_keeps_weights_once(tmp_path, tokenizer):
    """A compiled, fitted model: the export holds the weights, not the optimizer's slots."""
    import keras

    from keras_bert.config import BertConfig
    from keras_bert.export import export, size_report
    from keras_bert.models.encoder import BertEncoder
    from keras_bert.models.tasks.regressor import BertRegressor
    from keras_bert.text import BertPreprocessor

    keras.utils.set_random_seed(3)
    config = BertConfig(vocab_size=30522, num_layers=1, hidden_size=16, num_heads=2, intermediate_size=32,
                        max_position_embeddings=64)
    model = BertRegressor(BertEncoder(config), target_mean=1.0, target_scale=2.0)
    model.compile(learning_rate=1e-3)
    pre = BertPreprocessor(tokenizer, 16)
    x = pre(tf.constant(["good", "bad", "fine film", "awful"]))
    model.fit(x, np.array([[3.0], [-3.0], [2.0], [-2.5]], "float32"), epochs=1, verbose=0)
    path = export(model, pre, str(tmp_path / "reg"))
    report = size_report(path, model)
    # Adam keeps two slots per weight: holding them would triple the variables.
    assert report["variables_bytes"] < 1.1 * report["weights_bytes"] + 65536
    served = _load(path).signatures["serving_default"](text=tf.constant(TEXTS))["scores"].numpy()
    np.testing.assert_allclose(served, model(pre(tf.constant(TEXTS))).numpy(), atol=1e-5)
