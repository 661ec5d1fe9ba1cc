"""Multi-label metrics (introduced in chapter 00).

Never plain "accuracy". What ``metrics=['accuracy']`` means depends on the Keras
version: tf.keras 2 (the source article's imports) chose it from the loss, so with
``binary_crossentropy`` it was *binary* accuracy over every (document, label) cell,
which an empty prediction makes look excellent when labels are sparse
(:func:`binary_accuracy`); Keras 3 chooses it from the output shape, so a multi-label
output gets *categorical* accuracy, whether the top-scored label is the first true
label (:func:`keras3_accuracy`). Neither measures multi-label prediction. :func:`evaluate` reports what tells the truth
(micro/macro/weighted/sample F1, subset accuracy, Hamming loss, ranking metrics),
built on scikit-learn; :func:`bootstrap` gives percentile intervals by resampling
test documents.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as skm

AVERAGES = ("micro", "macro", "weighted", "samples")


def _binary(a) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"expected a (num_docs, num_labels) matrix, got shape {a.shape}")
    return (a > 0).astype(np.int8) if a.dtype != np.int8 else a


def binary_accuracy(y_true, y_pred) -> float:
    """The share of (document, label) cells predicted right: what tf.keras 2 reported
    for ``metrics=['accuracy']`` with ``binary_crossentropy``."""
    return float((_binary(y_true) == _binary(y_pred)).mean())


def keras3_accuracy(y_true, scores) -> float:
    """What Keras 3 reports for ``metrics=['accuracy']`` on a multi-label output
    (``CategoricalAccuracy``): the share of documents whose top-scored label is the
    first of their true labels (the argmax of the multi-hot row)."""
    return float(np.mean(np.argmax(np.asarray(y_true), 1) == np.argmax(np.asarray(scores), 1)))


def precision_at_k(y_true, scores, k: int) -> float:
    """Mean over documents of (true labels among the ``k`` top-scored) / ``k``."""
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=float)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.take_along_axis(y_true, top, axis=1).sum(1).mean() / k)


def evaluate(y_true, y_pred, scores=None, *, ks: Sequence[int] = (1, 3)) -> dict[str, float]:
    """Every multi-label metric for binary predictions ``y_pred``; with ``scores``
    (probabilities or logits) also label-ranking average precision, precision@k and
    what Keras 3's ``accuracy`` would report.
    Labels no document has and none is predicted score 0 F1 (``zero_division=0``)."""
    y_true, y_pred = _binary(y_true), _binary(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    out = {}
    for average in AVERAGES:
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
        out |= {f"{average}_precision": p, f"{average}_recall": r, f"{average}_f1": f}
    out["subset_accuracy"] = skm.accuracy_score(y_true, y_pred)
    out["hamming_loss"] = skm.hamming_loss(y_true, y_pred)
    out["binary_accuracy"] = binary_accuracy(y_true, y_pred)
    if scores is not None:
        scores = np.asarray(scores, dtype=float)
        has_label = y_true.sum(1) > 0
        out["lrap"] = skm.label_ranking_average_precision_score(y_true[has_label], scores[has_label])
        out["keras3_accuracy"] = keras3_accuracy(y_true, scores)
        for k in ks:
            out[f"precision@{k}"] = precision_at_k(y_true, scores, k)
    return {name: float(value) for name, value in out.items()}


def per_label(y_true, y_pred, label_names: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support for every label, most frequent first."""
    y_true, y_pred = _binary(y_true), _binary(y_pred)
    p, r, f, support = skm.precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    frame = pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": support,
                          "predicted": y_pred.sum(0)}, index=pd.Index(label_names, name="label"))
    return frame.sort_values("support", ascending=False)


def _f1_from_counts(tp, fp, fn):
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0)


def _resample_weights(n: int, n_samples: int, seed: int) -> np.ndarray:
    """How often each of ``n`` documents is drawn in each of ``n_samples`` resamples."""
    return np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=n_samples).astype(np.float64)


