"""BertRegressor: real-valued scores for a text (or text pair), e.g. a sentiment rating."""

import keras

from keras_bert.layers._common import kernel_initializer
from keras_bert.models._serialization import from_wrapper_config, wrapper_config
from keras_bert.models.encoder import BertEncoder, encoder_inputs
from keras_bert.models.tasks.base import BertTaskMixin, sentence_features


@keras.saving.register_keras_serializable(package="keras_bert")
class BertRegressor(BertTaskMixin, keras.Model):
    """Encoder + pooling + dropout + dense to `num_outputs` scores [B, num_outputs] (float32).

    Trained with mean squared error. Targets are learned as
    `(y - target_mean) / target_scale`, so a head initialised near 0
    starts at the mean score whatever the scale (e.g. ratings from -4 to
    +4); outputs are on the original scale. `pooling` as in BertClassifier.
    """

    def __init__(self, encoder, num_outputs=1, pooling="cls", dropout=0.1, target_mean=0.0, target_scale=1.0,
                 **kwargs):
        if not isinstance(encoder, BertEncoder):
            raise TypeError(f"encoder must be a BertEncoder, got {type(encoder).__name__}")
        if not isinstance(num_outputs, int) or num_outputs < 1:
            raise ValueError(f"num_outputs must be a positive integer, got {num_outputs!r}")
        if not float(target_scale) > 0:
            raise ValueError(f"target_scale must be > 0, got {target_scale!r}")
        inputs = encoder_inputs()

        # === Layers ===
        dropout_layer = keras.layers.Dropout(dropout, name="regressor_dropout")
        head = keras.layers.Dense(num_outputs, name="scores", dtype=encoder.dtype_policy,
                                  kernel_initializer=kernel_initializer(encoder.config.initializer_range))
        # An affine map from the standardised head output back to the targets' scale, in float32.
        rescale = keras.layers.Rescaling(float(target_scale), offset=float(target_mean), dtype="float32",
                                         name="regressor_scores")

        # === Functional graph ===
        encoded = encoder(inputs)
        features = sentence_features(encoder, inputs, encoded, pooling)
        scores = rescale(keras.layers.Activation("linear", dtype="float32")(head(dropout_layer(features))))
        super().__init__(inputs=inputs, outputs=scores, **kwargs)
        self.dtype_policy = encoder.dtype_policy  # functional models drop `dtype`; see BertEncoder

        # === Attributes ===
        self.encoder = encoder
        self.num_outputs = num_outputs
        self.pooling = pooling
        self.dropout = dropout
        self.target_mean = float(target_mean)
        self.target_scale = float(target_scale)

    def default_loss(self):
        return keras.losses.MeanSquaredError()

    def default_metrics(self):
        return [keras.metrics.MeanAbsoluteError(name="mae")]

    def get_config(self):
        return wrapper_config(self, num_outputs=self.num_outputs, pooling=self.pooling, dropout=self.dropout,
                              target_mean=self.target_mean, target_scale=self.target_scale)

    @classmethod
    def from_config(cls, config):
        return from_wrapper_config(cls, config)
