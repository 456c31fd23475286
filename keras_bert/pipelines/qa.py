"""QuestionAnswerer: raw question/context strings in, answer text and character offsets out."""

import numpy as np

from keras_bert.pipelines._common import as_text_list, resolve_preprocessing

__all__ = ["QuestionAnswerer"]


class QuestionAnswerer:
    """Extractive QA with a `BertSpanQA` model over contexts of any length.

    Each context is cut into `[CLS] question [SEP] window [SEP]` windows of
    `sequence_length` tokens, window k starting `k * stride` context tokens
    in (`keras_bert.text.make_windows`); the best span over all windows is
    chosen by `keras_bert.text.qa.decode_spans` (top `n_best` starts x ends,
    at most `max_answer_length` tokens). With `null_threshold` set the answer
    is "" when `null_score - best_span_score > null_threshold` (SQuAD 2.0);
    with None a span is always returned when the context has one. Questions
    are cut to `max_question_length` tokens (default min(64, sequence_length // 2)).

    `qa(questions, contexts)` -> [{"answer", "start", "end", "score"}]:
    `context[start:end] == answer` (character offsets into the str;
    0, 0 and "" when unanswerable); `score` is P(start) * P(end) of the
    answer in its window (for "", that of [CLS]).
    """

    def __init__(self, model, tokenizer, sequence_length=384, stride=128, max_answer_length=30, n_best=20,
                 null_threshold=None, max_question_length=None, batch_size=32):
        from keras_bert.text.qa import decoding_options

        self.model = model
        self.tokenizer, self.sequence_length = resolve_preprocessing(model, tokenizer, sequence_length)
        for name, value in decoding_options(self.sequence_length, stride, max_answer_length, n_best,
                                            null_threshold, max_question_length).items():
            setattr(self, name, value)
        self.batch_size = int(batch_size)

    def logits(self, windows):
        """Start/end logits [N, S] (float32) of the model over `windows`, batch by batch."""
        inputs = {k: windows[k].numpy() for k in ("token_ids", "segment_ids", "padding_mask")}
        n = inputs["token_ids"].shape[0]
        parts = [self.model.predict_on_batch({k: v[i:i + self.batch_size] for k, v in inputs.items()})
                 for i in range(0, n, self.batch_size)]
        return tuple(np.concatenate([np.asarray(p[name], np.float32) for p in parts])
                     for name in ("start_logits", "end_logits"))

    def __call__(self, questions, contexts):
        import tensorflow as tf

        from keras_bert.text import make_windows
        from keras_bert.text.qa import byte_to_char, decode_spans

        single = isinstance(questions, str) and isinstance(contexts, str)
        questions, contexts = as_text_list(questions, "questions"), as_text_list(contexts, "contexts")
        if len(questions) != len(contexts):
            raise ValueError(f"got {len(questions)} questions for {len(contexts)} contexts")
        results = []
        # Documents in groups, so one long context does not hold every window in memory at once.
        for lo in range(0, len(contexts), self.batch_size):
            q, c = questions[lo:lo + self.batch_size], contexts[lo:lo + self.batch_size]
            windows = make_windows(self.tokenizer, c, sequence_length=self.sequence_length, stride=self.stride,
                                   questions=q, max_question_length=self.max_question_length)
            start, end = self.logits(windows)
            out = decode_spans(tf.constant(start), tf.constant(end), windows, num_docs=len(c), n_best=self.n_best,
                               max_answer_length=self.max_answer_length, null_threshold=self.null_threshold)
            out = {k: v.numpy() for k, v in out.items()}
            for i, context in enumerate(c):
                if out["has_answer"][i]:
                    s = byte_to_char(context, int(out["byte_start"][i]))
                    e = byte_to_char(context, int(out["byte_end"][i]))
                else:
                    s = e = 0
                results.append({"answer": context[s:e], "start": s, "end": e, "score": float(out["score"][i])})
        return results[0] if single else results
