"""CRF against brute-force enumeration of every tag sequence (numpy)."""

import itertools

import keras
import numpy as np
import pytest

from keras_bert.layers import CRF

T = 3


def _crf(use_boundary=True, seed=0):
    rng = np.random.default_rng(seed)
    crf = CRF(T, use_boundary=use_boundary)
    crf.build()
    crf.transitions.assign(rng.normal(size=(T, T)).astype("float32"))
    if use_boundary:
        crf.start_transitions.assign(rng.normal(size=T).astype("float32"))
        crf.end_transitions.assign(rng.normal(size=T).astype("float32"))
    return crf


def _params(crf):
    trans = keras.ops.convert_to_numpy(crf.transitions)
    if crf.use_boundary:
        return (trans, keras.ops.convert_to_numpy(crf.start_transitions),
                keras.ops.convert_to_numpy(crf.end_transitions))
    return trans, np.zeros(T), np.zeros(T)


def _score(emissions, tags, mask, trans, start, end):
    """Score of a tag path over the unmasked positions of one sequence."""
    positions = [t for t in range(len(mask)) if mask[t]]
    if not positions:
        return 0.0
    ys = [tags[t] for t in positions]
    s = start[ys[0]] + end[ys[-1]] + sum(emissions[t, y] for t, y in zip(positions, ys))
    return s + sum(trans[a, b] for a, b in itertools.pairwise(ys))


def _brute(emissions, mask, trans, start, end):
    """(log Z, best path, best score, marginals) by enumerating T^n paths."""
    positions = [t for t in range(len(mask)) if mask[t]]
    paths, scores = [], []
    for ys in itertools.product(range(T), repeat=len(positions)):
        tags = np.zeros(len(mask), int)
        tags[positions] = ys
        paths.append(tags)
        scores.append(_score(emissions, tags, mask, trans, start, end))
    scores = np.array(scores)
    log_z = np.log(np.exp(scores - scores.max()).sum()) + scores.max()
    p = np.exp(scores - log_z)
    marg = np.zeros((len(mask), T))
    for tags, pi in zip(paths, p):
        marg[np.arange(len(mask)), tags] += pi
    return log_z, paths[int(np.argmax(scores))], scores.max(), marg


@pytest.fixture
def case():
    rng = np.random.default_rng(1)
    emissions = rng.normal(size=(4, 5, T)).astype("float32") * 2
    mask = np.array([[1, 1, 1, 1, 1],
                     [1, 1, 1, 0, 0],      # padding at the end
                     [1, 0, 1, 0, 1],      # gaps (first sub-words only)
                     [0, 0, 0, 0, 0]], bool)  # nothing to tag
    tags = rng.integers(0, T, size=(4, 5)).astype("int32")
    return emissions, mask, tags


@pytest.mark.parametrize("use_boundary", [True, False])
def test_nll_matches_brute_force(case, use_boundary):
    emissions, mask, tags = case
    crf = _crf(use_boundary)
    trans, start, end = _params(crf)
    nll = keras.ops.convert_to_numpy(crf.negative_log_likelihood(emissions, tags, mask))
    for b in range(len(mask)):
        log_z = _brute(emissions[b], mask[b], trans, start, end)[0] if mask[b].any() else 0.0
        expected = log_z - _score(emissions[b], tags[b], mask[b], trans, start, end)
        np.testing.assert_allclose(nll[b], expected, rtol=1e-5, atol=1e-5)
    assert nll[3] == 0.0


def test_viterbi_and_marginals_match_brute_force(case):
    emissions, mask, _ = case
    crf = _crf()
    trans, start, end = _params(crf)
    tags, best = crf.decode(emissions, mask)
    tags, best = keras.ops.convert_to_numpy(tags), keras.ops.convert_to_numpy(best)
    marg = keras.ops.convert_to_numpy(crf.marginals(emissions, mask))
    for b in range(3):
        _, path, score, expected_marg = _brute(emissions[b], mask[b], trans, start, end)
        np.testing.assert_array_equal(tags[b], path)
        np.testing.assert_allclose(best[b], score, rtol=1e-5)
        np.testing.assert_allclose(marg[b][mask[b]], expected_marg[mask[b]], atol=1e-5)
    np.testing.assert_array_equal(tags[3], 0)


def test_mask_default_and_float16_inputs():
    rng = np.random.default_rng(2)
    emissions = rng.normal(size=(2, 4, T)).astype("float16")
    tags = rng.integers(0, T, size=(2, 4))
    crf = _crf()
    trans, start, end = _params(crf)
    nll = keras.ops.convert_to_numpy(crf.negative_log_likelihood(emissions, tags))
    assert nll.dtype == np.float32
    full = np.ones(4, bool)
    e32 = emissions.astype("float32")
    for b in range(2):
        expected = _brute(e32[b], full, trans, start, end)[0] - _score(e32[b], tags[b], full, trans, start, end)
        np.testing.assert_allclose(nll[b], expected, rtol=1e-4)


