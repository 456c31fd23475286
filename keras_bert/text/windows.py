"""Long texts: overlapping windows, max-context token choice, and per-document aggregation.

`make_windows` cuts each text (optionally paired with a question, SQuAD-style
`[CLS] question [SEP] window [SEP]`) whose tokens do not fit the model into
windows of at most `sequence_length` packed tokens. Like google-research/bert's
`run_squad.py`, window k starts `k * stride` tokens into the text (`stride` is
the step, i.e. consecutive windows overlap by `window_tokens - stride`); the
last window ends at the text's last token. Every window position carries the
index of its token in the full tokenization and the token's byte offsets in
the original text (-1 on [CLS]/[SEP]/question/padding positions).

`is_max_context` marks, for each text token, the one window position where it
has the most context: score = min(tokens to the left, tokens to the right in
that window) + 0.01 * window length, first window on ties - the BERT authors'
`_check_is_max_context`. Use it to stitch per-token predictions
(`merge_token_outputs`) and `aggregate_windows` to pool per-window
classifier logits back to one row per text. All TF ops (graph/tf.data-safe).
"""

import tensorflow as tf

from keras_bert.text.basic_tokenizer import to_string_tensor
from keras_bert.text.packing import BertPacker


def _window_starts(num_tokens, window, stride):
    """Start offsets of the windows over each text (ragged [B, None])."""
    step = tf.minimum(tf.cast(stride, tf.int64), window)
    extra = tf.maximum(num_tokens - window, 0)
    count = 1 + (extra + step - 1) // step
    return tf.ragged.range(count) * tf.expand_dims(step, 1)


