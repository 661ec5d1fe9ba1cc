"""Combining the probabilities of several models (introduced in chapter 05).

Every combiner takes ``members`` = ``{name: {"validation": P_val, "test": P_test}}``
(probability matrices of the same shape per split) and the validation labels, is fitted
on validation only, and returns ``{"validation": ..., "test": ...}``. Where a combiner
learns from validation labels (the weighted mean, stacking, ensemble selection), its
validation output is *out of fold* (k-fold over validation documents: each fold scored by
the combiner fitted on the others), and its test output comes from the fit on all of
validation. Thresholds tuned on validation are then not tuned on fitted data, and the
combiners can be compared on validation fairly: in-sample, a combiner that chose its
weights on the very documents it is scored on looks better than it is.

- :func:`calibrate`: Platt scaling (Platt 1999) of one member's scores, one sigmoid
  shared by all labels, out of fold on validation; used for SVM decision values before
  they are mixed with probabilities.
- :func:`fit` ``(name, ...)``, one entry for every combiner in :data:`NAMES`: the
  plain mean, the rank mean, the weighted mean (weights minimising validation
  log-loss), stacking with a logistic regression per label on the members'
  probabilities for that label, stacking with one LightGBM model over (document,
  label) pairs, and ensemble selection (Caruana, Niculescu-Mizil, Crew & Ksikes 2004:
  greedy forward selection with replacement on validation F1).

What :func:`fit` returns holds the fitted combiner, one of the classes below
(:class:`Weighted`, :class:`RankMean`, :class:`StackLogreg`, :class:`StackLightGBM`):
its ``apply`` turns the members' probabilities for new documents into the ensemble's,
exactly as it made the test split's, and it pickles, so that a saved ensemble
(:func:`mlstc.saved.ensembles.save`) predicts new text the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import logit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from mlstc.evaluation import thresholds

SPLITS = ("validation", "test")
EPS = 1e-6
FOLDS = 5  # of validation, for the combiners' out-of-fold validation probabilities


def _folds(n: int, k: int, seed: int):
    return KFold(n_splits=min(k, n), shuffle=True, random_state=seed).split(np.zeros(n))


def _logit(p):
    return logit(np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS))


def out_of_fold(n: int, predict_held, *, folds: int, seed: int) -> np.ndarray:
    """Validation predictions out of fold, the one cross-fitting loop of this module:
    ``predict_held(train, held)`` fits on the documents ``train`` and returns its
    predictions for ``held``; each fold's rows come from the fit on the other folds."""
    out = None
    for train, held in _folds(n, folds, seed):
        values = np.asarray(predict_held(train, held))
        if out is None:
            out = np.zeros((n, *values.shape[1:]), dtype=np.float64)
        out[held] = values
    return out


