"""QA features and span decoding on hand-built windows and logits with hand-derived expectations."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import make_windows
from keras_bert.text.qa import (
    answer_char_span,
    byte_to_char,
    char_to_byte,
    decode_spans,
    qa_training_features,
    window_targets,
)

CONTEXT = "one two three four five six seven eight nine ten eleven twelve"
# "who ?" is 2 question tokens; sequence_length 12 leaves 12 - 3 - 2 = 7 context tokens per window and
# stride 3 gives windows over tokens [0, 7), [3, 10), [6, 12). Context tokens start at position 4.
LENGTH, STRIDE = 12, 3


def _windows(uncased, contexts=(CONTEXT,), questions=("who?",)):
    return make_windows(uncased, list(contexts), sequence_length=LENGTH, stride=STRIDE, questions=list(questions))


def _answer(text, context=CONTEXT):
    return {"text": [text], "answer_start": [context.index(text)]}


def test_windows_point_at_the_answer_or_cls(uncased):
    w = _windows(uncased, [CONTEXT] * 3, ["who?"] * 3)
    assert w["window_start"].numpy().tolist() == [0, 3, 6] * 3
    spans = [answer_char_span(CONTEXT, _answer(a)) for a in ("five six", "ten eleven")] + [None]
    b_start = [char_to_byte(CONTEXT, s[0]) if s else -1 for s in spans]
    b_end = [char_to_byte(CONTEXT, s[1]) if s else -1 for s in spans]
    starts, ends = window_targets(w, tf.constant(b_start, tf.int64), tf.constant(b_end, tf.int64))
    # "five six" = tokens 4, 5: window 0 at 4 + 4, window 1 at 4 + 1; window 2 starts at token 6.
    # "ten eleven" = tokens 9, 10: only window 2 (tokens 6..11) holds both, at 4 + 3.
    assert starts.numpy().tolist() == [8, 5, 0, 0, 0, 7, 0, 0, 0]
    assert ends.numpy().tolist() == [9, 6, 0, 0, 0, 8, 0, 0, 0]


def test_answer_inside_a_word_covers_the_whole_token(uncased):
    w = _windows(uncased)
    # "ive si" overlaps "five" (token 4) and "six" (token 5).
    start = CONTEXT.index("ive si")
    starts, ends = window_targets(w, tf.constant([start], tf.int64), tf.constant([start + 6], tf.int64))
    assert starts.numpy().tolist() == [8, 5, 0] and ends.numpy().tolist() == [9, 6, 0]


def test_training_features_pad_and_label(uncased):
    f = qa_training_features(uncased, ["who?", "who?"], [CONTEXT, CONTEXT], [_answer("twelve"), {"text": [],
                             "answer_start": []}], sequence_length=16, stride=STRIDE)
    # sequence_length 16: 11 context tokens per window, windows [0, 11), [3, 12).
    assert f["token_ids"].shape == (4, 16)
    assert f["window_doc"].tolist() == [0, 0, 1, 1]
    assert f["start_positions"].tolist() == [0, 4 + 8, 0, 0]
    assert f["end_positions"].tolist() == [0, 4 + 8, 0, 0]
    assert uncased.id_to_token(int(f["token_ids"][1, 12])) == "twelve"


def test_answer_offsets_are_checked():
    assert answer_char_span("a cat", None) is None
    assert answer_char_span("a cat", [{"text": "cat", "answer_start": 2}]) == (2, 5)
    assert answer_char_span("a cat", {"text": "cat", "answer_start": 2}) == (2, 5)
    with pytest.raises(ValueError, match="answer 'cat' is not at character 1"):
        answer_char_span("a cat", {"text": ["cat"], "answer_start": [1]}, where="x")


def test_byte_and_char_offsets_round_trip_on_non_ascii():
    text = "Zoë met Ólafur in Kraków 🙂 in 1999"
    for i in range(len(text) + 1):
        assert byte_to_char(text, char_to_byte(text, i)) == i
    assert char_to_byte(text, text.index("met")) == 5


def _logits(n_windows=3, base=-5.0):
    return np.full((n_windows, LENGTH), base, np.float32), np.full((n_windows, LENGTH), base, np.float32)


def _pos(window, token):
    return 4 + token - [0, 3, 6][window]


def _decoded_text(out, context=CONTEXT, doc=0):
    b = context.encode()
    return b[out["byte_start"][doc]:out["byte_end"][doc]].decode()


def _decode(uncased, start, end, **kwargs):
    w = _windows(uncased)
    out = decode_spans(tf.constant(start), tf.constant(end), w, **kwargs)
    return {k: v.numpy() for k, v in out.items()}


def test_best_span_over_all_windows(uncased):
    start, end = _logits()
    start[0, _pos(0, 1)], end[0, _pos(0, 2)] = 3.0, 3.0      # "two three": 6
    start[1, _pos(1, 5)], end[1, _pos(1, 6)] = 5.0, 5.0      # "six seven": 10
    start[:, 0] = end[:, 0] = 1.0                              # null score 2
    out = _decode(uncased, start, end)
    assert _decoded_text(out) == "six seven"
    assert out["window"][0] == 1 and out["has_answer"][0]
    np.testing.assert_allclose(out["span_score"][0], 10.0)
    np.testing.assert_allclose(out["null_score"][0], 2.0)
    # score = softmax(start)[6] * softmax(end)[7] in window 1, computed by hand.
    row = np.full(LENGTH, -5.0)
    row[0], row[_pos(1, 5)] = 1.0, 5.0
    p = np.exp(5.0) / np.exp(row).sum()
    np.testing.assert_allclose(out["score"][0], p * p, rtol=1e-5)


def test_start_must_have_max_context(uncased):
    start, end = _logits()
    # "six" (token 5) sits at offset 5 of window 0 (min(5, 1) = 1) and offset 2 of window 1 (min(2, 4) = 2),
    # so only window 1 may start a span there; "seven" (token 6) has its max context in window 1 (3 vs 0).
    start[0, _pos(0, 5)], end[0, _pos(0, 5)] = 9.0, 9.0
    start[1, _pos(1, 6)], end[1, _pos(1, 6)] = 1.0, 1.0
    assert _decoded_text(_decode(uncased, start, end, max_answer_length=1)) == "seven"
    start[1, _pos(1, 5)] = 9.0
    assert _decoded_text(_decode(uncased, start, end, max_answer_length=1)) == "six"


def test_end_before_start_and_question_positions_are_skipped(uncased):
    start, end = _logits(base=-100.0)
    start[0, 1] = end[0, 2] = 50.0                             # question tokens
    start[0, _pos(0, 3)], end[0, _pos(0, 1)] = 20.0, 20.0     # end before start
    start[0, _pos(0, 2)], end[0, _pos(0, 2)] = 3.0, 2.0       # "three": the best allowed span (5)
    assert _decoded_text(_decode(uncased, start, end)) == "three"


def test_max_answer_length(uncased):
    start, end = _logits(base=-100.0)
    start[0, _pos(0, 0)], end[0, _pos(0, 3)] = 15.0, 14.0     # "one two three four": 29, 4 tokens
    start[0, _pos(0, 2)], end[0, _pos(0, 2)] = 3.0, 2.0
    # length 3: "one two three" (15 + 2); length 2: "three four" (3 + 14).
    assert _decoded_text(_decode(uncased, start, end, max_answer_length=4)) == "one two three four"
    assert _decoded_text(_decode(uncased, start, end, max_answer_length=3)) == "one two three"
    assert _decoded_text(_decode(uncased, start, end, max_answer_length=2)) == "three four"
    assert _decoded_text(_decode(uncased, start, end, max_answer_length=1)) == "three"


def test_null_threshold(uncased):
    start, end = _logits()
    start[1, _pos(1, 5)], end[1, _pos(1, 6)] = 4.0, 4.0       # best span 8
    start[:, 0] = end[:, 0] = np.array([[6.0], [4.5], [5.0]])[:, 0]  # null scores 12, 9, 10 -> min 9
    assert _decoded_text(_decode(uncased, start, end)) == "six seven"  # no threshold: always a span
    out = _decode(uncased, start, end, null_threshold=0.0)     # 9 - 8 > 0: unanswerable
    assert not out["has_answer"][0] and out["byte_start"][0] == -1
    np.testing.assert_allclose(out["null_score"][0], 9.0)
    row = np.full(LENGTH, -5.0)
    row[0], row[_pos(1, 5)] = 4.5, 4.0  # window 1's start row; its end row has the same values
    np.testing.assert_allclose(out["score"][0], (np.exp(4.5) / np.exp(row).sum()) ** 2, rtol=1e-5)
    assert _decoded_text(_decode(uncased, start, end, null_threshold=1.5)) == "six seven"


def _brute_force(start, end, w, max_len):
    """Every (start, end) position pair of every window, run_squad.py's filters, best per document."""
    best = {}
    token, mc, doc = w["token_index"].numpy(), w["is_max_context"].numpy(), w["window_doc"].numpy()
    bs, be = w["byte_start"].numpy(), w["byte_end"].numpy()
    for n in range(len(doc)):
        for i, j in itertools.product(range(start.shape[1]), repeat=2):
            if token[n, i] < 0 or token[n, j] < 0 or not mc[n, i] or j < i or j - i + 1 > max_len:
                continue
            score = start[n, i] + end[n, j]
            if doc[n] not in best or score > best[doc[n]][0]:
                best[doc[n]] = (score, bs[n, i], be[n, j])
    return best


