"""Text pipeline: WordPiece tokenization, vocabulary learning, packing, long texts, pretraining data.

All tokenization, packing and masking is TensorFlow graph code: it runs eagerly,
inside `tf.data` and inside an exported SavedModel.
"""

from keras_bert.text.basic_tokenizer import BasicTokenizer
from keras_bert.text.masking import MlmMasker
from keras_bert.text.packing import BertPacker, BertPreprocessor, bucketed_dataset, padding_fraction
from keras_bert.text.pretraining_data import pretraining_dataset, write_pretraining_data
from keras_bert.text.qa import decode_spans, qa_dataset, qa_training_features, window_targets
from keras_bert.text.tagging import encode_tagged, entity_spans, read_conll
from keras_bert.text.tokenizer import BertTokenizer, byte_to_char_offsets
from keras_bert.text.vocab_file import SPECIAL_TOKENS, VocabError, load_vocab
from keras_bert.text.vocab_learning import learn_vocab
from keras_bert.text.windows import aggregate_windows, make_windows, merge_token_outputs

__all__ = [
    "SPECIAL_TOKENS",
    "BasicTokenizer",
    "BertPacker",
    "BertPreprocessor",
    "BertTokenizer",
    "MlmMasker",
    "VocabError",
    "aggregate_windows",
    "bucketed_dataset",
    "byte_to_char_offsets",
    "decode_spans",
    "encode_tagged",
    "entity_spans",
    "learn_vocab",
    "load_vocab",
    "make_windows",
    "merge_token_outputs",
    "padding_fraction",
    "pretraining_dataset",
    "qa_dataset",
    "qa_training_features",
    "read_conll",
    "window_targets",
    "write_pretraining_data",
]
