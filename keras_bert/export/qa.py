"""Export module for BertSpanQA: raw question + context strings in, answer text and offsets out.

The whole inference runs in the graph: `make_windows` cuts each context into
`[CLS] question [SEP] window [SEP]` windows (doc stride), the model scores
every window, `decode_spans` picks the best span over a context's windows,
and byte offsets are turned into CHARACTER offsets (code points, the indices
of a Python str) with `byte_to_char_offsets`.
"""

import tensorflow as tf

from keras_bert.export.signatures import attach_model, ids_signature
from keras_bert.text.qa import decoding_options


class QAModule(tf.Module):
    """Holds the span-QA model, its tokenizer (vocab asset inside) and the decoding options."""

    def __init__(self, model, preprocessor, stride=128, max_answer_length=30, n_best=20, null_threshold=None,
                 max_question_length=None):
        super().__init__()
        attach_model(self, model)  # variables once, no optimizer slots; loadable by TF Serving
        self.tokenizer = getattr(preprocessor, "tokenizer", preprocessor)
        self.sequence_length = int(preprocessor.sequence_length)
        for name, value in decoding_options(self.sequence_length, stride, max_answer_length, n_best,
                                            null_threshold, max_question_length).items():
            setattr(self, name, value)

    def logits(self, inputs):
        out = self.model(inputs, training=False)
        return {name: tf.cast(out[name], tf.float32) for name in ("start_logits", "end_logits")}

    def answer(self, question, context):
        from keras_bert.text import byte_to_char_offsets, make_windows
        from keras_bert.text.qa import decode_spans

        windows = make_windows(self.tokenizer, context, sequence_length=self.sequence_length, stride=self.stride,
                               questions=question, max_question_length=self.max_question_length)
        logits = self.logits({k: windows[k] for k in ("token_ids", "segment_ids", "padding_mask")})
        best = decode_spans(logits["start_logits"], logits["end_logits"], windows, num_docs=tf.shape(context)[0],
                            n_best=self.n_best, max_answer_length=self.max_answer_length,
                            null_threshold=self.null_threshold)
        has = best["has_answer"]
        b_start = tf.where(has, best["byte_start"], 0)
        b_end = tf.where(has, best["byte_end"], 0)
        chars = byte_to_char_offsets(context, tf.RaggedTensor.from_tensor(tf.stack([b_start, b_end], axis=1)))
        chars = chars.to_tensor()
        return {"answer": tf.strings.substr(context, b_start, b_end - b_start, unit="BYTE"),
                "answer_start": chars[:, 0], "answer_end": chars[:, 1], "score": best["score"], "has_answer": has}


def build(model, preprocessor, stride=128, max_answer_length=30, n_best=20, null_threshold=None,
          max_question_length=None):
    """Signatures for a BertSpanQA model.

    `serving_default`: `question`, `context` ([None] tf.string) -> `answer`
    (string, "" when unanswerable), `answer_start` / `answer_end` (int64
    CHARACTER offsets into the context; 0, 0 for ""), `score` (float32,
    P(start) * P(end) of the answer in its window) and `has_answer` (bool).
    Contexts longer than one window (the preprocessor's `sequence_length`)
    are windowed with `stride`; `null_threshold` as in
    `keras_bert.text.qa.decode_spans`.
    `predict_ids`: token_ids, segment_ids, padding_mask -> `start_logits`,
    `end_logits` [B, S].
    """
    module = QAModule(model, preprocessor, stride=stride, max_answer_length=max_answer_length, n_best=n_best,
                      null_threshold=null_threshold, max_question_length=max_question_length)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="question"),
                                  tf.TensorSpec([None], tf.string, name="context")])
    def serve(question, context):
        return module.answer(question, context)

    return module, {"serving_default": serve, "predict_ids": ids_signature(module.logits)}
