"""Evaluation metrics computed in Python on decoded predictions (no model code)."""
