"""keras_bert: BERT as Keras 3 layers and models, with a TensorFlow text pipeline and export.

Model code (`keras_bert.layers`, `keras_bert.models`) uses keras.ops only and runs
on any Keras backend; `keras_bert.text`, `keras_bert.export` and
`keras_bert.training` need TensorFlow. Every name is imported on first use, so
`import keras_bert` (and `keras-bert --help`) loads neither Keras nor TensorFlow.
The model classes are registered with Keras (for `keras.saving.load_model`)
when Keras is imported first (`import keras, keras_bert`) or when any model
name is first used.
"""

import importlib
import sys
import warnings

__version__ = "0.1.0"

# Keras 3 warns on every `fit(dataset)` because `shuffle` defaults to True, an argument it then ignores
# (a tf.data pipeline shuffles itself). It reads like a failure and asks nothing of the user.
warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored since the data `x` "
                                          r"was provided as a tf\.data\.Dataset", category=UserWarning)

from keras_bert.config import PRESETS, BertConfig  # noqa: E402  (pure Python)

_WHERE = {name: "keras_bert.models" for name in (
    "BertClassifier", "BertEmbedder", "BertEncoder", "BertPretrainer", "BertRegressor", "BertSpanQA",
    "BertTokenClassifier", "bert_encoder")}
_WHERE["from_pretrained"] = "keras_bert.checkpoints"

__all__ = ["BertConfig", "PRESETS", "__version__", *sorted(_WHERE)]


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


if "keras" in sys.modules:  # Keras is loaded anyway: register the serializable classes now
    importlib.import_module("keras_bert.models")
