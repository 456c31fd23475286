"""int8 / bfloat16 models: real-checkpoint outputs vs Hugging Face's, .keras round trips, raw-string SavedModels."""

import os

import keras
import numpy as np
import pytest
from compression_helpers import small_classifier

from keras_bert.compression import model_bytes, quantize, with_dtype

TEXTS = ["A warm, funny and beautifully acted film.", "The plot is a mess and the dialogue is painfully dull.",
         "", "Café au lait, naïve résumé."]


def _ids(tokenizer, texts, length=64):
    from keras_bert.text import BertPreprocessor

    return {k: v.numpy() for k, v in BertPreprocessor(tokenizer, length)(texts).items()}


def _softmax(logits):
    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def _cosines(a, b):
    return np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def test_real_minilm_compressed_keeps_hugging_face_sentence_embeddings(minilm_dir, minilm_reference):
    import keras_bert

    embedder = keras_bert.BertEmbedder(keras_bert.from_pretrained(minilm_dir), pooling="mean", normalize=True)
    inputs = {"token_ids": minilm_reference["input_ids"], "segment_ids": minilm_reference["token_type_ids"],
              "padding_mask": minilm_reference["attention_mask"]}
    reference = minilm_reference["sentence_embedding"]  # HF's float32 embeddings of the same 7 sentences

    def nearest(e):  # each sentence's nearest other sentence
        return (e @ e.T - 2 * np.eye(len(e))).argmax(1)

    # (int8 with float32 GEMMs: the small models' tests and tests/layers/test_int8.py)
    for variant, compressed in (("int8+mixed_bfloat16", quantize(embedder, dtype="mixed_bfloat16")),
                                ("bfloat16", with_dtype(embedder, "bfloat16"))):
        got = np.asarray(compressed.predict_on_batch(inputs), np.float32)
        cosine = _cosines(got, reference)
        assert cosine.min() > 0.995, (variant, cosine)
        np.testing.assert_array_equal(nearest(got), nearest(reference), err_msg=variant)


def test_int8_classifier_is_a_quarter_of_the_bytes_and_round_trips_as_keras(tmp_path, tokenizer):
    model = small_classifier(hidden_size=64)
    int8 = quantize(model)
    dtypes = {v.path: keras.backend.standardize_dtype(v.dtype) for v in int8.weights}
    assert dtypes["embeddings/token_embeddings"] == "int8"
    assert dtypes["transformer_layer_1/attention/qkv/kernel"] == "int8"
    assert dtypes["logits/kernel"] == "float32"  # the task head stays float
    assert model_bytes(int8) < 0.3 * model_bytes(model)
    float_path, int8_path = tmp_path / "float.keras", tmp_path / "int8.keras"
    model.save(float_path)
    int8.save(int8_path)
    assert os.path.getsize(int8_path) < 0.3 * os.path.getsize(float_path)

    inputs = _ids(tokenizer, TEXTS)
    before = int8.predict_on_batch(inputs)
    reloaded = keras.saving.load_model(int8_path)
    np.testing.assert_array_equal(reloaded.predict_on_batch(inputs), before)
    # weight-only survives the reload (no activation quantizer comes back from Keras' default)
    qkv = reloaded.encoder.get_layer("transformer_layer_0").attention.qkv
    assert qkv.quantization_mode == "int8" and qkv.inputs_quantizer is None
    # and it is the float model to quantization accuracy
    np.testing.assert_allclose(_softmax(before), _softmax(model.predict_on_batch(inputs)), atol=0.02)


def test_keras_quantize_call_on_a_task_quantizes_the_encoder_and_round_trips(tmp_path, tokenizer):
    model = small_classifier(seed=3, hidden_size=32)
    model.quantize("int8")  # Keras' API with its default config: int8 weights and activations
    assert model.get_layer("logits").quantization_mode is None
    inputs = _ids(tokenizer, TEXTS)
    before = model.predict_on_batch(inputs)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(reloaded.predict_on_batch(inputs), before)
    assert reloaded.encoder.get_layer("pooler").dense.inputs_quantizer is not None
    with pytest.raises(ValueError, match="is quantized"):
        quantize(reloaded)
    from keras_bert.checkpoints.export import to_huggingface

    with pytest.raises(ValueError, match="is quantized; checkpoint formats hold float weights"):
        to_huggingface(reloaded, tmp_path / "hf")
    with pytest.raises(ValueError, match="int8"):
        small_classifier(hidden_size=16).quantize("int4")


def test_int8_bfloat16_classifier_exports_the_raw_string_saved_model(tmp_path, tokenizer):
    import tensorflow as tf

    from keras_bert.export import export

    compressed = quantize(small_classifier(seed=4, hidden_size=32), dtype="mixed_bfloat16")
    version_dir = export(compressed, tokenizer, str(tmp_path / "export"), sequence_length=64)
    served = tf.saved_model.load(version_dir).signatures["serving_default"](text=tf.constant(TEXTS))
    expected = _softmax(np.asarray(compressed.predict_on_batch(_ids(tokenizer, TEXTS)), np.float32))
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-5)
    assert [s.decode() for s in served["labels"].numpy()] == [compressed.labels[i] for i in expected.argmax(1)]


def test_with_dtype_and_quantize_name_the_bad_dtype():
    model = small_classifier(hidden_size=16)
    with pytest.raises(ValueError, match="float16"):
        with_dtype(model, "float16")
    with pytest.raises(ValueError, match="int4"):
        quantize(model, dtype="int4")
