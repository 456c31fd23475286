"""Reading and writing pretrained weights: Google TF1, Hugging Face, and our own `.keras` files."""

import os

from keras_bert.checkpoints import google_tf1, huggingface
from keras_bert.checkpoints.assign import (CheckpointMismatchError, assign_from_checkpoint,
                                           check_vocab_size)
from keras_bert.checkpoints.export import save_keras, to_google, to_huggingface
from keras_bert.checkpoints.keras_hub import from_keras_hub


def detect_format(path):
    """"google", "huggingface" or "keras", from the files present at `path`."""
    if os.path.isfile(path) and path.endswith(".keras"):
        return "keras"
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No checkpoint at {path!r} (expected a folder or a .keras file)")
    if google_tf1.is_google_dir(path):
        return "google"
    if huggingface.is_huggingface_dir(path):
        return "huggingface"
    if os.path.isfile(os.path.join(path, "model.keras")):
        return "keras"
    raise ValueError(
        f"{path} is not a BERT checkpoint folder: expected bert_config.json + bert_model.ckpt.* "
        f"(Google), config.json + model.safetensors (Hugging Face), or model.keras (keras_bert); "
        f"found {sorted(os.listdir(path))[:10]}")


def load_config(path):
    """The BertConfig of a checkpoint folder, without reading its weights."""
    fmt = detect_format(path)
    if fmt == "google":
        return google_tf1.read_config(path)
    if fmt == "huggingface":
        return huggingface.read_config(path)
    saved = os.path.join(path, "keras_bert_config.json")
    if os.path.isdir(path) and os.path.isfile(saved):  # written by save_keras: no model load needed
        from keras_bert.config import BertConfig
        return BertConfig.from_json(saved)
    from keras_bert.checkpoints.export import find_encoder
    return find_encoder(load_keras(path)).config


def vocab_file(path):
    """The checkpoint's vocab.txt, or None."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    candidate = os.path.join(folder, "vocab.txt")
    return candidate if os.path.isfile(candidate) else None


def read_tensors(path):
    fmt = detect_format(path)
    reader = {"google": google_tf1.read_tensors, "huggingface": huggingface.read_tensors}[fmt]
    return fmt, reader(path)


def _check_vocab(path, config):
    vocab = vocab_file(path)
    if vocab is not None:
        check_vocab_size(vocab, config, config_source="checkpoint")


def load_keras(path, compile=True):
    """`keras.saving.load_model` of a `.keras` file (or a folder's model.keras), checked first.

    A truncated or damaged file is a ValueError naming it (Keras says "File not
    found" for an existing zip it cannot open).
    """
    import zipfile

    import keras

    import keras_bert.models  # noqa: F401  (registers the serializable classes)

    file = path if os.path.isfile(path) else os.path.join(path, "model.keras")
    if not os.path.isfile(file):
        raise FileNotFoundError(f"No .keras model at {file!r}")
    try:
        with zipfile.ZipFile(file) as archive:
            damaged = archive.testzip()  # reads every member and checks its CRC
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ValueError(f"{file}: not a readable .keras file, truncated or corrupt ({error})") from None
    if damaged is not None:
        raise ValueError(f"{file}: not a readable .keras file, corrupt ({damaged} fails its CRC check)")
    if "config.json" not in names:
        raise ValueError(f"{file}: not a Keras model file (no config.json inside; found {sorted(names)[:5]})")
    return keras.saving.load_model(file, compile=compile)



def load_weights(model, path, strict=True):
    """Loads the weights of a Google or Hugging Face checkpoint into an existing model.

    Works for an encoder and for any model that contains one (a pretrainer, a
    task): the encoder, pooler and pretraining heads are matched by name.
    Raises CheckpointMismatchError naming every missing, unexpected or
    mis-shaped variable.
    """
    fmt, tensors = read_tensors(path)
    config = load_config(path)
    return assign_from_checkpoint(model, tensors, fmt, config.num_layers, strict=strict)


def from_pretrained(path, output_all_layers=False, dtype=None, config_overrides=None):
    """Builds a `BertEncoder` with the weights of a checkpoint.

    `path`: a Google TF1 folder (bert_config.json, bert_model.ckpt.*, vocab.txt),
    a Hugging Face folder (config.json, model.safetensors, vocab.txt) or a
    keras_bert `.keras` file / folder with model.keras. The format is detected
    from the files present. `config_overrides` (e.g. `{"dropout": 0.0}`)
    changes hyper-parameters that do not affect weight shapes.
    """
    from keras_bert.models import BertEncoder

    fmt = detect_format(path)
    if fmt == "keras":
        if config_overrides:
            raise ValueError("config_overrides is not supported for .keras files")
        from keras_bert.checkpoints.export import find_encoder
        return find_encoder(load_keras(path))
    config = load_config(path)
    if config_overrides:
        config = config.replace(**config_overrides)
    _check_vocab(path, config)
    model = BertEncoder(config, output_all_layers=output_all_layers, dtype=dtype)
    load_weights(model, path)
    return model


__all__ = ["CheckpointMismatchError", "assign_from_checkpoint", "detect_format", "from_keras_hub", "load_keras",
           "from_pretrained", "load_config", "load_weights", "read_tensors", "save_keras", "to_google",
           "to_huggingface", "vocab_file"]
