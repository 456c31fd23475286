"""Shared paths and helpers of the checkpoint tests (imported by conftest.py and the tests)."""

import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "checkpoints")
TINY = os.path.join(DATA, "tf1_tiny_checkpoint")
TINY_REFERENCE = os.path.join(DATA, "tf1_tiny_checkpoint_outputs.npz")
MINILM_REFERENCE = os.path.join(DATA, "minilm_outputs.npz")


def encoder_inputs(npz):
    return {"token_ids": npz["input_ids"].astype("int32"),
            "segment_ids": npz["token_type_ids"].astype("int32"),
            "padding_mask": npz["attention_mask"].astype("int32")}


def pretrainer_inputs(npz):
    inputs = encoder_inputs(npz)
    batch, seq_len = inputs["token_ids"].shape
    inputs["mask_positions"] = np.tile(np.arange(seq_len, dtype="int32"), (batch, 1))
    return inputs


def run(model, inputs):
    """Eager forward pass, numpy outputs."""
    return {k: np.asarray(v) for k, v in model(inputs, training=False).items()}
