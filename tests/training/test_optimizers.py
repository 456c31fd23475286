"""Weight-decay exclusions and LAMB against a numpy implementation of the paper's update."""

import keras
import numpy as np
import pytest

from keras_bert import BertConfig, BertEncoder
from keras_bert.optimization import Adam, AdamW, Lamb, bert_adamw, bert_lamb, pretraining_optimizer


def _is_no_decay(path):
    return "layer_norm" in path or path.endswith("bias")


def test_bert_adamw_decays_kernels_and_embeddings_only():
    encoder = BertEncoder(BertConfig(vocab_size=30, hidden_size=8, num_layers=1, num_heads=2, intermediate_size=16,
                                     max_position_embeddings=8))
    lr, wd = 0.1, 0.5
    opt = bert_adamw(encoder, learning_rate=lr, weight_decay=wd, clipnorm=None)
    before = {v.path: np.asarray(v).copy() for v in encoder.trainable_variables}
    # Zero gradients: Adam's step is 0, so only the decoupled weight decay moves a variable.
    opt.apply_gradients([(np.zeros(v.shape, "float32"), v) for v in encoder.trainable_variables])
    decayed = 0
    for v in encoder.trainable_variables:
        factor = 1.0 if _is_no_decay(v.path) else 1.0 - lr * wd
        decayed += factor != 1.0
        np.testing.assert_allclose(np.asarray(v), before[v.path] * factor, rtol=1e-6, err_msg=v.path)
    assert decayed == 8  # 3 embedding tables + qkv, attention output, intermediate, output, pooler kernels
    assert any("layer_norm/gamma" in v.path for v in encoder.trainable_variables)


def _numpy_lamb(w, grads, lr, b1, b2, eps, wd, decay, adapt):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        update = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        if decay:
            update = update + wd * w
        ratio = 1.0
        if adapt:
            wn, un = np.linalg.norm(w), np.linalg.norm(update)
            ratio = wn / un if wn > 0 and un > 0 else 1.0
        w = w - lr * ratio * update
    return w


def test_lamb_matches_the_paper_update_with_exclusions():
    rng = np.random.default_rng(0)
    dense = keras.layers.Dense(4, bias_initializer="ones", name="intermediate")
    norm = keras.layers.LayerNormalization(name="layer_norm")
    dense.build((None, 3))
    norm.build((None, 4))
    variables = dense.trainable_variables + norm.trainable_variables
    start = [np.asarray(v).copy() for v in variables]
    grads = [[rng.normal(size=v.shape).astype("float32") for v in variables] for _ in range(3)]
    opt = Lamb(learning_rate=0.01, weight_decay_rate=0.1)
    for step in grads:
        opt.apply_gradients(zip(step, variables))
    for i, v in enumerate(variables):
        plain = _is_no_decay(v.path)
        expected = _numpy_lamb(start[i], [g[i] for g in grads], 0.01, 0.9, 0.999, 1e-6, 0.1,
                               decay=not plain, adapt=not plain)
        np.testing.assert_allclose(np.asarray(v), expected, rtol=2e-5, atol=1e-6, err_msg=v.path)
    # The exclusions matter: the kernel's trust ratio is far from 1 here.
    assert not np.allclose(np.asarray(variables[0]), _numpy_lamb(start[0], [g[0] for g in grads], 0.01, 0.9, 0.999,
                                                                 1e-6, 0.1, decay=True, adapt=False), atol=1e-4)


def test_lamb_serialises_and_factory_schedule():
    opt = bert_lamb(learning_rate=1e-3, total_steps=100, warmup_steps=10, gradient_accumulation_steps=2)
    again = Lamb.from_config(keras.saving.serialize_keras_object(opt)["config"])
    assert again.exclude_from_layer_adaptation == opt.exclude_from_layer_adaptation
    # Keras feeds schedules the micro-batch counter, so the schedule is stretched by k.
    assert opt._learning_rate.total_steps == 200 and opt._learning_rate.warmup_steps == 20
    with pytest.raises(ValueError, match="optimizer must be one of"):
        pretraining_optimizer("sgd")


