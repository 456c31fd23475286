"""get_config / from_config for models that wrap a BertEncoder (pretrainer and tasks)."""

import keras


def wrapper_config(model, **fields):
    """The config of a model built as `cls(encoder, **fields)`."""
    return {"encoder": keras.saving.serialize_keras_object(model.encoder), **fields,
            "name": model.name, "trainable": model.trainable}


def from_wrapper_config(cls, config):
    config = dict(config)
    config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
    return cls(**config)
