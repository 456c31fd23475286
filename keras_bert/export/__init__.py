"""SavedModel export for TF Serving (TensorFlow only)."""

from keras_bert.export.saved_model import TASK_MODULES, export, next_version, size_report

__all__ = ["TASK_MODULES", "export", "next_version", "size_report"]
