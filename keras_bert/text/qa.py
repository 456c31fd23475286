"""Extractive QA features and span decoding (SQuAD v1.1 / v2.0), as TensorFlow graph code.

Each (question, context) pair becomes one or more `[CLS] question [SEP] window
[SEP]` windows (`make_windows`: doc stride, byte offsets, max-context flags).

Training: `window_targets` maps each document's answer (a BYTE span of the
context) to token start/end positions in every window that holds the whole
answer; other windows, and unanswerable questions, point at [CLS] (position
0), as in SQuAD 2.0 training. `qa_training_features` does this for Python
lists with CHARACTER answer offsets (SQuAD's `answer_start`).

Inference: `decode_spans` takes the model's start/end logits for all windows
and returns, per document, the best span over every window (run_squad.py's
n-best rule: top-k starts x top-k ends, end >= start, at most
`max_answer_length` tokens, starts only where the token has its max
context, positions inside the context only) and the null ([CLS]) score.
With `null_threshold` set, a document is unanswerable when
`null_score - best_span_score > null_threshold` (run_squad.py's
`null_score_diff_threshold`; the null score is the lowest over the
document's windows).
"""

import numpy as np
import tensorflow as tf

from keras_bert.text.windows import make_windows

_NEG_INF = float("-inf")


def _take(values, index):
    """values [N, S], index [N] -> values[n, index[n]]."""
    return tf.gather(values, index, batch_dims=1)


def window_targets(windows, answer_byte_start, answer_byte_end):
    """Start/end positions [N] (int32) of each document's answer in each of its windows.

    `answer_byte_start/end` [B] int: the answer's `[start, end)` byte span in
    the context, `end <= start` (e.g. -1, -1) for no answer. A window gets the
    positions of the first and last context tokens overlapping the answer if
    it holds all of them, else 0 ([CLS]).
    """
    doc = tf.cast(windows["window_doc"], tf.int64)
    num_docs = tf.shape(windows["num_doc_tokens"], out_type=tf.int64)[0]
    a_start = tf.gather(tf.cast(answer_byte_start, tf.int64), doc)[:, None]
    a_end = tf.gather(tf.cast(answer_byte_end, tf.int64), doc)[:, None]
    token = tf.cast(windows["token_index"], tf.int64)
    overlap = ((token >= 0) & (windows["byte_end"] > a_start) & (windows["byte_start"] < a_end)
               & (a_end > a_start))
    big = tf.constant(np.iinfo(np.int64).max, tf.int64)
    first = tf.gather(tf.math.unsorted_segment_min(tf.reduce_min(tf.where(overlap, token, big), 1), doc,
                                                   num_docs), doc)
    last = tf.gather(tf.math.unsorted_segment_max(tf.reduce_max(tf.where(overlap, token, -1), 1), doc,
                                                  num_docs), doc)
    w_start = tf.cast(windows["window_start"], tf.int64)
    w_end = w_start + tf.cast(windows["window_length"], tf.int64)
    contains = (last >= 0) & (w_start <= first) & (last < w_end)
    start_pos = tf.argmax(tf.cast(tf.equal(token, first[:, None]), tf.int32), axis=1, output_type=tf.int32)
    end_pos = tf.argmax(tf.cast(tf.equal(token, last[:, None]), tf.int32), axis=1, output_type=tf.int32)
    zero = tf.zeros_like(start_pos)
    return tf.where(contains, start_pos, zero), tf.where(contains, end_pos, zero)


def char_to_byte(text, char_offset):
    """Character offset into the Python str `text` -> byte offset into its UTF-8 encoding."""
    return len(text[:char_offset].encode("utf-8", errors="surrogatepass"))


def byte_to_char(text, byte_offset):
    """Byte offset into `text`'s UTF-8 encoding (on a character boundary) -> character offset."""
    return len(text.encode("utf-8", errors="surrogatepass")[:byte_offset].decode("utf-8", errors="ignore"))


def answer_char_span(context, answer, where="example"):
    """(start, end) character span of the first answer in `answer`, or None for no answer.

    `answer`: None, {"text": [...], "answer_start": [...]} (Hugging Face
    `datasets` layout), {"text": str, "answer_start": int}, or a list of
    {"text", "answer_start"} dicts (SQuAD JSON). The text must be at the
    offset in `context`.
    """
    if answer is None:
        return None
    if isinstance(answer, (list, tuple)):
        answer = {"text": [a["text"] for a in answer], "answer_start": [a["answer_start"] for a in answer]}
    texts, starts = answer.get("text"), answer.get("answer_start")
    if isinstance(texts, str):
        texts, starts = [texts], [starts]
    if not texts:
        return None
    text, start = texts[0], int(starts[0])
    if not text:
        return None
    if context[start:start + len(text)] != text:
        raise ValueError(f"{where}: answer {text!r} is not at character {start} of the context "
                         f"(found {context[start:start + len(text)]!r})")
    return start, start + len(text)


