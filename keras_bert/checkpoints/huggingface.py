"""Hugging Face BERT checkpoints: config.json + model.safetensors (+ vocab.txt), read and written without torch."""

import json
import os

import numpy as np

from keras_bert.config import BertConfig, config_from_file
from keras_bert.utils import atomic_write_bytes, atomic_write_text, read_json

HF_ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
                  "gelu_fast": "gelu_tanh", "relu": "relu", "silu": "silu", "swish": "silu"}
OUR_ACTIVATIONS = {"gelu": "gelu", "gelu_tanh": "gelu_pytorch_tanh", "relu": "relu", "silu": "silu"}


def is_huggingface_dir(path):
    return os.path.isfile(os.path.join(path, "config.json")) and any(
        os.path.isfile(os.path.join(path, f))
        for f in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"))


def config_from_huggingface(values):
    """Maps a transformers BertConfig dict to a BertConfig."""
    model_type = values.get("model_type", "bert")
    if model_type != "bert":
        raise ValueError(f"config.json has model_type {model_type!r}; only 'bert' checkpoints are supported")
    act = values.get("hidden_act", "gelu")
    if act not in HF_ACTIVATIONS:
        raise ValueError(f"config.json hidden_act {act!r} is not supported; known: {sorted(HF_ACTIVATIONS)}")
    position = values.get("position_embedding_type", "absolute")
    if position != "absolute":
        raise ValueError(f"config.json position_embedding_type {position!r} is not supported "
                         f"(only 'absolute' learned positions)")
    return BertConfig(
        vocab_size=values["vocab_size"],
        hidden_size=values["hidden_size"],
        num_layers=values["num_hidden_layers"],
        num_heads=values["num_attention_heads"],
        intermediate_size=values["intermediate_size"],
        max_position_embeddings=values.get("max_position_embeddings", 512),
        type_vocab_size=values.get("type_vocab_size", 2),
        hidden_act=HF_ACTIVATIONS[act],
        dropout=values.get("hidden_dropout_prob", 0.1),
        attention_dropout=values.get("attention_probs_dropout_prob", 0.1),
        initializer_range=values.get("initializer_range", 0.02),
        layer_norm_epsilon=values.get("layer_norm_eps", 1e-12),
        pad_token_id=values.get("pad_token_id", 0) or 0,
    )


def config_to_huggingface(config):
    """The transformers `config.json` dict for a BertConfig."""
    if config.position_embedding_type != "learned":
        raise ValueError("Hugging Face BERT has no sinusoidal position embeddings; "
                         "only configs with position_embedding_type='learned' can be exported")
    return {
        "architectures": ["BertForPreTraining"],
        "model_type": "bert",
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_layers,
        "num_attention_heads": config.num_heads,
        "intermediate_size": config.intermediate_size,
        "max_position_embeddings": config.max_position_embeddings,
        "type_vocab_size": config.type_vocab_size,
        "hidden_act": OUR_ACTIVATIONS[config.hidden_act],
        "hidden_dropout_prob": config.dropout,
        "attention_probs_dropout_prob": config.attention_dropout,
        "initializer_range": config.initializer_range,
        "layer_norm_eps": config.layer_norm_epsilon,
        "pad_token_id": config.pad_token_id,
        "position_embedding_type": "absolute",
    }


def read_config(path):
    return config_from_file(os.path.join(path, "config.json"), config_from_huggingface)


def _normalise_name(name):
    # BertForPreTraining & co. prefix the encoder with "bert."; old exports say gamma/beta.
    if name.startswith("bert."):
        name = name[len("bert."):]
    if name.endswith(".gamma"):
        name = name[: -len(".gamma")] + ".weight"
    elif name.endswith(".beta"):
        name = name[: -len(".beta")] + ".bias"
    return name


def read_tensors(path):
    """name -> float32 numpy array from model.safetensors (single file or sharded)."""
    from safetensors.numpy import load_file

    single = os.path.join(path, "model.safetensors")
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.isfile(single):
        files = [single]
    elif os.path.isfile(index):
        weight_map = read_json(index).get("weight_map")
        if not isinstance(weight_map, dict):
            raise ValueError(f"{index}: no 'weight_map' object naming the shard of each tensor")
        files = sorted({os.path.join(path, str(v)) for v in weight_map.values()})
    elif os.path.isfile(os.path.join(path, "pytorch_model.bin")):
        raise ValueError(f"{path} holds only pytorch_model.bin (a pickle, which needs torch); convert it "
                         f"to model.safetensors first, e.g. with transformers' save_pretrained(safe_serialization=True)")
    else:
        raise FileNotFoundError(f"No model.safetensors in {path}")
    from safetensors import SafetensorError

    tensors = {}
    for file in files:
        if not os.path.isfile(file):
            raise FileNotFoundError(f"{file}: listed in {index} but missing")
        try:
            loaded = load_file(file)
        except (SafetensorError, OSError, ValueError) as error:
            raise ValueError(f"{file}: not a readable safetensors file, truncated or corrupt ({error})") from None
        for name, value in loaded.items():
            if np.issubdtype(value.dtype, np.floating):
                value = value.astype(np.float32)
            tensors[_normalise_name(name)] = value
    return tensors


def write_huggingface(tensors, config, out_dir, vocab_file=None):
    """Writes config.json, model.safetensors (and vocab.txt) that transformers loads."""
    from safetensors.numpy import save

    os.makedirs(out_dir, exist_ok=True)
    atomic_write_text(os.path.join(out_dir, "config.json"),
                      json.dumps(config_to_huggingface(config), indent=2) + "\n")
    blob = save({k: np.ascontiguousarray(v) for k, v in tensors.items()}, metadata={"format": "pt"})
    atomic_write_bytes(os.path.join(out_dir, "model.safetensors"), blob)
    if vocab_file:
        with open(vocab_file, "rb") as f:
            atomic_write_bytes(os.path.join(out_dir, "vocab.txt"), f.read())
