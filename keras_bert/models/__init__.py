"""Functional Keras models built from keras_bert.layers (keras.ops only)."""

from keras_bert.models.encoder import BertEncoder, bert_encoder
from keras_bert.models.pretrainer import BertPretrainer

__all__ = ["BertEncoder", "BertPretrainer", "bert_encoder"]
