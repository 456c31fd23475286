"""int8 and bfloat16 copies of a keras_bert model, through Keras' quantization API."""

import math

import keras

from keras_bert.compression._common import check_float, encoder_config, rebuild

DTYPES = ("float32", "bfloat16", "mixed_bfloat16")


def _clone(model, dtype):
    config = model.get_config()
    encoder_config(config)["dtype"] = dtype
    return rebuild(model, config)


def with_dtype(model, dtype):
    """A copy of a float `model` computing in `dtype`: "float32", "bfloat16" or "mixed_bfloat16".

    "bfloat16" stores the weights in bfloat16 too (half the bytes); "mixed_bfloat16"
    keeps float32 variables. LayerNorm, softmax and task logits stay float32
    either way. On CPUs with AVX512-BF16 or AMX, oneDNN runs the GEMMs in bfloat16.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    check_float(model)
    return _clone(model, dtype)


def quantize(model, activations=False, dtype="float32"):
    """A copy of `model` with int8 weights (encoder projections and token table); `model` is unchanged.

    `activations=False` (weight-only int8): each projection dequantizes its int8
    kernel into the compute dtype at call time and runs a float GEMM; with
    `dtype="mixed_bfloat16"` that GEMM is bfloat16. `activations=True`: Keras'
    int8 x int8 path (per-token activation scales), exact Keras semantics but
    slow on TensorFlow's CPU kernels. Task heads stay float. The copy saves as
    `.keras` (about a quarter of the float32 bytes) and exports like any model.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    check_float(model)
    clone = _clone(model, dtype)
    clone.quantize(config=int8_config(activations))
    return clone


def int8_config(activations=False):
    """Keras' `Int8QuantizationConfig`: per-output-channel absmax weights; per-token activations or none."""
    quantizers = keras.quantizers
    return quantizers.Int8QuantizationConfig(
        weight_quantizer=quantizers.AbsMaxQuantizer(axis=0),
        activation_quantizer=quantizers.AbsMaxQuantizer(axis=-1) if activations else None)


def fast_compute_dtype():
    """ "mixed_bfloat16" where bfloat16 GEMMs are native (a GPU/TPU, or a CPU with AVX512-BF16 or AMX), else "float32"."""
    if keras.backend.backend() == "jax":
        import jax

        if jax.devices()[0].platform != "cpu":
            return "mixed_bfloat16"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return "float32"
    return "mixed_bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


def model_bytes(model):
    """Bytes of the model's weights, each variable once (int8 counts 1 byte)."""
    seen, total = set(), 0
    for w in model.weights:
        if id(w) not in seen:
            seen.add(id(w))
            total += math.prod(w.shape) * _dtype_size(w.dtype)
    return total


def _dtype_size(dtype):
    dtype = keras.backend.standardize_dtype(dtype)
    return {"int8": 1, "uint8": 1, "bool": 1, "bfloat16": 2, "float16": 2, "int16": 2}.get(dtype, 4 if "64" not in dtype else 8)
