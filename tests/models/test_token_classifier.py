import itertools
import os

import keras
import numpy as np
import pytest

from keras_bert import BertConfig, BertEncoder
from keras_bert.models import BertTokenClassifier

TINY = BertConfig(vocab_size=60, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                  max_position_embeddings=16, dropout=0.0, attention_dropout=0.0)
LABELS = ["O", "B-PER", "I-PER"]


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    mask = np.array([[1] * 7, [1] * 5 + [0] * 2, [1] * 6 + [0]], "int32")
    x = {"token_ids": rng.integers(5, 60, size=(3, 7)).astype("int32") * mask,
         "segment_ids": np.zeros((3, 7), "int32"), "padding_mask": mask}
    # First sub-words carry tags; [CLS], [SEP], later sub-words and padding are -100.
    y = np.array([[-100, 1, 2, -100, 0, 1, -100],
                  [-100, 0, -100, 1, -100, -100, -100],
                  [-100, 2, 0, 0, 1, -100, -100]], "int32")
    return x, y


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_softmax_loss_is_cross_entropy_over_tagged_positions():
    x, y = _batch()
    model = BertTokenClassifier(BertEncoder(TINY), LABELS)
    model.compile()
    logits = keras.ops.convert_to_numpy(model(x))
    assert logits.shape == (3, 7, 3) and logits.dtype == np.float32
    tagged = y != -100
    expected = -_log_softmax(logits)[tagged, y[tagged]].mean()
    loss = model.compute_loss(x, y, model(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), expected, rtol=1e-5)


def test_crf_loss_is_mean_sequence_nll_by_enumeration():
    x, y = _batch(1)
    model = BertTokenClassifier(BertEncoder(TINY), LABELS, use_crf=True)
    model.compile()
    rng = np.random.default_rng(4)
    trans, start, end = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    model.crf.set_scores(trans, start, end)
    logits = keras.ops.convert_to_numpy(model(x))
    forbidden = {(0, 2)}  # BIO: O -> I-PER; B-PER -> I-PER and I-PER -> I-PER are allowed

    def score(e, ys):
        if any(pair in forbidden for pair in itertools.pairwise(ys)):
            return -np.inf
        return start[ys[0]] + end[ys[-1]] + sum(e[i, t] for i, t in enumerate(ys)) + sum(
            trans[a, b] for a, b in itertools.pairwise(ys))

    nlls = []
    for b in range(3):
        e = logits[b][y[b] != -100]  # the CRF runs over tagged positions only
        all_scores = [score(e, ys) for ys in itertools.product(range(3), repeat=len(e))]
        log_z = np.logaddexp.reduce(all_scores)
        nlls.append(log_z - score(e, list(y[b][y[b] != -100])))
    loss = keras.ops.convert_to_numpy(model.compute_loss(x, y, model(x)))
    np.testing.assert_allclose(loss, np.mean(nlls), rtol=1e-5)


@pytest.mark.parametrize("use_crf", [False, True])
def test_fit_save_reload_without_custom_objects(tmp_path, use_crf):
    x, y = _batch()
    model = BertTokenClassifier(BertEncoder(TINY), LABELS, scheme="BIO", use_crf=use_crf, dropout=0.0)
    model.compile(learning_rate=2e-3, total_steps=50)
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert 0.0 <= history.history["token_accuracy"][-1] <= 1.0
    path = str(tmp_path / "tagger.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded) is BertTokenClassifier
    assert (reloaded.labels, reloaded.scheme, reloaded.use_crf, reloaded.dropout) == (LABELS, "BIO", use_crf, 0.0)
    assert int(keras.ops.convert_to_numpy(reloaded.optimizer.iterations)) == 3
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(model(x)),
                               atol=1e-6)
    mask = y != -100
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(reloaded.decode(reloaded(x), mask)),
                                  keras.ops.convert_to_numpy(model.decode(model(x), mask)))
    if use_crf:
        for got, want in zip(reloaded.crf.scores(), model.crf.scores()):
            np.testing.assert_allclose(got, want, rtol=1e-6)
    reloaded.fit(x, y, verbose=0)  # the optimizer state came back usable


