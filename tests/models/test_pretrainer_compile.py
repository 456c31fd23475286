"""BertPretrainer.compile defaults: losses/metrics against numpy, optimizers, save/load round trip."""

import keras
import numpy as np
import pytest

from keras_bert import BertConfig, BertEncoder, BertPretrainer
from keras_bert.optimization import Lamb, WarmupLinearDecay

TINY = BertConfig(vocab_size=50, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                  max_position_embeddings=16, dropout=0.0, attention_dropout=0.0)


def _batch(n=6, seq=10, p=4, seed=0):
    rng = np.random.default_rng(seed)
    x = {"token_ids": rng.integers(5, 50, (n, seq)).astype("int32"),
         "segment_ids": (np.arange(seq)[None] >= seq // 2).repeat(n, 0).astype("int32"),
         "padding_mask": np.ones((n, seq), "int32"),
         "mask_positions": np.sort(rng.permutation(np.arange(1, seq - 1))[:p]).reshape(1, p).repeat(n, 0)
         .astype("int32")}
    y = {"mlm": rng.integers(5, 50, (n, p)).astype("int32"), "nsp": rng.integers(0, 2, n).astype("int32")}
    weights = (np.arange(p)[None] < rng.integers(1, p + 1, n)[:, None]).astype("float32")
    w = {"mlm": weights, "nsp": np.ones(n, "float32")}
    return x, y, w


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_default_losses_and_metrics_match_numpy():
    model = BertPretrainer(BertEncoder(TINY))
    model.compile()
    x, y, w = _batch()
    logits = model.predict(x, verbose=0)
    mlm_ce = -np.take_along_axis(_log_softmax(logits["mlm"]), y["mlm"][..., None], -1)[..., 0]
    nsp_ce = -np.take_along_axis(_log_softmax(logits["nsp"]), y["nsp"][:, None], -1)[:, 0]
    mlm_loss = (mlm_ce * w["mlm"]).sum() / w["mlm"].sum()  # padding slots do not count
    mlm_acc = ((logits["mlm"].argmax(-1) == y["mlm"]) * w["mlm"]).sum() / w["mlm"].sum()
    result = model.evaluate(x, y, sample_weight=w, batch_size=len(y["nsp"]), return_dict=True, verbose=0)
    assert set(result) == {"loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "nsp_accuracy"}
    np.testing.assert_allclose(result["mlm_loss"], mlm_loss, rtol=1e-5)
    np.testing.assert_allclose(result["nsp_loss"], nsp_ce.mean(), rtol=1e-5)
    np.testing.assert_allclose(result["loss"], mlm_loss + nsp_ce.mean(), rtol=1e-5)
    np.testing.assert_allclose(result["mlm_accuracy"], mlm_acc, atol=1e-6)
    np.testing.assert_allclose(result["nsp_accuracy"], (logits["nsp"].argmax(-1) == y["nsp"]).mean(), atol=1e-6)


def test_default_optimizer_schedule_and_save_load_round_trip(tmp_path):
    model = BertPretrainer(BertEncoder(TINY))
    model.compile(learning_rate=2e-3, total_steps=100, warmup_steps=10, weight_decay=0.02, clipnorm=0.5)
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.AdamW) and opt.clipnorm == 0.5 and opt.weight_decay == 0.02
    schedule = opt._learning_rate
    assert isinstance(schedule, WarmupLinearDecay)
    np.testing.assert_allclose([float(schedule(s)) for s in (5, 10, 55, 100)], [1e-3, 2e-3, 1e-3, 0.0], atol=1e-9)
    x, y, w = _batch()
    model.fit(x, y, sample_weight=w, batch_size=3, verbose=0)
    path = str(tmp_path / "pretrainer.keras")
    model.save(path)
    again = keras.saving.load_model(path)
    assert isinstance(again, BertPretrainer)
    assert again.get_compile_config() == {"keras_bert_defaults": model._default_compile_args}
    assert int(again.optimizer.iterations) == 2
    for a, b in zip(model.optimizer.variables, again.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b))
    # Training goes on from the restored state exactly as it would have without the round trip.
    model.fit(x, y, sample_weight=w, batch_size=3, verbose=0, shuffle=False)
    again.fit(x, y, sample_weight=w, batch_size=3, verbose=0, shuffle=False)
    for a, b in zip(model.weights, again.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_lamb_and_custom_compile():
    model = BertPretrainer(BertEncoder(TINY))
    model.compile(optimizer_name="lamb", learning_rate=1e-3, total_steps=10)
    assert isinstance(model.optimizer, Lamb)
    model.compile(optimizer="sgd", loss={"mlm": "sparse_categorical_crossentropy",
                                         "nsp": "sparse_categorical_crossentropy"})
    assert "keras_bert_defaults" not in model.get_compile_config()
    with pytest.raises(ValueError, match="optimizer must be one of"):
        model.compile(optimizer_name="adam")


def test_mixed_float16_encoder_gets_loss_scaling():
    model = BertPretrainer(BertEncoder(TINY, dtype="mixed_float16"))
    model.compile(total_steps=10)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    if keras.backend.backend() == "jax":
        return  # XLA on CPU has no float16 matmul; the training step runs on TF and on GPUs
    x, y, w = _batch()
    history = model.fit(x, y, sample_weight=w, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_mlm_only_pretrainer_has_no_nsp_head_and_reloads(tmp_path):
    model = BertPretrainer(BertEncoder(TINY), next_sentence=False)
    assert set(model.output) == {"mlm"} and model.nsp_head is None
    assert not any(w.path.startswith("nsp_head") for w in model.weights)
    model.compile()
    x, y, w = _batch()
    logits = model.predict(x, verbose=0)["mlm"]
    ce = -np.take_along_axis(_log_softmax(logits), y["mlm"][..., None], -1)[..., 0]
    result = model.evaluate(x, {"mlm": y["mlm"]}, sample_weight={"mlm": w["mlm"]}, batch_size=6,
                            return_dict=True, verbose=0)
    assert set(result) == {"loss", "mlm_accuracy"}  # one output: `loss` is the MLM loss
    np.testing.assert_allclose(result["loss"], (ce * w["mlm"]).sum() / w["mlm"].sum(), rtol=1e-5)
    acc = ((logits.argmax(-1) == y["mlm"]) * w["mlm"]).sum() / w["mlm"].sum()
    np.testing.assert_allclose(result["mlm_accuracy"], acc, atol=1e-6)
    model.fit(x, {"mlm": y["mlm"]}, sample_weight={"mlm": w["mlm"]}, batch_size=3, verbose=0)
    path = str(tmp_path / "mlm_only.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.next_sentence is False and set(reloaded.output) == {"mlm"}
    np.testing.assert_allclose(reloaded.predict(x, verbose=0)["mlm"], model.predict(x, verbose=0)["mlm"], atol=1e-6)
