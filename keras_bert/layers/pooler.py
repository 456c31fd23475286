"""BertPooler: dense + tanh on the [CLS] position."""

import keras

from keras_bert.layers._common import kernel_initializer, sublayer_kwargs
from keras_bert.layers.dense import Dense


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPooler(keras.layers.Layer):
    """Maps `sequence_output` [B, S, H] to `pooled_output` [B, H] from the first token."""

    def __init__(self, hidden_size, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.initializer_range = initializer_range
        self.dense = Dense(hidden_size, activation="tanh",
                                        kernel_initializer=kernel_initializer(initializer_range),
                                        **sublayer_kwargs(self, "dense"))

    def build(self, input_shape):
        self.dense.build((input_shape[0], input_shape[-1]))
        self.built = True

    def call(self, sequence_output):
        return self.dense(sequence_output[:, 0, :])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.hidden_size)

    def get_config(self):
        config = super().get_config()
        config.update(hidden_size=self.hidden_size, initializer_range=self.initializer_range)
        return config
