"""Linear-chain conditional random field: likelihood, marginals and Viterbi decoding in keras.ops.

Scores of a tag sequence y over the unmasked positions t_1 < ... < t_n:
    start[y_1] + sum_k emissions[t_k, y_k] + sum_k transitions[y_{k-1}, y_k] + end[y_n]
Masked positions are skipped, not cut: transitions link consecutive UNMASKED
positions, so a mask that keeps only the first sub-word of each word gives a
word-level CRF over a sub-word sequence (gaps are allowed anywhere). All math
is float32, whatever the layer's input dtype.
"""

import keras
from keras import ops


def _logsumexp(x, axis):
    peak = ops.max(x, axis=axis, keepdims=True)
    peak = ops.where(ops.isfinite(peak), peak, ops.zeros_like(peak))
    return ops.squeeze(peak, axis) + ops.log(ops.sum(ops.exp(x - peak), axis=axis))


def _scan(step, init, xs, y_init, reverse=False):
    """`ops.scan` over a tuple of time-major tensors, whose per-step output `y` may differ from the carry.

    The TensorFlow backend's scan wants outputs shaped like the carry (so the
    output rides along in the carry) and fails on several sequences of
    unknown length (so they are packed into one float32 tensor [S, B, K];
    tags and flags are exact in float32).
    """
    widths = [1 if len(x.shape) == 2 else int(x.shape[-1]) for x in xs]
    dtypes = [keras.backend.standardize_dtype(x.dtype) for x in xs]
    packed = ops.concatenate([ops.cast(x if len(x.shape) == 3 else x[..., None], "float32") for x in xs], axis=-1)
    bounds = [sum(widths[:i]) for i in range(len(widths) + 1)]

    def wrapped(carry, x):
        parts = []
        for i, dtype in enumerate(dtypes):
            part = x[:, bounds[i]:bounds[i + 1]]
            if len(xs[i].shape) == 2:
                part = part[:, 0]
            parts.append(ops.cast(part, dtype))
        new_carry, y = step(carry[0], tuple(parts))
        both = (new_carry, y)
        return both, both

    (carry, _), (_, ys) = ops.scan(wrapped, (init, y_init), packed, reverse=reverse)
    return carry, ys


