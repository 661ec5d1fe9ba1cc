"""Intervals, paired comparisons over seeds, multiplicity and verdicts
(introduced in chapter 00; seeds and Holm in chapter 02).

- :func:`bootstrap`: percentile intervals for one system, resampling test documents.
- :func:`compare`: the difference ``b - a`` between two systems scored on the same
  resampled documents (a paired bootstrap). With several training seeds per system it
  is a two-level bootstrap: each resample draws test documents *and* seeds (with
  replacement; the same seeds for both systems when they were trained on the same
  ones), so the interval covers training noise as well as test-sample noise.
- :func:`holm`: Holm's step-down adjustment of the p-values of a family of
  comparisons (Holm 1979), so that "supported" survives testing many claims at once.
- :func:`verdict`: plain words for a difference, its interval and adjusted p-value.

Macro-F1 is computed over the labels where F1 is defined, in the point estimate and
in every resample alike (:func:`mlstc.evaluation.metrics.macro_f1_from_counts`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mlstc.evaluation import metrics

SCORES = {  # (tp, fp, fn, documents) -> score, per resample
    "micro_f1": lambda tp, fp, fn, n: metrics.micro_f1_from_counts(tp, fp, fn),
    "macro_f1": lambda tp, fp, fn, n: metrics.macro_f1_from_counts(tp, fp, fn),
    "binary_accuracy": lambda tp, fp, fn, n: 1 - (np.sum(fp, -1) + np.sum(fn, -1)) / (n * np.shape(tp)[-1]),
}


def resample_weights(n: int, n_samples: int, seed: int) -> np.ndarray:
    """How often each of ``n`` documents is drawn in each of ``n_samples`` resamples."""
    return np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=n_samples).astype(np.float64)


def _quantiles(samples, confidence):
    alpha = (1 - confidence) / 2
    return float(np.quantile(samples, alpha)), float(np.quantile(samples, 1 - alpha))


def bootstrap(y_true, y_pred, *, n_samples: int = 1000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Percentile bootstrap intervals for micro-F1, macro-F1 and subset accuracy.

    Each resample is a vector of counts per document, so the per-label counts of all
    resamples are one matrix product."""
    y_true, y_pred = metrics._binary(y_true), metrics._binary(y_pred)
    weights = resample_weights(len(y_true), n_samples, seed)
    tp, fp, fn = metrics.counts(y_true, y_pred, weights)
    samples = {name: SCORES[name](tp, fp, fn, len(y_true)) for name in ("micro_f1", "macro_f1")}
    samples["subset_accuracy"] = weights @ (y_true == y_pred).all(1) / len(y_true)
    point = metrics.evaluate(y_true, y_pred)
    rows = {name: dict(zip(("value", "low", "high"), (point[name], *_quantiles(s, confidence))))
            for name, s in samples.items()}
    return pd.DataFrame(rows).T.rename_axis("metric")


def table_row(y_true, y_pred, scores=None, *, n_samples: int = 1000, seed: int = 0) -> dict[str, float]:
    """Every metric of :func:`mlstc.evaluation.metrics.evaluate` plus
    ``<metric>_low``/``<metric>_high`` 95% bootstrap bounds."""
    row = metrics.evaluate(y_true, y_pred, scores)
    for name, interval in bootstrap(y_true, y_pred, n_samples=n_samples, seed=seed).iterrows():
        row[f"{name}_low"], row[f"{name}_high"] = interval["low"], interval["high"]
    return row


def _as_runs(pred) -> list[np.ndarray]:
    """One prediction matrix, or a list of them (one per training seed)."""
    if isinstance(pred, np.ndarray) and pred.ndim == 2:
        return [metrics._binary(pred)]
    return [metrics._binary(p) for p in pred]


