"""Text pipeline: WordPiece tokenization, vocabulary learning, packing, long texts, pretraining data.

All tokenization, packing and masking is TensorFlow graph code: it runs eagerly,
inside `tf.data` and inside an exported SavedModel. Names are imported from their
submodules on first use, so importing this package (as `keras-bert --help` does
for `keras_bert.text.cli_commands`) does not load TensorFlow.
"""

import importlib

_WHERE = {
    "BasicTokenizer": "basic_tokenizer",
    "MlmMasker": "masking",
    "BertPacker": "packing", "BertPreprocessor": "packing", "bucketed_dataset": "packing",
    "padding_fraction": "packing",
    "pretraining_dataset": "pretraining_data", "write_pretraining_data": "pretraining_data",
    "decode_spans": "qa", "qa_dataset": "qa", "qa_training_features": "qa", "window_targets": "qa",
    "encode_tagged": "tagging", "entity_spans": "tagging", "read_conll": "tagging",
    "BertTokenizer": "tokenizer", "byte_to_char_offsets": "tokenizer",
    "SPECIAL_TOKENS": "vocab_file", "VocabError": "vocab_file", "load_vocab": "vocab_file",
    "learn_vocab": "vocab_learning",
    "aggregate_windows": "windows", "make_windows": "windows", "merge_token_outputs": "windows",
}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
