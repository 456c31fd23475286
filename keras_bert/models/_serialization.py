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


class CompileDefaultsMixin:
    """Saves a `compile()` built from keras_bert's defaults as those arguments.

    `compile()` sets `self._default_compile_args` (or None when the user
    passed their own optimizer); a reloaded `.keras` file then compiles the
    same way, and restores the optimizer state into it.
    """

    def _compiled_from_defaults(self):
        return bool(getattr(self, "_default_compile_args", None))

    def get_compile_config(self):
        if self._compiled_from_defaults():
            return {"keras_bert_defaults": self._default_compile_args}
        return super().get_compile_config()

    def compile_from_config(self, config):
        if "keras_bert_defaults" in config:
            self.compile(**config["keras_bert_defaults"])
            if self.built:
                self.optimizer.build(self.trainable_variables)
            return
        super().compile_from_config(config)