@keras.saving.register_keras_serializable(package="keras_bert")
class CRF(keras.layers.Layer):
    """Transition scores of a linear-chain CRF over `num_tags` tags.

    Called on emission scores [B, S, T] it returns them unchanged (cast to
    float32), so it can sit at the end of a functional model and own its
    weights; training and decoding use the methods:
      negative_log_likelihood(emissions, tags, mask) -> [B]
      decode(emissions, mask) -> (tags [B, S] int32, best score [B])
      marginals(emissions, mask) -> [B, S, T] probabilities p(y_t = j | x)
    `mask` [B, S] (bool or 0/1) selects the positions that carry a tag; a row
    with no unmasked position has NLL 0 and decodes to all zeros.
    `use_boundary`: learn start/end transition scores (else they are zero).
    """

    def __init__(self, num_tags, use_boundary=True, initializer_range=0.02, **kwargs):
        kwargs["dtype"] = "float32"  # the scan over log-space scores must not run in float16
        super().__init__(**kwargs)
        if int(num_tags) < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = int(num_tags)
        self.use_boundary = bool(use_boundary)
        self.initializer_range = float(initializer_range)

    def build(self, input_shape=None):
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range)
        t = self.num_tags
        self.transitions = self.add_weight(name="transitions", shape=(t, t), initializer=init)
        if self.use_boundary:
            self.start_transitions = self.add_weight(name="start_transitions", shape=(t,), initializer="zeros")
            self.end_transitions = self.add_weight(name="end_transitions", shape=(t,), initializer="zeros")
        self.built = True

    def call(self, emissions):
        return ops.cast(emissions, "float32")

    def compute_output_shape(self, input_shape):
        return input_shape

    # ------------------------------------------------------------- helpers
    def _boundaries(self):
        if self.use_boundary:
            return ops.cast(self.start_transitions, "float32"), ops.cast(self.end_transitions, "float32")
        zeros = ops.zeros((self.num_tags,), "float32")
        return zeros, zeros

    def _prepare(self, emissions, mask):
        emissions = ops.cast(emissions, "float32")
        if mask is None:
            mask = ops.ones(ops.shape(emissions)[:2], "bool")
        mask = ops.cast(mask, "bool")
        # Time-major for the scans.
        return ops.transpose(emissions, (1, 0, 2)), ops.transpose(mask, (1, 0))

    def _forward(self, emissions_tm, mask_tm):
        """Forward algorithm. Returns (log Z [B], alphas [S, B, T])."""
        trans = ops.cast(self.transitions, "float32")
        start, end = self._boundaries()
        batch = ops.shape(emissions_tm)[1]

        def step(carry, inputs):
            alpha, seen = carry
            emit, m = inputs
            from_prev = _logsumexp(alpha[:, :, None] + trans[None], axis=1) + emit
            new = ops.where(seen[:, None], from_prev, start[None] + emit)
            alpha = ops.where(m[:, None], new, alpha)
            seen = ops.logical_or(seen, m)
            return (alpha, seen), alpha

        init = (ops.zeros((batch, self.num_tags), "float32"), ops.zeros((batch,), "bool"))
        (alpha, seen), alphas = _scan(step, init, (emissions_tm, mask_tm), init[0])
        log_z = _logsumexp(alpha + end[None], axis=1)
        return ops.where(seen, log_z, ops.zeros_like(log_z)), alphas

    # ------------------------------------------------------------- public
    def sequence_score(self, emissions, tags, mask=None):
        """Unnormalised score [B] of `tags` [B, S] (values at masked positions are ignored)."""
        emissions_tm, mask_tm = self._prepare(emissions, mask)
        tags_tm = ops.transpose(ops.cast(tags, "int32"), (1, 0))
        tags_tm = ops.where(mask_tm, tags_tm, ops.zeros_like(tags_tm))
        flat_trans = ops.reshape(ops.cast(self.transitions, "float32"), (-1,))
        start, end = self._boundaries()
        batch = ops.shape(emissions_tm)[1]

        def step(carry, inputs):
            score, prev, seen = carry
            emit, y, m = inputs
            emit_y = ops.squeeze(ops.take_along_axis(emit, y[:, None], axis=1), 1)
            link = ops.where(seen, ops.take(flat_trans, prev * self.num_tags + y), ops.take(start, y))
            score = score + ops.where(m, emit_y + link, ops.zeros_like(emit_y))
            return (score, ops.where(m, y, prev), ops.logical_or(seen, m)), score

        init = (ops.zeros((batch,), "float32"), ops.zeros((batch,), "int32"), ops.zeros((batch,), "bool"))
        (score, last, seen), _ = _scan(step, init, (emissions_tm, tags_tm, mask_tm), init[0])
        return score + ops.where(seen, ops.take(end, last), ops.zeros_like(score))

    def log_partition(self, emissions, mask=None):
        """log Z [B]: log-sum-exp of the scores of every tag sequence."""
        return self._forward(*self._prepare(emissions, mask))[0]

    def negative_log_likelihood(self, emissions, tags, mask=None):
        """-log p(tags | emissions) per sequence, [B] float32."""
        return self.log_partition(emissions, mask) - self.sequence_score(emissions, tags, mask)

    def marginals(self, emissions, mask=None):
        """p(y_t = j | x) [B, S, T] by forward-backward; rows at masked positions are meaningless."""
        emissions_tm, mask_tm = self._prepare(emissions, mask)
        log_z, alphas = self._forward(emissions_tm, mask_tm)
        trans = ops.cast(self.transitions, "float32")
        _, end = self._boundaries()
        batch = ops.shape(emissions_tm)[1]

        def step(carry, inputs):
            # carry: emission + beta of the next unmasked position (to the right).
            after, seen = carry
            emit, m = inputs
            beta = ops.where(seen[:, None], _logsumexp(trans[None] + after[:, None, :], axis=2),
                             ops.broadcast_to(end[None], ops.shape(after)))
            after = ops.where(m[:, None], emit + beta, after)
            return (after, ops.logical_or(seen, m)), beta

        init = (ops.zeros((batch, self.num_tags), "float32"), ops.zeros((batch,), "bool"))
        _, betas = _scan(step, init, (emissions_tm, mask_tm), init[0], reverse=True)
        probs = ops.exp(alphas + betas - log_z[None, :, None])
        return ops.transpose(probs, (1, 0, 2))

    def decode(self, emissions, mask=None):
        """Viterbi: (best tags [B, S] int32, 0 at masked positions; its score [B])."""
        emissions_tm, mask_tm = self._prepare(emissions, mask)
        trans = ops.cast(self.transitions, "float32")
        start, end = self._boundaries()
        batch = ops.shape(emissions_tm)[1]
        identity = ops.broadcast_to(ops.arange(self.num_tags, dtype="int32")[None], (batch, self.num_tags))

        def forward(carry, inputs):
            delta, seen = carry
            emit, m = inputs
            candidates = delta[:, :, None] + trans[None]  # [B, from, to]
            best_prev = ops.cast(ops.argmax(candidates, axis=1), "int32")
            new = ops.where(seen[:, None], ops.max(candidates, axis=1) + emit, start[None] + emit)
            pointers = ops.where(ops.logical_and(seen, m)[:, None], best_prev, identity)
            return (ops.where(m[:, None], new, delta), ops.logical_or(seen, m)), pointers

        init = (ops.zeros((batch, self.num_tags), "float32"), ops.zeros((batch,), "bool"))
        (delta, seen), pointers = _scan(forward, init, (emissions_tm, mask_tm), identity)
        final = delta + end[None]
        best_last = ops.cast(ops.argmax(final, axis=1), "int32")
        best_score = ops.where(seen, ops.max(final, axis=1), ops.zeros((batch,), "float32"))

        def backward(current, inputs):
            (pointer,) = inputs
            previous = ops.squeeze(ops.take_along_axis(pointer, current[:, None], axis=1), 1)
            return previous, current

        _, tags_tm = _scan(backward, best_last, (pointers,), best_last, reverse=True)
        tags_tm = ops.where(mask_tm, tags_tm, ops.zeros_like(tags_tm))
        return ops.transpose(tags_tm, (1, 0)), best_score

    def get_config(self):
        config = super().get_config()
        config.update(num_tags=self.num_tags, use_boundary=self.use_boundary,
                      initializer_range=self.initializer_range)
        config.pop("dtype", None)
        return config
