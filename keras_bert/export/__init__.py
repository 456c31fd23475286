"""SavedModel export for TF Serving (TensorFlow only)."""

from keras_bert.export.saved_model import export, next_version

__all__ = ["export", "next_version"]
