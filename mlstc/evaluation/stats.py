"""Intervals, paired comparisons over seeds, multiplicity and verdicts
(introduced in chapter 00; seeds and Holm in chapter 02).

**The rule, stated once.** Every interval resamples *test documents* with
:func:`scipy.stats.bootstrap` and is the point estimate plus or minus a quantile times
the standard error (Efron's standard interval): ``z = 1.96`` for 95% where only
documents are uncertain.

- :func:`bootstrap`, one system: its 95% interval (clipped to [0, 1]).
- :func:`compare`, two systems on the same documents: the paired difference
  ``b - a`` of their seed means and its standard error from two parts. The *document*
  part is the bootstrap standard error over test documents, the seeds held fixed. The
  *seed* part is the spread between training seeds: for systems trained with the same
  seeds, the sample variance of the per-seed differences over their number ``k``
  (``k - 1`` degrees of freedom); otherwise Welch's sum over the sides with several
  seeds. With few seeds that spread is itself uncertain, so the interval and the
  p-value use Student's t with the Welch-Satterthwaite degrees of freedom of the
  sum (the document part counting as known): ``t`` is 4.30 instead of 1.96 where three
  seeds' spread is all the uncertainty, and tends to 1.96 as the document part
  dominates. A side trained once contributes no seed part: its seed noise is unknown,
  which is why the verdicts take a neural result only with 3 seeds or more.
- :func:`holm`: Holm's step-down adjustment over a family of comparisons (Holm 1979),
  computed on log p-values so that a p-value too small for a float still has its
  place and its factor; :func:`adjusted_interval` widens each interval to the level
  its adjusted p-value was tested at (``alpha`` over the factor Holm applied), so an
  adjusted interval excludes zero exactly when the adjusted p-value is below 0.05. An
  interval that excludes zero never reads "within noise".
- :func:`verdict`: plain words for a difference, its adjusted interval and p.

Why the standard interval rather than a percentile or BCa one: on Reuters the bootstrap
distribution of macro-F1 sits below the point estimate (svm-tf-idf: resample mean 0.511
against 0.519, no skew), so the percentile interval puts the point in its upper third and
BCa, correcting for that estimated bias, in its lower third. The standard interval is
centred on what was measured, and the same rule serves single systems and differences.

**Macro-F1 over a fixed label set.** One system's macro-F1 averages over the labels
that occur (in the truth or its predictions) in the *full* test split, and every
resample averages over the same labels. In a comparison both sides average over one
set, every label of the data set, so a difference never mixes two label sets. A label
with no positive test document (three of FiQA's 32 aspects) scores 1 for a side that
never predicts it and 0 for one that does (scikit-learn's ``zero_division=1``), so a
false alarm on it counts against its side. A resample that leaves out every document
of a label (no truth, no prediction) says nothing new about it, so the label keeps its
F1 on the full split there. Averaging over whichever labels a resample contains instead
dropped rare labels, usually the hard ones, and biased intervals upwards; scoring a
left-out label 0 biases them downwards wherever rare labels are predicted well.
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
    """One system's scores on document resamples, from its per-document counts;
    macro-F1 over the labels it occurs with, or with ``every_label`` over all of them
    (a label with no count in the full split scoring 1: see the module docstring)."""

    def __init__(self, y_true, y_pred, every_label: bool = False):
        self.labels = np.ones(y_true.shape[1], bool) if every_label else _occurring(y_true, y_pred)
        y, p = y_true.astype(np.float64), y_pred.astype(np.float64)
        self.parts = (y * p, (1 - y) * p, y * (1 - p))
        self.exact = (y_true == y_pred).all(1).astype(np.float64)
        totals = [part.sum(0) for part in self.parts]
        self.full = metrics.f1_from_counts(*totals)
        if every_label:
            self.full = np.where(sum(totals) > 0, self.full, 1.0)

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


def quantile(alpha: float, df: float = math.inf) -> float:
    """The two-sided critical value at level ``alpha``: normal for ``df`` infinite,
    Student's t with ``df`` degrees of freedom otherwise."""
    return float(sps.norm.isf(alpha / 2) if not math.isfinite(df) else sps.t.isf(alpha / 2, df))


