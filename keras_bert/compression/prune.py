"""Layer dropping and attention-head pruning of a (fine-tuned) model; fine-tune again afterwards.

* `drop_layers(model, every=2)` keeps every 2nd transformer block (the last one
  always, since the head was trained on its output) or the blocks listed in
  `keep`: a smaller model, faster in proportion.
* `head_importance(model, batches)` measures, for every head, how much the loss
  on `batches` rises when that head is removed (Michel et al., 2019, by
  ablation rather than their gradient estimate). `prune_heads(model, heads)`
  removes heads: their query/key/value columns and attention-output rows are
  zeroed and held at zero while the model is fine-tuned again. The config has
  one head count for every layer, so pruned heads keep their (zero) slots:
  accuracy changes, FLOPs do not; drop layers for speed.
"""

import re

import keras
import numpy as np

from keras_bert.compression._common import check_float, encoder_config, encoder_of, rebuild


def drop_layers(model, keep=None, every=None):
    """A copy of `model` with only some transformer blocks (same class, config with fewer layers).

    `keep`: block indices, in order; or `every=k`: blocks k-1, 2k-1, ... up to the
    last (every=2 on 6 blocks keeps 1, 3, 5). Embeddings, pooler and task head are
    copied as they are.
    """
    check_float(model)
    num_layers = encoder_of(model).config.num_layers
    if (keep is None) == (every is None):
        raise ValueError("give either keep=[block indices] or every=k")
    if every is not None:
        if not isinstance(every, int) or not 1 <= every <= num_layers:
            raise ValueError(f"every must be an integer in [1, {num_layers}], got {every!r}")
        keep = list(range(num_layers - 1, -1, -every))[::-1]
    keep = [int(i) for i in keep]
    if not keep or any(not 0 <= i < num_layers for i in keep) or len(set(keep)) != len(keep):
        raise ValueError(f"keep must list distinct block indices in [0, {num_layers}), got {keep}")
    config = model.get_config()
    encoder_config(config)["config"]["num_layers"] = len(keep)
    pattern = re.compile(r"^transformer_layer_(\d+)/")
    return rebuild(model, config, source_path=lambda path: pattern.sub(
        lambda m: f"transformer_layer_{keep[int(m.group(1))]}/", path))


def _head_slices(block, head):
    attention = block.attention
    size, width = attention.head_size, attention.hidden_size
    columns = [part * width + head * size + np.arange(size) for part in range(3)]  # q, k, v of the fused kernel
    return np.concatenate(columns), np.arange(head * size, (head + 1) * size)


def _softmax_cross_entropy(labels, logits):
    logits = logits - logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(-np.take_along_axis(log_probs, np.asarray(labels, np.int64)[:, None], -1).mean())


def head_importance(model, batches, loss=_softmax_cross_entropy):
    """[layers, heads] array: loss with the head removed minus the full model's loss, on `batches`.

    `batches`: (features, labels) pairs, e.g. a few batches of the dev set (the
    model runs layers x heads + 1 times over them). `loss(labels, outputs)`:
    numpy, default softmax cross-entropy from logits (single-label classifiers).
    """
    batches = [(x, np.asarray(y)) for x, y in batches]

    def mean_loss():
        return float(np.mean([loss(y, np.asarray(model.predict_on_batch(x), np.float32)) for x, y in batches]))

    encoder = encoder_of(model)
    base = mean_loss()
    scores = np.zeros((encoder.config.num_layers, encoder.config.num_heads))
    for i, block in enumerate(encoder.transformer_layers):
        kernel = block.attention.output_dense.kernel
        saved = keras.ops.convert_to_numpy(kernel)
        for head in range(encoder.config.num_heads):
            _, rows = _head_slices(block, head)
            ablated = saved.copy()
            ablated[rows] = 0.0
            kernel.assign(ablated)
            scores[i, head] = mean_loss() - base
        kernel.assign(saved)
    return scores


def select_heads(importance, fraction):
    """{layer: [heads]}: the `fraction` of all heads with the lowest importance, at least one head left per layer."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction!r}")
    layers, heads = importance.shape
    chosen = {}
    for flat in np.argsort(importance, axis=None)[:int(round(fraction * layers * heads))]:
        layer, head = divmod(int(flat), heads)
        if len(chosen.get(layer, [])) < heads - 1:
            chosen.setdefault(layer, []).append(head)
    return {layer: sorted(hs) for layer, hs in sorted(chosen.items())}


class _KeepZero(keras.constraints.Constraint):
    """Multiplies by a fixed 0/1 mask after each optimizer update: pruned heads stay pruned."""

    def __init__(self, mask):
        self.mask = mask

    def __call__(self, w):
        return w * keras.ops.cast(self.mask, w.dtype)


def prune_heads(model, heads):
    """A copy of `model` with the heads `{layer index: [head indices]}` removed (zeroed, and kept at zero in training)."""
    check_float(model)
    clone = rebuild(model)
    encoder = encoder_of(clone)
    for layer, indices in heads.items():
        if not 0 <= int(layer) < encoder.config.num_layers:
            raise ValueError(f"layer {layer} out of range [0, {encoder.config.num_layers})")
        if not indices or len(set(indices)) >= encoder.config.num_heads or any(
                not 0 <= h < encoder.config.num_heads for h in indices):
            raise ValueError(f"layer {layer}: heads {indices} must be distinct indices in [0, {encoder.config.num_heads}) "
                             "leaving at least one head")
        block = encoder.transformer_layers[int(layer)]
        attention = block.attention
        qkv_mask = np.ones(attention.qkv.kernel.shape[-1], np.float32)
        row_mask = np.ones(attention.output_dense.kernel.shape[0], np.float32)
        for head in indices:
            columns, rows = _head_slices(block, head)
            qkv_mask[columns] = 0.0
            row_mask[rows] = 0.0
        for variable, mask in ((attention.qkv._kernel, qkv_mask[None, :]), (attention.qkv.bias, qkv_mask),
                               (attention.output_dense._kernel, row_mask[:, None])):
            variable.assign(keras.ops.convert_to_numpy(variable.value) * mask)
            variable.constraint = _KeepZero(mask)
    return clone


def pruned_heads(model):
    """{layer: [heads]} whose attention-output rows are all zero (what `prune_heads` removed)."""
    encoder = encoder_of(model)
    found = {}
    for i, block in enumerate(encoder.transformer_layers):
        kernel = keras.ops.convert_to_numpy(block.attention.output_dense.kernel)
        for head in range(encoder.config.num_heads):
            if not np.any(kernel[_head_slices(block, head)[1]]):
                found.setdefault(i, []).append(head)
    return found
