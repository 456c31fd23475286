"""MultiHeadSelfAttention: fused QKV projection + scaled dot-product attention."""

import math

import keras
from keras import ops

from keras_bert.layers._common import kernel_initializer, sublayer_kwargs
from keras_bert.layers.dense import Dense
from keras_bert.layers.dropout import Dropout


def attention_mask_from_padding(padding_mask):
    """[B, S] padding mask (1 = real token) -> boolean [B, 1, 1, S] key mask."""
    # expand_dims, not [:, None, None, :]: LiteRT's builtin strided slice cannot add axes (nor slice booleans).
    return ops.cast(ops.expand_dims(padding_mask, (1, 2)), "bool")


def query_length_mask(attention_mask, seq_len):
    """A [B, 1, 1, S] key mask broadcast to [B, 1, S, S]; other masks unchanged.

    cuDNN flash attention (JAX on a GPU) takes a mask only as a bias whose query
    axis has the query length: JAX rejects [B, 1, 1, S], and Keras then falls back
    to XLA attention with nothing but a logged exception.
    """
    if attention_mask is None or len(attention_mask.shape) != 4 or attention_mask.shape[2] != 1:
        return attention_mask
    return ops.broadcast_to(attention_mask, (ops.shape(attention_mask)[0], 1, seq_len, ops.shape(attention_mask)[3]))


@keras.saving.register_keras_serializable(package="keras_bert")
class MultiHeadSelfAttention(keras.layers.Layer):
    """Multi-head self-attention with one fused [H, 3H] projection for Q, K, V.

    `attention_mask`: boolean, broadcastable to [B, heads, S, S], True where a
    query may attend to a key (e.g. `attention_mask_from_padding(padding_mask)`
    or a 3-D mask `m[:, None]`). `implementation`: "fused" uses
    `keras.ops.dot_product_attention` (flash attention on JAX GPU; no dropout on
    the probabilities), "explicit" computes softmax itself and supports
    probability dropout and `return_attention_scores`, "auto" picks fused unless
    dropout on probabilities is active.
    """

    def __init__(self, hidden_size, num_heads, dropout=0.0, implementation="auto",
                 initializer_range=0.02, **kwargs):
        super().__init__(**kwargs)
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads})")
        if implementation not in ("auto", "fused", "explicit"):
            raise ValueError(f"implementation must be auto, fused or explicit, got {implementation!r}")
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads
        self.dropout_rate = dropout
        self.implementation = implementation
        self.initializer_range = initializer_range
        init = kernel_initializer(initializer_range)
        self.qkv = Dense(3 * hidden_size, kernel_initializer=init,
                                      **sublayer_kwargs(self, "qkv"))
        self.output_dense = Dense(hidden_size, kernel_initializer=init,
                                               **sublayer_kwargs(self, "output"))
        self.dropout = Dropout(dropout, **sublayer_kwargs(self, "dropout"))

    def build(self, input_shape):
        self.qkv.build(input_shape)
        self.output_dense.build(tuple(input_shape[:-1]) + (self.hidden_size,))
        self.built = True

    def call(self, x, attention_mask=None, training=None, return_attention_scores=False):
        batch, seq_len = ops.shape(x)[0], ops.shape(x)[1]
        # Projections as 2-D GEMMs on [B*S, H] (see dense_2d).
        qkv = self.qkv(ops.reshape(x, (-1, self.hidden_size)))
        use_explicit = (
            return_attention_scores
            or self.implementation == "explicit"
            or (self.implementation == "auto"
                and ((training and self.dropout_rate > 0) or keras.backend.backend() == "tensorflow")))
        if use_explicit:
            # TensorFlow's dot_product_attention is itself einsums + softmax, with a
            # transpose per tensor: one transpose of the packed QKV is cheaper.
            context, scores = self._explicit(qkv, batch, seq_len, attention_mask, training)
        else:
            # ops.split, not qkv[:, i]: slicing makes the backward pass build three
            # full-size zero-padded gradients and add them (~8% of a small model's step).
            shape = (batch, seq_len, self.num_heads, self.head_size)
            q, k, v = (ops.reshape(t, shape) for t in ops.split(qkv, 3, axis=-1))
            context = ops.dot_product_attention(q, k, v, mask=query_length_mask(attention_mask, seq_len))
            scores = None
        out = self.output_dense(ops.reshape(context, (-1, self.hidden_size)))
        out = ops.reshape(out, (batch, seq_len, self.hidden_size))
        return (out, scores) if return_attention_scores else out

    def _explicit(self, qkv, batch, seq_len, attention_mask, training):
        # [B*S, 3H] -> [3, B, heads, S, head_size] in one transpose.
        qkv = ops.reshape(qkv, (batch, seq_len, 3, self.num_heads, self.head_size))
        q, k, v = ops.unstack(ops.transpose(qkv, (2, 0, 3, 1, 4)), 3, axis=0)
        # Logits and softmax in float32: a large negative mask value overflows float16.
        # Scaling q (B*S*H values) is cheaper than scaling the logits (B*N*S*S).
        q = ops.cast(q, "float32") * (1.0 / math.sqrt(self.head_size))
        logits = ops.einsum("bnth,bnsh->bnts", q, ops.cast(k, "float32"))
        if attention_mask is not None:
            # An additive bias rather than where(mask, logits, -1e9): same softmax, but oneDNN
            # fuses the product and the add into one kernel, and the add's gradient is free.
            logits = logits + ops.where(attention_mask, 0.0, -1e9)
        probs = ops.softmax(logits, axis=-1)
        dropped = self.dropout(ops.cast(probs, v.dtype), training=training)
        context = ops.einsum("bnts,bnsh->btnh", dropped, v)
        return context, probs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.hidden_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            num_heads=self.num_heads,
            dropout=self.dropout_rate,
            implementation=self.implementation,
            initializer_range=self.initializer_range,
        )
        return config
