"""Writing a model's weights out: Hugging Face, Google TF1, and our own `.keras` folder.

Tensors are collected through the same name map that import uses
(`keras_bert.checkpoints.name_map`), run in reverse: our fused QKV kernel and
bias are split into query/key/value, dense kernels are transposed to
torch's [out, in] for Hugging Face, Google's NSP `output_weights` is stored
[out, in]. Every writer fills a temporary folder next to the destination and
renames it into place, so a reader sees the old folder or the complete new
one, never a half-written checkpoint.
"""

import json
import os
import shutil
import tempfile
import warnings

import numpy as np

from keras_bert.checkpoints import huggingface, name_map
from keras_bert.checkpoints.assign import check_vocab_size, find_variable
from keras_bert.utils import atomic_replace_dir

HEAD_PREFIXES = ("mlm_head/", "nsp_head/")

# Files each writer produces; an existing destination holding anything else is
# not replaced unless `overwrite=True`.
KERAS_FILES = ("model.keras", "keras_bert_config.json", "vocab.txt")
HUGGINGFACE_FILES = ("config.json", "model.safetensors", "vocab.txt")
GOOGLE_FILES = ("bert_config.json", "bert_model.ckpt.index",
                "bert_model.ckpt.data-00000-of-00001", "vocab.txt")


# Finding the encoder -----------------------------------------------------------
def find_encoder(model):
    """The one `BertEncoder` in `model` (the model itself, or nested in a pretrainer/task)."""
    from keras_bert.models import BertEncoder

    if isinstance(model, BertEncoder):
        return model
    encoder = getattr(model, "encoder", None)
    if isinstance(encoder, BertEncoder):
        return encoder
    found = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
             if isinstance(layer, BertEncoder)]
    unique = list({id(layer): layer for layer in found}.values())
    if not unique:
        raise TypeError(f"{type(model).__name__} {model.name!r} contains no BertEncoder to export")
    if len(unique) > 1:
        raise ValueError(f"{model.name!r} contains {len(unique)} BertEncoders "
                         f"({[e.name for e in unique]}); export one of them")
    return unique[0]


def _to_numpy(variable):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable.value), dtype=np.float32)


def _from_ours(value, sources, kind, fmt):
    """Our array -> {source name: array}, the inverse of `assign._convert`."""
    parts = np.split(value, len(sources), axis=-1) if len(sources) > 1 else [value]
    out = {}
    for source, part in zip(sources, parts):
        if kind == "out_in" or (kind == "kernel" and fmt == "huggingface"):
            part = part.T
        out[source] = np.ascontiguousarray(part, dtype=np.float32)
    return out


def collect_tensors(model, fmt):
    """Returns `(tensors, config, report)` for `model` in checkpoint format `fmt`.

    `fmt` is "google" or "huggingface"; names are the un-prefixed ones of the
    name map (Hugging Face encoder names without "bert."). The encoder rows must
    all be present; pretraining-head rows are exported when the model has the
    heads. `report["not_exported"]` lists model weights the map does not cover
    (e.g. a task's classifier), which the target format cannot hold.
    """
    if fmt not in ("google", "huggingface"):
        raise ValueError(f"fmt must be 'google' or 'huggingface', got {fmt!r}")
    encoder = find_encoder(model)
    if any(layer.quantization_mode is not None for layer in encoder._flatten_layers()):
        raise ValueError(f"{encoder.name!r} is quantized; checkpoint formats hold float weights: export the "
                         "float model (quantize after loading it)")
    config = encoder.config
    encoder_weights = list(encoder.weights)
    encoder_ids = {id(v) for v in encoder_weights}
    other_weights = [v for v in model.weights if id(v) not in encoder_ids]
    tensors, exported, missing_heads = {}, set(), []
    for our_path, google, hf, kind in name_map.rows(config.num_layers):
        sources = google if fmt == "google" else hf
        sources = sources if isinstance(sources, tuple) else (sources,)
        head = our_path.startswith(HEAD_PREFIXES)
        variable = find_variable(other_weights if head else encoder_weights, our_path)
        if variable is None:
            if head:
                missing_heads.append(our_path)
                continue
            raise ValueError(f"Encoder {encoder.name!r} has no variable {our_path!r} "
                             f"(needed for {', '.join(sources)})")
        tensors.update(_from_ours(_to_numpy(variable), sources, kind, fmt))
        exported.add(id(variable))
    has_heads = len(missing_heads) < len(name_map.HEADS)
    if has_heads and missing_heads:
        raise ValueError(f"{model.name!r} has only part of the pretraining heads; missing "
                         f"{missing_heads}")
    # The tied MLM output projection is the token table, exported once.
    not_exported = sorted(v.path for v in model.weights if id(v) not in exported)
    return tensors, config, {"has_heads": has_heads, "not_exported": not_exported}