def log_p_value(delta: float, se: float, df: float = math.inf) -> float:
    """The natural log of :func:`p_value`, exact where the p-value itself would
    underflow to 0 (a difference of forty standard errors and more)."""
    if se <= 0:
        return 0.0 if delta == 0 else -math.inf
    ratio = abs(delta) / se
    tail = sps.norm.logsf(ratio) if not math.isfinite(df) else sps.t.logsf(ratio, df)
    return min(0.0, math.log(2) + float(tail))


def p_value(delta: float, se: float, df: float = math.inf) -> float:
    """Two-sided p-value of a difference with a normal (``df`` infinite) or
    Student-t sampling distribution."""
    return math.exp(log_p_value(delta, se, df))


def seed_variance(points_a, points_b, paired: bool) -> tuple[float, float]:
    """The seed part of the variance of the difference of two seed means, and its
    degrees of freedom: paired seeds, the variance of the per-seed differences over
    their number; otherwise Welch's sum over the sides with several seeds. ``(0, inf)``
    where no side has several seeds."""
    points_a, points_b = np.asarray(points_a, float), np.asarray(points_b, float)
    if paired:
        parts = [points_b - points_a]
    else:
        parts = [p for p in (points_a, points_b) if len(p) > 1]
    parts = [(float(np.var(p, ddof=1)) / len(p), len(p) - 1) for p in parts if len(p) > 1]
    variance = sum(v for v, _ in parts)
    if variance <= 0:
        return 0.0, math.inf
    return variance, variance**2 / sum(v**2 / df for v, df in parts)


def compare(y_true, pred_a, pred_b, *, n_samples: int = 1000, seed: int = 0, confidence: float = 0.95,
            paired_seeds: bool | None = None, scores: Sequence[str] = ("micro_f1", "macro_f1")) -> pd.DataFrame:
    """``b - a`` in each of ``scores`` (micro-F1, macro-F1 over every label of the
    data set, binary accuracy): the difference of the seed means, its standard error
    ``se`` (from ``se_documents`` and ``se_seeds``, see the module docstring), the
    degrees of freedom ``df`` of its t distribution (infinite where no side has
    several seeds), the 95% interval ``delta ± t se``, the two-sided p-value and each
    side's seed mean and spread.

    ``pred_a``/``pred_b`` are binary prediction matrices, or lists of them (one per
    training seed). With ``paired_seeds`` (default: both lists have the same length and
    more than one entry) seed ``k`` of ``a`` and of ``b`` were trained with the same
    seed, and the seed part is the spread of their per-seed differences.
    """
    y_true = metrics._binary(y_true)
    runs_a, runs_b = runs(pred_a), runs(pred_b)
    if paired_seeds is None:
        paired_seeds = len(runs_a) == len(runs_b) > 1
    if paired_seeds and len(runs_a) != len(runs_b):
        raise ValueError(f"paired seeds need as many runs on each side, not {len(runs_a)} and {len(runs_b)}")
    n, scores = len(y_true), tuple(scores)
    scorers_a = [_Scorer(y_true, p, every_label=True) for p in runs_a]
    scorers_b = [_Scorer(y_true, p, every_label=True) for p in runs_b]

    def seed_mean(scorers, weights):
        return np.mean([s(scores, weights) for s in scorers], axis=0)  # scores x resamples

    def difference(docs):
        weights = _weights(docs, n)
        return seed_mean(scorers_b, weights) - seed_mean(scorers_a, weights)

    errors = _standard_errors(difference, (np.arange(n),), outputs=len(scores), n_samples=n_samples, seed=seed)
    everything = np.ones((1, n))
    points_a = np.stack([s(scores, everything)[:, 0] for s in scorers_a], -1)  # scores x seeds
    points_b = np.stack([s(scores, everything)[:, 0] for s in scorers_b], -1)
    level = 1 - confidence
    rows = {}
    for i, (name, se_documents) in enumerate(zip(scores, errors)):
        point_a, point_b = points_a[i], points_b[i]
        delta = float(point_b.mean() - point_a.mean())
        seed_var, seed_df = seed_variance(point_a, point_b, paired_seeds)
        variance = float(se_documents) ** 2 + seed_var
        df = variance**2 / (seed_var**2 / seed_df) if seed_var > 0 else math.inf
        se = math.sqrt(variance)
        t = quantile(level, df)
        rows[name] = {"a": float(point_a.mean()), "b": float(point_b.mean()), "delta": delta, "se": se,
                      "se_documents": float(se_documents), "se_seeds": math.sqrt(seed_var), "df": df,
                      "low": delta - t * se, "high": delta + t * se, "p": p_value(delta, se, df),
                      "a_seed_std": float(np.std(point_a, ddof=1)) if len(point_a) > 1 else 0.0,
                      "b_seed_std": float(np.std(point_b, ddof=1)) if len(point_b) > 1 else 0.0,
                      "a_seeds": len(runs_a), "b_seeds": len(runs_b)}
    return pd.DataFrame(rows).T.rename_axis("metric")


