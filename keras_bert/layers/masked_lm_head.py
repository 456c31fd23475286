"""MaskedLMHead: BERT's masked-language-model output, on masked positions only."""

import keras
from keras import ops

from keras_bert.layers._common import kernel_initializer, layer_norm, sublayer_kwargs
from keras_bert.layers.dense import Dense
from keras_bert.layers.transformer_encoder import activate


@keras.saving.register_keras_serializable(package="keras_bert")
class MaskedLMHead(keras.layers.Layer):
    """Dense + activation + LayerNorm, then logits over the vocabulary.

    Call with `sequence_output` [B, S, H] and `mask_positions` int [B, P]
    (None: every position). Gathering first means the [H, V] projection runs
    on P positions, not S. With `token_embedding` (a `BertEmbeddings`), the
    output projection is tied to its token table, as in BERT; the tie is not
    serialised: the model owning both layers re-ties it on reload.
    """

    def __init__(self, vocab_size, hidden_size, activation="gelu", initializer_range=0.02,
                 layer_norm_epsilon=1e-12, token_embedding=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.activation_name = activation
        self.initializer_range = initializer_range
        self.layer_norm_epsilon = layer_norm_epsilon
        self.token_embedding = token_embedding
        # The activation is applied in call(), as in TransformerEncoder (see `activate`).
        self.transform = Dense(
            hidden_size, kernel_initializer=kernel_initializer(initializer_range),
            **sublayer_kwargs(self, "transform"))
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, **sublayer_kwargs(self, "layer_norm"))

    def build(self, sequence_output_shape, mask_positions_shape=None):
        self.transform.build((None, None, self.hidden_size))
        self.layer_norm.build((None, None, self.hidden_size))
        if self.token_embedding is None:
            self.output_kernel = self.add_weight(
                name="output_kernel", shape=(self.hidden_size, self.vocab_size),
                initializer=kernel_initializer(self.initializer_range))
        self.output_bias = self.add_weight(name="output_bias", shape=(self.vocab_size,),
                                           initializer="zeros")
        self.built = True

    def call(self, sequence_output, mask_positions=None, training=None):
        x = sequence_output
        batch, seq_len = ops.shape(x)[0], ops.shape(x)[1]
        x = ops.reshape(x, (-1, self.hidden_size))  # per-position work on [B*P, H]: plain GEMMs
        if mask_positions is None:
            positions = seq_len
        else:
            positions = ops.shape(mask_positions)[1]
            # Rows of the flattened [B*S, H]: the gather's gradient is then P rows per sequence,
            # where take_along_axis on TensorFlow transposes and scatters every element.
            mask_positions = ops.cast(mask_positions, "int32")
            rows = mask_positions + ops.arange(batch, dtype="int32")[:, None] * seq_len
            # A position outside [0, S) must not read a neighbouring sequence: make it out of range.
            rows = ops.where((mask_positions >= 0) & (mask_positions < seq_len), rows, batch * seq_len)
            x = ops.take(x, ops.reshape(rows, (-1,)), axis=0)
        x = self.transform(x)
        x = layer_norm(self.layer_norm, activate(self.activation_name, x, training, self.transform))
        if self.token_embedding is not None:
            table = self.token_embedding.token_table(x.dtype)
            logits = _project_on_table(x, table, ops.cast(self.output_bias.value, x.dtype))
        else:
            logits = ops.matmul(x, ops.cast(self.output_kernel.value, x.dtype))
            logits = logits + ops.cast(self.output_bias.value, logits.dtype)
        return ops.reshape(logits, (batch, positions, self.vocab_size))

    def compute_output_shape(self, sequence_output_shape, mask_positions_shape=None):
        shape = sequence_output_shape if mask_positions_shape is None else mask_positions_shape
        return (shape[0], shape[1], self.vocab_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            activation=self.activation_name,
            initializer_range=self.initializer_range,
            layer_norm_epsilon=self.layer_norm_epsilon,
        )
        return config


@ops.custom_gradient
def _project_on_table(x, table, bias):
    """x [T, H] times the [V, H] table transposed, plus bias, with no transposed copy of the table.

    The gradients are written out because on TensorFlow autodiff of the einsum computes the
    table's gradient as [H, V] and then transposes it (15 MB for BERT, each step), and a
    column sum of [T, V] is slower than the same sum as a [1, T] x [T, V] product.
    """
    def grad(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        bias_grad = ops.matmul(ops.ones((1, ops.shape(upstream)[0]), upstream.dtype), upstream)[0]
        return ops.matmul(upstream, table), ops.matmul(ops.transpose(upstream), x), bias_grad

    return ops.einsum("th,vh->tv", x, table) + bias, grad
