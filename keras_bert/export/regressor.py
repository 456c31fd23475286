"""Export module for BertRegressor: text (or text pair) -> real-valued scores."""

from keras_bert.export.signatures import single_output_signatures


def build(model, preprocessor, pairs=False):
    """Signatures return `scores` [B, num_outputs] float32, on the targets' original scale."""
    return single_output_signatures(model, preprocessor, "scores", pairs)