@pytest.mark.parametrize("fused_cls,keras_cls,kwargs", [
    (Adam, keras.optimizers.Adam, {}),
    (AdamW, keras.optimizers.AdamW, {"weight_decay": 0.1}),
])
def test_fused_adam_matches_keras_adam_on_dense_and_sparse_gradients(fused_cls, keras_cls, kwargs):
    """Our fused update (TF's ResourceApplyAdam kernel) against Keras' own Adam/AdamW, step for step:
    a gathered embedding table (IndexedSlices gradients, distinct ids: see the next test for repeated
    ones), a kernel and a bias, a decaying schedule."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    ids = tf.constant(rng.permutation(50)[:24].reshape(4, 6), "int32")
    target = tf.constant(rng.normal(size=(4, 6, 3)), "float32")
    schedule = keras.optimizers.schedules.PolynomialDecay(0.05, decay_steps=5, end_learning_rate=0.01)
    runs = []
    for cls in (fused_cls, keras_cls):
        keras.utils.set_random_seed(3)
        table = keras.Variable(rng.normal(size=(50, 8)).astype("float32") if not runs else runs[0]["start"][0])
        kernel = keras.Variable(np.full((8, 3), 0.1, "float32"))
        bias = keras.Variable(np.zeros((3,), "float32"))
        variables = [table, kernel, bias]
        start = [np.asarray(v).copy() for v in variables]
        opt = cls(learning_rate=schedule, epsilon=1e-6, **kwargs)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                x = tf.gather(table.value, ids)
                loss = tf.reduce_mean(tf.square(tf.einsum("bsh,hk->bsk", x, kernel.value) + bias.value - target))
            grads = tape.gradient(loss, [table.value, kernel.value, bias.value])
            opt.apply(grads, variables)
            return grads[0]

        for _ in range(4):
            sparse = step()
        runs.append({"start": start, "end": [np.asarray(v) for v in variables]})
    assert isinstance(sparse, tf.IndexedSlices)
    for ours, theirs, before in zip(runs[0]["end"], runs[1]["end"], runs[0]["start"]):
        assert np.abs(ours - before).max() > 1e-2  # the variables did move
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_bert_adamw_is_the_fused_adamw_and_reloads_from_its_config():
    opt = bert_adamw(learning_rate=1e-3, total_steps=10)
    assert isinstance(opt, AdamW)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(opt))
    assert type(again) is AdamW and again.weight_decay == opt.weight_decay


def test_fused_adam_sums_repeated_ids_before_squaring_like_dense_adam():
    """A token repeated in a batch: its gradient rows must be summed before Adam squares them.
    Reference: textbook Adam in numpy on the dense gradient. (Keras 3.15's own Adam squares the
    IndexedSlices rows one by one here, so its second moment for repeated rows is too small.)"""
    import tensorflow as tf

    ids = tf.constant([1, 3, 3, 3])
    table = keras.Variable(np.ones((5, 2), "float32"))
    opt = Adam(0.1)

    @tf.function
    def step(scale):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.gather(table.value, ids) * scale)
        opt.apply(tape.gradient(loss, [table.value]), [table])

    def numpy_adam(square_rows_first):
        w, m, v = np.ones((5, 2)), np.zeros((5, 2)), np.zeros((5, 2))
        for t, scale in enumerate([1.0, -2.0, 0.5], start=1):
            g = np.zeros((5, 2))
            g[1] += scale
            g[3] += 3 * scale
            g2 = g * g
            if square_rows_first:  # the per-row squaring the test guards against
                g2[3] = 3 * scale * scale
            m += (g - m) * 0.1
            v += (g2 - v) * 0.001
            w -= 0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
        return w

    for scale in [1.0, -2.0, 0.5]:
        step(tf.constant(scale))
    np.testing.assert_allclose(np.asarray(table), numpy_adam(False), rtol=1e-6)
    assert np.abs(numpy_adam(False) - numpy_adam(True)).max() > 1e-2  # the test tells the two apart
