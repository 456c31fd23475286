"""keras_bert: BERT as Keras 3 layers and models, with a TensorFlow text pipeline and export.

Model code (`keras_bert.layers`, `keras_bert.models`) uses keras.ops only and runs
on any Keras backend; `keras_bert.text`, `keras_bert.export` and
`keras_bert.training` need TensorFlow and are imported on first use.
"""

__version__ = "0.1.0"

from keras_bert.config import BertConfig, PRESETS
from keras_bert.models import (BertClassifier, BertEmbedder, BertRegressor, BertEncoder, BertPretrainer, BertSpanQA,
                               BertTokenClassifier, bert_encoder)
from keras_bert.checkpoints import from_pretrained

__all__ = ["BertClassifier", "BertConfig", "BertEmbedder", "BertRegressor", "BertEncoder", "BertPretrainer", "BertSpanQA", "BertTokenClassifier", "PRESETS", "bert_encoder", "from_pretrained", "__version__"]
