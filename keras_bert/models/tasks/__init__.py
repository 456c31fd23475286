"""Task models built on BertEncoder (keras.ops only)."""

from keras_bert.models.tasks.classifier import BertClassifier
from keras_bert.models.tasks.embedder import BertEmbedder

__all__ = ["BertClassifier", "BertEmbedder"]
