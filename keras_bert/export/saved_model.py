"""Exports a task model with its tokenizer as a SavedModel that takes raw strings.

Layout: `EXPORT_DIR/<version>/{saved_model.pb, variables/, assets/vocab*.txt}`,
integer versions as TF Serving expects, written to a temporary folder and
renamed into place without replacing anything: two exports into the same
folder at once get two versions. Folders and files get the umask's
permissions, so a TF Serving process running as another user can read them. Each task's module (TASK_MODULES) builds a `tf.Module`
holding the Keras model once (Keras' own `model.export` keeps two copies of
every variable, about 2x the weights on disk) plus its signatures.
"""

import importlib
import logging
import math
import os
import shutil

import tensorflow as tf

from keras_bert.utils import make_temp_dir, publish_dir

TASK_MODULES = {"BertClassifier": "keras_bert.export.classifier",
                "BertTokenClassifier": "keras_bert.export.tagger",
                "BertSpanQA": "keras_bert.export.qa",
                "BertEmbedder": "keras_bert.export.embedder",
                "BertRegressor": "keras_bert.export.regressor"}
# The whole SavedModel stays under this multiple of the weights' bytes (see `check_size`).
MAX_SIZE_RATIO = 1.1
_log = logging.getLogger(__name__)


def next_version(export_dir):
    """1 + the largest integer version folder under `export_dir` (1 when none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(n) for n in os.listdir(export_dir) if n.isdigit()]
    return max(versions, default=0) + 1


def task_module(model):
    """The export module for `model`'s class (or the nearest supported base class)."""
    for cls in type(model).__mro__:
        if cls.__name__ in TASK_MODULES:
            try:
                return importlib.import_module(TASK_MODULES[cls.__name__])
            except ModuleNotFoundError as error:
                if error.name != TASK_MODULES[cls.__name__]:
                    raise
                raise TypeError(f"export of {cls.__name__} is not available yet ({error.name} is missing)") from None
    raise TypeError(f"export does not support {type(model).__name__} models; supported: "
                    f"{', '.join(sorted(TASK_MODULES))}")


def as_preprocessor(preprocessor_or_tokenizer, model, sequence_length=None):
    """A BertPreprocessor from a BertPreprocessor (returned as is) or a BertTokenizer.

    With a tokenizer, `sequence_length` defaults to the encoder's
    `max_position_embeddings`, capped at 512.
    """
    from keras_bert.text import BertPreprocessor, BertTokenizer

    if isinstance(preprocessor_or_tokenizer, BertPreprocessor):
        if sequence_length is not None and int(sequence_length) != preprocessor_or_tokenizer.sequence_length:
            raise ValueError(f"sequence_length={sequence_length} conflicts with the preprocessor's "
                             f"{preprocessor_or_tokenizer.sequence_length}; pass a tokenizer to choose it")
        return preprocessor_or_tokenizer
    if isinstance(preprocessor_or_tokenizer, BertTokenizer):
        if sequence_length is None:
            sequence_length = min(512, _max_positions(model))
        if int(sequence_length) > _max_positions(model):
            raise ValueError(f"sequence_length={sequence_length} exceeds the model's "
                             f"max_position_embeddings={_max_positions(model)}")
        return BertPreprocessor(preprocessor_or_tokenizer, int(sequence_length))
    raise TypeError("export needs a keras_bert.text.BertTokenizer or BertPreprocessor; got "
                    f"{type(preprocessor_or_tokenizer).__name__}")


def _max_positions(model):
    encoder = getattr(model, "encoder", None)
    return encoder.config.max_position_embeddings if encoder is not None else 512


def export(model, preprocessor_or_tokenizer, export_dir, version=None, sequence_length=None, **options):
    """Writes `model` and its tokenizer to `export_dir/<version>/` as a SavedModel; returns that folder.

    `model`: one of TASK_MODULES' classes. `preprocessor_or_tokenizer`: a
    `BertPreprocessor`, or a `BertTokenizer` (then packed to `sequence_length`).
    `version`: an integer, default one above the newest (the next free one
    if another export takes it meanwhile). Other `options`
    go to the task's module (e.g. `pairs=True` for classifiers). Every export
    has `serving_default` (raw strings `text`, ...) and `predict_ids`
    (`token_ids`, `segment_ids`, `padding_mask`). Versions are immutable.
    """
    module_builder = task_module(model)
    preprocessor = as_preprocessor(preprocessor_or_tokenizer, model, sequence_length)
    chosen = version is not None
    version = next_version(export_dir) if version is None else int(version)
    if version < 0:
        raise ValueError(f"version must be a non-negative integer; got {version}")
    if chosen and os.path.exists(os.path.join(export_dir, str(version))):
        raise FileExistsError(f"{os.path.join(export_dir, str(version))} already exists; versions are immutable, "
                              "choose another")
    module, signatures = module_builder.build(model, preprocessor, **options)
    missing = {"serving_default", "predict_ids"} - set(signatures)
    if missing:
        raise ValueError(f"{module_builder.__name__}.build returned no {sorted(missing)} signature(s)")
    tmp = make_temp_dir(export_dir, prefix=".tmp-export-")
    try:
        tf.saved_model.save(module, tmp, signatures=signatures)
        check_size(tmp, model)
        while True:  # another export may take the number first: the rename refuses, try the next one
            final = os.path.join(export_dir, str(version))
            try:
                publish_dir(tmp, final)
                break
            except FileExistsError:
                if chosen:
                    raise FileExistsError(f"{final} already exists; versions are immutable, choose another") from None
                version = max(version + 1, next_version(export_dir))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def directory_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def weights_bytes(model):
    """Bytes of the model's weights (each variable once)."""
    seen, total = set(), 0
    for w in model.weights:
        if id(w) not in seen:
            seen.add(id(w))
            # From shape and dtype: copying a base model's 440 MB out just to count it is waste.
            total += math.prod(w.shape) * tf.as_dtype(w.dtype).size
    return total


def size_report(version_dir, model):
    """{"saved_model_bytes", "variables_bytes", "graph_bytes", "assets_bytes", "weights_bytes", "ratio"}."""
    weights = weights_bytes(model)
    total = directory_bytes(version_dir)
    return {"saved_model_bytes": total,
            "variables_bytes": directory_bytes(os.path.join(version_dir, "variables")),
            "graph_bytes": os.path.getsize(os.path.join(version_dir, "saved_model.pb")),
            "assets_bytes": directory_bytes(os.path.join(version_dir, "assets")),
            "weights_bytes": weights, "ratio": total / max(weights, 1)}


def check_size(version_dir, model):
    """Fails if the variables were stored twice; warns when the whole export exceeds MAX_SIZE_RATIO.

    Tiny models exceed the ratio legitimately (the vocabulary and the graph
    are a fixed cost of about 1 MB), hence a warning only for the total.
    """
    report = size_report(version_dir, model)
    if report["variables_bytes"] > MAX_SIZE_RATIO * report["weights_bytes"] + 65536:
        raise RuntimeError(f"SavedModel variables take {report['variables_bytes']} bytes for "
                           f"{report['weights_bytes']} bytes of weights: weights stored more than once")
    if report["ratio"] > MAX_SIZE_RATIO:
        _log.warning("SavedModel is %.2fx the weights' size (%d / %d bytes)", report["ratio"],
                     report["saved_model_bytes"], report["weights_bytes"])
    return report
