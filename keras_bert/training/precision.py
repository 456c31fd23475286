"""Mixed precision as one option.

`set_precision("mixed_float16")` sets the Keras global policy, so models built afterwards
compute in float16 with float32 variables; `Model.compile` then wraps the optimizer in
`keras.optimizers.LossScaleOptimizer` (dynamic loss scaling) by itself, because the model's
policy is mixed_float16 (Keras 3 `compile(auto_scale_loss=True)`; the same when only the
encoder was given `dtype="mixed_float16"`: every keras_bert model takes its encoder's policy). `mixed_bfloat16` needs
no loss scaling (bfloat16 has float32's exponent range). Logits and losses stay float32.
"""

import keras

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def set_precision(policy="float32"):
    """Sets the global dtype policy; returns its name."""
    if policy not in POLICIES:
        raise ValueError(f"precision must be one of {POLICIES}, got {policy!r}")
    keras.mixed_precision.set_global_policy(policy)
    return policy