# Checks and folder handling ----------------------------------------------------
def _check_vocab(vocab_file, config):
    if vocab_file is None:
        return
    if not os.path.isfile(vocab_file):
        raise FileNotFoundError(f"No vocabulary file {vocab_file!r}")
    check_vocab_size(vocab_file, config)


class _StagingDir:
    """A temporary folder next to `out_dir`, renamed onto it on success, removed on failure."""

    def __init__(self, out_dir, expected_files, overwrite):
        self.out_dir = os.path.abspath(os.fspath(out_dir))
        if os.path.isfile(self.out_dir):
            raise FileExistsError(f"{self.out_dir} is a file; give a folder to write the checkpoint into")
        if os.path.isdir(self.out_dir) and not overwrite:
            foreign = sorted(set(os.listdir(self.out_dir)) - set(expected_files))
            if foreign:
                raise FileExistsError(
                    f"{self.out_dir} exists and holds other files ({foreign[:5]}); writing replaces "
                    f"the whole folder: choose an empty or new folder, or pass overwrite=True")
        self.path = None

    def __enter__(self):
        parent = os.path.dirname(self.out_dir)
        os.makedirs(parent, exist_ok=True)
        self.path = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.path.basename(self.out_dir)}-")
        return self.path

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            atomic_replace_dir(self.path, self.out_dir)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


def _copy_vocab(vocab_file, folder):
    if vocab_file is not None:
        shutil.copyfile(vocab_file, os.path.join(folder, "vocab.txt"))


def _listing(out_dir):
    return sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir))


# Hugging Face --------------------------------------------------------------------
def to_huggingface(model, out_dir, vocab_file=None, overwrite=False):
    """Writes `model` as a Hugging Face BERT folder: config.json, model.safetensors, vocab.txt.

    An encoder is written in `BertModel` layout (`embeddings.*`, `encoder.*`,
    `pooler.*`); a model with the pretraining heads in `BertForPreTraining`
    layout (`bert.*` plus `cls.predictions.*` and `cls.seq_relationship.*`).
    The MLM decoder is tied to the word embeddings, so, as transformers'
    own `save_pretrained` does, `cls.predictions.decoder.weight` and
    `.decoder.bias` are not stored: transformers re-ties them on load
    (`tie_word_embeddings` is true in the config). Returns a dict with the
    files written and the model weights the format cannot hold.
    """
    hf_config = huggingface.config_to_huggingface(find_encoder(model).config)  # refuses first
    tensors, config, report = collect_tensors(model, "huggingface")
    _check_vocab(vocab_file, config)
    if report["has_heads"]:
        tensors = {(name if name.startswith("cls.") else "bert." + name): value
                   for name, value in tensors.items()}
        hf_config["architectures"] = ["BertForPreTraining"]
    else:
        hf_config["architectures"] = ["BertModel"]
    hf_config["tie_word_embeddings"] = True
    with _StagingDir(out_dir, HUGGINGFACE_FILES, overwrite) as tmp:
        huggingface.write_huggingface(tensors, config, tmp, vocab_file)
        # write_huggingface always says BertForPreTraining; say what the file holds.
        with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(hf_config, indent=2) + "\n")
    out_dir = os.path.abspath(os.fspath(out_dir))
    return {"format": "huggingface", "files": _listing(out_dir), "tensors": len(tensors), **report}


# Google TF1 ----------------------------------------------------------------------
GOOGLE_ACTIVATIONS = {"gelu_tanh": "gelu", "gelu": "gelu", "relu": "relu"}


def config_to_google(config):
    """The google-research/bert `bert_config.json` dict for a BertConfig.

    Google's "gelu" is the tanh approximation. A model with exact (erf) GELU
    is written as "gelu" too (Google's code knows no other), with a
    `keras_bert_hidden_act` entry recording the exact one, and a warning.
    """
    if config.position_embedding_type != "learned":
        raise ValueError("Google BERT checkpoints have learned position embeddings only; "
                         "a config with position_embedding_type='sinusoidal' cannot be exported")
    if config.hidden_act not in GOOGLE_ACTIVATIONS:
        raise ValueError(f"Google's BERT code has no {config.hidden_act!r} activation; "
                         f"exportable: {sorted(GOOGLE_ACTIVATIONS)}")
    values = {
        "attention_probs_dropout_prob": config.attention_dropout,
        "hidden_act": GOOGLE_ACTIVATIONS[config.hidden_act],
        "hidden_dropout_prob": config.dropout,
        "hidden_size": config.hidden_size,
        "initializer_range": config.initializer_range,
        "intermediate_size": config.intermediate_size,
        "max_position_embeddings": config.max_position_embeddings,
        "num_attention_heads": config.num_heads,
        "num_hidden_layers": config.num_layers,
        "type_vocab_size": config.type_vocab_size,
        "vocab_size": config.vocab_size,
    }
    if config.hidden_act == "gelu":
        values["keras_bert_hidden_act"] = "gelu"
        warnings.warn("The model uses exact (erf) GELU; Google's BERT code reads hidden_act='gelu' as "
                      "the tanh approximation, so its outputs will differ slightly (~1e-3). "
                      "bert_config.json records the exact one as keras_bert_hidden_act.", stacklevel=3)
    if config.layer_norm_epsilon != 1e-12:
        values["layer_norm_eps"] = config.layer_norm_epsilon
        warnings.warn(f"Google's BERT code fixes LayerNorm epsilon at 1e-12; this model uses "
                      f"{config.layer_norm_epsilon}", stacklevel=3)
    return values


