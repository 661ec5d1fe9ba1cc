"""Combining the probabilities of several models (introduced in chapter 05).

Every combiner takes ``members`` = ``{name: {"validation": P_val, "test": P_test}}``
(probability matrices of the same shape per split) and the validation labels, is fitted
on validation only, and returns ``{"validation": ..., "test": ...}``. Where a combiner
learns from validation (stacking), its validation output is *out of fold* (k-fold over
validation documents), so that thresholds tuned on it are not tuned on fitted data.

- :func:`calibrate`: Platt scaling (Platt 1999) of one member's scores, one sigmoid
  shared by all labels, out of fold on validation; used for SVM decision values before
  they are mixed with probabilities.
- :func:`mean`, :func:`rank_mean`, :func:`weighted_mean` (weights minimising
  validation log-loss), :func:`stack_logreg` (a logistic regression per label on the
  members' probabilities for that label), :func:`stack_lightgbm` (one LightGBM model
  over (document, label) pairs), :func:`ensemble_selection` (Caruana, Niculescu-Mizil,
  Crew & Ksikes 2004: greedy forward selection with replacement on validation F1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.optimize import minimize
from scipy.special import logit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from mlstc.evaluation import metrics, thresholds

SPLITS = ("validation", "test")
EPS = 1e-6


def _folds(n: int, k: int, seed: int):
    return KFold(n_splits=min(k, n), shuffle=True, random_state=seed).split(np.zeros(n))


def _logit(p):
    return logit(np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS))


def calibrate(scores: Mapping[str, np.ndarray], y_val, *, folds: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Platt-scaled ``scores``: validation out of fold, test from a fit on all of it."""
    y_val = np.asarray(y_val)
    x_val = _logit(scores["validation"])

    def fit(x, y):
        return LogisticRegression(C=1e4).fit(x.reshape(-1, 1), y.reshape(-1))

    out_val = np.zeros_like(x_val)
    for train, held in _folds(len(y_val), folds, seed):
        out_val[held] = fit(x_val[train], y_val[train]).predict_proba(x_val[held].reshape(-1, 1))[:, 1].reshape(
            x_val[held].shape)
    full = fit(x_val, y_val)
    x_test = _logit(scores["test"])
    return {"validation": out_val, "test": full.predict_proba(x_test.reshape(-1, 1))[:, 1].reshape(x_test.shape)}


def _stack(members, names=None):
    names = list(names or members)
    return names, {s: np.stack([np.asarray(members[n][s], dtype=np.float64) for n in names]) for s in SPLITS}


def mean(members) -> dict[str, np.ndarray]:
    _, arrays = _stack(members)
    return {s: a.mean(0) for s, a in arrays.items()}


def rank_mean(members) -> dict[str, np.ndarray]:
    """Each member's score turned into its quantile among that member's validation
    scores for the label, averaged (scales no longer matter), then mapped back to
    the probability scale through the same quantile of the plain mean's validation
    scores for that label. Without that last step a label's average quantile says
    where a document ranks, not whether it has the label: with one threshold for all
    labels, every label would be predicted for the same share of documents."""
    out = {s: [] for s in SPLITS}
    for member in members.values():
        val = np.asarray(member["validation"], dtype=np.float64)
        ordered = np.sort(val, axis=0)
        for s in SPLITS:
            x = np.asarray(member[s], dtype=np.float64)
            ranks = np.stack([np.searchsorted(ordered[:, j], x[:, j], side="right") for j in range(x.shape[1])], 1)
            out[s].append(ranks / len(val))
    quantiles = {s: np.mean(v, axis=0) for s, v in out.items()}
    reference = np.sort(mean(members)["validation"], axis=0)
    levels = np.arange(1, len(reference) + 1) / len(reference)
    return {s: np.stack([np.interp(q[:, j], levels, reference[:, j]) for j in range(q.shape[1])], 1)
            for s, q in quantiles.items()}


