"""Losses in `keras.ops`: a sparse softmax cross-entropy for large vocabularies."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_bert")
def sparse_softmax_cross_entropy(y_true, y_pred):
    """Per-row `-log softmax(y_pred)[y_true]`, from logits `y_pred` [..., C] and int `y_true` [...].

    The same values and gradients as `keras.losses.sparse_categorical_crossentropy(...,
    from_logits=True)`, written so that TensorFlow runs it as one oneDNN softmax, two max
    reductions and a few passes for the gradient: about 2.5x faster (forward and backward)
    than its fused cross-entropy kernel on a [160, 30522] MLM output (the masked positions
    of a batch of 8), with the same result to float32 rounding. Labels must lie in [0, C):
    on TensorFlow an id outside it (negative ones included) raises an InvalidArgumentError
    naming the index; on JAX, whose gathers do not check, the loss is NaN.
    """
    logits = ops.convert_to_tensor(y_pred)
    labels = ops.convert_to_tensor(y_true)
    if len(labels.shape) == len(logits.shape):  # [..., 1] labels, as Keras also accepts
        labels = ops.squeeze(labels, -1)
    num_classes = ops.shape(logits)[-1]
    ids = ops.reshape(ops.cast(labels, "int32"), (-1,))
    # Keras' gathers count negative ids from the end; send them out of range instead.
    ids = ops.where(ids < 0, num_classes, ids)
    loss = _cross_entropy_rows(ops.reshape(ops.cast(logits, "float32"), (-1, num_classes)), ids)
    return ops.reshape(loss, ops.shape(labels))


def _cross_entropy_rows(logits, labels):
    @ops.custom_gradient
    def cross_entropy(logits):
        probs = ops.softmax(logits, axis=-1)
        picked = ops.take_along_axis(logits, labels[:, None], axis=-1)[:, 0]
        # log-sum-exp = max logit - log(prob of the max logit). That prob is >= 1/C, so its log is
        # exact in float32 where -log(prob of the label) would underflow on confident mistakes.
        loss = ops.max(logits, axis=-1) - ops.log(ops.max(probs, axis=-1)) - picked

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            # A one-hot pass, not a scatter into probs * upstream: TensorFlow copies to scatter.
            one_hot = ops.one_hot(labels, ops.shape(probs)[-1], dtype=probs.dtype)
            return (probs - one_hot) * upstream[:, None]

        return loss, grad

    return cross_entropy(logits)


@keras.saving.register_keras_serializable(package="keras_bert")
class SparseSoftmaxCrossEntropy(keras.losses.Loss):
    """`keras.losses.SparseCategoricalCrossentropy(from_logits=True)`, faster on large C.

    See `sparse_softmax_cross_entropy`. `BertPretrainer` uses it for the masked-LM loss.
    """

    def __init__(self, reduction="sum_over_batch_size", name="sparse_softmax_cross_entropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)

    def call(self, y_true, y_pred):
        return sparse_softmax_cross_entropy(y_true, y_pred)
