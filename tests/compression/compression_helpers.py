"""Models and paths shared by the compression tests."""

import os

UNCASED_VOCAB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "text",
                             "bert-base-uncased-vocab.txt")


def padded_batch(seed=0, batch=6, length=10, cut=7):
    """Random token ids in [1000, 30000); every second row is padding from position `cut` on."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, 30000, size=(batch, length)).astype("int32")
    mask = np.ones((batch, length), "int32")
    mask[1::2, cut:] = 0
    return {"token_ids": ids * mask, "segment_ids": np.zeros_like(ids), "padding_mask": mask}


def small_classifier(seed=0, hidden_size=64, num_layers=2, num_heads=4, labels=("negative", "positive"), **overrides):
    """A randomly initialised classifier over the full uncased vocabulary (the token table dominates its bytes)."""
    import keras

    import keras_bert

    values = {"vocab_size": 30522, "num_layers": num_layers, "hidden_size": hidden_size, "num_heads": num_heads,
              "intermediate_size": 4 * hidden_size, "max_position_embeddings": 128}
    values.update(overrides)
    keras.utils.set_random_seed(seed)
    return keras_bert.BertClassifier(keras_bert.BertEncoder(keras_bert.BertConfig(**values)), labels=list(labels))
