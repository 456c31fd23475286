"""Evaluation figures for classification and regression (numpy only, no TensorFlow)."""

import numpy as np


def _f1(tp, fp, fn):
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def single_label(y_true, y_pred, num_classes):
    """accuracy, macro-F1 (mean over classes present in y_true or y_pred) and the per-class F1."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    onehot_true = np.eye(num_classes, dtype=bool)[y_true]
    onehot_pred = np.eye(num_classes, dtype=bool)[y_pred]
    tp = (onehot_true & onehot_pred).sum(0)
    fp = (~onehot_true & onehot_pred).sum(0)
    fn = (onehot_true & ~onehot_pred).sum(0)
    f1 = _f1(tp, fp, fn)
    present = (tp + fp + fn) > 0  # scikit-learn's convention: labels absent from both are left out
    counts = np.bincount(y_true, minlength=num_classes)
    return {"accuracy": float((y_true == y_pred).mean()),
            "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
            "per_class_f1": [float(v) for v in f1],
            "majority_accuracy": float(counts.max() / len(y_true))}


def multi_label(y_true, y_pred):
    """micro-F1, macro-F1 (over labels) and exact-match ratio for 0/1 matrices [N, L]."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    tp = (y_true & y_pred).sum(0)
    fp = (~y_true & y_pred).sum(0)
    fn = (y_true & ~y_pred).sum(0)
    return {"micro_f1": float(_f1(tp.sum(), fp.sum(), fn.sum())),
            "macro_f1": float(_f1(tp, fp, fn).mean()),
            "per_label_f1": [float(v) for v in _f1(tp, fp, fn)],
            "exact_match": float((y_true == y_pred).all(1).mean())}


def regression(y_true, y_pred):
    """Pearson r, mean squared error, and the MSE of always predicting the mean (the baseline)."""
    y_true = np.asarray(y_true, np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, np.float64).reshape(len(y_pred), -1)
    mse = float(((y_true - y_pred) ** 2).mean())
    baseline = float(((y_true - y_true.mean(0)) ** 2).mean())
    rs = []
    for t, p in zip(y_true.T, y_pred.T):
        t, p = t - t.mean(), p - p.mean()
        denominator = np.sqrt((t * t).sum() * (p * p).sum())
        rs.append(float((t * p).sum() / denominator) if denominator > 0 else 0.0)
    return {"pearson_r": rs[0] if len(rs) == 1 else float(np.mean(rs)), "mse": mse, "mean_baseline_mse": baseline}