def test_gradients_flow_to_transitions_in_a_model():
    inputs = keras.Input((None, T))
    crf = CRF(T, name="crf")
    model = keras.Model(inputs, crf(keras.layers.Dense(T)(inputs)))
    x = np.random.default_rng(3).normal(size=(8, 5, T)).astype("float32")
    y = np.tile(np.array([0, 1, 2, 1, 0]), (8, 1))

    def loss(y_true, y_pred):
        return crf.negative_log_likelihood(y_pred, y_true)

    model.compile(optimizer=keras.optimizers.Adam(0.1), loss=loss)
    before = keras.ops.convert_to_numpy(crf.transitions).copy()
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(before, keras.ops.convert_to_numpy(crf.transitions))


def test_config_round_trip_and_errors():
    crf = CRF(5, use_boundary=False, initializer_range=0.1, name="c")
    clone = CRF.from_config(crf.get_config())
    assert (clone.num_tags, clone.use_boundary, clone.initializer_range, clone.name) == (5, False, 0.1, "c")
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(crf)).num_tags == 5
    with pytest.raises(ValueError, match="num_tags must be >= 1"):
        CRF(0)


def test_allowed_transitions_follow_the_scheme():
    from keras_bert.layers.crf import allowed_transitions

    bio = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    forbidden = {(a, b) for a in range(5) for b in range(5)} - set(allowed_transitions(bio, "BIO"))
    # I-X only after B-X or I-X.
    assert forbidden == {(0, 2), (3, 2), (4, 2), (0, 4), (1, 4), (2, 4)}
    bioes = ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]
    pairs = set(allowed_transitions(bioes, "BIOES"))
    names = {(bioes[a], bioes[b]) for a, b in pairs}
    assert names == {("O", "O"), ("O", "B-LOC"), ("O", "S-LOC"),
                     ("B-LOC", "I-LOC"), ("B-LOC", "E-LOC"), ("I-LOC", "I-LOC"), ("I-LOC", "E-LOC"),
                     ("E-LOC", "O"), ("E-LOC", "B-LOC"), ("E-LOC", "S-LOC"),
                     ("S-LOC", "O"), ("S-LOC", "B-LOC"), ("S-LOC", "S-LOC")}
    with pytest.raises(ValueError, match="scheme must be"):
        allowed_transitions(bio, "IOB1")


def test_constrained_nll_and_marginals_match_brute_force_over_allowed_paths(case):
    emissions, mask, tags = case
    allowed = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 0), (2, 2)]  # forbids 0->2, 1->0, 2->1
    crf = CRF(T, allowed_transitions=allowed, learning_rate_multiplier=50.0)
    crf.build()
    rng = np.random.default_rng(5)
    trans, start, end = rng.normal(size=(T, T)), rng.normal(size=T), rng.normal(size=T)
    crf.set_scores(trans, start, end)
    blocked = trans.copy()
    for a in range(T):
        for b in range(T):
            if (a, b) not in allowed:
                blocked[a, b] = -np.inf
    gold = np.array([[0, 1, 2, 2, 0], [1, 1, 2, 0, 0], [0, 0, 1, 0, 2], [0, 0, 0, 0, 0]], "int32")
    nll = keras.ops.convert_to_numpy(crf.negative_log_likelihood(emissions, gold, mask))
    tags, _ = crf.decode(emissions, mask)
    tags = keras.ops.convert_to_numpy(tags)
    marg = keras.ops.convert_to_numpy(crf.marginals(emissions, mask))
    with np.errstate(invalid="ignore"):
        for b in range(3):
            log_z, path, _, expected_marg = _brute(emissions[b], mask[b], blocked, start, end)
            np.testing.assert_allclose(nll[b], log_z - _score(emissions[b], gold[b], mask[b], blocked, start, end),
                                       rtol=1e-5, atol=1e-4)
            np.testing.assert_array_equal(tags[b], path)
            np.testing.assert_allclose(marg[b][mask[b]], expected_marg[mask[b]], atol=1e-5)


def test_files_hold_the_scores_whatever_the_multiplier(tmp_path):
    inputs = keras.Input((None, T))
    slow = CRF(T, name="crf")
    keras.Model(inputs, slow(inputs)).save(str(tmp_path / "m.keras"))
    fast = CRF(T, learning_rate_multiplier=100.0, allowed_transitions=[(0, 0), (0, 1)], name="crf")
    model = keras.Model(inputs, fast(inputs))
    model.load_weights(str(tmp_path / "m.keras"))
    for got, want in zip(fast.scores(), slow.scores()):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast.transitions) * 100.0, slow.scores()[0], rtol=1e-6)
    clone = CRF.from_config(fast.get_config())
    assert (clone.learning_rate_multiplier, clone.allowed_transitions) == (100.0, [(0, 0), (0, 1)])
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        CRF(T, allowed_transitions=[(0, 3)])
    with pytest.raises(ValueError, match="learning_rate_multiplier must be > 0"):
        CRF(T, learning_rate_multiplier=0)
