"""SequencePooling: [CLS], masked mean or masked max over a sequence, optional L2 normalisation."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class SequencePooling(keras.layers.Layer):
    """`sequence_output` [B, S, H] and `padding_mask` [B, S] -> [B, H].

    `mode`: "cls" (first token), "mean" or "max" over real tokens only.
    `normalize=True` L2-normalises the result (sentence-transformers style).
    """

    MODES = ("cls", "mean", "max")

    def __init__(self, mode="mean", normalize=False, **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"pooling mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode
        self.normalize = normalize

    def call(self, sequence_output, padding_mask):
        x = ops.cast(sequence_output, "float32")
        mask = ops.cast(padding_mask, "float32")[:, :, None]
        if self.mode == "cls":
            pooled = x[:, 0, :]
        elif self.mode == "mean":
            pooled = ops.sum(x * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1e-9)
        else:
            pooled = ops.max(ops.where(mask > 0, x, ops.cast(-1e9, x.dtype)), axis=1)
        if self.normalize:
            pooled = pooled / ops.maximum(ops.norm(pooled, axis=-1, keepdims=True), 1e-12)
        return ops.cast(pooled, self.compute_dtype)

    def compute_output_shape(self, sequence_output_shape, padding_mask_shape=None):
        return (sequence_output_shape[0], sequence_output_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode, normalize=self.normalize)
        return config
