"""keras_bert.losses against a float64 numpy reference and Keras' own cross-entropy."""

import keras
import numpy as np
import pytest

from keras_bert.losses import SparseSoftmaxCrossEntropy, sparse_softmax_cross_entropy


def _reference(logits, labels):
    """Per-row cross-entropy and its gradient (softmax - one-hot), in float64."""
    z = logits.astype("float64")
    z = z - z.max(-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(-1, keepdims=True))
    loss = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    grad = np.exp(log_probs)
    np.put_along_axis(grad, labels[..., None], np.take_along_axis(grad, labels[..., None], -1) - 1.0, -1)
    return loss, grad


def test_values_and_gradients_match_the_reference_and_keras(value_and_grads):
    rng = np.random.default_rng(0)
    logits = (rng.normal(size=(3, 4, 37)) * 4).astype("float32")
    labels = rng.integers(0, 37, (3, 4)).astype("int32")
    ref_loss, ref_grad = _reference(logits, labels)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(sparse_softmax_cross_entropy(labels, logits)),
                               ref_loss, rtol=1e-5, atol=1e-6)
    value, (grad,) = value_and_grads(lambda z: SparseSoftmaxCrossEntropy()(labels, z), logits)
    np.testing.assert_allclose(value, ref_loss.mean(), rtol=1e-6)
    np.testing.assert_allclose(grad, ref_grad / labels.size, atol=1e-7)
    keras_value, (keras_grad,) = value_and_grads(
        lambda z: keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z), logits)
    np.testing.assert_allclose(value, keras_value, rtol=1e-6)
    np.testing.assert_allclose(grad, keras_grad, atol=1e-7)


def test_confident_mistakes_stay_finite_and_exact(value_and_grads):
    # The label's probability is exp(-300): it underflows float32, the loss must not.
    logits = np.zeros((2, 5), "float32")
    logits[0, 3], logits[0, 1] = 150.0, -150.0
    logits[1, 0] = 20.0
    labels = np.array([1, 0], "int32")
    ref_loss, ref_grad = _reference(logits, labels)
    value, (grad,) = value_and_grads(lambda z: sparse_softmax_cross_entropy(labels, z)[0], logits)
    np.testing.assert_allclose(value, 300.0, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(sparse_softmax_cross_entropy(labels, logits)),
                               ref_loss, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad[0], ref_grad[0], atol=1e-7)


def test_sample_weights_reductions_and_trailing_label_axis():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 3, 11)).astype("float32")
    labels = rng.integers(0, 11, (4, 3)).astype("int32")
    weights = (rng.random((4, 3)) > 0.4).astype("float32")
    ref_loss, _ = _reference(logits, labels)
    for reduction, expected in [("mean_with_sample_weight", (ref_loss * weights).sum() / weights.sum()),
                                ("sum", (ref_loss * weights).sum()),
                                ("sum_over_batch_size", (ref_loss * weights).mean())]:
        ours = SparseSoftmaxCrossEntropy(reduction=reduction)
        theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)
        got = float(ours(labels, logits, sample_weight=weights))
        np.testing.assert_allclose(got, expected, rtol=1e-5)
        np.testing.assert_allclose(got, float(theirs(labels, logits, sample_weight=weights)), rtol=1e-5)
    np.testing.assert_allclose(float(SparseSoftmaxCrossEntropy()(labels[..., None], logits)), ref_loss.mean(),
                               rtol=1e-5)


def test_labels_outside_the_classes_are_not_silently_used():
    logits = np.zeros((2, 3, 5), "float32")
    for bad in (5, -1):
        labels = np.array([[0, 1, bad], [0, 0, 0]], "int32")
        if keras.backend.backend() == "tensorflow":
            with pytest.raises(Exception, match="not in \\[0, 5\\)"):
                keras.ops.convert_to_numpy(SparseSoftmaxCrossEntropy()(labels, logits))
        else:  # JAX's gathers do not check bounds: the loss is NaN, never a wrapped-around id's
            assert np.isnan(float(SparseSoftmaxCrossEntropy()(labels, logits)))


def test_config_round_trip():
    loss = SparseSoftmaxCrossEntropy(reduction="mean_with_sample_weight", name="mlm_loss")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, SparseSoftmaxCrossEntropy)
    assert (restored.name, restored.reduction) == ("mlm_loss", "mean_with_sample_weight")
