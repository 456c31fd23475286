"""SentenceEmbedder: raw strings -> sentence embeddings with a BertEmbedder."""

import numpy as np

from keras_bert.pipelines._common import as_text_list, resolve_preprocessing, run_model

__all__ = ["SentenceEmbedder"]


class SentenceEmbedder:
    """Embeds raw strings with a BertEmbedder; texts longer than `sequence_length` are truncated.

    `embedder(texts)` takes a str or a list of str and returns a float32
    numpy array [N, H] (rows L2-normalised if the embedder normalises); an
    empty list gives [0, H]. An empty string is embedded from `[CLS] [SEP]`.
    A non-str item raises TypeError. `similarity(a, b)` is the cosine
    similarity matrix [len(a), len(b)].
    """

    def __init__(self, model, tokenizer, sequence_length=None, batch_size=32):
        if not hasattr(model, "encoder") or not hasattr(model, "pooling"):
            raise TypeError(f"model must be a keras_bert BertEmbedder, got {type(model).__name__}")
        from keras_bert.text import BertPreprocessor

        self.model = model
        self.tokenizer, self.sequence_length = resolve_preprocessing(model, tokenizer, sequence_length)
        self.preprocessor = BertPreprocessor(self.tokenizer, self.sequence_length)
        self.batch_size = int(batch_size)

    def __call__(self, texts):
        texts = as_text_list(texts, "texts")
        if not texts:
            return np.zeros((0, self.model.encoder.config.hidden_size), np.float32)
        return run_model(self.model, self.preprocessor(texts), self.batch_size)

    def similarity(self, texts_a, texts_b):
        a, b = self(texts_a), self(texts_b)
        a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
        b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
        return a @ b.T
