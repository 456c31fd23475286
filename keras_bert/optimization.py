"""BERT's optimizer recipe: AdamW without decay on LayerNorm/bias, linear warmup then linear decay."""

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


NO_DECAY = ("layer_norm", "bias", "LayerNorm")


def bert_adamw(model=None, learning_rate=5e-5, total_steps=None, warmup_ratio=0.1,
               weight_decay=0.01, clipnorm=1.0, epsilon=1e-6, **kwargs):
    """AdamW as BERT trains: decay on kernels/embeddings only, warmup + linear decay, clipping."""
    schedule = learning_rate
    if total_steps:
        schedule = WarmupLinearDecay(learning_rate, total_steps, int(warmup_ratio * total_steps))
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay,
                                       epsilon=epsilon, clipnorm=clipnorm, **kwargs)
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
    return optimizer
