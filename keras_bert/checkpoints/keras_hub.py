"""keras-hub's `BertBackbone` -> our `BertEncoder`, with the mapping kept as data.

keras-hub keeps the attention projections per head: query/key/value kernels
[hidden, heads, head_size] with biases [heads, head_size], and the output
kernel [heads, head_size, hidden]. Ours are one fused [hidden, 3 * hidden]
QKV kernel (query, key, value side by side, heads in order within each) and
a [hidden, hidden] output kernel, so the conversion is a reshape (row-major,
which keeps head order) and a concatenation. keras-hub's BERT uses the
tanh-approximated GELU, LayerNorm epsilon 1e-12, and one dropout rate for
everything.
"""

import numpy as np

from keras_bert.checkpoints.assign import CheckpointMismatchError

# (our path, keras-hub path(s), kind). `{i}` is the layer index.
# "copy": same layout. "reshape": each keras-hub array is reshaped to our
# layout (head axes merged), several are concatenated along the last axis.
EMBEDDINGS = [
    ("embeddings/token_embeddings", "token_embedding/embeddings", "copy"),
    ("embeddings/position_embeddings", "position_embedding/embeddings", "copy"),
    ("embeddings/segment_embeddings", "segment_embedding/embeddings", "copy"),
    ("embeddings/layer_norm/gamma", "embeddings_layer_norm/gamma", "copy"),
    ("embeddings/layer_norm/beta", "embeddings_layer_norm/beta", "copy"),
]

_QKV = ("query", "key", "value")
_ATT = "transformer_layer_{i}/self_attention_layer"

LAYER = [
    ("transformer_layer_{i}/attention/qkv/kernel",
     tuple(f"{_ATT}/{n}/kernel" for n in _QKV), "reshape"),
    ("transformer_layer_{i}/attention/qkv/bias",
     tuple(f"{_ATT}/{n}/bias" for n in _QKV), "reshape"),
    ("transformer_layer_{i}/attention/output/kernel", f"{_ATT}/attention_output/kernel", "reshape"),
    ("transformer_layer_{i}/attention/output/bias", f"{_ATT}/attention_output/bias", "copy"),
    ("transformer_layer_{i}/attention_layer_norm/gamma",
     "transformer_layer_{i}/self_attention_layer_norm/gamma", "copy"),
    ("transformer_layer_{i}/attention_layer_norm/beta",
     "transformer_layer_{i}/self_attention_layer_norm/beta", "copy"),
    ("transformer_layer_{i}/intermediate/kernel",
     "transformer_layer_{i}/feedforward_intermediate_dense/kernel", "copy"),
    ("transformer_layer_{i}/intermediate/bias",
     "transformer_layer_{i}/feedforward_intermediate_dense/bias", "copy"),
    ("transformer_layer_{i}/output/kernel",
     "transformer_layer_{i}/feedforward_output_dense/kernel", "copy"),
    ("transformer_layer_{i}/output/bias",
     "transformer_layer_{i}/feedforward_output_dense/bias", "copy"),
    ("transformer_layer_{i}/output_layer_norm/gamma",
     "transformer_layer_{i}/feedforward_layer_norm/gamma", "copy"),
    ("transformer_layer_{i}/output_layer_norm/beta",
     "transformer_layer_{i}/feedforward_layer_norm/beta", "copy"),
]

POOLER = [
    ("pooler/dense/kernel", "pooled_dense/kernel", "copy"),
    ("pooler/dense/bias", "pooled_dense/bias", "copy"),
]


def rows(num_layers):
    """The full table for `num_layers` blocks, `{i}` expanded."""
    def fill(value, i):
        return tuple(v.format(i=i) for v in value) if isinstance(value, tuple) else value.format(i=i)

    table = list(EMBEDDINGS)
    for i in range(num_layers):
        table += [(ours.format(i=i), fill(theirs, i), kind) for ours, theirs, kind in LAYER]
    return table + POOLER


