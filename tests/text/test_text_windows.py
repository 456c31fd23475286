"""Long-text windows against a pure-Python port of run_squad.py's doc spans and max-context rule."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import aggregate_windows, make_windows, merge_token_outputs

Span = collections.namedtuple("Span", ["start", "length"])


def google_doc_spans(n, max_tokens, stride):
    # run_squad.py, convert_examples_to_features.
    spans, start = [], 0
    while start < n:
        length = min(n - start, max_tokens)
        spans.append(Span(start, length))
        if start + length == n:
            break
        start += min(length, stride)
    return spans


def google_is_max_context(spans, cur, position):
    # run_squad.py, _check_is_max_context.
    best_score, best = None, None
    for i, span in enumerate(spans):
        end = span.start + span.length - 1
        if position < span.start or position > end:
            continue
        score = min(position - span.start, end - position) + 0.01 * span.length
        if best_score is None or score > best_score:
            best_score, best = score, i
    return cur == best


@pytest.mark.parametrize("length, stride, question", [(16, 5, None), (32, 8, None), (24, 4, "what is it about?"),
                                                     (12, 100, None)])
def test_windows_match_run_squad(uncased, movies, length, stride, question):
    texts = [" ".join(movies[i:i + 3]) for i in range(0, 30, 3)] + ["short", ""]
    questions = None if question is None else [question] * len(texts)
    w = make_windows(uncased, texts, sequence_length=length, stride=stride, questions=questions)
    full_ids, full_starts, full_ends = (t.to_list() for t in uncased.tokenize_with_offsets(texts))
    q_len = 0 if question is None else len(uncased.tokenize(question).numpy())
    max_tokens = length - (2 if question is None else 3) - q_len
    docs = w["window_doc"].numpy()
    token_ids = w["token_ids"].numpy()
    k = 0
    for d, ids in enumerate(full_ids):
        spans = google_doc_spans(len(ids), max_tokens, stride) or [Span(0, 0)]
        for i, span in enumerate(spans):
            assert docs[k] == d
            assert (w["window_start"].numpy()[k], w["window_length"].numpy()[k]) == (span.start, span.length)
            first = 1 if question is None else q_len + 2
            row = token_ids[k]
            assert row[0] == uncased.cls_id
            np.testing.assert_array_equal(row[first:first + span.length], ids[span.start:span.start + span.length])
            assert row[first + span.length] == uncased.sep_id
            for j in range(span.length):
                p = span.start + j
                assert w["token_index"].numpy()[k, first + j] == p
                assert w["byte_start"].numpy()[k, first + j] == full_starts[d][p]
                assert w["byte_end"].numpy()[k, first + j] == full_ends[d][p]
                assert bool(w["is_max_context"].numpy()[k, first + j]) == google_is_max_context(spans, i, p)
            k += 1
    assert k == len(docs)
    # Each text token is max-context in exactly one window position.
    assert w["is_max_context"].numpy().sum() == sum(len(i) for i in full_ids)


def test_merge_and_aggregate(uncased, movies):
    texts = [" ".join(movies[:5]), movies[5]]
    w = make_windows(uncased, texts, sequence_length=20, stride=6)
    merged = merge_token_outputs(tf.cast(w["token_index"], tf.float32)[..., None] * [1.0, -1.0], w)
    n = w["num_doc_tokens"].numpy()
    for d in range(2):
        np.testing.assert_array_equal(merged[d].numpy()[:, 0], np.arange(n[d]))
    logits = tf.constant(np.random.RandomState(0).randn(len(w["window_doc"]), 3), tf.float32)
    docs = w["window_doc"].numpy()
    mean = aggregate_windows(logits, w["window_doc"], num_docs=2, method="mean").numpy()
    maxed = aggregate_windows(logits, w["window_doc"], num_docs=2, method="max").numpy()
    for d in range(2):
        np.testing.assert_allclose(mean[d], logits.numpy()[docs == d].mean(0), rtol=1e-6)
        np.testing.assert_allclose(maxed[d], logits.numpy()[docs == d].max(0), rtol=1e-6)
    with pytest.raises(ValueError, match="mean"):
        aggregate_windows(logits, w["window_doc"], method="median")


def test_window_errors(uncased):
    with pytest.raises(ValueError, match="stride"):
        make_windows(uncased, ["a b"], sequence_length=16, stride=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="no room for text"):
        make_windows(uncased, ["a b"], sequence_length=8, stride=2, questions=["one two three four five six"])
