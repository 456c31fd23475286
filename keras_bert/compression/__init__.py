"""Compression for deployment: int8 / bfloat16, distillation, layer dropping and head pruning, LoRA.

Model code only (Keras 3, keras.ops); names are imported on first use so that
`keras-bert --help` does not load a backend. See docs/compression.md.
"""

import importlib

_EXPORTS = {
    "quantize": "quantization", "with_dtype": "quantization", "model_bytes": "quantization", "int8_config": "quantization",
    "enable_lora": "lora", "merge_lora": "lora", "save_lora_weights": "lora", "load_lora_weights": "lora",
    "lora_layers": "lora",
    "drop_layers": "prune", "head_importance": "prune", "prune_heads": "prune",
    "student_from_teacher": "distill", "Distiller": "distill", "distillation_loss": "distill",
    "augment_texts": "augment", "with_augmented": "augment",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"keras_bert.compression.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'keras_bert.compression' has no attribute {name!r}")
