"""keras_bert: BERT as Keras 3 layers and models, with a TensorFlow text pipeline and export.

Model code (`keras_bert.layers`, `keras_bert.models`) uses keras.ops only and runs
on any Keras backend; `keras_bert.text`, `keras_bert.export` and
`keras_bert.training` need TensorFlow. Every name is imported on first use, so
`import keras_bert` (and `keras-bert --help`) loads neither Keras nor TensorFlow.
The model classes are registered with Keras (for `keras.saving.load_model`)
as soon as Keras is imported, before or after `keras_bert`.
"""

import importlib
import importlib.abc
import importlib.util
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


def _register_models():
    importlib.import_module("keras_bert.models")


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Registers our classes once `keras` is imported, so `import keras_bert; import keras;
    keras.saving.load_model("model.keras")` finds them without custom_objects."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # one shot; also keeps the lookup below from finding us
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            _register_models()

        spec.loader.exec_module = exec_then_register
        return spec


if "keras" in sys.modules:  # Keras is loaded anyway: register the serializable classes now
    _register_models()
elif not any(isinstance(finder, _AfterKerasImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AfterKerasImport())
