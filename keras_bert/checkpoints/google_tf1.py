"""Google's original BERT checkpoints: bert_config.json + bert_model.ckpt.* + vocab.txt.

Read with `tf.train.load_checkpoint` (no TF1 graph code); TensorFlow is imported
only when a checkpoint is actually read.
"""

import glob
import os

from keras_bert.config import BertConfig, config_from_file


def is_google_dir(path):
    return os.path.isfile(os.path.join(path, "bert_config.json")) and bool(
        glob.glob(os.path.join(path, "*.index")))


def checkpoint_prefix(path):
    """The checkpoint prefix inside a Google folder (bert_model.ckpt, or the only *.index)."""
    preferred = os.path.join(path, "bert_model.ckpt")
    if os.path.isfile(preferred + ".index"):
        return preferred
    found = sorted(glob.glob(os.path.join(path, "*.index")))
    if not found:
        raise FileNotFoundError(f"No TensorFlow checkpoint (*.index) in {path}")
    return found[-1][: -len(".index")]


def config_from_google(values):
    """Maps a google-research/bert `bert_config.json` dict to a BertConfig.

    Google's code implements "gelu" with the tanh approximation, so it maps to
    `gelu_tanh` (exact erf would differ by ~1e-3 on a real model).
    """
    act = values.get("hidden_act", "gelu")
    acts = {"gelu": "gelu_tanh", "relu": "relu"}
    if act not in acts:
        raise ValueError(f"bert_config.json hidden_act {act!r} is not supported; known: {sorted(acts)}")
    # keras_bert's to_google records an exact-GELU model's activation under its own name.
    hidden_act = values.get("keras_bert_hidden_act", acts[act])
    return BertConfig(
        vocab_size=values["vocab_size"],
        hidden_size=values["hidden_size"],
        num_layers=values["num_hidden_layers"],
        num_heads=values["num_attention_heads"],
        intermediate_size=values["intermediate_size"],
        max_position_embeddings=values.get("max_position_embeddings", 512),
        type_vocab_size=values.get("type_vocab_size", 2),
        hidden_act=hidden_act,
        dropout=values.get("hidden_dropout_prob", 0.1),
        attention_dropout=values.get("attention_probs_dropout_prob", 0.1),
        initializer_range=values.get("initializer_range", 0.02),
        layer_norm_epsilon=values.get("layer_norm_eps", 1e-12),
    )


def read_config(path):
    return config_from_file(os.path.join(path, "bert_config.json"), config_from_google)


def _problem(error):
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return message.strip().splitlines()[0]


def read_tensors(path):
    """name -> numpy array for every variable in the folder's checkpoint.

    A truncated or damaged `.index` / `.data-*` file is a ValueError naming it.
    """
    import tensorflow as tf

    prefix = checkpoint_prefix(path)
    # TensorFlow's reader raises OpError (bad magic, checksum mismatch), or IndexError /
    # ValueError from its Python wrapper for a data file cut short.
    errors = (tf.errors.OpError, IndexError, ValueError)
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = reader.get_variable_to_shape_map()
    except errors as error:
        raise ValueError(f"{prefix}.index: unreadable TensorFlow checkpoint index, truncated or corrupt "
                         f"({_problem(error)})") from None
    tensors = {}
    for name in names:
        try:
            tensors[name] = reader.get_tensor(name)
        except errors as error:
            data = ", ".join(sorted(glob.glob(prefix + ".data-*"))) or prefix + ".data-*"
            raise ValueError(f"{data}: unreadable TensorFlow checkpoint data, truncated or corrupt (reading "
                             f"{name!r}: {_problem(error)})") from None
    return tensors
