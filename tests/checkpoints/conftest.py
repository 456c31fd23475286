"""Fixtures for the checkpoint tests: the tiny Google checkpoint, its reference outputs, MiniLM."""

import numpy as np
import pytest

from checkpoint_test_utils import TINY, TINY_REFERENCE


@pytest.fixture(scope="session")
def tiny_dir():
    return TINY


@pytest.fixture(scope="session")
def tiny_reference():
    return dict(np.load(TINY_REFERENCE))


@pytest.fixture(scope="session")
def tiny_pretrainer():
    """BertPretrainer with the weights of the tiny Google checkpoint (heads included)."""
    from keras_bert.checkpoints import load_config, load_weights
    from keras_bert.models import BertEncoder, BertPretrainer

    model = BertPretrainer(BertEncoder(load_config(TINY)))
    load_weights(model, TINY)
    return model




@pytest.fixture(scope="session")
def minilm_encoder(minilm_dir):
    from keras_bert.checkpoints import from_pretrained

    return from_pretrained(minilm_dir)
