"""Fixtures of the compression tests: the uncased tokenizer and the movie snippets (MiniLM ones: tests/conftest.py)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest
from compression_helpers import UNCASED_VOCAB


@pytest.fixture(scope="session")
def tokenizer():
    from keras_bert.text import BertTokenizer

    return BertTokenizer(UNCASED_VOCAB)


@pytest.fixture(scope="session")
def movie_texts():
    """(train texts, train labels, test texts, test labels) of the shipped movie snippets (binary)."""
    from keras_bert.datasets import movie_sentiment

    (train_x, train_y), (test_x, test_y), _ = movie_sentiment("binary")
    return train_x, train_y, test_x, test_y