def calibrate(scores: Mapping[str, np.ndarray], y_val, *, folds: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Platt-scaled ``scores``: validation out of fold, test from a fit on all of it."""
    y_val = np.asarray(y_val)
    x_val = _logit(scores["validation"])

    def fit(x, y):
        return LogisticRegression(C=1e4).fit(x.reshape(-1, 1), y.reshape(-1))

    def predict_held(train, held):
        return fit(x_val[train], y_val[train]).predict_proba(x_val[held].reshape(-1, 1))[:, 1].reshape(
            x_val[held].shape)

    out_val = out_of_fold(len(y_val), predict_held, folds=folds, seed=seed)
    full = Platt.of(fit(x_val, y_val))
    return {"validation": out_val, "test": full.apply(scores["test"])}


@dataclass(frozen=True)
class Platt:
    """One fitted sigmoid ``1 / (1 + exp(-(a * logit(s) + b)))`` for all labels."""

    a: float
    b: float

    @classmethod
    def of(cls, model) -> Platt:
        return cls(float(model.coef_[0, 0]), float(model.intercept_[0]))

    def apply(self, scores) -> np.ndarray:
        return thresholds.sigmoid(self.a * _logit(scores) + self.b)


def platt(scores_val, y_val) -> Platt:
    """The Platt scaling :func:`calibrate` applies to test scores (fitted on all of validation)."""
    x = _logit(scores_val).reshape(-1, 1)
    return Platt.of(LogisticRegression(C=1e4).fit(x, np.asarray(y_val).reshape(-1)))


def _stack(members, names=None):
    names = list(names or members)
    return names, {s: np.stack([np.asarray(members[n][s], dtype=np.float64) for n in names]) for s in SPLITS}


class Combiner:
    """A fitted combiner: ``apply({member: P})`` for any documents."""

    members: list[str]

    def apply(self, probs: Mapping[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _arrays(self, probs) -> np.ndarray:
        missing = [n for n in self.members if n not in probs]
        if missing:
            raise KeyError(f"the ensemble needs the probabilities of {', '.join(missing)}")
        return np.stack([np.asarray(probs[n], dtype=np.float64) for n in self.members])

    def _both(self, members) -> dict[str, np.ndarray]:
        return {s: self.apply({n: m[s] for n, m in members.items()}) for s in SPLITS}


@dataclass
class Weighted(Combiner):
    """A weighted mean; members with weight zero are not kept."""

    weights: dict[str, float]

    def __post_init__(self):
        self.members = [n for n, w in self.weights.items() if w > 0]

    def apply(self, probs) -> np.ndarray:
        w = np.array([self.weights[n] for n in self.members])
        return np.tensordot(w / w.sum(), self._arrays(probs), 1)


@dataclass
class RankMean(Combiner):
    """See :func:`_rank_mean`: each member's sorted validation scores per label, and
    the plain mean's, which map quantiles back to probabilities."""

    members: list[str]
    ordered: np.ndarray  # members x validation docs x labels, sorted per label
    reference: np.ndarray  # validation docs x labels, sorted per label

    def apply(self, probs) -> np.ndarray:
        x = self._arrays(probs)
        n = self.ordered.shape[1]
        labels = range(x.shape[2])
        q = np.mean([np.stack([np.searchsorted(o[:, j], m[:, j], side="right") for j in labels], 1) / n
                     for o, m in zip(self.ordered, x)], axis=0)
        levels = np.arange(1, len(self.reference) + 1) / len(self.reference)
        return np.stack([np.interp(q[:, j], levels, self.reference[:, j]) for j in labels], 1)


@dataclass
class StackLogreg(Combiner):
    """One logistic regression per label on the members' logits (``None``: the mean)."""

    members: list[str]
    models: list

    def apply(self, probs) -> np.ndarray:
        x = self._arrays(probs)
        out = x.mean(0)
        logits = _logit(x)
        for j, model in enumerate(self.models):
            if model is not None:
                out[:, j] = model.predict_proba(logits[:, :, j].T)[:, 1]
        return out


@dataclass
class StackLightGBM(Combiner):
    """One LightGBM model over (document, label) pairs, see :func:`_stack_lightgbm`."""

    members: list[str]
    model: object
    prior: np.ndarray  # log training frequency per label

    def features(self, arrays: np.ndarray) -> np.ndarray:
        docs, labels = arrays.shape[1], arrays.shape[2]
        return np.column_stack([arrays.transpose(1, 2, 0).reshape(docs * labels, -1), np.tile(self.prior, docs)])

    def apply(self, probs) -> np.ndarray:
        x = self._arrays(probs)
        return self.model.predict_proba(self.features(x))[:, 1].reshape(x.shape[1], x.shape[2])


@dataclass
class Fitted:
    """:func:`fit`'s answer: validation and test probabilities, the fitted combiner,
    and the member weights where the combiner has them."""

    probs: dict[str, np.ndarray]
    combiner: Combiner
    weights: dict[str, float] | None = None


COMBINERS: dict = {}  # name -> its fit(members, y_val, label_prior, *, seed, rounds) -> Fitted, in NAMES order


def combiner(name: str):
    """Register a combiner under ``name``: :func:`fit`, :data:`NAMES` and the tests
    that run every combiner all read :data:`COMBINERS`, so a new one is added here once."""
    def register(function):
        if name in COMBINERS:
            raise ValueError(f"combiner {name!r} is registered twice")
        COMBINERS[name] = function
        return function

    return register


@combiner("mean")
def _mean(members, y_val, label_prior, *, seed: int, rounds: int) -> Fitted:
    combined = Weighted({n: 1.0 for n in members})
    return Fitted(combined._both(members), combined)


@combiner("rank-mean")
def _rank_mean_combiner(members, y_val, label_prior, *, seed: int, rounds: int) -> Fitted:
    return _rank_mean(members)


@combiner("weighted-mean")
def _weighted_mean(members, y_val, label_prior, *, seed: int, rounds: int) -> Fitted:
    return _cross_fitted(members, y_val, _log_loss_weights, folds=FOLDS, seed=seed)


@combiner("stacking-logreg")
def _stacking_logreg(members, y_val, label_prior, *, seed: int, rounds: int) -> Fitted:
    return _cross_fitted(members, y_val, lambda val, y: _logreg_stacker(val, y, C=1.0), folds=FOLDS, seed=seed)


@combiner("stacking-lightgbm")
def _stacking_lightgbm(members, y_val, label_prior, *, seed: int, rounds: int) -> Fitted:
    return _stack_lightgbm(members, y_val, label_prior, folds=FOLDS, seed=seed)


@combiner("ensemble-selection")
def _ensemble_selection(members, y_val, label_prior, *, seed: int, rounds: int) -> Fitted:
    return _cross_fitted(members, y_val, lambda val, y: _selected(val, y, rounds), folds=FOLDS, seed=seed)


NAMES = tuple(COMBINERS)


def fit(name: str, members, y_val, label_prior, *, seed: int = 0, rounds: int = 25) -> Fitted:
    """The combiner called ``name`` (one of :data:`NAMES`) fitted on validation."""
    if name not in COMBINERS:
        raise ValueError(f"unknown combiner {name!r}; known: {', '.join(NAMES)}")
    return COMBINERS[name](members, y_val, label_prior, seed=seed, rounds=rounds)


def _rank_mean(members) -> Fitted:
    """Each member's score turned into its quantile among that member's validation
    scores for the label, averaged (scales no longer matter), then mapped back to
    the probability scale through the same quantile of the plain mean's validation
    scores for that label. Without that last step a label's average quantile says
    where a document ranks, not whether it has the label: with one threshold for all
    labels, every label would be predicted for the same share of documents."""
    names, arrays = _stack(members)
    ordered = np.sort(arrays["validation"], axis=1)
    combiner = RankMean(names, ordered, np.sort(arrays["validation"].mean(0), axis=0))
    return Fitted(combiner._both(members), combiner)


def _cross_fitted(members, y_val, fit_combiner, *, folds: int, seed: int) -> Fitted:
    """The combiner ``fit_combiner(validation_probs, y) -> Combiner`` fitted on all of
    validation, which gives the test probabilities, and validation probabilities out of
    fold: each fold's from the combiner fitted on the other folds (cross-fitting)."""
    y = np.asarray(y_val)
    val = {n: np.asarray(m["validation"], dtype=np.float64) for n, m in members.items()}
    fitted = fit_combiner(val, y)

    def predict_held(train, held):
        return fit_combiner({n: p[train] for n, p in val.items()}, y[train]).apply({n: p[held] for n, p in val.items()})

    out_val = out_of_fold(len(y), predict_held, folds=folds, seed=seed)
    return Fitted({"validation": out_val, "test": fitted.apply({n: m["test"] for n, m in members.items()})},
                  fitted, getattr(fitted, "weights", None))


def _log_loss_weights(val, y) -> Weighted:
    """Weights (non-negative, summing to one) minimising validation binary log-loss."""
    names, x = list(val), np.stack(list(val.values()))
    y = np.asarray(y, dtype=np.float64)

    def loss(theta):
        w = np.exp(theta - theta.max())
        w /= w.sum()
        p = np.clip(np.tensordot(w, x, 1), EPS, 1 - EPS)
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    theta = minimize(loss, np.zeros(len(names)), method="Nelder-Mead" if len(names) < 3 else "Powell").x
    w = np.exp(theta - theta.max())
    return Weighted(dict(zip(names, (w / w.sum()).tolist())))


def _logreg_stacker(val, y, C: float) -> StackLogreg:
    """A logistic regression per label on the members' logits for that label; labels
    with fewer than two positive (or negative) documents fall back to the mean."""
    names = list(val)
    x = _logit(np.stack(list(val.values())))  # members x docs x labels

    def fit(j):
        target = y[:, j]
        if min(target.sum(), len(target) - target.sum()) < 2:
            return None
        return LogisticRegression(C=C, max_iter=1000).fit(x[:, :, j].T, target)

    return StackLogreg(names, [fit(j) for j in range(y.shape[1])])


def _stack_lightgbm(members, y_val, label_prior, *, folds: int = 5, seed: int = 0) -> Fitted:
    """One LightGBM classifier over (document, label) pairs: features are the members'
    probabilities for the label and the label's log training frequency, so rare labels
    share what frequent ones teach."""
    import lightgbm

    prior = np.log(np.clip(np.asarray(label_prior, dtype=np.float64), EPS, 1))
    settings = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20,
                "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 1.0, "random_state": seed,
                "n_jobs": 2, "verbose": -1}

    def fit(val, y):
        stacker = StackLightGBM(list(val), lightgbm.LGBMClassifier(**settings), prior)
        stacker.model.fit(stacker.features(np.stack(list(val.values()))), y.reshape(-1))
        return stacker

    return _cross_fitted(members, y_val, fit, folds=folds, seed=seed)


def _tuned_micro_f1(y, p) -> float:
    return thresholds.best_global(y, p)[1]


def _selected(val, y, rounds: int) -> Weighted:
    """Caruana et al. (2004): start empty, repeatedly add (with replacement) the member
    that most raises validation micro-F1 (one tuned threshold) of the running mean; keep
    the best ensemble seen."""
    names, x = list(val), np.stack(list(val.values()))
    counts = np.zeros(len(names))
    best_counts, best_score = None, -1.0
    for _ in range(rounds):
        scores = []
        for k in range(len(names)):
            trial = counts.copy()
            trial[k] += 1
            scores.append(_tuned_micro_f1(y, np.tensordot(trial / trial.sum(), x, 1)))
        k = int(np.argmax(scores))
        counts[k] += 1
        if scores[k] > best_score:
            best_score, best_counts = scores[k], counts.copy()
    return Weighted(dict(zip(names, (best_counts / best_counts.sum()).tolist())))
