"""Layer dropping and head pruning, checked against the original model's own layers composed by hand."""

import keras
import numpy as np
import pytest
from compression_helpers import padded_batch, small_classifier

from keras_bert.compression.prune import drop_layers, head_importance, prune_heads, pruned_heads, select_heads
from keras_bert.layers import attention_mask_from_padding


def _by_hand(model, x, blocks):
    """The classifier's logits computed with the original layers, running only `blocks`."""
    encoder = model.encoder
    h = encoder.embeddings(x["token_ids"], x["segment_ids"])
    mask = attention_mask_from_padding(x["padding_mask"])
    for i in blocks:
        h = encoder.transformer_layers[i](h, attention_mask=mask)
    return keras.ops.convert_to_numpy(model.get_layer("logits")(encoder.pooler(h)))


def test_drop_layers_keeps_every_kth_block_and_the_last():
    model = small_classifier(num_layers=4, hidden_size=32)
    x = padded_batch(cut=6)
    np.testing.assert_allclose(model.predict_on_batch(x), _by_hand(model, x, range(4)), atol=1e-5)
    small = drop_layers(model, every=2)
    assert small.encoder.config.num_layers == 2 and small.labels == model.labels
    np.testing.assert_allclose(small.predict_on_batch(x), _by_hand(model, x, [1, 3]), atol=1e-5)
    np.testing.assert_allclose(drop_layers(model, keep=[0, 2]).predict_on_batch(x), _by_hand(model, x, [0, 2]),
                               atol=1e-5)
    for bad in ({"keep": [4]}, {"keep": [1, 1]}, {"every": 0}, {}, {"keep": [0], "every": 2}):
        with pytest.raises(ValueError):
            drop_layers(model, **bad)


def test_pruned_heads_are_zero_and_stay_zero_while_fine_tuning():
    model = small_classifier(seed=1, num_layers=2, hidden_size=32, num_heads=4)
    x = padded_batch(1, cut=6)
    pruned = prune_heads(model, {0: [1, 3], 1: [2]})
    assert pruned_heads(pruned) == {0: [1, 3], 1: [2]} and pruned_heads(model) == {}
    # Same as the original with those heads' attention-output rows zeroed by hand (head size 8).
    reference = small_classifier(seed=1, num_layers=2, hidden_size=32, num_heads=4)
    for layer, heads in {0: [1, 3], 1: [2]}.items():
        kernel = reference.encoder.transformer_layers[layer].attention.output_dense.kernel
        value = keras.ops.convert_to_numpy(kernel)
        for head in heads:
            value[head * 8:(head + 1) * 8] = 0
        kernel.assign(value)
    np.testing.assert_allclose(pruned.predict_on_batch(x), reference.predict_on_batch(x), atol=1e-5)
    pruned.compile(optimizer=keras.optimizers.Adam(1e-2),
                   loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pruned.fit(x, np.array([0, 1, 0, 1, 1, 0]), epochs=2, verbose=0)
    assert pruned_heads(pruned) == {0: [1, 3], 1: [2]}
    qkv = keras.ops.convert_to_numpy(pruned.encoder.transformer_layers[1].attention.qkv.kernel)
    assert not qkv[:, [16, 17, 48, 49, 80, 81]].any()  # head 2's query, key and value columns
    with pytest.raises(ValueError, match="at least one head"):
        prune_heads(model, {0: [0, 1, 2, 3]})


def test_head_importance_is_the_loss_rise_when_the_head_is_removed():
    model = small_classifier(seed=2, num_layers=2, hidden_size=32, num_heads=4)
    x, y = padded_batch(2, cut=6), np.array([0, 1, 1, 0, 1, 0])
    scores = head_importance(model, [(x, y)])
    assert scores.shape == (2, 4) and np.abs(scores).max() > 0

    def loss(m):
        logits = np.asarray(m.predict_on_batch(x), np.float64)
        logits -= logits.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(6), y]))

    expected = loss(prune_heads(model, {1: [3]})) - loss(model)
    np.testing.assert_allclose(scores[1, 3], expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(head_importance(prune_heads(model, {0: [2]}), [(x, y)])[0, 2], 0.0, atol=1e-7)
    chosen = select_heads(scores, 0.5)
    assert sum(len(h) for h in chosen.values()) == 4
    assert all(len(h) <= 3 for h in chosen.values())
    assert max(scores[l, h] for l, hs in chosen.items() for h in hs) <= np.median(scores) + 1e-12
