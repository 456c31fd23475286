"""SavedModel export for TF Serving (TensorFlow only), and a local server speaking TF Serving's REST API.

Names are imported lazily so that `keras-bert --help` does not load TensorFlow.
"""

__all__ = ["TASK_MODULES", "export", "next_version", "size_report"]


def __getattr__(name):
    if name in __all__:
        from keras_bert.export import saved_model

        return getattr(saved_model, name)
    raise AttributeError(f"module 'keras_bert.export' has no attribute {name!r}")
