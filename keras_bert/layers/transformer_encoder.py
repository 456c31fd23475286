"""TransformerEncoder: one post-LayerNorm BERT block."""

import math

import keras
from keras import ops

from keras_bert.layers._common import activation, kernel_initializer, layer_norm, sublayer_kwargs
from keras_bert.layers.dense import Dense
from keras_bert.layers.attention import MultiHeadSelfAttention
from keras_bert.layers.dropout import Dropout


@keras.saving.register_keras_serializable(package="keras_bert")
class TransformerEncoder(keras.layers.Layer):
    """Self-attention + feed-forward, each followed by dropout, residual and LayerNorm.

    Call with `x` [B, S, H] and an optional boolean `attention_mask`
    broadcastable to [B, heads, S, S] (see `attention_mask_from_padding`; a
    3-D mask [B, S, S] is accepted and given a head axis).
    """

    def __init__(self, hidden_size, num_heads, intermediate_size, activation="gelu",
                 dropout=0.0, attention_dropout=0.0, attention_implementation="auto",
                 initializer_range=0.02, layer_norm_epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.activation_name = activation
        self.dropout_rate = dropout
        self.attention_dropout = attention_dropout
        self.attention_implementation = attention_implementation
        self.initializer_range = initializer_range
        self.layer_norm_epsilon = layer_norm_epsilon

        init = kernel_initializer(initializer_range)
        self.attention = MultiHeadSelfAttention(
            hidden_size, num_heads, dropout=attention_dropout,
            implementation=attention_implementation, initializer_range=initializer_range,
            **sublayer_kwargs(self, "attention"))
        self.attention_dropout_layer = Dropout(dropout, **sublayer_kwargs(self, "attention_output_dropout"))
        self.attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, **sublayer_kwargs(self, "attention_layer_norm"))
        # The activation is applied in call(): which form is fastest depends on `training`.
        self.intermediate = Dense(intermediate_size, kernel_initializer=init,
                                               **sublayer_kwargs(self, "intermediate"))
        self.output_dense = Dense(hidden_size, kernel_initializer=init,
                                               **sublayer_kwargs(self, "output"))
        self.output_dropout = Dropout(dropout, **sublayer_kwargs(self, "output_dropout"))
        self.output_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, **sublayer_kwargs(self, "output_layer_norm"))

    def build(self, input_shape):
        self.attention.build(input_shape)
        self.attention_layer_norm.build(input_shape)
        self.intermediate.build(input_shape)
        self.output_dense.build(tuple(input_shape[:-1]) + (self.intermediate_size,))
        self.output_layer_norm.build(input_shape)
        self.built = True

    def call(self, x, attention_mask=None, training=None, return_attention_scores=False):
        if attention_mask is not None and len(attention_mask.shape) == 3:
            attention_mask = attention_mask[:, None, :, :]
        attended = self.attention(x, attention_mask=attention_mask, training=training,
                                  return_attention_scores=return_attention_scores)
        if return_attention_scores:
            attended, scores = attended
        shape = ops.shape(x)
        # Everything after attention is per token: run it on [B*S, H] (plain GEMMs).
        x = ops.reshape(x, (-1, self.hidden_size))
        attended = ops.reshape(attended, (-1, self.hidden_size))
        x = layer_norm(self.attention_layer_norm, x + self.attention_dropout_layer(attended, training=training))
        ffn = self.output_dense(activate(self.activation_name, self.intermediate(x), training, self.intermediate))
        x = layer_norm(self.output_layer_norm, x + self.output_dropout(ffn, training=training))
        x = ops.reshape(x, shape)
        return (x, scores) if return_attention_scores else x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            num_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            activation=self.activation_name,
            dropout=self.dropout_rate,
            attention_dropout=self.attention_dropout,
            attention_implementation=self.attention_implementation,
            initializer_range=self.initializer_range,
            layer_norm_epsilon=self.layer_norm_epsilon,
        )
        return config


def activate(name, x, training=None, dense=None):
    """Applies the activation `name` (a BertConfig.hidden_act) to `x`, the output of the Dense `dense`."""
    if name in ("gelu", "gelu_tanh") and not training:
        # At inference TensorFlow's grappler fuses MatMul + BiasAdd + the backend's GELU
        # into one oneDNN kernel (tiny encoder ~6% faster), but for the tanh form only
        # when the GELU ops' names sort after the BiasAdd's (measured, TF 2.21): hence
        # the scope "<dense>_activation" > "<dense>_1/BiasAdd". In training the
        # pre-activation is kept for the gradient, nothing fuses, and the shorter
        # hand-written forms below are faster (~5% per step).
        with keras.name_scope(f"{dense.name}_activation" if dense is not None else "activation"):
            return keras.activations.gelu(x, approximate=name == "gelu_tanh")
    return _activation_fn(name)(x)


def _activation_fn(name):
    # The training-time forms; gelu/gelu_tanh are registered so users can serialise them elsewhere.
    return {"gelu": gelu, "gelu_tanh": gelu_tanh}.get(name) or activation(name)


@keras.saving.register_keras_serializable(package="keras_bert")
def gelu(x):
    """Exact GELU, x * Phi(x) with erf (Hugging Face's "gelu")."""
    return _gelu_erf(x)


@keras.saving.register_keras_serializable(package="keras_bert")
def gelu_tanh(x):
    """Tanh-approximated GELU, as in Google's original BERT code."""
    return _gelu_sigmoid(x)


# Both forms are written out, gradient included: fewer elementwise ops than the backend's
# gelu and than autodiff of these formulas on TensorFlow (~40% less time forward, ~1% of a
# tiny training step backward), same values.
_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 2.0 * math.sqrt(2.0 / math.pi)
_GELU_C3 = _GELU_C * 0.044715


@ops.custom_gradient
def _gelu_erf(x):
    cdf = 0.5 + 0.5 * ops.erf(x * _SQRT_HALF)

    def grad(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        # d/dx x Phi(x) = Phi(x) + x phi(x)
        return upstream * (cdf + x * ops.exp(-0.5 * ops.square(x)) * _INV_SQRT_2PI)

    return x * cdf, grad


@ops.custom_gradient
def _gelu_sigmoid(x):
    # 0.5 * (1 + tanh(z)) == sigmoid(2 z): the same function in fewer ops.
    # In float16 x^2 overflows beyond |x| = 256, and 0 * inf would make the gradient NaN.
    # The gate is already exactly 0 or 1 at |x| = 20, so clipping there changes nothing.
    float16 = keras.backend.standardize_dtype(x.dtype) == "float16"
    square = ops.square(ops.clip(x, -20.0, 20.0) if float16 else x)
    gate = ops.sigmoid(x * (_GELU_C + _GELU_C3 * square))
    y = x * gate

    def grad(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        # d/dx x s(u) = s + x s (1 - s) u', with u = C x + C3 x^3 and x s = y
        return upstream * (gate + (y - y * gate) * (_GELU_C + 3.0 * _GELU_C3 * square))

    return y, grad
