"""Intervals, paired comparisons over seeds, multiplicity and verdicts
(introduced in chapter 00; seeds and Holm in chapter 02).

**The rule, stated once.** Every interval and test resamples *test documents* with
:func:`scipy.stats.bootstrap` (and, for systems trained with several seeds, the seeds
too: documents and seeds are two samples drawn independently, a two-level bootstrap),
and every interval is the point estimate plus or minus ``z`` bootstrap standard errors
(Efron's standard interval), ``z = 1.96`` for 95%.

- :func:`bootstrap`, one system: its 95% interval (clipped to [0, 1]).
- :func:`compare`, two systems on the same documents: the paired difference
  ``b - a``, its standard error ``se``, the 95% interval and the matching two-sided
  p-value. A p-value from counting resamples can be no smaller than ``1 / resamples``,
  too coarse for a family of hundreds of comparisons; the standard error gives
  intervals and p-values at any level.
- :func:`holm`: Holm's step-down adjustment over a family of comparisons (Holm 1979);
  :func:`adjusted_interval` widens each interval by the same factor Holm applied to
  its p-value, so an adjusted interval excludes zero exactly when the adjusted
  p-value is below 0.05. An interval that excludes zero never reads "within noise".
- :func:`verdict`: plain words for a difference, its adjusted interval and p.

Why the standard interval rather than a percentile or BCa one: on Reuters the bootstrap
distribution of macro-F1 sits below the point estimate (svm-tf-idf: resample mean 0.511
against 0.519, no skew), so the percentile interval puts the point in its upper third and
BCa, correcting for that estimated bias, in its lower third. The standard interval is
centred on what was measured, and the same rule serves single systems and differences.

**Macro-F1 over a fixed label set.** Macro-F1 averages over the labels that occur
(in the truth or the predictions) in the *full* test split, and every resample
averages over the same labels. A resample that leaves out every document of a rare
label (no truth, no prediction) says nothing new about it, so the label keeps its F1
on the full split there. Averaging over whichever labels a resample contains instead
dropped rare labels, usually the hard ones, and biased intervals upwards (paired
systems then averaged over different labels); scoring a left-out label 0 biases them
downwards wherever rare labels are predicted well.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from mlstc.evaluation import metrics

ALPHA = 0.05
Z95 = float(sps.norm.ppf(1 - ALPHA / 2))


def _occurring(y_true, y_pred) -> np.ndarray:
    """The fixed label set of a scored split: labels in its truth or predictions."""
    return (y_true.sum(0) + y_pred.sum(0)) > 0


def fixed_macro_f1(tp, fp, fn, labels, full) -> np.ndarray:
    """Macro-F1 over the last axis, over exactly the labels in the mask ``labels``;
    a label with no count in a resample keeps its F1 on the full split, ``full``."""
    tp, fp, fn = (np.asarray(a, dtype=float) for a in (tp, fp, fn))
    if not np.any(labels):
        return np.zeros(tp.shape[:-1])
    f1 = np.where((tp + fp + fn) > 0, metrics.f1_from_counts(tp, fp, fn), full)
    return f1[..., np.asarray(labels, dtype=bool)].mean(-1)


SCORES = {  # (tp, fp, fn, documents, fixed label set, each label's F1 on the full split) -> score, per resample
    "micro_f1": lambda tp, fp, fn, n, labels, full: metrics.micro_f1_from_counts(tp, fp, fn),
    "macro_f1": lambda tp, fp, fn, n, labels, full: fixed_macro_f1(tp, fp, fn, labels, full),
    "binary_accuracy": lambda tp, fp, fn, n, labels, full: 1 - (np.sum(fp, -1) + np.sum(fn, -1))
    / (n * np.shape(tp)[-1]),
}


def resample_weights(n: int, n_samples: int, seed: int) -> np.ndarray:
    """How often each of ``n`` documents is drawn in each of ``n_samples`` resamples."""
    return np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=n_samples).astype(np.float64)


def _weights(indices: np.ndarray, n: int) -> np.ndarray:
    """Index resamples ``(..., k)`` as draw counts per document ``(batch, n)``."""
    flat = np.asarray(indices).reshape(-1, np.shape(indices)[-1])
    rows = np.arange(len(flat))[:, None] * n
    return np.bincount((flat + rows).ravel(), minlength=len(flat) * n).reshape(len(flat), n).astype(np.float64)


class _Scorer:
    """One system's scores on document resamples, from its per-document counts."""

    def __init__(self, y_true, y_pred):
        self.labels = _occurring(y_true, y_pred)
        y, p = y_true.astype(np.float64), y_pred.astype(np.float64)
        self.parts = (y * p, (1 - y) * p, y * (1 - p))
        self.exact = (y_true == y_pred).all(1).astype(np.float64)
        self.full = metrics.f1_from_counts(*(part.sum(0) for part in self.parts))

    def __call__(self, names: Sequence[str], weights: np.ndarray) -> np.ndarray:
        """``(len(names), resamples)``: each score, the label counts computed once."""
        drawn = weights.sum(1)
        tp, fp, fn = (weights @ part for part in self.parts)
        return np.stack([weights @ self.exact / drawn if name == "subset_accuracy"
                         else SCORES[name](tp, fp, fn, drawn, self.labels, self.full) for name in names])