def write_tf_checkpoint(tensors, prefix):
    """Writes name -> array as a TF checkpoint (`prefix.index` + `prefix.data-00000-of-00001`).

    Plain variable names, as `tf.compat.v1.train.Saver` writes them and Google's
    `init_from_checkpoint` reads them (`tf.train.Checkpoint` would add
    object-graph names ending in `/.ATTRIBUTES/VARIABLE_VALUE`). No graph
    (`.meta`) file: nothing needs it to read the weights.
    """
    import tensorflow as tf

    names = sorted(tensors)
    with tf.device("/cpu:0"):
        tf.raw_ops.SaveV2(
            prefix=tf.constant(prefix),
            tensor_names=tf.constant(names),
            shape_and_slices=tf.constant([""] * len(names)),
            tensors=[tf.constant(tensors[n]) for n in names])


def to_google(model, out_dir, vocab_file=None, overwrite=False):
    """Writes `model` as a Google BERT folder: bert_config.json, bert_model.ckpt.*, vocab.txt.

    Variable names are those of google-research/bert (`bert/encoder/layer_0/...`,
    and `cls/predictions/...`, `cls/seq_relationship/...` when the model has
    the pretraining heads), readable by Google's `run_classifier.py
    --init_checkpoint`, by transformers' TF1 loader and by `from_pretrained`.
    """
    google_config = config_to_google(find_encoder(model).config)  # refuses first
    tensors, config, report = collect_tensors(model, "google")
    _check_vocab(vocab_file, config)
    with _StagingDir(out_dir, GOOGLE_FILES, overwrite) as tmp:
        with open(os.path.join(tmp, "bert_config.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(google_config, indent=2, sort_keys=True) + "\n")
        write_tf_checkpoint(tensors, os.path.join(tmp, "bert_model.ckpt"))
        _copy_vocab(vocab_file, tmp)
    out_dir = os.path.abspath(os.fspath(out_dir))
    return {"format": "google", "files": _listing(out_dir), "tensors": len(tensors), **report}


# keras_bert's own format ---------------------------------------------------------------
def save_keras(model, out_dir, vocab_file=None, overwrite=False):
    """Writes `model` (any Keras model, usually one containing a BertEncoder) as our own folder.

    `model.keras` (the whole model, reloadable with `keras.saving.load_model`
    or `keras_bert.checkpoints.from_pretrained(out_dir)`),
    `keras_bert_config.json` (the encoder's BertConfig, readable without
    loading the model) and `vocab.txt`.
    """
    encoder = find_encoder(model)
    _check_vocab(vocab_file, encoder.config)
    with _StagingDir(out_dir, KERAS_FILES, overwrite) as tmp:
        model.save(os.path.join(tmp, "model.keras"))
        encoder.config.to_json(os.path.join(tmp, "keras_bert_config.json"))
        _copy_vocab(vocab_file, tmp)
    out_dir = os.path.abspath(os.fspath(out_dir))
    return {"format": "keras", "files": _listing(out_dir), "not_exported": []}


WRITERS = {"keras": save_keras, "huggingface": to_huggingface, "google": to_google}


def export(model, out_dir, to="keras", vocab_file=None, overwrite=False):
    """Writes `model` in format `to` ("keras", "huggingface" or "google")."""
    if to not in WRITERS:
        raise ValueError(f"Unknown checkpoint format {to!r}; choose one of {sorted(WRITERS)}")
    return WRITERS[to](model, out_dir, vocab_file=vocab_file, overwrite=overwrite)


__all__ = ["collect_tensors", "config_to_google", "export", "find_encoder", "save_keras",
           "to_google", "to_huggingface", "write_tf_checkpoint"]
