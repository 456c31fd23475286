"""Export module for BertEmbedder: text -> sentence embeddings."""

from keras_bert.export.signatures import single_output_signatures


def build(model, preprocessor, pairs=False):
    """Signatures return `embeddings` [B, H] float32 (L2-normalised if the embedder normalises)."""
    return single_output_signatures(model, preprocessor, "embeddings", pairs)
