"""Input checks and batching shared by the pipelines."""

import numpy as np

__all__ = ["as_text_list"]


def as_text_list(texts, what="texts"):
    """A list of str from a str or a list/tuple of str; TypeError naming the first bad item."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, bytes) or texts is None or not hasattr(texts, "__iter__"):
        raise TypeError(f"{what} must be a str or a list of str, got {type(texts).__name__}")
    texts = list(texts.tolist() if isinstance(texts, np.ndarray) else texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(t).__name__} {t!r:.40}")
    return texts


def resolve_preprocessing(model, tokenizer, sequence_length):
    """(tokenizer, sequence_length) from a BertTokenizer or a BertPreprocessor and the model's limit."""
    from keras_bert.text import BertPreprocessor, BertTokenizer

    if isinstance(tokenizer, BertPreprocessor):
        sequence_length = sequence_length or tokenizer.sequence_length
        tokenizer = tokenizer.tokenizer
    if not isinstance(tokenizer, BertTokenizer):
        raise TypeError(f"tokenizer must be a keras_bert BertTokenizer or BertPreprocessor, "
                        f"got {type(tokenizer).__name__}")
    limit = model.encoder.config.max_position_embeddings
    sequence_length = int(sequence_length or min(512, limit))
    if not 3 <= sequence_length <= limit:
        raise ValueError(f"sequence_length must be between 3 and the model's max_position_embeddings ({limit}); "
                         f"got {sequence_length}")
    return tokenizer, sequence_length


def run_model(model, features, batch_size):
    """The model's float32 outputs over a features dict [N, S], `batch_size` rows at a time."""
    n = int(features["token_ids"].shape[0])
    outputs = [np.asarray(model.predict_on_batch({k: v[i:i + batch_size] for k, v in features.items()}),
                          np.float32) for i in range(0, n, batch_size)]
    return np.concatenate(outputs) if outputs else None
