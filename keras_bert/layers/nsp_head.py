"""NextSentenceHead: BERT's is-next / is-random classifier on the pooled output."""

import keras

from keras_bert.layers._common import kernel_initializer, sublayer_kwargs


@keras.saving.register_keras_serializable(package="keras_bert")
class NextSentenceHead(keras.layers.Layer):
    """`pooled_output` [B, H] -> logits [B, 2]; class 0 = "B follows A", 1 = random (Google's order)."""

    def __init__(self, initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        self.initializer_range = initializer_range
        self.dense = keras.layers.Dense(2, kernel_initializer=kernel_initializer(initializer_range),
                                        **sublayer_kwargs(self, "dense"))

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.built = True

    def call(self, pooled_output):
        return self.dense(pooled_output)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2)

    def get_config(self):
        config = super().get_config()
        config.update(initializer_range=self.initializer_range)
        return config
