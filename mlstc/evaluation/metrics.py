"""Multi-label metrics (introduced in chapter 00).

Never plain "accuracy". What ``metrics=['accuracy']`` means depends on the Keras
version: tf.keras 2 (the source article's imports) chose it from the loss, so with
``binary_crossentropy`` it was *binary* accuracy over every (document, label) cell,
which an empty prediction makes look excellent when labels are sparse
(:func:`binary_accuracy`); Keras 3 chooses it from the output shape, so a multi-label
output gets *categorical* accuracy, whether the top-scored label is the first true
label (:func:`keras3_accuracy`). Neither measures multi-label prediction. :func:`evaluate` reports what tells the truth
(micro/macro/weighted/sample F1, subset accuracy, Hamming loss, ranking metrics),
built on scikit-learn; :mod:`mlstc.evaluation.stats` gives intervals.

**Macro-F1 and labels nobody mentions.** A label with no true and no predicted
document in the scored set has no F1 (0/0). Counting it as 0, as scikit-learn's
``zero_division=0`` does, punishes a model for agreeing that the label is absent and
makes macro-F1 depend on which labels a (re)sample happens to contain. We leave such
labels out of the average (F1 is defined from the counts, as Forman & Scholz 2010
recommend, over the labels where it is defined; this equals scikit-learn's macro-F1
with ``labels=`` the labels that occur in the truth or the predictions). The point
estimate and every bootstrap resample use :func:`macro_f1_from_counts`, so they
agree.
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
    Macro averages skip labels with no true and no predicted document (see the
    module docstring); the other averages use scikit-learn's ``zero_division=0``."""
    y_true, y_pred = _binary(y_true), _binary(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    out = {}
    occurring = np.flatnonzero((y_true.sum(0) + y_pred.sum(0)) > 0)
    for average in AVERAGES:
        labels = occurring if average == "macro" else None
        if average == "macro" and not len(occurring):
            p = r = f = 0.0
        else:
            p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=average, labels=labels,
                                                             zero_division=0)
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


def f1_from_counts(tp, fp, fn) -> np.ndarray:
    """F1 = 2tp / (2tp + fp + fn) elementwise, 0 where the denominator is 0."""
    tp, fp, fn = (np.asarray(a, dtype=float) for a in (tp, fp, fn))
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator), where=denominator > 0)


def macro_f1_from_counts(tp, fp, fn) -> np.ndarray:
    """Macro-F1 over the last axis, over the labels where F1 is defined
    (tp + fp + fn > 0); 0 where no label is."""
    tp, fp, fn = (np.asarray(a, dtype=float) for a in (tp, fp, fn))
    defined = (tp + fp + fn) > 0
    total = np.where(defined, f1_from_counts(tp, fp, fn), 0.0).sum(-1)
    count = defined.sum(-1)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def micro_f1_from_counts(tp, fp, fn) -> np.ndarray:
    """Micro-F1: counts summed over the last axis first."""
    return f1_from_counts(np.sum(tp, -1), np.sum(fp, -1), np.sum(fn, -1))


def counts(y_true, y_pred, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-label true positives, false positives and false negatives; with
    ``weights`` (resamples x documents) one row per resample."""
    y_true, y_pred = _binary(y_true).astype(np.float64), _binary(y_pred).astype(np.float64)
    parts = (y_true * y_pred, (1 - y_true) * y_pred, y_true * (1 - y_pred))
    if weights is None:
        return tuple(part.sum(0) for part in parts)
    return tuple(weights @ part for part in parts)


# Huang et al. (EMNLP 2021)'s split of labels by training documents (chapter 06).
FREQUENCY_GROUPS = {"head": (35, np.inf), "medium": (8, 35), "tail": (0, 8)}


def frequency_groups(train_counts) -> dict[str, np.ndarray]:
    """Label indices per group: ``head`` at least 35 training documents, ``medium``
    more than 8 and fewer than 35, ``tail`` at most 8 (Huang et al. 2021)."""
    n = np.asarray(train_counts)
    return {"head": np.flatnonzero(n >= 35), "medium": np.flatnonzero((n > 8) & (n < 35)),
            "tail": np.flatnonzero(n <= 8)}


def group_macro_f1(y_true, y_pred, train_counts) -> dict[str, float]:
    """``<group>_macro_f1`` for each group of :func:`frequency_groups` (NaN for an
    empty group), macro-F1 over the group's labels as in :func:`evaluate`."""
    tp, fp, fn = counts(y_true, y_pred)
    return {f"{name}_macro_f1": float(macro_f1_from_counts(tp[idx], fp[idx], fn[idx])) if len(idx) else float("nan")
            for name, idx in frequency_groups(train_counts).items()}