def _resampled_counts(weights, y_true, y_pred):
    """Per-resample, per-label true positives, false positives and false negatives."""
    return weights @ (y_true & y_pred), weights @ ((1 - y_true) & y_pred), weights @ (y_true & (1 - y_pred))


def bootstrap(
    y_true,
    y_pred,
    *,
    n_samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Percentile bootstrap intervals for micro-F1, macro-F1 and subset accuracy,
    resampling documents with replacement.

    Each resample is a vector of counts per document, so the per-label true/false
    positive counts of all resamples are one matrix product.
    """
    y_true, y_pred = _binary(y_true), _binary(y_pred)
    n = len(y_true)
    weights = _resample_weights(n, n_samples, seed)
    tp, fp, fn = _resampled_counts(weights, y_true, y_pred)
    samples = {
        "micro_f1": _f1_from_counts(tp.sum(1), fp.sum(1), fn.sum(1)),
        "macro_f1": _f1_from_counts(tp, fp, fn).mean(1),
        "subset_accuracy": weights @ (y_true == y_pred).all(1) / n,
    }
    point = evaluate(y_true, y_pred)
    alpha = (1 - confidence) / 2
    rows = {name: {"value": point[name], "low": float(np.quantile(s, alpha)), "high": float(np.quantile(s, 1 - alpha))}
            for name, s in samples.items()}
    return pd.DataFrame(rows).T.rename_axis("metric")


def table_row(y_true, y_pred, scores=None, *, n_samples: int = 1000, seed: int = 0) -> dict[str, float]:
    """The standard row of the book's result tables: every metric of :func:`evaluate`
    plus ``<metric>_low``/``<metric>_high`` 95% bootstrap bounds."""
    row = evaluate(y_true, y_pred, scores)
    for name, interval in bootstrap(y_true, y_pred, n_samples=n_samples, seed=seed).iterrows():
        row[f"{name}_low"], row[f"{name}_high"] = interval["low"], interval["high"]
    return row


def paired_bootstrap(
    y_true,
    pred_a,
    pred_b,
    *,
    n_samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Difference ``b - a`` in micro-F1 and macro-F1 with a percentile interval,
    both systems scored on the same resampled documents (introduced in chapter 01).

    Pairing removes the variation that the two systems share (which documents are
    hard), so the interval of the difference is much narrower than comparing two
    separate intervals.
    """
    y_true, pred_a, pred_b = _binary(y_true), _binary(pred_a), _binary(pred_b)
    weights = _resample_weights(len(y_true), n_samples, seed)

    def f1s(pred):
        tp, fp, fn = _resampled_counts(weights, y_true, pred)
        return _f1_from_counts(tp.sum(1), fp.sum(1), fn.sum(1)), _f1_from_counts(tp, fp, fn).mean(1)

    (micro_a, macro_a), (micro_b, macro_b) = f1s(pred_a), f1s(pred_b)
    point_a, point_b = evaluate(y_true, pred_a), evaluate(y_true, pred_b)
    alpha = (1 - confidence) / 2
    rows = {}
    for name, diff in (("micro_f1", micro_b - micro_a), ("macro_f1", macro_b - macro_a)):
        rows[name] = {"delta": point_b[name] - point_a[name], "low": float(np.quantile(diff, alpha)),
                      "high": float(np.quantile(diff, 1 - alpha))}
    return pd.DataFrame(rows).T.rename_axis("metric")


def verdict(delta: float, low: float, high: float) -> str:
    """Plain words for a difference and its interval."""
    if low > 0:
        return f"supported: +{delta * 100:.1f} points, interval [{low * 100:+.1f}, {high * 100:+.1f}]"
    if high < 0:
        return f"not supported on this data: it hurts, {delta * 100:+.1f} points [{low * 100:+.1f}, {high * 100:+.1f}]"
    return f"small effect within the noise: {delta * 100:+.1f} points [{low * 100:+.1f}, {high * 100:+.1f}]"
