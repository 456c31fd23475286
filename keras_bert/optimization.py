"""BERT's optimizer recipes: AdamW or LAMB, no decay on LayerNorm/bias, linear warmup then linear decay."""

import re

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Rises linearly from 0 to `peak` over `warmup_steps`, then falls linearly to `end` at `total_steps`."""

    def __init__(self, peak, total_steps, warmup_steps=0, end=0.0):
        if total_steps <= 0 or not 0 <= warmup_steps <= total_steps:
            raise ValueError(f"need 0 <= warmup_steps ({warmup_steps}) <= total_steps ({total_steps}), "
                             "total_steps > 0")
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.end = float(end)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * step / max(self.warmup_steps, 1)
        frac = (step - self.warmup_steps) / max(self.total_steps - self.warmup_steps, 1)
        decay = self.peak + (self.end - self.peak) * ops.minimum(ops.maximum(frac, 0.0), 1.0)
        return ops.where(step < self.warmup_steps, warm, decay)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "end": self.end}


class _FusedAdamUpdate:
    """Adam's update as TensorFlow's one ResourceApplyAdam kernel per variable (other backends: Keras').

    Keras' Adam.update_step is ~11 elementwise ops, each a pass over the variable or a slot
    (for BERT's 30522 x H token table, the largest part of a small model's optimizer time);
    the fused kernel makes one pass with the same formula:
    m += (1-b1)(g-m); v += (1-b2)(g^2-v); w -= lr sqrt(1-b2^t)/(1-b1^t) m/(sqrt(v)+eps).
    """

    def update_step(self, gradient, variable, learning_rate):
        if keras.backend.backend() != "tensorflow" or self.amsgrad:
            # XLA (JAX) fuses Keras' ops itself; AMSGrad has no fused kernel.
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        if isinstance(variable, keras.Variable):
            variable = variable.value  # the tf.Variable; Keras' TF optimizer passes that already
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.constant(self.beta_1, dtype), tf.constant(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.constant(self.epsilon, dtype),
            grad=tf.cast(tf.convert_to_tensor(gradient), dtype))  # embedding gradients arrive as IndexedSlices


@keras.saving.register_keras_serializable(package="keras_bert")
class Adam(_FusedAdamUpdate, keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose update is one fused kernel per variable on TensorFlow."""


@keras.saving.register_keras_serializable(package="keras_bert")
class AdamW(_FusedAdamUpdate, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` whose Adam update is one fused kernel per variable on TensorFlow.

    The decoupled weight decay is Keras' own, applied before the update as in Keras.
    """


# Matched against a variable's full path (e.g. "transformer_layer_0/output_layer_norm/gamma").
NO_DECAY = ("layer_norm", "LayerNorm", "bias", "transitions")  # CRF scores are biases too
# Keras matches `exclude_from_weight_decay(var_names=...)` against the short name only
# ("gamma", "beta", "bias", "output_bias"), so the LayerNorm parameters are named here.
_NO_DECAY_SHORT_NAMES = ("gamma", "beta", "bias")


def excluded(variable, patterns=NO_DECAY):
    """True when any regex in `patterns` matches the variable's path (or name)."""
    path = getattr(variable, "path", None) or variable.name
    return any(re.search(p, path) for p in patterns)


def _schedule(learning_rate, total_steps, warmup_steps, warmup_ratio, accumulation):
    if not total_steps:
        return learning_rate
    if warmup_steps is None:
        warmup_steps = int(warmup_ratio * total_steps)
    # Keras schedules see every micro-batch when gradients are accumulated.
    k = accumulation or 1
    return WarmupLinearDecay(learning_rate, total_steps * k, warmup_steps * k)


def bert_adamw(model=None, learning_rate=5e-5, total_steps=None, warmup_ratio=0.1,
               weight_decay=0.01, clipnorm=1.0, epsilon=1e-6, *, warmup_steps=None, **kwargs):
    """AdamW as BERT trains: decay on kernels/embeddings only, warmup + linear decay, clipping.

    `total_steps` / `warmup_steps` count optimizer updates; with
    `gradient_accumulation_steps=k` the schedule is stretched by k because
    Keras feeds it the micro-batch counter.
    """
    schedule = _schedule(learning_rate, total_steps, warmup_steps, warmup_ratio,
                         kwargs.get("gradient_accumulation_steps"))
    optimizer = AdamW(learning_rate=schedule, weight_decay=weight_decay, epsilon=epsilon, clipnorm=clipnorm,
                      **kwargs)
    optimizer.exclude_from_weight_decay(var_names=list(_NO_DECAY_SHORT_NAMES))
    if model is not None:
        optimizer.exclude_from_weight_decay(var_list=[v for v in model.trainable_variables if excluded(v)])
    return optimizer


@keras.saving.register_keras_serializable(package="keras_bert")
class Lamb(keras.optimizers.Optimizer):
    """LAMB (You et al., 2019) as in TF Model Garden's BERT pretraining.

    update = m_hat / (sqrt(v_hat) + epsilon) + weight_decay_rate * w   (decay only where
    no `exclude_from_weight_decay` pattern matches the variable's path);
    w -= lr * trust * update, trust = ||w|| / ||update|| (1 where either norm is 0, or
    where `exclude_from_layer_adaptation` matches; it defaults to the decay exclusions).
    Keras' own `keras.optimizers.Lamb` differs: decoupled decay outside the trust
    ratio and no exclusions.
    """

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-6, weight_decay_rate=0.01,
                 exclude_from_weight_decay=NO_DECAY, exclude_from_layer_adaptation=None, name="lamb", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.weight_decay_rate = float(weight_decay_rate)
        self.exclude_from_weight_decay_patterns = list(exclude_from_weight_decay or ())
        self.exclude_from_layer_adaptation = list(
            self.exclude_from_weight_decay_patterns if exclude_from_layer_adaptation is None
            else exclude_from_layer_adaptation)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._v = self.add_optimizer_variables(var_list, ["m", "v"])
        # Decided once per variable from its path; update_step runs traced.
        self._decay_flags = [self.weight_decay_rate > 0 and not excluded(v, self.exclude_from_weight_decay_patterns)
                             for v in var_list]
        self._adapt_flags = [not excluded(v, self.exclude_from_layer_adaptation) for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        m, v = self._m[index], self._v[index]
        self.assign(m, m + (gradient - m) * (1 - self.beta_1))
        self.assign(v, v + (ops.square(gradient) - v) * (1 - self.beta_2))
        m_hat = m / (1 - ops.power(ops.cast(self.beta_1, variable.dtype), step))
        v_hat = v / (1 - ops.power(ops.cast(self.beta_2, variable.dtype), step))
        update = m_hat / (ops.sqrt(v_hat) + self.epsilon)
        if self._decay_flags[index]:
            update = update + self.weight_decay_rate * variable
        if self._adapt_flags[index]:
            w_norm = ops.norm(ops.reshape(variable, [-1]))
            u_norm = ops.norm(ops.reshape(update, [-1]))
            trust = ops.where(w_norm > 0, ops.where(u_norm > 0, w_norm / ops.maximum(u_norm, 1e-30), 1.0), 1.0)
            update = update * trust
        self.assign_sub(variable, lr * update)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      weight_decay_rate=self.weight_decay_rate,
                      exclude_from_weight_decay=self.exclude_from_weight_decay_patterns,
                      exclude_from_layer_adaptation=self.exclude_from_layer_adaptation)
        return config


def bert_lamb(model=None, learning_rate=1e-3, total_steps=None, warmup_ratio=0.01, weight_decay=0.01,
              clipnorm=1.0, epsilon=1e-6, *, warmup_steps=None, **kwargs):
    """LAMB with BERT's exclusions (LayerNorm and biases: no decay, no trust ratio), warmup + linear decay."""
    schedule = _schedule(learning_rate, total_steps, warmup_steps, warmup_ratio,
                         kwargs.get("gradient_accumulation_steps"))
    return Lamb(learning_rate=schedule, weight_decay_rate=weight_decay, epsilon=epsilon, clipnorm=clipnorm,
                **kwargs)


OPTIMIZERS = {"adamw": bert_adamw, "lamb": bert_lamb}


def pretraining_optimizer(name="adamw", model=None, **kwargs):
    """`bert_adamw` or `bert_lamb` by name."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name](model, **kwargs)