def weighted_mean(members, y_val) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Weights (non-negative, summing to one) minimising validation binary log-loss."""
    names, arrays = _stack(members)
    y = np.asarray(y_val, dtype=np.float64)

    def loss(theta):
        w = np.exp(theta - theta.max())
        w /= w.sum()
        p = np.clip(np.tensordot(w, arrays["validation"], 1), EPS, 1 - EPS)
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    theta = minimize(loss, np.zeros(len(names)), method="Nelder-Mead" if len(names) < 3 else "Powell").x
    w = np.exp(theta - theta.max())
    w /= w.sum()
    return {s: np.tensordot(w, a, 1) for s, a in arrays.items()}, dict(zip(names, w.tolist()))


def stack_logreg(members, y_val, *, folds: int = 5, seed: int = 0, C: float = 1.0) -> dict[str, np.ndarray]:
    """A logistic regression per label on the members' logits for that label; labels
    with fewer than two positive (or negative) documents in a fold fall back to the mean."""
    _, arrays = _stack(members)
    y = np.asarray(y_val)
    x = {s: _logit(a) for s, a in arrays.items()}  # members x docs x labels
    fallback = mean(members)
    out = {"validation": fallback["validation"].copy(), "test": fallback["test"].copy()}

    def fit(rows, j):
        target = y[rows, j]
        if min(target.sum(), len(target) - target.sum()) < 2:
            return None
        return LogisticRegression(C=C, max_iter=1000).fit(x["validation"][:, rows, j].T, target)

    for j in range(y.shape[1]):
        for train, held in _folds(len(y), folds, seed):
            model = fit(train, j)
            if model is not None:
                out["validation"][held, j] = model.predict_proba(x["validation"][:, held, j].T)[:, 1]
        model = fit(np.arange(len(y)), j)
        if model is not None:
            out["test"][:, j] = model.predict_proba(x["test"][:, :, j].T)[:, 1]
    return out


def stack_lightgbm(members, y_val, label_prior, *, folds: int = 5, seed: int = 0,
                   params: Mapping | None = None) -> dict[str, np.ndarray]:
    """One LightGBM classifier over (document, label) pairs: features are the members'
    probabilities for the label and the label's log training frequency, so rare labels
    share what frequent ones teach."""
    import lightgbm

    _, arrays = _stack(members)
    y = np.asarray(y_val)
    n, labels = y.shape
    prior = np.log(np.clip(np.asarray(label_prior, dtype=np.float64), EPS, 1))

    def features(a):
        docs = a.shape[1]
        return np.column_stack([a.transpose(1, 2, 0).reshape(docs * labels, -1), np.tile(prior, docs)])

    settings = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20,
                "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 1.0, "random_state": seed,
                "n_jobs": 2, "verbose": -1} | dict(params or {})
    x_val, target = features(arrays["validation"]), y.reshape(-1)
    out_val = np.zeros(n * labels)
    for train, held in _folds(n, folds, seed):
        rows = (train[:, None] * labels + np.arange(labels)).reshape(-1)
        held_rows = (held[:, None] * labels + np.arange(labels)).reshape(-1)
        model = lightgbm.LGBMClassifier(**settings).fit(x_val[rows], target[rows])
        out_val[held_rows] = model.predict_proba(x_val[held_rows])[:, 1]
    model = lightgbm.LGBMClassifier(**settings).fit(x_val, target)
    test = model.predict_proba(features(arrays["test"]))[:, 1]
    return {"validation": out_val.reshape(n, labels), "test": test.reshape(-1, labels)}


def _tuned_micro_f1(y, p) -> float:
    return metrics.evaluate(y, p >= thresholds.tune_global(y, p))["micro_f1"]


def ensemble_selection(members, y_val, *, rounds: int = 25) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Caruana et al. (2004): start empty, repeatedly add (with replacement) the member
    that most raises validation micro-F1 (one tuned threshold) of the running mean; keep
    the best ensemble seen. Returns the probabilities and each member's weight."""
    names, arrays = _stack(members)
    y = np.asarray(y_val)
    counts = np.zeros(len(names))
    best_counts, best_score = None, -1.0
    for _ in range(rounds):
        scores = []
        for k in range(len(names)):
            trial = counts.copy()
            trial[k] += 1
            scores.append(_tuned_micro_f1(y, np.tensordot(trial / trial.sum(), arrays["validation"], 1)))
        k = int(np.argmax(scores))
        counts[k] += 1
        if scores[k] > best_score:
            best_score, best_counts = scores[k], counts.copy()
    w = best_counts / best_counts.sum()
    return {s: np.tensordot(w, a, 1) for s, a in arrays.items()}, dict(zip(names, w.tolist()))
