"""LoRA on the encoder's projections: few trainable weights, adapters saved alone, merged before export.

Each targeted projection is a `keras_bert.layers.Dense`, so Keras' own
`Dense.enable_lora(rank)` does the work: the kernel is frozen and
`kernel + (alpha / rank) * A @ B` is used instead, A [in, rank] and B [rank, out]
trainable (B starts at zero, so the model is unchanged until it trains). The
fused QKV projection gets one pair (A, B) for query, key and value together.
`enable_lora` freezes the rest of the encoder; the task head stays trainable.
"""

import json

import keras
import numpy as np

from keras_bert.compression._common import encoder_of, rebuild

# Target names -> the attributes leading to each projection inside a TransformerEncoder block.
TARGETS = {"qkv": ("attention", "qkv"), "attention_output": ("attention", "output_dense"),
           "intermediate": ("intermediate",), "output": ("output_dense",)}
GROUPS = {"attention": ("qkv", "attention_output"), "ffn": ("intermediate", "output"),
          "all": ("qkv", "attention_output", "intermediate", "output")}
FORMAT = "keras_bert.lora/1"


def _target_names(targets):
    names = []
    for target in ((targets,) if isinstance(targets, str) else targets):
        expanded = GROUPS.get(target, (target,))
        for name in expanded:
            if name not in TARGETS:
                raise ValueError(f"unknown LoRA target {name!r}; use {', '.join(sorted(GROUPS) + sorted(TARGETS))}")
            if name not in names:
                names.append(name)
    return names


def lora_layers(model):
    """The projections of `model` that have LoRA enabled."""
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Dense) and layer.lora_enabled]


def enable_lora(model, rank, alpha=None, targets="attention"):
    """Adds rank-`rank` LoRA to each block's projections named by `targets`; returns their paths.

    `targets`: "attention" (QKV and attention output, the default), "ffn"
    (intermediate and output), "all", or a list of "qkv", "attention_output",
    "intermediate", "output". `alpha` scales the update by alpha / rank
    (default rank, i.e. 1). Everything else in the encoder is frozen; a task
    head stays trainable. Compile (again) after this call.
    """
    if not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be a positive integer, got {rank!r}")
    encoder = encoder_of(model)
    if lora_layers(encoder):
        raise ValueError(f"LoRA is already enabled on {model.name!r}")
    names = _target_names(targets)
    enabled = []
    for block in encoder.transformer_layers:
        for name in names:
            layer = block
            for attribute in TARGETS[name]:
                layer = getattr(layer, attribute)
            if layer.quantization_mode is not None:
                raise ValueError(f"{layer.path} is quantized; enable LoRA on the float model and quantize after merging")
            layer.enable_lora(rank, lora_alpha=alpha)
            enabled.append(layer)
    adapters = {id(v) for layer in enabled for v in (layer.lora_kernel_a, layer.lora_kernel_b)}
    for variable in encoder.weights:  # per variable: a layer's flag would also reach its sublayers' adapters
        variable.trainable = id(variable) in adapters
    model.train_function = model.test_function = model.predict_function = None
    model._lora_settings = {"rank": rank, "alpha": alpha if alpha is not None else rank, "targets": names}
    return [layer.path for layer in enabled]


def save_lora_weights(model, path):
    """Writes the LoRA matrices and the other trainable weights (the task head) to a .safetensors file.

    Only those: a few hundred KB for a MiniLM classifier at rank 8. The rank,
    alpha and targets are stored as metadata, so `load_lora_weights` can
    enable LoRA on a fresh copy of the base model before loading.
    """
    from safetensors.numpy import save

    from keras_bert.utils import atomic_write_bytes

    settings = getattr(model, "_lora_settings", None)
    if not settings or not lora_layers(model):
        raise ValueError(f"{model.name!r} has no LoRA weights; call enable_lora(model, rank) first")
    tensors = {v.path: np.ascontiguousarray(keras.ops.convert_to_numpy(v.value)) for v in model.trainable_weights}
    metadata = {"format": FORMAT, "settings": json.dumps(settings)}
    atomic_write_bytes(str(path), save(tensors, metadata=metadata))
    return sorted(tensors)


def load_lora_weights(model, path):
    """Loads a `save_lora_weights` file into `model` (the same base model), enabling LoRA first if needed."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata() or {}
        if metadata.get("format") != FORMAT:
            raise ValueError(f"{path} is not a keras_bert LoRA file (format {metadata.get('format')!r})")
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    settings = json.loads(metadata["settings"])
    if not lora_layers(model):
        enable_lora(model, settings["rank"], alpha=settings["alpha"], targets=settings["targets"])
    variables = {v.path: v for v in model.weights}
    missing = sorted(set(tensors) - set(variables))
    wrong = sorted(name for name in set(tensors) & set(variables)
                   if tuple(variables[name].shape) != tuple(tensors[name].shape))
    if missing or wrong:
        raise ValueError(f"{path} does not fit {model.name!r}: no variable for {missing}; "
                         f"shape mismatch for {[(n, tensors[n].shape, tuple(variables[n].shape)) for n in wrong]}")
    for name, value in tensors.items():
        variables[name].assign(value)
    return sorted(tensors)


def merge_lora(model):
    """A new model without LoRA whose kernels are `kernel + (alpha / rank) A @ B`: export this one.

    Same class and config as `model`, all weights trainable again, outputs equal to
    the LoRA model's (to float rounding).
    """
    merged_kernels = {f"{layer.path}/kernel": layer.kernel for layer in lora_layers(model)}
    if not merged_kernels:
        raise ValueError(f"{model.name!r} has no LoRA weights to merge")
    return rebuild(model, values=merged_kernels)
