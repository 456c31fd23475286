"""Pieces shared by the layers: initializers and activations by name."""

import keras
from keras import ops


def kernel_initializer(stddev):
    # BERT initialises every kernel and embedding with a truncated normal.
    return keras.initializers.TruncatedNormal(stddev=stddev)


def activation(name):
    """Returns the callable for a BertConfig.hidden_act name."""
    if name == "gelu":
        return lambda x: keras.activations.gelu(x, approximate=False)
    if name == "gelu_tanh":
        return lambda x: keras.activations.gelu(x, approximate=True)
    if name in ("relu", "silu"):
        return keras.activations.get(name)
    raise ValueError(f"Unknown activation {name!r}; use gelu, gelu_tanh, relu or silu")


def sublayer_kwargs(layer, name):
    """Keyword arguments that pass a layer's dtype policy down to a sublayer."""
    return {"dtype": layer.dtype_policy, "name": name}


def layer_norm(layer, x):
    """Applies a built `keras.layers.LayerNormalization` (last axis) in fewer ops than its `call`.

    Same math and weights (gamma, beta, epsilon), computed in float32 and cast to the
    layer's compute dtype. On TensorFlow every op is a kernel launch over the whole
    tensor, and small models spend most of their time in such elementwise passes.
    """
    dtype = layer.compute_dtype
    x = ops.cast(x, "float32")
    centred = x - ops.mean(x, axis=-1, keepdims=True)
    variance = ops.mean(ops.square(centred), axis=-1, keepdims=True)
    scale = ops.rsqrt(variance + layer.epsilon) * ops.cast(layer.gamma.value, "float32")
    return ops.cast(centred * scale + ops.cast(layer.beta.value, "float32"), dtype)

