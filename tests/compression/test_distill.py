"""Distillation: the loss against Keras' own LogitsDistillation, students built from teachers, learning on real text."""

import keras
import numpy as np
import pytest
from compression_helpers import padded_batch, small_classifier

from keras_bert.compression.distill import (Distiller, distillation_loss, evenly_spaced, forward_with_states,
                                            student_from_teacher)
from keras_bert.layers import attention_mask_from_padding


@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_logit_loss_equals_keras_logits_distillation(temperature):
    rng = np.random.default_rng(0)
    teacher, student = rng.normal(size=(2, 8, 3)).astype("float32") * 3
    ours = float(keras.ops.convert_to_numpy(distillation_loss(teacher, student, temperature)))
    # An instance: Keras 3.15's default loss="kl_divergence" resolves to the function, which its
    # isinstance(KLDivergence) test misses, and is then applied to the scaled logits themselves.
    theirs = keras.distillation.LogitsDistillation(temperature=temperature, loss=keras.losses.KLDivergence()
                                                   ).compute_loss(teacher, student)
    np.testing.assert_allclose(ours, float(keras.ops.convert_to_numpy(theirs)), rtol=1e-5)
    assert float(keras.ops.convert_to_numpy(distillation_loss(teacher, teacher, temperature))) == pytest.approx(0, abs=1e-6)


def test_student_from_teacher_copies_evenly_spaced_blocks_or_starts_fresh():
    assert evenly_spaced(6, 2) == [2, 5] and evenly_spaced(6, 3) == [1, 3, 5] and evenly_spaced(4, 4) == [0, 1, 2, 3]
    teacher = small_classifier(num_layers=4, hidden_size=32, labels=("a", "b", "c"))
    student = student_from_teacher(teacher, num_layers=2)
    assert student.encoder.config.num_layers == 2 and student.labels == ["a", "b", "c"]
    for j, i in enumerate([1, 3]):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(student.encoder.transformer_layers[j].intermediate.kernel),
            keras.ops.convert_to_numpy(teacher.encoder.transformer_layers[i].intermediate.kernel))
    fresh = student_from_teacher(teacher, config={"num_layers": 1, "hidden_size": 16, "num_heads": 2,
                                                  "intermediate_size": 32})
    assert fresh.encoder.config.vocab_size == 30522 and fresh.encoder.config.hidden_size == 16
    assert fresh.labels == ["a", "b", "c"] and fresh.encoder.config.max_position_embeddings == 128


def test_feature_losses_vanish_for_a_copy_and_match_numpy_otherwise():
    teacher = small_classifier(seed=1, num_layers=2, hidden_size=32)
    x, y = padded_batch(1, cut=7), np.array([0, 1, 1, 0, 1, 0])
    copy = student_from_teacher(teacher, num_layers=2)
    distiller = Distiller(copy, teacher, alpha=0.0, hidden_weight=1.0, attention_weight=1.0)
    same = distiller.compute_loss(x, y, forward_with_states(copy, x, attention=True))
    assert float(keras.ops.convert_to_numpy(same)) == pytest.approx(0.0, abs=1e-5)

    student = student_from_teacher(teacher, num_layers=1)  # block 1 of the teacher; mapped to teacher block 1
    only_hidden = Distiller(student, teacher, alpha=0.0, hidden_weight=1.0)
    logits, hidden, _ = forward_with_states(student, x)
    t_logits, t_hidden, _ = forward_with_states(teacher, x)
    got = float(keras.ops.convert_to_numpy(only_hidden.compute_loss(x, y, (logits, hidden, None))))
    mask = x["padding_mask"][..., None].astype(np.float64)
    diff = np.asarray(hidden[0], np.float64) - np.asarray(t_hidden[1], np.float64)
    expected_hidden = (diff ** 2 * mask).sum() / (mask.sum() * 32)
    expected_kd = float(keras.ops.convert_to_numpy(distillation_loss(t_logits, logits, 2.0)))
    np.testing.assert_allclose(got, expected_hidden + expected_kd, rtol=1e-4)
    # and fit runs with both feature losses (teacher on the fly, labels as plain y)
    both = Distiller(student_from_teacher(teacher, num_layers=1), teacher, hidden_weight=1.0, attention_weight=1.0)
    both.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = both.fit(x, y, epochs=2, batch_size=6, verbose=0).history
    assert np.isfinite(history["loss"]).all() and "accuracy" in history
    with pytest.raises(ValueError, match="same hidden size"):
        Distiller(small_classifier(hidden_size=16, num_heads=2), teacher, hidden_weight=1.0)


