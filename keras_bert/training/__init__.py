"""Pretraining workflow (TensorFlow side): distribution strategies, precision, callbacks, `pretrain`.

Imported lazily; nothing here is needed to use the models.
"""

__all__ = ["get_strategy", "load_config", "run_pretraining", "set_precision"]


def __getattr__(name):
    if name == "get_strategy":
        from keras_bert.training.strategy import get_strategy
        return get_strategy
    if name == "set_precision":
        from keras_bert.training.precision import set_precision
        return set_precision
    if name in ("run_pretraining", "load_config"):
        from keras_bert.training import pretrain
        return getattr(pretrain, name)
    raise AttributeError(name)
