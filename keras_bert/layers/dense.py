"""Dense: `keras.layers.Dense` with a fast weight-only int8 path, used for every projection in our blocks."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class Dense(keras.layers.Dense):
    """`keras.layers.Dense` (same weights, config and LoRA), quantizable as a subclass.

    Keras' `Model.quantize` refuses subclasses of Dense; this one accepts it,
    so `model.quantize("int8")` reaches the projections inside our blocks.
    Two int8 variants, chosen by the `Int8QuantizationConfig`:

    * activations quantized too (Keras' default config): Keras' own path,
      int8 x int8 -> int32 GEMMs. On TensorFlow's CPU kernels that GEMM runs
      about 4x slower than float32 (TensorFlow has no VNNI kernel for an int8 matmul).
    * weight-only (`activation_quantizer=None`): int8 kernel and per-channel
      scale are stored, the kernel is dequantized into the compute dtype at each
      call and a float GEMM follows (bfloat16 with a `mixed_bfloat16` policy).
      Weights take a quarter of the float32 bytes; the GEMM and its bias/GELU
      fusion are the float ones.
    """

    def quantize(self, mode=None, type_check=True, config=None):
        # Keras' Dense.quantize stops subclasses unless type_check is off; this class keeps Dense's state.
        return super().quantize(mode, type_check=False, config=config)

    def _int8_call(self, inputs, training=None):
        if getattr(self, "inputs_quantizer", None) is not None or self.lora_enabled:
            return super()._int8_call(inputs, training=training)
        # Keras stores int8 = round(w * scale): w = int8 / scale, one scale per output channel.
        inverse_scale = ops.cast(ops.divide(1.0, ops.cast(self.kernel_scale, "float32")), self.compute_dtype)
        kernel = ops.cast(self._kernel, self.compute_dtype) * inverse_scale
        x = ops.matmul(ops.cast(inputs, self.compute_dtype), kernel)
        if self.bias is not None:
            x = ops.add(x, ops.cast(self.bias, self.compute_dtype))
        if self.activation is not None:
            x = self.activation(x)
        return x
