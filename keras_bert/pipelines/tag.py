"""TokenTagger: raw strings -> entities with character offsets (NER with a BertTokenClassifier).

Texts of any length: tokens are cut into overlapping windows
(`keras_bert.text.make_windows`), each token takes its logits from the window
where it has the most context (`merge_token_outputs`), and tags are decoded
over the whole text (Viterbi over all its words with a CRF). A word is a
token that is not a `##` continuation piece (see `keras_bert.text.tagging`);
its tag is the one predicted on its first sub-word, and its span runs to the
end of its last sub-word. `word_predictions` is TF graph code, shared with the
SavedModel export.
"""

import numpy as np
import tensorflow as tf

from keras_bert.pipelines._common import as_text_list, resolve_preprocessing

__all__ = ["TokenTagger", "word_predictions"]

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def word_predictions(model, tokenizer, is_continuation, texts, sequence_length, stride):
    """Per-text token and word predictions for a batch of strings `texts` [B] (graph-safe).

    `is_continuation`: bool [vocab] tensor, True for `##` pieces. Returns a dict
    of ragged tensors, offsets in characters (code points) of each text:
      token_tag_ids [B, T] (-1 off word starts), token_start, token_end [B, T]
      word_tag_ids, word_scores (probability of the chosen tag), word_start, word_end [B, W]
    """
    from keras_bert.text import byte_to_char_offsets, make_windows, merge_token_outputs

    def chars(byte_offsets):
        return tf.cast(byte_to_char_offsets(texts, byte_offsets), tf.int64)

    windows = make_windows(tokenizer, texts, sequence_length, stride)
    logits = model({k: windows[k] for k in INPUT_NAMES}, training=False)
    merged = merge_token_outputs(tf.cast(logits, tf.float32), windows)  # [B, T, L] ragged
    ids, byte_starts, byte_ends = tokenizer.tokenize_with_offsets(texts)
    lengths = ids.row_lengths()
    num_labels = len(model.labels)
    dense = merged.to_tensor(shape=[None, None, num_labels])
    starts_word = tf.logical_not(tf.gather(is_continuation, ids))
    mask = starts_word.to_tensor(default_value=False)
    tags = tf.cast(model.decode(dense, mask), tf.int32)
    probs = tf.convert_to_tensor(model.tag_probabilities(dense, mask))
    scores = tf.gather(probs, tags, batch_dims=2)

    def ragged(values):
        return tf.RaggedTensor.from_tensor(values, lengths=lengths)

    tags_r, scores_r = ragged(tags), ragged(scores)
    flat_word = starts_word.flat_values
    # The first token of a text always starts a word, so a running count numbers every token's word.
    word_of_token = tf.cumsum(tf.cast(flat_word, tf.int64)) - 1
    num_words = tf.reduce_sum(tf.cast(flat_word, tf.int64))
    word_byte_end = tf.math.unsorted_segment_max(byte_ends.flat_values, word_of_token, num_words)
    words_per_text = tf.reduce_sum(tf.cast(starts_word, tf.int64), axis=1)

    def per_word(flat):
        return tf.RaggedTensor.from_row_lengths(flat, words_per_text)

    word_byte_start = per_word(tf.boolean_mask(byte_starts.flat_values, flat_word))
    return {
        "token_tag_ids": tf.ragged.map_flat_values(tf.where, starts_word, tags_r, -1),
        "token_start": chars(byte_starts),
        "token_end": chars(byte_ends),
        "word_tag_ids": per_word(tf.boolean_mask(tags_r.flat_values, flat_word)),
        "word_scores": per_word(tf.boolean_mask(scores_r.flat_values, flat_word)),
        "word_start": chars(word_byte_start),
        "word_end": chars(per_word(word_byte_end)),
    }


class TokenTagger:
    """Finds entities in raw strings with a BertTokenClassifier.

    Args:
      model: a BertTokenClassifier (softmax or CRF).
      tokenizer: a BertTokenizer, or a BertPreprocessor (its sequence length is the default).
      sequence_length: tokens per window (default: the preprocessor's, else min(512, max positions)).
      stride: step between window starts in tokens (default: half a window).
      batch_size: texts per forward pass (a long text adds one input per window).

    `tagger(texts)` takes a str or a list of str and returns, per text, a list
    of `{"entity", "start", "end", "text", "score"}`: `start`/`end` are
    character offsets into the original str (`text == original[start:end]`),
    `score` the mean probability of the chosen tag over the entity's words
    (softmax, or CRF marginals). `tagger.word_tags(texts)` gives per text a
    list of (word, start, end, tag) for inspection.
    """

    def __init__(self, model, tokenizer, sequence_length=None, stride=None, batch_size=32):
        if not hasattr(model, "decode") or not hasattr(model, "labels"):
            raise TypeError(f"model must be a BertTokenClassifier, got {type(model).__name__}")
        self.model = model
        self.tokenizer, self.sequence_length = resolve_preprocessing(model, tokenizer, sequence_length)
        window = self.sequence_length - 2
        self.stride = int(stride) if stride is not None else max(1, window // 2)
        if self.stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.batch_size = int(batch_size)
        from keras_bert.text.tagging import continuation_table

        self.is_continuation = tf.constant(continuation_table(self.tokenizer))

    def _predict(self, texts):
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i:i + self.batch_size]
            out = word_predictions(self.model, self.tokenizer, self.is_continuation, tf.constant(batch, tf.string),
                                   self.sequence_length, self.stride)
            out = {k: v.to_list() for k, v in out.items()}
            for j, text in enumerate(batch):
                yield text, {k: v[j] for k, v in out.items()}

    def word_tags(self, texts):
        """Per text: [(word text, start, end, tag)] with character offsets."""
        labels = self.model.labels
        return [[(text[s:e], s, e, labels[t]) for s, e, t in zip(p["word_start"], p["word_end"], p["word_tag_ids"])]
                for text, p in self._predict(as_text_list(texts))]

    def __call__(self, texts):
        from keras_bert.text.tagging import entity_spans

        labels = self.model.labels
        results = []
        for text, p in self._predict(as_text_list(texts)):
            spans = list(zip(p["word_start"], p["word_end"]))
            tags = [labels[t] for t in p["word_tag_ids"]]
            results.append(entity_spans(text, spans, tags, np.asarray(p["word_scores"], np.float64)))
        return results
