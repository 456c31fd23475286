"""TextClassifier: raw strings -> labels and probabilities, long documents by window aggregation."""

import numpy as np

from keras_bert.pipelines._common import as_text_list, resolve_preprocessing, run_model

__all__ = ["TextClassifier"]

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class TextClassifier:
    """Classifies raw strings (or string pairs) with a BertClassifier (or scores them with a BertRegressor).

    Args:
      model: a BertClassifier (single- or multi-label) or BertRegressor.
      tokenizer: a BertTokenizer, or a BertPreprocessor (its sequence length is the default).
      sequence_length: tokens per model input (default: the preprocessor's, else
        min(512, max_position_embeddings)).
      long_text: "truncate" (keep the first tokens) or "windows" (cut texts that
        do not fit into overlapping windows, run each window and pool the
        windows' logits with `aggregate`, "mean" or "max").
      stride: step between window starts in tokens (default: half a window).
      batch_size: model inputs per forward pass.

    `classifier(texts)` takes a str or a list of str and always returns a list
    with one dict per text: single-label `{"label", "score", "probabilities"}`
    (`probabilities` maps every label to its probability); multi-label adds
    `"labels"`, the labels whose probability reaches their threshold, with
    `label`/`score` the most probable one; a regressor gives `{"score"}` (or
    `{"scores"}` for several outputs). An empty string is a valid input: it is
    classified from `[CLS] [SEP]` alone. A non-str item raises TypeError.
    """

    def __init__(self, model, tokenizer, sequence_length=None, long_text="truncate", stride=None, aggregate="mean",
                 batch_size=32):
        if long_text not in ("truncate", "windows"):
            raise ValueError(f"long_text must be 'truncate' or 'windows', got {long_text!r}")
        if aggregate not in ("mean", "max"):
            raise ValueError(f"aggregate must be 'mean' or 'max', got {aggregate!r}")
        if not hasattr(model, "encoder"):
            raise TypeError(f"model must be a keras_bert task model (BertClassifier, BertRegressor), "
                            f"got {type(model).__name__}")
        self.model = model
        self.tokenizer, self.sequence_length = resolve_preprocessing(model, tokenizer, sequence_length)
        from keras_bert.text import BertPreprocessor

        self.preprocessor = BertPreprocessor(self.tokenizer, self.sequence_length)
        self.long_text = long_text
        window = self.sequence_length - 2
        self.stride = int(stride) if stride is not None else max(1, window // 2)
        if self.stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.aggregate = aggregate
        self.batch_size = int(batch_size)

    def logits(self, texts, text_pairs=None):
        """The model's outputs [N, C] for `texts` (window-aggregated with long_text="windows")."""
        texts = as_text_list(texts, "texts")
        if text_pairs is not None:
            text_pairs = as_text_list(text_pairs, "text_pairs")
            if len(text_pairs) != len(texts):
                raise ValueError(f"{len(texts)} texts but {len(text_pairs)} text_pairs")
            if self.long_text == "windows":
                raise ValueError("long_text='windows' supports single texts, not pairs; use 'truncate'")
        if not texts:
            return np.zeros((0, int(self.model.output_shape[-1])), np.float32)
        if self.long_text == "truncate":
            features = self.preprocessor(texts, text_pairs)
            return run_model(self.model, features, self.batch_size)
        from keras_bert.text import aggregate_windows, make_windows

        windows = make_windows(self.tokenizer, texts, self.sequence_length, self.stride)
        window_logits = run_model(self.model, {k: windows[k] for k in INPUT_NAMES}, self.batch_size)
        return np.asarray(aggregate_windows(window_logits, windows["window_doc"], len(texts), self.aggregate))

    def __call__(self, texts, text_pairs=None):
        outputs = self.logits(texts, text_pairs)
        if not hasattr(self.model, "labels"):  # a regressor
            return [{"score": float(row[0])} if row.shape[0] == 1 else {"scores": row.tolist()} for row in outputs]
        labels = list(self.model.labels)
        results = []
        if getattr(self.model, "multi_label", False):
            probabilities = 1 / (1 + np.exp(-outputs))
            thresholds = np.asarray(self.model.thresholds)
            for row in probabilities:
                top = int(row.argmax())
                results.append({"label": labels[top], "score": float(row[top]),
                                "labels": [lab for lab, p, t in zip(labels, row, thresholds) if p >= t],
                                "probabilities": dict(zip(labels, map(float, row)))})
            return results
        for row in _softmax(outputs):
            top = int(row.argmax())
            results.append({"label": labels[top], "score": float(row[top]),
                            "probabilities": dict(zip(labels, map(float, row)))})
        return results
