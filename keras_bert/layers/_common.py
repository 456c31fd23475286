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
    gamma, beta = ops.cast(layer.gamma.value, "float32"), ops.cast(layer.beta.value, "float32")
    return ops.cast(_normalize(ops.cast(x, "float32"), gamma, beta, layer.epsilon), layer.compute_dtype)


def _normalize(x, gamma, beta, epsilon):
    # The gradient is written out: TensorFlow's autodiff of the forward ops takes ~20 ops
    # (broadcast gradients, tiles, reductions) per LayerNorm where 11 suffice, about 2.5% of
    # the tiny config's MLM training step.
    @ops.custom_gradient
    def normalize(x, gamma, beta):
        centred = x - ops.mean(x, axis=-1, keepdims=True)
        inv_std = ops.rsqrt(ops.mean(ops.square(centred), axis=-1, keepdims=True) + epsilon)
        normed = centred * inv_std

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            rows = tuple(range(len(upstream.shape) - 1))
            d_normed = upstream * gamma
            d_x = inv_std * (d_normed - ops.mean(d_normed, axis=-1, keepdims=True)
                             - normed * ops.mean(d_normed * normed, axis=-1, keepdims=True))
            return d_x, ops.sum(upstream * normed, axis=rows), ops.sum(upstream, axis=rows)

        return normed * gamma + beta, grad

    return normalize(x, gamma, beta)