def config_from_keras_hub(backbone):
    """The BertConfig of a `keras_hub.models.BertBackbone`."""
    from keras_bert.config import BertConfig

    return BertConfig(
        vocab_size=backbone.vocabulary_size,
        hidden_size=backbone.hidden_dim,
        num_layers=backbone.num_layers,
        num_heads=backbone.num_heads,
        intermediate_size=backbone.intermediate_dim,
        max_position_embeddings=backbone.max_sequence_length,
        type_vocab_size=backbone.num_segments,
        hidden_act="gelu_tanh",
        dropout=backbone.dropout,
        attention_dropout=backbone.dropout,
        layer_norm_epsilon=1e-12,
    )


def _strip(path, prefix):
    return path[len(prefix) + 1:] if prefix and path.startswith(prefix + "/") else path


def _convert(arrays, kind, target_shape):
    if kind == "copy":
        (value,) = arrays
        return value
    parts = len(arrays)
    part_shape = tuple(target_shape[:-1]) + (target_shape[-1] // parts,)
    return np.concatenate([np.reshape(a, part_shape) for a in arrays], axis=-1)


def from_keras_hub(backbone, dtype=None, output_all_layers=False):
    """Builds a `BertEncoder` holding the weights of a keras-hub BERT backbone.

    `backbone` is a `keras_hub.models.BertBackbone` (or a keras-hub BERT task,
    whose `.backbone` is used), e.g.
    `keras_hub.models.BertBackbone.from_preset("bert_base_en_uncased")`.
    Outputs match keras-hub's `sequence_output` and `pooled_output`.
    Raises CheckpointMismatchError if a keras-hub weight is not covered by the
    table or has an unexpected shape.
    """
    import keras

    from keras_bert.models import BertEncoder

    backbone = getattr(backbone, "backbone", backbone)
    if type(backbone).__name__ != "BertBackbone":
        raise TypeError(f"Expected a keras_hub.models.BertBackbone, got {type(backbone).__name__}")
    config = config_from_keras_hub(backbone)
    encoder = BertEncoder(config, dtype=dtype if dtype is not None else backbone.dtype_policy.name,
                          output_all_layers=output_all_layers)
    # keras-hub paths start at the backbone's layers; strip a prefix if the
    # backbone was built inside another model's name scope.
    theirs = {}
    for w in backbone.weights:
        theirs[_strip(w.path, backbone.name)] = w
    ours = {w.path: w for w in encoder.weights}
    used, problems = set(), []
    for our_path, sources, kind in rows(config.num_layers):
        sources = sources if isinstance(sources, tuple) else (sources,)
        variable = ours.get(our_path)
        absent = [s for s in sources if s not in theirs]
        if variable is None or absent:
            problems.append(f"missing: {our_path if variable is None else ', '.join(absent)}")
            continue
        used.update(sources)
        arrays = [keras.ops.convert_to_numpy(theirs[s].value) for s in sources]
        expected = int(np.prod(variable.shape))
        if sum(a.size for a in arrays) != expected:
            problems.append(f"shape: {our_path} {tuple(variable.shape)} <- "
                            f"{' + '.join(f'{s} {a.shape}' for s, a in zip(sources, arrays))}")
            continue
        value = _convert(arrays, kind, tuple(variable.shape))
        if tuple(value.shape) != tuple(variable.shape):
            problems.append(f"shape: {our_path} {tuple(variable.shape)} <- {', '.join(sources)} "
                            f"{tuple(value.shape)}")
            continue
        variable.assign(value.astype(variable.dtype))
    unexpected = sorted(set(theirs) - used)
    if unexpected:
        problems.append("unexpected keras-hub weights: " + ", ".join(unexpected))
    if problems:
        raise CheckpointMismatchError("keras-hub backbone does not map onto BertEncoder:\n  "
                                      + "\n  ".join(problems))
    return encoder


__all__ = ["config_from_keras_hub", "from_keras_hub", "rows"]
