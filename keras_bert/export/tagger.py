"""Export module for BertTokenClassifier: per-token tags and entity spans from raw strings.

`serving_default(text [B] string)` returns padded tensors (T = tokens of the
longest text, E = most entities in one text):
  token_labels   [B, T] string  tag of each token that starts a word, "" elsewhere
  token_start, token_end [B, T] int64  character offsets of each token, -1 on padding
  entity_labels  [B, E] string  entity type ("PER"), "" on padding
  entity_start, entity_end [B, E] int64  CHARACTER (Unicode code point) offsets
                 into the input string, [start, end) - Python str indices; -1 on padding
  entity_scores  [B, E] float32  mean probability of the chosen tags over the entity's words
  num_entities   [B] int32
Texts longer than the window are split into overlapping windows and stitched
(see keras_bert.pipelines.tag). Entities follow seqeval's chunk rules
(keras_bert.metrics.ner.get_entities), computed in the graph.
`predict_ids(token_ids, segment_ids, padding_mask)` returns `label_ids`
[B, S] int32 (-1 off word starts), `labels` [B, S] string and `scores`
[B, S] for a packed batch, decoded per row (Viterbi with a CRF).
"""

import tensorflow as tf

from keras_bert.export.signatures import attach_model, ids_signature

PREFIX_CODES = {"O": 0, "B": 1, "I": 2, "E": 3, "S": 4}


def _tables(labels):
    """Per label: prefix code and entity-type index (-1 for O); and the type names."""
    types = sorted({label.partition("-")[2] for label in labels if label != "O"})
    prefixes = [PREFIX_CODES[label[0]] if label != "O" else 0 for label in labels]
    type_ids = [types.index(label.partition("-")[2]) if label != "O" else -1 for label in labels]
    return prefixes, type_ids, types


def chunk_entities(tag_ids, num_words, prefix_table, type_table):
    """seqeval's chunking, vectorised. `tag_ids` [B, W] int (padding arbitrary), `num_words` [B].

    Returns ragged [B, None] (first word, last word, type index) of each entity.
    """
    tag_ids = tf.cast(tag_ids, tf.int32)
    num_words = tf.cast(num_words, tf.int32)
    w = tf.shape(tag_ids)[1]
    valid = tf.sequence_mask(num_words, w + 1)
    # One extra "O" column closes the last chunk, as seqeval appends an "O".
    padded = tf.pad(tag_ids, [[0, 0], [0, 1]])
    tag = tf.where(valid, tf.gather(prefix_table, padded), 0)
    typ = tf.where(valid, tf.gather(type_table, padded), -1)
    prev_tag = tf.pad(tag[:, :-1], [[0, 0], [1, 0]])
    prev_typ = tf.pad(typ[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    o, b, i, e, s = (tf.equal(tag, k) for k in range(5))
    po, pb, pi, pe, ps = (tf.equal(prev_tag, k) for k in range(5))
    type_change = tf.not_equal(prev_typ, typ)
    ends = pe | ps | ((pb | pi) & (b | s | o)) | (~po & type_change)  # a chunk ended at the previous word
    starts = b | s | ((pe | ps | po) & (e | i)) | (~o & type_change)
    positions = tf.broadcast_to(tf.range(w + 1)[None, :], tf.shape(tag))
    first = tf.ragged.boolean_mask(positions, starts)
    last = tf.ragged.boolean_mask(positions, ends) - 1
    types = tf.ragged.boolean_mask(typ, starts)
    return first, last, types


class TaggerModule(tf.Module):
    """Holds the token classifier, its tokenizer (vocab asset inside) and its label names."""

    def __init__(self, model, preprocessor, stride=None):
        super().__init__()
        from keras_bert.text.tagging import continuation_table

        attach_model(self, model)
        self.preprocessor = preprocessor
        self.tokenizer = preprocessor.tokenizer
        self.sequence_length = int(preprocessor.sequence_length)
        self.stride = int(stride) if stride is not None else max(1, (self.sequence_length - 2) // 2)
        self.labels = tf.constant(model.labels)
        prefixes, type_ids, types = _tables(model.labels)
        self.prefix_table = tf.constant(prefixes, tf.int32)
        self.type_table = tf.constant(type_ids, tf.int32)
        self.types = tf.constant(types or [""])
        self.is_continuation = tf.constant(continuation_table(self.tokenizer))

    def ids_outputs(self, inputs):
        logits = tf.cast(self.model(inputs, training=False), tf.float32)
        starts_word = (tf.logical_not(tf.gather(self.is_continuation, inputs["token_ids"]))
                       & tf.not_equal(inputs["padding_mask"], 0)
                       & tf.not_equal(inputs["token_ids"], self.tokenizer.cls_id)
                       & tf.not_equal(inputs["token_ids"], self.tokenizer.sep_id))
        tags = tf.cast(self.model.decode(logits, starts_word), tf.int32)
        probs = tf.convert_to_tensor(self.model.tag_probabilities(logits, starts_word))
        label_ids = tf.where(starts_word, tags, -1)
        return {"label_ids": label_ids, "labels": tf.where(starts_word, tf.gather(self.labels, tags), ""),
                "scores": tf.where(starts_word, tf.gather(probs, tags, batch_dims=2), 0.0)}

    def text_outputs(self, text):
        from keras_bert.pipelines.tag import word_predictions

        p = word_predictions(self.model, self.tokenizer, self.is_continuation, text, self.sequence_length,
                             self.stride)
        token_ids = p["token_tag_ids"].to_tensor(default_value=-1)
        num_words = tf.cast(p["word_tag_ids"].row_lengths(), tf.int32)
        word_tags = p["word_tag_ids"].to_tensor(default_value=0)
        first, last, types = chunk_entities(word_tags, num_words, self.prefix_table, self.type_table)
        word_start = p["word_start"].to_tensor(default_value=-1)
        word_end = p["word_end"].to_tensor(default_value=-1)
        # Mean word score over each entity from a running sum.
        cumulative = tf.pad(tf.cumsum(p["word_scores"].to_tensor(), axis=1), [[0, 0], [1, 0]])
        f, la = first.to_tensor(default_value=0), last.to_tensor(default_value=0)
        present = tf.sequence_mask(first.row_lengths(), tf.shape(f)[1])
        total = tf.gather(cumulative, la + 1, batch_dims=1) - tf.gather(cumulative, f, batch_dims=1)
        scores = total / tf.cast(tf.maximum(la - f + 1, 1), tf.float32)
        return {
            "token_labels": tf.where(token_ids >= 0, tf.gather(self.labels, tf.maximum(token_ids, 0)), ""),
            "token_start": p["token_start"].to_tensor(default_value=-1),
            "token_end": p["token_end"].to_tensor(default_value=-1),
            "entity_labels": tf.where(present, tf.gather(self.types, tf.maximum(types.to_tensor(), 0)), ""),
            "entity_start": tf.where(present, tf.gather(word_start, f, batch_dims=1), -1),
            "entity_end": tf.where(present, tf.gather(word_end, la, batch_dims=1), -1),
            "entity_scores": tf.where(present, scores, 0.0),
            "num_entities": tf.cast(first.row_lengths(), tf.int32),
        }


def build(model, preprocessor, stride=None):
    """(module, signatures) for a BertTokenClassifier; windows of the preprocessor's sequence length.

    `stride`: step between window starts for long texts (default half a window).
    """
    module = TaggerModule(model, preprocessor, stride)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_text(text):
        return module.text_outputs(text)

    return module, {"serving_default": serve_text, "predict_ids": ids_signature(module.ids_outputs)}
