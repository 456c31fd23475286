"""Mixed precision keeps a finite, falling loss; config loading errors name the problem."""

import itertools

import keras
import numpy as np
import pytest

from keras_bert import BertConfig, BertEncoder, BertPretrainer
from keras_bert.training.precision import set_precision
from keras_bert.training.pretrain import load_config


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_loss_finite_and_decreasing(policy):
    rng = np.random.default_rng(0)
    n, s, p = 8, 12, 3
    x = {"token_ids": rng.integers(5, 60, (n, s)).astype("int32"),
         "segment_ids": (np.arange(s)[None] >= 6).repeat(n, 0).astype("int32"),
         "padding_mask": np.ones((n, s), "int32"), "mask_positions": np.tile(np.array([1, 4, 8], "int32"), (n, 1))}
    y = {"mlm": x["token_ids"][:, [1, 4, 8]], "nsp": rng.integers(0, 2, n).astype("int32")}
    w = {"mlm": np.ones((n, p), "float32"), "nsp": np.ones(n, "float32")}
    try:
        set_precision(policy)
        model = BertPretrainer(BertEncoder(BertConfig(vocab_size=60, hidden_size=32, num_layers=1, num_heads=2,
                                                      intermediate_size=64, max_position_embeddings=16)))
        model.compile(learning_rate=3e-3)
        # Keras wraps the optimizer itself when the global policy is mixed_float16.
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
        assert model.encoder.embeddings.compute_dtype == policy.split("_")[1]
        losses = model.fit(x, y, sample_weight=w, epochs=6, batch_size=n, verbose=0).history["loss"]
    finally:
        set_precision("float32")
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0] - 0.1
    assert all(b < a + 1e-3 for a, b in itertools.pairwise(losses))


def test_config_loading_and_errors(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {tfrecords: some/dir}\nsteps: 10\nmodel: {preset: mini}\n")
    config = load_config(str(path), ["steps=20", "model.num_layers=2", "optimizer=lamb"])
    assert config["steps"] == 20 and config["model"] == {"preset": "mini", "num_layers": 2}
    assert config["optimizer"] == "lamb" and config["batch_size"] == 32 and config["steps_per_epoch"] == 20
    with pytest.raises(ValueError, match="unknown config key.*stpes"):
        load_config(str(path), ["stpes=3"])
    with pytest.raises(ValueError, match="exactly one of 'tfrecords'"):
        load_config(None, [])
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        load_config(str(path), ["steps=0"])
    with pytest.raises(ValueError, match="key=value"):
        load_config(str(path), ["steps"])
    with pytest.raises(FileNotFoundError):
        load_config(str(tmp_path / "missing.json"))


def test_mlm_only_pretraining_run(tfrecords, tmp_path):
    from keras_bert.training.pretrain import run_pretraining
    from tests.training.conftest import tiny_config

    # Also through length bucketing (the fixture's pairs are all full length: the same batches).
    result = run_pretraining(tiny_config(tfrecords, tmp_path / "run", next_sentence=False, steps=4,
                                         data={"length_bucketing": True}))
    assert result["optimizer_iterations"] == 4 and "nsp_loss" not in result and 0 < result["loss"] < 12
    model = keras.saving.load_model(str(tmp_path / "run" / "model" / "model.keras"))
    assert set(model.output) == {"mlm"}
    with pytest.raises(ValueError, match="next_sentence must be true or false"):
        load_config(None, ["data.tfrecords=x", "next_sentence=maybe"])
    with pytest.raises(ValueError, match="data.length_bucketing must be true or false"):
        load_config(None, ["data.tfrecords=x", "data.length_bucketing=sometimes"])
    assert load_config(None, ["data.tfrecords=x", "data.length_bucketing=true"])["data"]["length_bucketing"] is True


def test_data_padding_options_give_static_shapes_for_tpus(tfrecords, tmp_path):
    import tensorflow as tf

    from keras_bert.training.pretrain import make_dataset, resolve_config
    from tests.training.conftest import tiny_config

    def spec(**data):
        config = resolve_config(tiny_config(tfrecords, tmp_path, data=data))
        features = make_dataset(tfrecords, config, strategy=tf.distribute.get_strategy()).element_spec[0]
        return features["token_ids"].shape.as_list(), features["mask_positions"].shape.as_list()

    assert spec() == ([8, None], [8, 4])  # auto off a TPU: dynamic padding
    assert spec(padding="max_length") == ([8, 32], [8, 4])  # what auto picks under a TPUStrategy
    with pytest.raises(ValueError, match="length_bucketing=True has no effect with padding='max_length'"):
        spec(padding="max_length", length_bucketing=True)
    with pytest.raises(ValueError, match="data.padding must be one of auto, dynamic, max_length"):
        load_config(None, ["data.tfrecords=x", "data.padding=longest"])
    with pytest.raises(ValueError, match="data.pad_to_multiple_of must be a positive integer or null"):
        load_config(None, ["data.tfrecords=x", "data.pad_to_multiple_of=0"])
    assert load_config(None, ["data.tfrecords=x", "data.pad_to_multiple_of=8"])["data"]["pad_to_multiple_of"] == 8