def make_windows(tokenizer, texts, sequence_length=512, stride=128, questions=None, max_question_length=64,
                 pad_to_multiple_of=None):
    """Tokenizes `texts` [B] (and optional `questions` [B]) into overlapping windows.

    Returns a dict; N = total windows, S = padded length:
      token_ids, segment_ids, padding_mask  int32 [N, S]  model inputs
      window_doc        int32 [N]     which input text the window belongs to
      window_start      int32 [N]     index of its first text token in the full tokenization
      window_length     int32 [N]     number of text tokens in the window
      token_index       int32 [N, S]  index of each position's token in the full tokenization, -1 elsewhere
      byte_start, byte_end  int64 [N, S]  its byte span in the original text, -1 elsewhere
      is_max_context    bool [N, S]   the window position that sees this token with most context
      num_doc_tokens    int32 [B]     tokens of each full text
    """
    texts = to_string_tensor(texts, "texts")
    if texts.shape.rank == 0:
        texts = tf.expand_dims(texts, 0)
    if int(stride) < 1:
        raise ValueError(f"stride must be >= 1; got {stride}.")
    ids, starts, ends = tokenizer.tokenize_with_offsets(texts)
    q_ids = None
    n_special = 2
    if questions is not None:
        questions = to_string_tensor(questions, "questions")
        if questions.shape.rank == 0:
            questions = tf.expand_dims(questions, 0)
        q_ids = tokenizer.tokenize(questions)[:, :max_question_length]
        n_special = 3
    q_len = q_ids.row_lengths() if q_ids is not None else tf.zeros_like(ids.row_lengths())
    window = tf.cast(sequence_length - n_special, tf.int64) - q_len  # text tokens per window, per text
    tf.debugging.assert_positive(window, message=(
        f"sequence_length {sequence_length} leaves no room for text after the question and special tokens; "
        "raise sequence_length or lower max_question_length"))
    num_tokens = ids.row_lengths()
    w_starts = _window_starts(num_tokens, window, stride)
    doc = w_starts.value_rowids()
    w_start = w_starts.flat_values
    w_len = tf.minimum(tf.gather(window, doc), tf.gather(num_tokens, doc) - w_start)
    w_len = tf.maximum(w_len, 0)  # an empty text still gets one (empty) window
    local = tf.ragged.range(w_start, w_start + w_len)  # token indices within the text, per window
    flat_index = local + tf.expand_dims(tf.gather(ids.row_starts(), doc), 1)

    def take(values):
        return tf.gather(values.flat_values, flat_index)

    segments = [take(ids)]
    context_first = 1
    if q_ids is not None:
        segments = [tf.gather(q_ids, doc), segments[0]]
        context_first = tf.gather(q_len, doc) + 2
    packer = BertPacker(sequence_length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id,
                        pad_to_multiple_of=pad_to_multiple_of)
    features = packer(segments)
    s = tf.shape(features["token_ids"], out_type=tf.int64)[1]

    # Per position: which text token it holds (-1 for specials, question and padding).
    position = tf.range(s)[None, :]
    offset = position - tf.reshape(tf.cast(context_first, tf.int64), [-1, 1])
    in_context = (offset >= 0) & (offset < w_len[:, None])
    token_index = tf.where(in_context, w_start[:, None] + offset, -1)
    global_index = tf.where(in_context, token_index + tf.gather(ids.row_starts(), doc)[:, None], 0)
    byte_start = tf.where(in_context, tf.gather(starts.flat_values, global_index), -1)
    byte_end = tf.where(in_context, tf.gather(ends.flat_values, global_index), -1)

    # Max-context choice (run_squad.py's _check_is_max_context).
    left = offset
    right = w_len[:, None] - 1 - offset
    score = tf.cast(tf.minimum(left, right), tf.float32) + 0.01 * tf.cast(w_len[:, None], tf.float32)
    score = tf.where(in_context, score, -1.0)
    total = tf.reduce_sum(num_tokens)
    flat_gid = tf.boolean_mask(global_index, in_context)
    flat_score = tf.boolean_mask(score, in_context)
    best = tf.math.unsorted_segment_max(flat_score, flat_gid, total)
    is_best = in_context & tf.equal(score, tf.gather(best, global_index))
    # First window wins ties: among positions that reach the best score, keep the lowest window number.
    window_number = tf.broadcast_to(tf.range(tf.shape(doc, out_type=tf.int64)[0])[:, None], tf.shape(score))
    candidate_window = tf.where(is_best, window_number, tf.int64.max)
    first = tf.math.unsorted_segment_min(tf.boolean_mask(candidate_window, in_context), flat_gid, total)
    is_max_context = is_best & tf.equal(window_number, tf.gather(first, global_index))

    features.update(
        window_doc=tf.cast(doc, tf.int32), window_start=tf.cast(w_start, tf.int32),
        window_length=tf.cast(w_len, tf.int32), token_index=tf.cast(token_index, tf.int32),
        byte_start=byte_start, byte_end=byte_end, is_max_context=is_max_context,
        num_doc_tokens=tf.cast(num_tokens, tf.int32))
    return features


def aggregate_windows(window_logits, window_doc, num_docs=None, method="mean"):
    """Pools per-window outputs [N, ...] into per-text outputs [B, ...] ("mean" or "max")."""
    window_doc = tf.cast(window_doc, tf.int32)
    if num_docs is None:
        num_docs = tf.reduce_max(window_doc) + 1
    if method == "mean":
        return tf.math.unsorted_segment_mean(window_logits, window_doc, num_docs)
    if method == "max":
        return tf.math.unsorted_segment_max(window_logits, window_doc, num_docs)
    raise ValueError(f"method must be 'mean' or 'max'; got {method!r}.")


def merge_token_outputs(token_outputs, windows):
    """Per-position outputs [N, S, ...] -> ragged per-text outputs [B, None, ...] in text-token order.

    Each text token takes the value from its max-context window position.
    """
    mask = windows["is_max_context"]
    doc = tf.cast(windows["window_doc"], tf.int64)
    num_tokens = tf.cast(windows["num_doc_tokens"], tf.int64)
    row_starts = tf.cumsum(num_tokens, exclusive=True)
    gid = tf.cast(windows["token_index"], tf.int64) + tf.gather(row_starts, doc)[:, None]
    values = tf.boolean_mask(token_outputs, mask)
    ids = tf.boolean_mask(gid, mask)
    flat = tf.math.unsorted_segment_sum(values, ids, tf.reduce_sum(num_tokens))
    return tf.RaggedTensor.from_row_lengths(flat, num_tokens)