def _standard_errors(statistic, data, *, outputs: int, n_samples: int, seed: int) -> np.ndarray:
    """The bootstrap standard error of each of the ``outputs`` values that
    ``statistic(*resampled_data)`` returns per resample (0 where every resample
    scores the same). scipy passes resamples with any leading batch shape."""
    def flat(*samples, axis=-1):
        shape = np.shape(samples[0])[:-1]
        return np.asarray(statistic(*samples)).reshape(outputs, *shape)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DegenerateDataWarning when every resample scores the same
        result = sps.bootstrap(data, flat, n_resamples=n_samples, vectorized=True, method="percentile",
                               batch=200, rng=np.random.default_rng(seed))
    se = np.atleast_1d(np.asarray(result.standard_error, dtype=float))
    return np.where(np.isfinite(se), se, 0.0)


def bootstrap(y_true, y_pred, *, n_samples: int = 1000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Intervals for micro-F1, macro-F1 (fixed label set) and subset accuracy: the
    value plus or minus ``z`` bootstrap standard errors, clipped to [0, 1]."""
    y_true, y_pred = metrics._binary(y_true), metrics._binary(y_pred)
    n = len(y_true)
    scorer = _Scorer(y_true, y_pred)
    point = metrics.evaluate(y_true, y_pred)
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    names = ("micro_f1", "macro_f1", "subset_accuracy")
    errors = _standard_errors(lambda docs: scorer(names, _weights(docs, n)), (np.arange(n),), outputs=len(names),
                              n_samples=n_samples, seed=seed)
    rows = {name: {"value": point[name], "low": max(0.0, point[name] - z * se), "high": min(1.0, point[name] + z * se),
                   "se": float(se)} for name, se in zip(names, errors)}
    return pd.DataFrame(rows).T.rename_axis("metric")


def table_row(y_true, y_pred, scores=None, *, n_samples: int = 1000, seed: int = 0) -> dict[str, float]:
    """Every metric of :func:`mlstc.evaluation.metrics.evaluate` plus
    ``<metric>_low``/``<metric>_high`` 95% bounds (:func:`bootstrap`)."""
    row = metrics.evaluate(y_true, y_pred, scores)
    for name, interval in bootstrap(y_true, y_pred, n_samples=n_samples, seed=seed).iterrows():
        row[f"{name}_low"], row[f"{name}_high"] = interval["low"], interval["high"]
    return row


def runs(pred) -> list[np.ndarray]:
    """One prediction matrix, or a list of them (one per training seed)."""
    if isinstance(pred, np.ndarray) and pred.ndim == 2:
        return [metrics._binary(pred)]
    return [metrics._binary(p) for p in pred]


def p_value(delta: float, se: float) -> float:
    """Two-sided p-value of a difference with a normal sampling distribution."""
    if se <= 0:
        return 1.0 if delta == 0 else 0.0
    return float(2 * sps.norm.sf(abs(delta) / se))


def compare(y_true, pred_a, pred_b, *, n_samples: int = 1000, seed: int = 0, confidence: float = 0.95,
            paired_seeds: bool | None = None, scores: Sequence[str] = ("micro_f1", "macro_f1")) -> pd.DataFrame:
    """``b - a`` in each of ``scores`` (micro-F1, macro-F1, binary accuracy): the
    difference of the seed means, its bootstrap standard error ``se``, the 95%
    interval ``delta ± 1.96 se``, the two-sided p-value and each side's seed spread.

    ``pred_a``/``pred_b`` are binary prediction matrices, or lists of them (one per
    training seed). Test documents are resampled, and so are the seeds (a second,
    independent sample), so the interval covers training noise as well as test-sample
    noise. With ``paired_seeds`` (default: both lists have the same length and more
    than one entry) seed ``k`` of ``a`` and of ``b`` are drawn together, as when both
    systems were trained with the same seeds.
    """
    y_true = metrics._binary(y_true)
    runs_a, runs_b = runs(pred_a), runs(pred_b)
    if paired_seeds is None:
        paired_seeds = len(runs_a) == len(runs_b) > 1
    n, scores = len(y_true), tuple(scores)
    scorers_a = [_Scorer(y_true, p) for p in runs_a]
    scorers_b = [_Scorer(y_true, p) for p in runs_b]
    data = [np.arange(n)]  # documents, then the seeds of each side that has several
    if paired_seeds:
        data.append(np.arange(len(runs_a)))
    else:
        data += [np.arange(len(runs)) for runs in (runs_a, runs_b) if len(runs) > 1]

    def seed_mean(scorers, weights, drawn):
        per_seed = np.stack([s(scores, weights) for s in scorers], -1)  # scores x resamples x seeds
        if drawn is None:
            return per_seed.mean(-1)
        picks = drawn.reshape(len(weights), -1)
        return np.take_along_axis(per_seed, np.broadcast_to(picks, (len(scores), *picks.shape)), -1).mean(-1)

    def difference(docs, *seeds):
        weights = _weights(docs, n)
        if paired_seeds:
            drawn_a = drawn_b = seeds[0]
        else:
            rest = list(seeds)
            drawn_a = rest.pop(0) if len(runs_a) > 1 else None
            drawn_b = rest.pop(0) if len(runs_b) > 1 else None
        return seed_mean(scorers_b, weights, drawn_b) - seed_mean(scorers_a, weights, drawn_a)

    errors = _standard_errors(difference, tuple(data), outputs=len(scores), n_samples=n_samples, seed=seed)
    points_a = [metrics.evaluate(y_true, p) for p in runs_a]
    points_b = [metrics.evaluate(y_true, p) for p in runs_b]
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    rows = {}
    for name, se in zip(scores, errors):
        point_a, point_b = [m[name] for m in points_a], [m[name] for m in points_b]
        delta, se = float(np.mean(point_b) - np.mean(point_a)), float(se)
        rows[name] = {"a": float(np.mean(point_a)), "b": float(np.mean(point_b)), "delta": delta, "se": se,
                      "low": delta - z * se, "high": delta + z * se, "p": p_value(delta, se),
                      "a_seed_std": float(np.std(point_a, ddof=1)) if len(point_a) > 1 else 0.0,
                      "b_seed_std": float(np.std(point_b, ddof=1)) if len(point_b) > 1 else 0.0,
                      "a_seeds": len(runs_a), "b_seeds": len(runs_b)}
    return pd.DataFrame(rows).T.rename_axis("metric")


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, in the input order."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def adjusted_interval(delta: float, se: float, p: float, p_adjusted: float | None,
                      alpha: float = ALPHA) -> tuple[float, float]:
    """The interval matching an adjusted p-value: ``delta ± z se`` at level
    ``1 - alpha / k``, where ``k = p_adjusted / p`` is the factor the adjustment
    applied to this p-value (the family size for Bonferroni and Holm's first step).
    It excludes zero exactly when ``p_adjusted < alpha``."""
    if p_adjusted is None or not math.isfinite(p_adjusted):
        k = 1.0
    elif p <= 0:
        k = 1.0 if p_adjusted <= 0 else math.inf
    else:
        k = max(1.0, p_adjusted / p)
    z = float(sps.norm.isf(alpha / (2 * k))) if math.isfinite(k) else math.inf
    return delta - z * se, delta + z * se


def se_from_interval(low: float, high: float) -> float:
    """The standard error behind a 95% normal interval (or an approximation to it,
    for a percentile interval): its width over 2 x 1.96."""
    return (high - low) / (2 * Z95)


OUTCOMES = ("better", "worse", "within noise")


def outcome(low: float, high: float, p_adjusted: float | None = None, alpha: float = ALPHA) -> str:
    """``better`` when the interval is above zero (and the adjusted p-value, if
    given, is below ``alpha``), ``worse`` when below, else ``within noise``."""
    significant = p_adjusted is None or p_adjusted < alpha
    if low > 0 and significant:
        return "better"
    if high < 0 and significant:
        return "worse"
    return "within noise"


def verdict(delta: float, low: float, high: float, p_adjusted: float | None = None) -> str:
    """Plain words for a difference in F1 (points): its 95% interval, or with
    ``p_adjusted`` the matching adjusted interval (:func:`adjusted_interval`, the
    standard error read from the 95% interval) and the adjusted p-value."""
    if p_adjusted is None:
        return f"{outcome(low, high)}: {delta * 100:+.1f} points [{low * 100:+.1f}, {high * 100:+.1f}]"
    se = se_from_interval(low, high)
    low, high = adjusted_interval(delta, se, p_value(delta, se), p_adjusted)
    shown = "adjusted p < 0.001" if p_adjusted < 0.001 else f"adjusted p = {p_adjusted:.3f}"
    return (f"{outcome(low, high, p_adjusted)}: {delta * 100:+.1f} points [{low * 100:+.1f}, {high * 100:+.1f}], "
            f"{shown}")


def reaches(low: float, high: float, bar: float) -> str:
    """Where a result's interval ``[low, high]`` lies against a target ``bar``:
    ``reaches`` only when the whole interval is at or above ``bar``, ``misses``
    when the whole interval is below it, otherwise ``within noise of``."""
    if low >= bar:
        return "reaches"
    return "misses" if high < bar else "within noise of"
