"""Every model reports the dtype policy it was built with, and keeps it through a `.keras` round trip."""

import keras
import numpy as np
import pytest

from keras_bert import BertClassifier, BertConfig, BertEmbedder, BertEncoder
from keras_bert.models import BertPretrainer, BertRegressor, BertSpanQA, BertTokenClassifier

TINY = BertConfig(vocab_size=60, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                  max_position_embeddings=16, dropout=0.0, attention_dropout=0.0)

MODELS = {
    "encoder": lambda e: e,
    "pretrainer": BertPretrainer,
    "classifier": lambda e: BertClassifier(e, num_classes=3),
    "classifier_mean": lambda e: BertClassifier(e, num_classes=2, pooling="mean"),
    "embedder": BertEmbedder,
    "regressor": BertRegressor,
    "span_qa": BertSpanQA,
    "token_classifier": lambda e: BertTokenClassifier(e, labels=["O", "B-PER", "I-PER"]),
}


def _inputs(name):
    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(5, 60, size=(2, 6)).astype("int32"),
         "segment_ids": np.zeros((2, 6), "int32"), "padding_mask": np.ones((2, 6), "int32")}
    if name == "pretrainer":
        x["mask_positions"] = np.array([[1, 2], [3, 0]], "int32")
    return x


def _outputs(model, x):
    out = model(x)
    out = out if isinstance(out, dict) else {"output": out}
    return {k: keras.ops.convert_to_numpy(keras.ops.cast(v, "float32")) for k, v in out.items()
            if not isinstance(v, list)}


def _trainable_layers(model):
    """The model's own layers with weights (not the encoder's, which are checked through the encoder)."""
    return [layer for layer in model.layers if layer.weights and not isinstance(layer, BertEncoder)]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "float32"])
@pytest.mark.parametrize("name", list(MODELS))
def test_model_reports_its_policy_and_heads_follow_it(name, policy):
    model = MODELS[name](BertEncoder(TINY, dtype=policy))
    assert model.dtype_policy.name == policy
    assert model.compute_dtype == keras.dtype_policies.get(policy).compute_dtype
    for layer in _trainable_layers(model):
        if layer.name == "crf":
            continue  # the CRF computes in float32 by design
        assert layer.dtype_policy.name == policy, layer.name


@pytest.mark.parametrize("name", list(MODELS))
def test_keras_round_trip_keeps_the_policy(name, tmp_path):
    model = MODELS[name](BertEncoder(TINY, dtype="mixed_float16"))
    x = _inputs(name)
    before = _outputs(model, x)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.dtype_policy.name == "mixed_float16"
    encoder = reloaded if isinstance(reloaded, BertEncoder) else reloaded.encoder
    assert encoder.dtype_policy.name == "mixed_float16"
    assert encoder.embeddings.dtype_policy.name == "mixed_float16"
    assert all(b.dtype_policy.name == "mixed_float16" for b in encoder.transformer_layers)
    after = _outputs(reloaded, x)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


def test_global_policy_is_reported_when_dtype_is_not_given():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        encoder = BertEncoder(TINY)
        assert encoder.dtype_policy.name == "mixed_bfloat16"
        assert BertClassifier(encoder, num_classes=2).dtype_policy.name == "mixed_bfloat16"
    finally:
        keras.config.set_dtype_policy("float32")
    assert BertEncoder(TINY).dtype_policy.name == "float32"


def test_fine_tuning_a_float16_model_gets_loss_scaling():
    """Keras wraps the optimizer in a LossScaleOptimizer when the model's own policy is mixed_float16."""
    model = BertClassifier(BertEncoder(TINY, dtype="mixed_float16"), num_classes=2)
    model.compile(total_steps=10)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model(_inputs("classifier")).dtype == "float32"
