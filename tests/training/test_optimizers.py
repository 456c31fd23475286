"""Weight-decay exclusions and LAMB against a numpy implementation of the paper's update."""

import keras
import numpy as np
import pytest

from keras_bert import BertConfig, BertEncoder
from keras_bert.optimization import Lamb, bert_adamw, bert_lamb, pretraining_optimizer


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