def qa_training_features(tokenizer, questions, contexts, answers, sequence_length=384, stride=128,
                         max_question_length=64, chunk_size=256):
    """Windows with start/end targets for Python lists, padded to `sequence_length`.

    `answers[i]`: see `answer_char_span` (None or empty = unanswerable).
    Returns numpy arrays: token_ids, segment_ids, padding_mask [N, L] int32,
    start_positions, end_positions, window_doc [N] int32.
    """
    if not len(questions) == len(contexts) == len(answers):
        raise ValueError(f"got {len(questions)} questions, {len(contexts)} contexts and "
                         f"{len(answers)} answers; they must match")
    parts = {k: [] for k in ("token_ids", "segment_ids", "padding_mask", "start_positions", "end_positions",
                             "window_doc")}
    for lo in range(0, len(contexts), chunk_size):
        q, c = list(questions[lo:lo + chunk_size]), list(contexts[lo:lo + chunk_size])
        spans = [answer_char_span(ctx, a, where=f"example {lo + i}")
                 for i, (ctx, a) in enumerate(zip(c, answers[lo:lo + chunk_size]))]
        b_start = [char_to_byte(ctx, s[0]) if s else -1 for ctx, s in zip(c, spans)]
        b_end = [char_to_byte(ctx, s[1]) if s else -1 for ctx, s in zip(c, spans)]
        w = make_windows(tokenizer, c, sequence_length=sequence_length, stride=stride, questions=q,
                         max_question_length=max_question_length)
        starts, ends = window_targets(w, tf.constant(b_start, tf.int64), tf.constant(b_end, tf.int64))
        for name in ("token_ids", "segment_ids", "padding_mask"):
            x = w[name].numpy()
            parts[name].append(np.pad(x, [(0, 0), (0, sequence_length - x.shape[1])]))
        parts["start_positions"].append(starts.numpy())
        parts["end_positions"].append(ends.numpy())
        parts["window_doc"].append(w["window_doc"].numpy() + lo)
    return {k: np.concatenate(v).astype(np.int32) for k, v in parts.items()}


