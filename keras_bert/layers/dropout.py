"""Dropout: inverted dropout as one multiply by a random {0, 1 / (1 - rate)} mask."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class Dropout(keras.layers.Layer):
    """`keras.layers.Dropout(rate, seed)` (same semantics) in fewer ops on TensorFlow.

    In training each value is kept with probability `1 - rate` and scaled by
    `1 / (1 - rate)`; otherwise the input is returned unchanged. Keras' TensorFlow
    dropout scales, then selects against a zeros tensor, and its gradient repeats the
    select; here the mask and scale are one tensor and the gradient is one multiply
    (about 1.5% of the tiny config's MLM training step, which has 7 dropouts).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self.supports_masking = True
        if self.rate > 0:
            # The attribute name Keras' Dropout uses, so saved weights line up.
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
        scale = ops.where(keep, 1.0 / (1.0 - self.rate), 0.0)
        return inputs * ops.cast(scale, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config
