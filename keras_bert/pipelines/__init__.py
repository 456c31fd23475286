"""Raw strings in, plain Python results out: inference wrappers around the task models (TensorFlow side).

    from keras_bert.pipelines import TextClassifier, SentenceEmbedder
    TextClassifier(model, tokenizer)(["A fine film."])  # [{"label": ..., "score": ..., "probabilities": {...}}]

Names are imported on first use from the submodules (classify, embed, tag, qa),
so importing this package does not load TensorFlow.
"""

import importlib

_SUBMODULES = ("classify", "embed", "tag", "qa", "_common")


def __getattr__(name):
    for sub in _SUBMODULES:
        full = f"{__name__}.{sub}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as error:
            if error.name == full:  # that task's pipeline is not there yet
                continue
            raise
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