def qa_dataset(features, batch_size=32, shuffle=False, seed=0):
    """tf.data of (inputs, {"start_logits", "end_logits"}) batches, each trimmed to its longest window."""
    inputs = {k: features[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    targets = {"start_logits": features["start_positions"], "end_logits": features["end_positions"]}
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        ds = ds.shuffle(len(features["token_ids"]), seed=seed, reshuffle_each_iteration=True)

    def trim(x, y):
        longest = tf.reduce_max(tf.reduce_sum(x["padding_mask"], axis=1))
        return {k: v[:, :longest] for k, v in x.items()}, y

    return ds.batch(batch_size).map(trim).prefetch(tf.data.AUTOTUNE)


def decoding_options(sequence_length, stride=128, max_answer_length=30, n_best=20, null_threshold=None,
                     max_question_length=None):
    """The checked span-decoding options of a QA pipeline or export, as a dict of their attribute values.

    `max_question_length` defaults to min(64, sequence_length // 2) and must leave room for
    [CLS], [SEP], one context token and [SEP]; ValueError names a bad option.
    """
    if int(stride) < 1:
        raise ValueError(f"stride must be >= 1; got {stride}")
    if int(max_answer_length) < 1 or int(n_best) < 1:
        raise ValueError(f"max_answer_length and n_best must be >= 1; got {max_answer_length}, {n_best}")
    if max_question_length is None:
        max_question_length = min(64, sequence_length // 2)
    if not 1 <= int(max_question_length) <= sequence_length - 4:
        raise ValueError(f"max_question_length must be between 1 and sequence_length - 4 "
                         f"({sequence_length - 4}); got {max_question_length}")
    return {"stride": int(stride), "max_answer_length": int(max_answer_length), "n_best": int(n_best),
            "null_threshold": None if null_threshold is None else float(null_threshold),
            "max_question_length": int(max_question_length)}


def decode_spans(start_logits, end_logits, windows, num_docs=None, n_best=20, max_answer_length=30,
                 null_threshold=None):
    """Best answer span per document from per-window logits [N, S] (graph-safe).

    Returns a dict of [B] tensors: `byte_start`, `byte_end` (int64 byte span
    in the context, -1 when no answer), `has_answer` (bool), `score` (the
    chosen span's probability P(start) * P(end) under its window's softmax;
    for no answer, that of [CLS]/[CLS] in the window with the lowest null
    score), `span_score` (start + end logit of the best span, -inf if none),
    `null_score`, and `window` / `start_position` / `end_position` (where the
    best span is).
    """
    if int(n_best) < 1 or int(max_answer_length) < 1:
        raise ValueError(f"n_best and max_answer_length must be >= 1; got {n_best}, {max_answer_length}")
    start_logits = tf.cast(start_logits, tf.float32)
    end_logits = tf.cast(end_logits, tf.float32)
    doc = tf.cast(windows["window_doc"], tf.int32)
    if num_docs is None:
        num_docs = tf.shape(windows["num_doc_tokens"])[0]
    token = tf.cast(windows["token_index"], tf.int32)
    in_context = token >= 0
    starts = tf.where(windows["is_max_context"], start_logits, _NEG_INF)
    ends = tf.where(in_context, end_logits, _NEG_INF)
    k = tf.minimum(int(n_best), tf.shape(start_logits)[1])
    s_val, s_pos = tf.math.top_k(starts, k)
    e_val, e_pos = tf.math.top_k(ends, k)
    s_tok = tf.gather(token, s_pos, batch_dims=1)
    e_tok = tf.gather(token, e_pos, batch_dims=1)
    length = e_tok[:, None, :] - s_tok[:, :, None] + 1  # [N, k, k]
    pair = s_val[:, :, None] + e_val[:, None, :]
    valid = (tf.math.is_finite(pair) & (length >= 1) & (length <= int(max_answer_length)))
    pair = tf.reshape(tf.where(valid, pair, _NEG_INF), [tf.shape(pair)[0], -1])
    best_pair = tf.argmax(pair, axis=1, output_type=tf.int32)
    w_score = _take(pair, best_pair)
    w_start = _take(s_pos, best_pair // k)
    w_end = _take(e_pos, best_pair % k)

    n = tf.shape(doc)[0]
    window_number = tf.range(n)
    has_span = tf.math.unsorted_segment_max(tf.cast(tf.math.is_finite(w_score), tf.int32), doc, num_docs) > 0
    best = tf.math.unsorted_segment_max(w_score, doc, num_docs)
    best = tf.where(has_span, best, _NEG_INF)
    big = tf.int32.max
    chosen = tf.math.unsorted_segment_min(
        tf.where(tf.equal(w_score, tf.gather(best, doc)) & tf.math.is_finite(w_score), window_number, big),
        doc, num_docs)
    chosen = tf.where(has_span, chosen, 0)

    w_null = start_logits[:, 0] + end_logits[:, 0]
    null = tf.math.unsorted_segment_min(w_null, doc, num_docs)
    null_window = tf.math.unsorted_segment_min(
        tf.where(tf.equal(w_null, tf.gather(null, doc)), window_number, big), doc, num_docs)
    null_window = tf.minimum(null_window, tf.maximum(n - 1, 0))

    has_answer = has_span
    if null_threshold is not None:
        has_answer = has_answer & (null - best <= float(null_threshold))

    log_start = tf.nn.log_softmax(start_logits, axis=1)
    log_end = tf.nn.log_softmax(end_logits, axis=1)
    c_start, c_end = tf.gather(w_start, chosen), tf.gather(w_end, chosen)
    p_span = tf.exp(_take(tf.gather(log_start, chosen), c_start) + _take(tf.gather(log_end, chosen), c_end))
    p_null = tf.exp(tf.gather(log_start[:, 0], null_window) + tf.gather(log_end[:, 0], null_window))
    byte_start = tf.where(has_answer, _take(tf.gather(windows["byte_start"], chosen), c_start), -1)
    byte_end = tf.where(has_answer, _take(tf.gather(windows["byte_end"], chosen), c_end), -1)
    return {"byte_start": tf.cast(byte_start, tf.int64), "byte_end": tf.cast(byte_end, tf.int64),
            "has_answer": has_answer, "score": tf.where(has_answer, p_span, p_null),
            "span_score": best, "null_score": null, "window": chosen,
            "start_position": c_start, "end_position": c_end}
