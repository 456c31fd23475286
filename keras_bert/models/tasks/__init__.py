"""Task models built on BertEncoder (keras.ops only)."""

from keras_bert.models.tasks.classifier import BertClassifier
from keras_bert.models.tasks.embedder import BertEmbedder
from keras_bert.models.tasks.regressor import BertRegressor
from keras_bert.models.tasks.span_qa import BertSpanQA
from keras_bert.models.tasks.token_classifier import BertTokenClassifier

__all__ = ["BertClassifier", "BertEmbedder", "BertRegressor", "BertSpanQA", "BertTokenClassifier"]
