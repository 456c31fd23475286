"""Keras 3 layers of BERT, written in keras.ops only (TensorFlow, JAX and PyTorch backends)."""

from keras_bert.layers.attention import MultiHeadSelfAttention, attention_mask_from_padding
from keras_bert.layers.crf import CRF
from keras_bert.layers.dense import Dense
from keras_bert.layers.dropout import Dropout
from keras_bert.layers.embeddings import BertEmbeddings
from keras_bert.layers.masked_lm_head import MaskedLMHead
from keras_bert.layers.nsp_head import NextSentenceHead
from keras_bert.layers.pooler import BertPooler
from keras_bert.layers.pooling import SequencePooling
from keras_bert.layers.transformer_encoder import TransformerEncoder, gelu, gelu_tanh

__all__ = [
    "CRF", "BertEmbeddings", "BertPooler", "Dense", "Dropout", "MaskedLMHead", "MultiHeadSelfAttention",
    "NextSentenceHead", "SequencePooling", "TransformerEncoder", "attention_mask_from_padding", "gelu", "gelu_tanh",
]
