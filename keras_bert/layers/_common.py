"""Pieces shared by the layers: initializers and activations by name."""

import keras


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