def holm_log(log_p_values: Sequence[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values as natural logs, in the input order:
    the ``r``-th smallest p-value (from 0) times ``m - r``, never below an earlier
    one's, capped at 1, all in log space so that none underflows."""
    log_p = np.asarray(log_p_values, dtype=float)
    m = len(log_p)
    adjusted = np.empty(m)
    running = -math.inf
    for rank, i in enumerate(np.argsort(log_p, kind="stable")):
        running = max(running, min(0.0, math.log(m - rank) + log_p[i]))
        adjusted[i] = running
    return adjusted


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, in the input order."""
    with np.errstate(divide="ignore"):
        return np.exp(holm_log(np.log(np.asarray(p_values, dtype=float))))


def holm_factor(log_p: float, log_p_adjusted: float) -> float:
    """The factor Holm's adjustment applied to a p-value (``p_adjusted / p``, from
    their logs); 1 where the difference has no standard error."""
    if not math.isfinite(log_p):
        return 1.0
    return max(1.0, math.exp(log_p_adjusted - log_p))


def adjusted_interval(delta: float, se: float, factor: float = 1.0, df: float = math.inf,
                      alpha: float = ALPHA) -> tuple[float, float]:
    """The interval matching an adjusted p-value: ``delta ± q se`` with ``q`` the
    critical value at level ``alpha / factor`` (:func:`holm_factor`; the family size
    for Bonferroni and Holm's first step), normal or Student's t with ``df``. It
    excludes zero exactly when the adjusted p-value is below ``alpha``."""
    q = quantile(alpha / max(1.0, factor), df)
    return delta - q * se, delta + q * se


def holm_family(tests: Sequence[tuple[float, float, float]], alpha: float = ALPHA) -> list[dict]:
    """Holm's adjustment of one family of differences, each ``(delta, se, df)``: per
    test, its adjusted p (``p_holm``), the ``factor`` Holm applied and the adjusted
    interval (``adj_low``/``adj_high``), all from log p-values so that none underflows."""
    log_p = [log_p_value(delta, se, df) for delta, se, df in tests]
    out = []
    for (delta, se, df), lp, lq in zip(tests, log_p, holm_log(log_p)):
        factor = holm_factor(lp, lq)
        low, high = adjusted_interval(delta, se, factor, df, alpha)
        out.append({"p_holm": math.exp(lq), "factor": factor, "adj_low": low, "adj_high": high})
    return out


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
    """Plain words for a difference in F1 (points) and its interval ``[low, high]``:
    the 95% one, or with ``p_adjusted`` the adjusted interval that matches it
    (:func:`adjusted_interval`) and the adjusted p-value."""
    if p_adjusted is not None and (low > 0 or high < 0) != (p_adjusted < ALPHA):
        raise ValueError(f"[{low:.4f}, {high:.4f}] does not match the adjusted p {p_adjusted:.3g}: "
                         "pass the adjusted interval (adjusted_interval)")
    words = f"{outcome(low, high, p_adjusted)}: {delta * 100:+.1f} points [{low * 100:+.1f}, {high * 100:+.1f}]"
    if p_adjusted is None:
        return words
    return words + (", adjusted p < 0.001" if p_adjusted < 0.001 else f", adjusted p = {p_adjusted:.3f}")


def reaches(low: float, high: float, bar: float) -> str:
    """Where a result's interval ``[low, high]`` lies against a target ``bar``:
    ``reaches`` only when the whole interval is at or above ``bar``, ``misses``
    when the whole interval is below it, otherwise ``within noise of``."""
    if low >= bar:
        return "reaches"
    return "misses" if high < bar else "within noise of"
