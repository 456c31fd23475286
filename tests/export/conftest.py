"""Tiny classifier and embedder models with a real vocabulary, for the export tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNCASED_VOCAB = os.path.join(TESTS, "data", "text", "bert-base-uncased-vocab.txt")


def tiny_config(**overrides):
    from keras_bert.config import BertConfig

    values = {"vocab_size": 30522, "num_layers": 1, "hidden_size": 16, "num_heads": 2, "intermediate_size": 32,
                  "max_position_embeddings": 64}
    values.update(overrides)
    return BertConfig(**values)


@pytest.fixture(scope="session")
def tokenizer():
    from keras_bert.text import BertTokenizer

    return BertTokenizer(UNCASED_VOCAB)


@pytest.fixture(scope="session")
def classifier():
    import keras

    from keras_bert.models.encoder import BertEncoder
    from keras_bert.models.tasks.classifier import BertClassifier

    keras.utils.set_random_seed(1)
    return BertClassifier(BertEncoder(tiny_config()), labels=["negative", "neutral", "positive"])


@pytest.fixture(scope="session")
def embedder():
    import keras

    from keras_bert.models.encoder import BertEncoder
    from keras_bert.models.tasks.embedder import BertEmbedder

    keras.utils.set_random_seed(2)
    return BertEmbedder(BertEncoder(tiny_config()), pooling="mean", normalize=True)


@pytest.fixture(scope="session")
def sentiment_export(tmp_path_factory, classifier, tokenizer):
    """The tiny classifier exported once as `<root>/sentiment/1` (sequence length 32); returns the folder."""
    from keras_bert.export import export

    root = tmp_path_factory.mktemp("saved") / "sentiment"
    export(classifier, tokenizer, str(root), sequence_length=32)
    return str(root)
