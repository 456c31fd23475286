"""LoRA: few trainable weights, adapters saved alone, merged == unmerged, kernels merged as W + (alpha/r) A B."""

import keras
import numpy as np
import pytest
from compression_helpers import small_classifier

from keras_bert.compression import enable_lora, load_lora_weights, lora_layers, merge_lora, save_lora_weights


def _batch(seed=0, batch=8, length=12):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, 30000, size=(batch, length)).astype("int32")
    mask = np.ones((batch, length), "int32")
    mask[::2, length // 2:] = 0
    x = {"token_ids": ids * mask, "segment_ids": np.zeros_like(ids), "padding_mask": mask}
    return x, rng.integers(0, 2, size=(batch,)).astype("int32")


def _values(model):
    return {v.path: keras.ops.convert_to_numpy(v.value) for v in model.weights}


def _trained_lora_model(seed=0):
    model = small_classifier(seed=seed, hidden_size=32)
    base = _values(model)
    paths = enable_lora(model, rank=4, alpha=8, targets="all")
    x, y = _batch(seed)
    before = model.predict_on_batch(x)
    np.testing.assert_allclose(before, small_classifier(seed=seed, hidden_size=32).predict_on_batch(x), atol=1e-6)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    return model, base, paths, x


def test_enable_lora_trains_only_the_adapters_and_the_head():
    model, base, paths, x = _trained_lora_model()
    assert len(paths) == 2 * 4  # 2 blocks x (qkv, attention output, intermediate, output)
    trainable = sorted(v.path for v in model.trainable_weights)
    assert trainable == sorted([f"{p}/lora_kernel_{ab}" for p in paths for ab in "ab"] + ["logits/bias", "logits/kernel"])
    after = _values(model)
    for path, value in base.items():  # every base weight is untouched, the head moved
        if path.startswith("logits/"):
            assert not np.allclose(after[path], value)
        else:
            np.testing.assert_array_equal(after[path], value, err_msg=path)
    assert any(np.abs(after[f"{p}/lora_kernel_b"]).max() > 0 for p in paths)


def test_merged_model_has_no_adapters_and_the_same_outputs():
    model, base, paths, x = _trained_lora_model(seed=1)
    merged = merge_lora(model)
    assert not lora_layers(merged) and len(merged.weights) == len(base)
    np.testing.assert_allclose(merged.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-5)
    weights = _values(model)
    for path in paths:  # W + (alpha / rank) A B, in numpy
        expected = base[f"{path}/kernel"] + (8 / 4) * weights[f"{path}/lora_kernel_a"] @ weights[f"{path}/lora_kernel_b"]
        np.testing.assert_allclose(_values(merged)[f"{path}/kernel"], expected, rtol=1e-5, atol=1e-6)
    assert all(v.trainable for v in merged.weights)


def test_lora_weights_alone_restore_the_fine_tuned_model(tmp_path):
    model, _, _, x = _trained_lora_model(seed=2)
    names = save_lora_weights(model, tmp_path / "adapter.safetensors")
    assert "logits/kernel" in names and all("lora" in n or n.startswith("logits/") for n in names)
    size = (tmp_path / "adapter.safetensors").stat().st_size
    model.save(tmp_path / "full.keras")
    assert size < 0.05 * (tmp_path / "full.keras").stat().st_size
    fresh = small_classifier(seed=2, hidden_size=32)  # the same base weights, LoRA enabled by the loader
    load_lora_weights(fresh, tmp_path / "adapter.safetensors")
    np.testing.assert_allclose(fresh.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6, atol=1e-6)


def test_lora_bad_inputs_are_named(tmp_path):
    model = small_classifier(hidden_size=16)
    with pytest.raises(ValueError, match="rank"):
        enable_lora(model, 0)
    with pytest.raises(ValueError, match="unknown LoRA target 'query'"):
        enable_lora(model, 2, targets=["query"])
    with pytest.raises(ValueError, match="no LoRA weights"):
        save_lora_weights(model, tmp_path / "a.safetensors")
    enable_lora(model, 2)
    with pytest.raises(ValueError, match="already enabled"):
        enable_lora(model, 2)
    save_lora_weights(model, tmp_path / "a.safetensors")
    wider = small_classifier(hidden_size=32)
    with pytest.raises(ValueError, match="shape mismatch"):
        load_lora_weights(wider, tmp_path / "a.safetensors")
