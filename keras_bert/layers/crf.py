"""Linear-chain conditional random field: likelihood, marginals and Viterbi decoding in keras.ops.

Scores of a tag sequence y over the unmasked positions t_1 < ... < t_n:
    start[y_1] + sum_k emissions[t_k, y_k] + sum_k transitions[y_{k-1}, y_k] + end[y_n]
Masked positions are skipped, not cut: transitions link consecutive UNMASKED
positions, so a mask that keeps only the first sub-word of each word gives a
word-level CRF over a sub-word sequence (gaps are allowed anywhere). All math
is float32, whatever the layer's input dtype.

Two things BERT fine-tuning needs that a bare CRF lacks:
- Constraints (`allowed_transitions`): tag pairs a scheme forbids (O -> I-PER,
  B-LOC -> I-PER in BIO) get a fixed score of -10000, so decoding never
  produces them and no probability mass is spent on them in training.
- A learning-rate multiplier: at BERT's fine-tuning rates (2e-5 to 3e-4) Adam
  moves a transition score by about that much per step, so a CRF started at 0
  ends a 2,000-step run with scores of +-0.3 (measured on People's Daily NER):
  it never learns to forbid anything. The layer trains `raw` variables and
  uses `raw * learning_rate_multiplier`, which makes Adam's steps that many
  times larger; saved files hold the effective scores, so a model reloads the
  same whatever multiplier it is rebuilt with.
"""

import keras
import numpy as np
from keras import ops

FORBIDDEN = -10000.0  # exp() of it is 0 in float32; finite, so 0 * FORBIDDEN stays 0


def allowed_transitions(labels, scheme="BIO"):
    """[(from, to)] index pairs of tags that may follow each other in `scheme` ("BIO" or "BIOES").

    BIO: I-X only after B-X or I-X. BIOES: I-X and E-X only after B-X or I-X,
    and B-X / I-X only before I-X or E-X. Start and end are left free: a window
    cut from a long text may open inside an entity.
    """
    if scheme not in ("BIO", "BIOES"):
        raise ValueError(f"scheme must be 'BIO' or 'BIOES', got {scheme!r}")
    parts = [(str(label).partition("-")[0], str(label).partition("-")[2]) for label in labels]
    inside, opens = ("B", "I"), ("I", "E") if scheme == "BIOES" else ("I",)
    pairs = []
    for i, (p_from, t_from) in enumerate(parts):
        for j, (p_to, t_to) in enumerate(parts):
            if p_to in opens and not (p_from in inside and t_from == t_to):
                continue  # a continuation needs an open entity of its type
            if scheme == "BIOES" and p_from in inside and not (p_to in opens and t_from == t_to):
                continue  # an open entity must go on or end
            pairs.append((i, j))
    return pairs


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
    `allowed_transitions`: None (every pair allowed) or [(from, to)] tag index
    pairs; the others are forbidden (see `allowed_transitions()`).
    `learning_rate_multiplier`: scales the optimizer's steps on the scores
    (the variables hold score / multiplier; read and write the scores with
    `scores()` and `set_scores()`).
    """

    def __init__(self, num_tags, use_boundary=True, initializer_range=0.02, allowed_transitions=None,
                 learning_rate_multiplier=1.0, **kwargs):
        kwargs["dtype"] = "float32"  # the scan over log-space scores must not run in float16
        super().__init__(**kwargs)
        if int(num_tags) < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        if not float(learning_rate_multiplier) > 0:
            raise ValueError(f"learning_rate_multiplier must be > 0, got {learning_rate_multiplier}")
        self.num_tags = int(num_tags)
        self.use_boundary = bool(use_boundary)
        self.initializer_range = float(initializer_range)
        self.learning_rate_multiplier = float(learning_rate_multiplier)
        self.allowed_transitions = None
        bias = np.zeros((self.num_tags, self.num_tags), "float32")
        if allowed_transitions is not None:
            self.allowed_transitions = sorted({(int(a), int(b)) for a, b in allowed_transitions})
            bad = [p for p in self.allowed_transitions if not all(0 <= i < self.num_tags for i in p)]
            if bad:
                raise ValueError(f"allowed_transitions {bad} name tags outside [0, {self.num_tags})")
            bias[:] = FORBIDDEN
            for a, b in self.allowed_transitions:
                bias[a, b] = 0.0
        self._constraint_bias = bias

    def build(self, input_shape=None):
        init = keras.initializers.TruncatedNormal(stddev=self.initializer_range / self.learning_rate_multiplier)
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

    # ------------------------------------------------------------- scores
    def scores(self):
        """(transitions [T, T], start [T], end [T]) as used, float32 numpy (constraints not included)."""
        trans = ops.cast(self.transitions, "float32") * self.learning_rate_multiplier
        return tuple(ops.convert_to_numpy(x) for x in (trans, *self._boundaries()))

    def set_scores(self, transitions, start=None, end=None):
        """Sets the transition (and, with `use_boundary`, start / end) scores."""
        m = self.learning_rate_multiplier
        self.transitions.assign(np.asarray(transitions, "float32") / m)
        for variable, value in ((getattr(self, "start_transitions", None), start),
                                (getattr(self, "end_transitions", None), end)):
            if value is not None:
                if variable is None:
                    raise ValueError("start / end scores need use_boundary=True")
                variable.assign(np.asarray(value, "float32") / m)

    def save_own_variables(self, store):
        # Files hold effective scores, independent of the multiplier.
        for i, variable in enumerate(self._trainable_variables + self._non_trainable_variables):
            store[str(i)] = ops.convert_to_numpy(variable) * self.learning_rate_multiplier

    def load_own_variables(self, store):
        self._check_load_own_variables(store)
        for i, variable in enumerate(self._trainable_variables + self._non_trainable_variables):
            variable.assign(np.asarray(store[str(i)], "float32") / self.learning_rate_multiplier)

    # ------------------------------------------------------------- helpers
    def _transitions(self):
        trans = ops.cast(self.transitions, "float32") * self.learning_rate_multiplier
        if self.allowed_transitions is not None:
            trans = trans + ops.convert_to_tensor(self._constraint_bias)
        return trans

    def _boundaries(self):
        if self.use_boundary:
            m = self.learning_rate_multiplier
            return ops.cast(self.start_transitions, "float32") * m, ops.cast(self.end_transitions, "float32") * m
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
        trans = self._transitions()
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
        flat_trans = ops.reshape(self._transitions(), (-1,))
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
        trans = self._transitions()
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
        trans = self._transitions()
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
                      initializer_range=self.initializer_range,
                      allowed_transitions=None if self.allowed_transitions is None
                      else [list(p) for p in self.allowed_transitions],
                      learning_rate_multiplier=self.learning_rate_multiplier)
        config.pop("dtype", None)
        return config