def test_label_weights_leave_unlabelled_rows_to_the_teacher():
    """Rows of weight 0 (augmented texts) add nothing to the labels' loss and the accuracy; numpy reference."""
    rng = np.random.default_rng(2)
    student_logits, teacher_logits = rng.normal(size=(2, 6, 2)).astype("float32") * 2
    labels, weights = np.array([0, 1, 1, 0, 1, 0]), np.array([1, 1, 0, 0, 1, 0], "float32")
    distiller = Distiller(small_classifier(), temperature=2.0, alpha=0.3)
    got = float(keras.ops.convert_to_numpy(distiller.compute_loss(
        None, {"labels": labels, "teacher_logits": teacher_logits, "label_weights": weights}, student_logits)))

    def log_softmax(z):
        z = z - z.max(-1, keepdims=True)
        return z - np.log(np.exp(z).sum(-1, keepdims=True))

    ce = -log_softmax(student_logits.astype(np.float64))[np.arange(6), labels]
    t, s = log_softmax(teacher_logits / 2.0), log_softmax(student_logits / 2.0)
    kd = (np.exp(t) * (t - s)).sum(-1).mean() * 4.0  # every row, weighted or not
    np.testing.assert_allclose(got, 0.3 * (ce * weights).sum() / weights.sum() + 0.7 * kd, rtol=1e-5)
    distiller.compute_metrics(None, {"labels": labels, "label_weights": weights}, student_logits)
    right = student_logits.argmax(-1) == labels
    assert float(distiller.accuracy.result()) == pytest.approx(right[weights > 0].mean())


@pytest.mark.slow
def test_distilled_student_learns_real_sentiment_from_its_teacher(movie_texts):
    """A 1-block student distilled from a 2-block teacher trained on the movie snippets: well above majority."""
    import tensorflow as tf

    import keras_bert
    from keras_bert.datasets import UNCASED_VOCAB
    from keras_bert.text import BertPreprocessor, BertTokenizer, bucketed_dataset

    train_x, train_y, test_x, test_y = movie_texts
    rng = np.random.default_rng(0)
    train = rng.choice(len(train_x), 3000, replace=False)
    test = rng.choice(len(test_x), 600, replace=False)
    train_x, train_y = [train_x[i] for i in train], np.asarray(train_y)[train]
    test_x, test_y = [test_x[i] for i in test], np.asarray(test_y)[test]
    preprocessor = BertPreprocessor(BertTokenizer(UNCASED_VOCAB), 64)

    def batches(texts, y, shuffle=False):
        ds = tf.data.Dataset.from_tensor_slices((tf.constant(texts), y))
        return bucketed_dataset(ds.shuffle(len(texts), seed=0) if shuffle else ds, preprocessor, 32)

    def accuracy(model):
        logits, labels = zip(*[(model.predict_on_batch(f), y.numpy()) for f, y in batches(test_x, test_y)])
        return float(np.mean(np.concatenate(logits).argmax(1) == np.concatenate(labels)))

    keras.utils.set_random_seed(0)
    config = keras_bert.BertConfig.preset("tiny", max_position_embeddings=64)
    teacher = keras_bert.BertClassifier(keras_bert.BertEncoder(config), labels=["negative", "positive"])
    teacher.compile(learning_rate=1e-3, total_steps=2 * 94)
    teacher.fit(batches(train_x, train_y, True), epochs=2, verbose=0)
    teacher_accuracy = accuracy(teacher)

    # Teacher logits computed once, then carried with each example through shuffling and bucketing.
    logits = np.concatenate([teacher.predict_on_batch(preprocessor(tf.constant(train_x[i:i + 256])))
                             for i in range(0, len(train_x), 256)])
    targets = {"labels": train_y.astype("int32"), "teacher_logits": logits.astype("float32")}
    student = student_from_teacher(teacher, num_layers=1)
    distiller = Distiller(student, temperature=2.0, alpha=0.5)
    distiller.compile(optimizer=keras.optimizers.Adam(5e-4))
    distiller.fit(batches(train_x, targets, True), epochs=2, verbose=0)
    student_accuracy = accuracy(distiller.student)
    majority = max(np.mean(test_y), 1 - np.mean(test_y))
    assert teacher_accuracy > 0.65, teacher_accuracy
    assert student_accuracy > majority + 0.1 and student_accuracy > 0.9 * teacher_accuracy, (
        student_accuracy, teacher_accuracy, majority)