def test_crf_viterbi_never_decodes_a_pair_the_scheme_forbids():
    labels = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    model = BertTokenClassifier(BertEncoder(TINY), labels, use_crf=True)
    # Emissions that alone say "O I-LOC B-PER I-LOC": two forbidden pairs.
    emissions = np.full((1, 4, 5), -2.0, "float32")
    for t, tag in enumerate([0, 2, 3, 2]):
        emissions[0, t, tag] = 3.0
    emissions[0, 1, 1] = 2.5  # B-LOC is the runner-up where I-LOC cannot follow O
    emissions[0, 3, 4] = 2.5  # I-PER is the runner-up after B-PER
    best = keras.ops.convert_to_numpy(model.decode(emissions))[0].tolist()
    allowed = set(map(tuple, model.crf.get_config()["allowed_transitions"]))
    paths = [p for p in itertools.product(range(5), repeat=4) if all(q in allowed for q in itertools.pairwise(p))]
    trans, start, end = model.crf.scores()
    scores = [start[p[0]] + end[p[-1]] + sum(emissions[0, t, y] for t, y in enumerate(p))
              + sum(trans[a, b] for a, b in itertools.pairwise(p)) for p in paths]
    assert best == list(paths[int(np.argmax(scores))]) == [0, 1, 3, 4]
    unconstrained = BertTokenClassifier(BertEncoder(TINY), labels, use_crf=True, crf_constraints=False)
    unconstrained.crf.set_scores(trans, start, end)
    assert keras.ops.convert_to_numpy(unconstrained.decode(emissions))[0].tolist() == [0, 2, 3, 2]


def test_crf_scores_learn_at_the_multiplied_rate():
    # Adam moves each variable by about the learning rate per step; the CRF's scores by 100x that.
    x, y = _batch()
    model = BertTokenClassifier(BertEncoder(TINY), LABELS, use_crf=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = model.crf.scores()[0]
    kernel = keras.ops.convert_to_numpy(model.get_layer("tag_logits").kernel)
    model.fit(x, y, epochs=1, batch_size=3, verbose=0)
    step = np.abs(model.crf.scores()[0] - before)
    assert 0.05 < step.max() <= 0.1 + 1e-5
    assert np.abs(keras.ops.convert_to_numpy(model.get_layer("tag_logits").kernel) - kernel).max() <= 1e-3 + 1e-6


def test_decode_and_probabilities_without_crf_are_argmax_and_softmax():
    x, _ = _batch()
    model = BertTokenClassifier(BertEncoder(TINY), ["O", "S-LOC", "B-LOC", "I-LOC", "E-LOC"], scheme="BIOES")
    logits = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.decode(logits)), logits.argmax(-1))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.tag_probabilities(logits)),
                               np.exp(_log_softmax(logits)), atol=1e-6)


def test_mixed_precision_logits_and_crf_stay_float32():
    encoder = BertEncoder(TINY, dtype="mixed_float16")
    model = BertTokenClassifier(encoder, LABELS, use_crf=True)
    x, y = _batch()
    assert keras.ops.convert_to_numpy(model(x)).dtype == np.float32
    assert model.crf.transitions.dtype == "float32"
    model.compile()
    assert np.isfinite(keras.ops.convert_to_numpy(model.compute_loss(x, y, model(x))))


@pytest.mark.parametrize("kwargs, message", [
    ({"labels": ["O", "B-PER", "B-PER"]}, "labels must be unique"),
    ({"labels": ["B-PER", "I-PER"]}, "must include the outside tag 'O'"),
    ({"labels": ["O", "X-PER"]}, "'X-PER' is not a BIO tag"),
    ({"labels": ["O", "E-PER"], "scheme": "BIO"}, "'E-PER' is not a BIO tag"),
    ({"labels": ["O", "B-"], "scheme": "BIOES"}, "'B-' is not a BIOES tag"),
    ({"labels": ["O"], "scheme": "IOB2"}, "scheme must be one of"),
])
def test_bad_labels_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BertTokenClassifier(BertEncoder(TINY), **kwargs)


def test_from_pretrained_loads_the_checkpoint_encoder():
    here = os.path.join(os.path.dirname(__file__), "..", "data", "checkpoints")
    ref = np.load(os.path.join(here, "tf1_tiny_checkpoint_outputs.npz"))
    model = BertTokenClassifier.from_pretrained(os.path.join(here, "tf1_tiny_checkpoint"), labels=LABELS,
                                                use_crf=True)
    x = {"token_ids": ref["input_ids"], "segment_ids": ref["token_type_ids"], "padding_mask": ref["attention_mask"]}
    sequence = keras.ops.convert_to_numpy(model.encoder(x)["sequence_output"])
    real = ref["attention_mask"].astype(bool)
    np.testing.assert_allclose(sequence[real], ref["sequence_output"][real], atol=1e-5)
    assert tuple(model(x).shape) == (*ref["input_ids"].shape, 3)
