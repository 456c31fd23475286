"""Functional Keras models built from keras_bert.layers (keras.ops only)."""

from keras_bert.models.encoder import BertEncoder, bert_encoder

__all__ = ["BertEncoder", "bert_encoder"]