def compare(y_true, pred_a, pred_b, *, n_samples: int = 1000, seed: int = 0, confidence: float = 0.95,
            paired_seeds: bool | None = None, scores: Sequence[str] = ("micro_f1", "macro_f1")) -> pd.DataFrame:
    """``b - a`` in each of ``scores`` (micro-F1, macro-F1, binary accuracy): the
    difference of the seed means, its interval, a two-sided bootstrap p-value and
    each side's seed spread.

    ``pred_a``/``pred_b`` are binary prediction matrices, or lists of them (one per
    training seed). With ``paired_seeds`` (default: both lists have the same length
    and more than one entry) seed ``k`` of ``a`` and of ``b`` are drawn together,
    as when both systems were trained with the same seeds.
    """
    y_true = metrics._binary(y_true)
    runs_a, runs_b = _as_runs(pred_a), _as_runs(pred_b)
    if paired_seeds is None:
        paired_seeds = len(runs_a) == len(runs_b) > 1
    rng = np.random.default_rng(seed + 1)
    weights = resample_weights(len(y_true), n_samples, seed)
    counts_a = [metrics.counts(y_true, p, weights) for p in runs_a]
    counts_b = [metrics.counts(y_true, p, weights) for p in runs_b]

    def draw(k):
        return rng.integers(0, k, size=(n_samples, k))

    pick_a = draw(len(runs_a))
    pick_b = pick_a if paired_seeds else draw(len(runs_b))
    rows = {}
    n = len(y_true)
    for name in scores:
        score = SCORES[name]
        per_a = np.stack([score(*c, n) for c in counts_a], 1)  # resamples x seeds
        per_b = np.stack([score(*c, n) for c in counts_b], 1)
        diff = (np.take_along_axis(per_b, pick_b, 1).mean(1) - np.take_along_axis(per_a, pick_a, 1).mean(1))
        point_a = [metrics.evaluate(y_true, p)[name] for p in runs_a]
        point_b = [metrics.evaluate(y_true, p)[name] for p in runs_b]
        low, high = _quantiles(diff, confidence)
        p_value = min(1.0, 2 * min(np.mean(diff <= 0), np.mean(diff >= 0)))
        rows[name] = {"a": float(np.mean(point_a)), "b": float(np.mean(point_b)),
                      "delta": float(np.mean(point_b) - np.mean(point_a)), "low": low, "high": high,
                      "p": float(p_value), "a_seed_std": float(np.std(point_a, ddof=1)) if len(point_a) > 1 else 0.0,
                      "b_seed_std": float(np.std(point_b, ddof=1)) if len(point_b) > 1 else 0.0,
                      "a_seeds": len(runs_a), "b_seeds": len(runs_b)}
    return pd.DataFrame(rows).T.rename_axis("metric")


def paired_bootstrap(y_true, pred_a, pred_b, **options) -> pd.DataFrame:
    """:func:`compare` for one run of each system (kept for the chapters' wording)."""
    return compare(y_true, pred_a, pred_b, **options)


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


OUTCOMES = ("better", "worse", "within noise")


def outcome(low: float, high: float, p_adjusted: float | None = None, alpha: float = 0.05) -> str:
    """``better`` when the interval is above zero (and the adjusted p-value, if
    given, is below ``alpha``), ``worse`` when below, else ``within noise``."""
    significant = p_adjusted is None or p_adjusted < alpha
    if low > 0 and significant:
        return "better"
    if high < 0 and significant:
        return "worse"
    return "within noise"


def verdict(delta: float, low: float, high: float, p_adjusted: float | None = None) -> str:
    """Plain words for a difference in F1 (points), its interval and adjusted p."""
    words = {"better": "better", "worse": "worse", "within noise": "within noise"}[outcome(low, high, p_adjusted)]
    text = f"{words}: {delta * 100:+.1f} points [{low * 100:+.1f}, {high * 100:+.1f}]"
    if p_adjusted is None:
        return text
    return text + (", Holm p < 0.001" if p_adjusted < 0.001 else f", Holm p = {p_adjusted:.3f}")


def reaches(value: float, low: float, high: float, bar: float) -> str:
    """``reaches`` only when the whole interval is at or above ``bar``, ``misses``
    when the whole interval is below it, otherwise ``within noise of``."""
    if low >= bar:
        return "reaches"
    return "misses" if high < bar else "within noise of"
