"""Functional Keras models built from keras_bert.layers (keras.ops only)."""

from keras_bert.models.encoder import BertEncoder, bert_encoder
from keras_bert.models.pretrainer import BertPretrainer
from keras_bert.models.tasks import BertClassifier, BertEmbedder, BertRegressor, BertSpanQA, BertTokenClassifier

__all__ = ["BertClassifier", "BertEmbedder", "BertEncoder", "BertPretrainer", "BertRegressor", "BertSpanQA", "BertTokenClassifier", "bert_encoder"]
