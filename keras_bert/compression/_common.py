"""Shared by the compression modules: the encoder of a model, and rebuilding a model with new weights."""

import keras


def encoder_of(model):
    """`model` if it is a BertEncoder, else `model.encoder` (tasks, pretrainer)."""
    from keras_bert.models import BertEncoder

    if isinstance(model, BertEncoder):
        return model
    encoder = getattr(model, "encoder", None)
    if not isinstance(encoder, BertEncoder):
        raise TypeError(f"{type(model).__name__} has no BertEncoder (model.encoder)")
    return encoder


def encoder_config(config):
    """The BertEncoder's entry inside `model.get_config()` (the config itself for an encoder)."""
    return config["encoder"]["config"] if "encoder" in config else config


def check_float(model):
    quantized = [layer.path for layer in model._flatten_layers() if layer.quantization_mode is not None]
    if quantized:
        raise ValueError(f"{model.name!r} is quantized ({quantized[0]}, ...); start from the float model")


def rebuild(model, config=None, values=None, source_path=None):
    """A new `type(model)` from `config` (default: the model's) with the weights of `model`, matched by path.

    `values`: {path: tensor} overriding the model's; `source_path(path)` maps a new
    variable's path to the one it is copied from. Values are cast to each variable's dtype.
    """
    clone = model.__class__.from_config(config if config is not None else model.get_config())
    sources = {v.path: v.value for v in model.weights}
    sources.update(values or {})
    for variable in clone.weights:
        path = source_path(variable.path) if source_path else variable.path
        variable.assign(keras.ops.cast(sources[path], variable.dtype))
    return clone