def test_matches_brute_force_on_random_logits(uncased):
    contexts = [CONTEXT, "Zoë met Ólafur in Kraków in 1999, then left for Reykjavík.", "tiny", CONTEXT[:30]]
    w = make_windows(uncased, contexts, sequence_length=LENGTH, stride=2, questions=["who?"] * 4)
    rng = np.random.default_rng(0)
    for trial in range(5):
        shape = w["token_ids"].shape
        start = rng.normal(size=shape).astype(np.float32)
        end = rng.normal(size=shape).astype(np.float32)
        out = decode_spans(tf.constant(start), tf.constant(end), w, n_best=LENGTH, max_answer_length=3)
        expected = _brute_force(start, end, w, 3)
        for d in range(len(contexts)):
            assert (out["byte_start"][d].numpy(), out["byte_end"][d].numpy()) == expected[d][1:]
            np.testing.assert_allclose(out["span_score"][d].numpy(), expected[d][0], rtol=1e-6)


def test_decoding_runs_inside_tf_function(uncased):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)])
    def run(questions, contexts):
        w = make_windows(uncased, contexts, sequence_length=LENGTH, stride=STRIDE, questions=questions)
        logits = tf.cast(tf.equal(w["token_index"], 5), tf.float32) * 10.0  # everything on "six"
        return decode_spans(logits, logits, w)

    out = run(tf.constant(["who?"]), tf.constant([CONTEXT]))
    assert _decoded_text({k: v.numpy() for k, v in out.items()}) == "six"


def test_bad_decoding_options(uncased):
    start, end = _logits()
    with pytest.raises(ValueError, match="n_best and max_answer_length must be >= 1"):
        _decode(uncased, start, end, n_best=0)


def test_decoding_options_defaults_and_errors():
    from keras_bert.text.qa import decoding_options

    assert decoding_options(384) == {"stride": 128, "max_answer_length": 30, "n_best": 20, "null_threshold": None,
                                     "max_question_length": 64}
    assert decoding_options(64, null_threshold="0.5")["max_question_length"] == 32
    assert decoding_options(64, null_threshold="0.5")["null_threshold"] == 0.5
    with pytest.raises(ValueError, match="stride must be >= 1; got 0"):
        decoding_options(64, stride=0)
    with pytest.raises(ValueError, match="max_answer_length and n_best must be >= 1"):
        decoding_options(64, n_best=0)
    with pytest.raises(ValueError, match=r"max_question_length must be between 1 and sequence_length - 4 \(60\)"):
        decoding_options(64, max_question_length=61)
