"""BertEmbeddings: token + position + segment embeddings, LayerNorm, dropout."""

import math

import keras
from keras import ops

from keras_bert.layers._common import kernel_initializer, layer_norm, sublayer_kwargs
from keras_bert.layers.dropout import Dropout


@keras.saving.register_keras_serializable(package="keras_bert")
class BertEmbeddings(keras.layers.Layer):
    """Sums token, position and segment embeddings, then LayerNorm and dropout.

    Call with `token_ids` and `segment_ids`, int [B, S], S <= max_positions.
    `position_embedding_type` is "learned" (BERT) or "sinusoidal" (the fixed
    encoding of Vaswani et al., which has no weights).
    """

    def __init__(self, vocab_size, hidden_size, max_positions=512, type_vocab_size=2,
                 position_embedding_type="learned", initializer_range=0.02,
                 layer_norm_epsilon=1e-12, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        if position_embedding_type not in ("learned", "sinusoidal"):
            raise ValueError(f"position_embedding_type must be 'learned' or 'sinusoidal', "
                             f"got {position_embedding_type!r}")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_positions = max_positions
        self.type_vocab_size = type_vocab_size
        self.position_embedding_type = position_embedding_type
        self.initializer_range = initializer_range
        self.layer_norm_epsilon = layer_norm_epsilon
        self.dropout_rate = dropout
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, **sublayer_kwargs(self, "layer_norm"))
        self.dropout = Dropout(dropout, **sublayer_kwargs(self, "dropout"))

    def build(self, token_ids_shape=None, segment_ids_shape=None):
        init = kernel_initializer(self.initializer_range)
        if self.quantization_mode == "int8":  # reloading a quantized model
            self._int8_build()
        elif self.quantization_mode is not None:
            raise self._quantization_mode_error(self.quantization_mode)
        else:
            self.token_embeddings = self.add_weight(
                name="token_embeddings", shape=(self.vocab_size, self.hidden_size), initializer=init)
        if self.position_embedding_type == "learned":
            self.position_embeddings = self.add_weight(
                name="position_embeddings", shape=(self.max_positions, self.hidden_size),
                initializer=init)
        self.segment_embeddings = self.add_weight(
            name="segment_embeddings", shape=(self.type_vocab_size, self.hidden_size),
            initializer=init)
        self.layer_norm.build((None, None, self.hidden_size))
        if self.quantization_mode == "int8":
            self._int8_build_scale()
        self.built = True

    # int8: the token table (most of a small BERT's bytes) as int8 rows with one float scale per
    # row, as keras.layers.Embedding stores it; positions and segments stay float (512 + 2 rows).
    # Variable order (trainable: positions, segments; non-trainable: table, scale) is the same
    # whether the layer was quantized in place or built quantized, so saved weights line up.
    def _int8_build(self):
        self.token_embeddings = self.add_weight(
            name="token_embeddings", shape=(self.vocab_size, self.hidden_size), initializer="zeros",
            dtype="int8", trainable=False)

    def _int8_build_scale(self):
        self.token_embeddings_scale = self.add_weight(
            name="token_embeddings_scale", shape=(self.vocab_size,), initializer="ones", trainable=False)
        self._is_quantized = True

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the token table to int8 (one absmax scale per row); `mode` must be "int8"."""
        if mode != "int8":
            raise NotImplementedError(f"BertEmbeddings supports int8 quantization only, got mode={mode!r}")
        values, scale = keras.quantizers.abs_max_quantize(
            self.token_embeddings, axis=-1, value_range=(-127, 127), dtype="int8", to_numpy=True)
        del self.token_embeddings
        self._int8_build()
        self._int8_build_scale()
        self.token_embeddings.assign(values)
        self.token_embeddings_scale.assign(ops.squeeze(scale, axis=-1))
        policy = self.dtype_policy
        if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
            policy = policy[self.path]
        self.dtype_policy = keras.dtype_policies.get(f"int8_from_{policy.name}")

    def _int8_call(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def _token_rows(self, token_ids):
        if self.quantization_mode != "int8":
            return ops.take(self.token_embeddings, token_ids, axis=0)
        rows = ops.cast(ops.take(self.token_embeddings, token_ids, axis=0), self.compute_dtype)
        scale = ops.take(self.token_embeddings_scale, token_ids, axis=0)
        return rows / ops.cast(scale, self.compute_dtype)[..., None]

    def token_table(self, dtype=None):
        """The [vocab, hidden] token table as floats (dequantized when int8), e.g. for a tied MLM output."""
        dtype = dtype or self.compute_dtype
        if self.quantization_mode != "int8":
            return ops.cast(self.token_embeddings.value, dtype)
        return ops.cast(self.token_embeddings.value, dtype) / ops.cast(self.token_embeddings_scale.value, dtype)[:, None]

    def _positions(self, seq_len):
        if self.position_embedding_type == "learned":
            return ops.slice(self.position_embeddings.value, (0, 0), (seq_len, self.hidden_size))
        # Sinusoidal encoding: sin on even channels, cos on odd channels.
        positions = ops.cast(ops.arange(seq_len), "float32")[:, None]
        half = self.hidden_size // 2
        rates = ops.exp(ops.cast(ops.arange(half), "float32") * (-math.log(10000.0) / half))
        angles = positions * rates[None, :]
        table = ops.reshape(ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1),
                            (seq_len, 2 * half))
        if self.hidden_size % 2:
            table = ops.pad(table, ((0, 0), (0, 1)))
        return ops.cast(table, self.compute_dtype)

    def call(self, token_ids, segment_ids=None, training=None):
        seq_len = ops.shape(token_ids)[1]
        if isinstance(seq_len, int) and seq_len > self.max_positions:
            raise ValueError(
                f"Sequence length {seq_len} exceeds max_positions={self.max_positions}; "
                f"truncate the input or split it into windows")
        # Gather from a dense read (GatherV2), not the variable itself: on TensorFlow a
        # ResourceGather puts the variable in copy-on-read mode, after which every read and
        # every optimizer update of the tied table copies it (~15 MB per step for BERT).
        x = self._token_rows(token_ids)
        x = x + ops.cast(self._positions(seq_len), x.dtype)[None, :, :]
        if segment_ids is not None:
            x = x + ops.take(self.segment_embeddings, segment_ids, axis=0)
        x = layer_norm(self.layer_norm, x)
        return self.dropout(x, training=training)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return tuple(token_ids_shape) + (self.hidden_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            max_positions=self.max_positions,
            type_vocab_size=self.type_vocab_size,
            position_embedding_type=self.position_embedding_type,
            initializer_range=self.initializer_range,
            layer_norm_epsilon=self.layer_norm_epsilon,
            dropout=self.dropout_rate,
        )
        return config
