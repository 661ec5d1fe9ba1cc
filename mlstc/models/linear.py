"""Linear one-vs-rest baselines: logistic regression, linear SVM, naive Bayes
(introduced in chapter 01).

:func:`fit` tries each hyper-parameter setting of :data:`GRIDS` and keeps the one with the best
validation micro-F1 once one global threshold is tuned on validation, since that is
how the model will be used. Every model returns scores in [0, 1] (an SVM's margin through a
sigmoid, so 0.5 is its own decision boundary), so the threshold strategies of
:mod:`mlstc.thresholds` apply to all of them alike.

A grid, once fitted, is kept like the neural models' trainings
(:func:`mlstc.models.fitcache.estimator`): keyed by the model, grid and seed, the
content of the training and validation matrices and labels, the code this module runs
(``mlstc.evaluation`` picks the setting) and the scikit-learn and NumPy versions, so that a rerun restores the chosen estimator and its validation scores
instead of fitting every setting again, and says so. The classifier chains of
:func:`fit_chains` are kept the same way. ``MLSTC_FIT_CACHE=0`` fits every time.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from mlstc.evaluation import metrics, thresholds
from mlstc.models import fitcache


GRIDS = {
    "svm": tuple({"C": c, "class_weight": w} for w in (None, "balanced") for c in (0.3, 1.0, 3.0, 10.0, 30.0)),
    "logreg": tuple({"C": c} for c in (10.0, 30.0, 100.0, 300.0)),
    "nb": tuple({"alpha": a} for a in (0.01, 0.03, 0.1, 0.3)),
}


def make(model: str, params: dict, seed: int = 0):
    """One-vs-rest estimator with hyper-parameters ``params`` (C and class_weight for
    svm, C for logreg, alpha for nb)."""
    if model == "svm":
        base = LinearSVC(**params, random_state=seed)
    elif model == "logreg":
        base = LogisticRegression(**params, solver="liblinear", max_iter=1000, random_state=seed)
    elif model == "nb":
        base = ComplementNB(**params)
    else:
        raise ValueError(f"Unknown linear model {model!r}; use one of {', '.join(GRIDS)}.")
    return OneVsRestClassifier(base, n_jobs=None)


def describe(params: dict) -> str:
    """``{"C": 3.0, "class_weight": None}`` -> ``"C=3"``."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items() if v is not None)


def scores(estimator, X) -> np.ndarray:
    """Scores in [0, 1] for every label (see the module docstring)."""
    if isinstance(estimator.estimator, LinearSVC):
        return thresholds.sigmoid(estimator.decision_function(X))
    return estimator.predict_proba(X)


@dataclasses.dataclass
class Fitted:
    model: str
    params: dict
    estimator: object
    validation: dict[str, float]  # described params -> validation micro-F1 at the tuned global threshold
    fit_seconds: float

    @property
    def best_validation(self) -> float:
        return self.validation[describe(self.params)]

    def scores(self, X) -> np.ndarray:
        return scores(self.estimator, X)


def fit(model: str, X_train, y_train, X_val, y_val, grid=None, seed: int = 0) -> Fitted:
    """Fit for every setting in ``grid`` and keep the best on validation micro-F1;
    restored instead when the same grid was fitted on the same data before."""
    grid = tuple(grid or GRIDS[model])
    return fitcache.estimator(f"linear-{model}", lambda: _fit_grid(model, X_train, y_train, X_val, y_val, grid, seed),
                              settings={"grid": list(grid), "seed": seed},
                              data=[X_train, np.asarray(y_train), X_val, np.asarray(y_val)], loop=[__name__],
                              detail=lambda fitted: f"grid of {len(grid)}, {describe(fitted.params)} chosen")


def _fit_grid(model: str, X_train, y_train, X_val, y_val, grid, seed: int) -> Fitted:
    best, tried = None, {}
    started = time.perf_counter()
    for params in grid:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
            estimator = make(model, params, seed).fit(X_train, y_train)
        val_scores = scores(estimator, X_val)
        cut = thresholds.tune_global(y_val, val_scores)
        f1 = metrics.evaluate(y_val, val_scores >= cut)["micro_f1"]
        tried[describe(params)] = f1
        if best is None or f1 > tried[describe(best[0])]:
            best = (params, estimator)
    return Fitted(model, best[0], best[1], tried, time.perf_counter() - started)


@dataclasses.dataclass
class Outcome:
    """One system of an ablation: the fitted model, its scores and test predictions."""

    name: str
    fitted: Fitted
    probs: dict[str, np.ndarray]  # validation and test scores
    thresholds: np.ndarray
    y_pred: np.ndarray  # test predictions


def run(name: str, model: str, matrices, y_train, y_val, *, strategy: str = "global", grid=None,
        seed: int = 0) -> Outcome:
    """Fit ``model`` on ``matrices`` = (train, validation, test), tune thresholds on
    validation with ``strategy`` and predict test."""
    X_train, X_val, X_test = matrices
    fitted = fit(model, X_train, y_train, X_val, y_val, grid, seed)
    probs = {"validation": fitted.scores(X_val), "test": fitted.scores(X_test)}
    cuts = thresholds.fit(y_val, probs["validation"], strategy)
    return Outcome(name, fitted, probs, cuts, thresholds.predict(probs["test"], cuts))


class ChainEnsemble:
    """Fitted classifier chains over the labels with both classes in training
    (``keep``); the other labels score their training frequency. ``probabilities(X)``;
    ``fit_seconds``, how long fitting took."""

    def __init__(self, chains: list, keep: np.ndarray, prior: np.ndarray, fit_seconds: float = float("nan")):
        self.chains, self.keep, self.prior, self.fit_seconds = chains, keep, prior, fit_seconds

    def probabilities(self, x) -> np.ndarray:
        out = []
        for chain in self.chains:
            full = np.tile(self.prior, (x.shape[0], 1)).astype(float)
            full[:, self.keep] = chain.predict_proba(x)
            out.append(full)
        return np.mean(out, axis=0)


def fit_chains(x_train, y_train, *, orders: int = 3, C: float = 30.0, seed: int = 0) -> ChainEnsemble:
    """A classifier chain ensemble (Read, Pfahringer, Holmes & Frank 2011): ``orders``
    scikit-learn ``ClassifierChain`` models over logistic regression, each in a random
    label order (seeded), their probabilities averaged. A chain feeds each label's
    prediction to the classifiers after it: the classic way to use label dependencies.
    Restored when the same chains were fitted on the same data before
    (:func:`mlstc.models.fitcache.estimator`); ``fit_seconds`` is the fit's time."""
    y_train = np.asarray(y_train)
    return fitcache.estimator("classifier-chains", lambda: _fit_chains(x_train, y_train, orders, C, seed),
                              settings={"orders": orders, "C": C, "seed": seed}, data=[x_train, y_train],
                              loop=[__name__])


def _fit_chains(x_train, y_train, orders: int, C: float, seed: int) -> ChainEnsemble:
    from sklearn.multioutput import ClassifierChain

    started = time.perf_counter()
    keep = (y_train.sum(0) > 0) & (y_train.sum(0) < len(y_train))  # a chain link needs both classes
    chains = [ClassifierChain(LogisticRegression(C=C, solver="liblinear", max_iter=1000, random_state=seed + k),
                              order="random", random_state=seed + k).fit(x_train, y_train[:, keep])
              for k in range(orders)]
    return ChainEnsemble(chains, keep, y_train.mean(0), time.perf_counter() - started)


def chain_ensemble(x_train, y_train, x_val, x_test, *, orders: int = 3, C: float = 30.0, seed: int = 0
                   ) -> dict[str, np.ndarray]:
    """Validation and test probabilities of :func:`fit_chains`."""
    model = fit_chains(x_train, y_train, orders=orders, C=C, seed=seed)
    return {"validation": model.probabilities(x_val), "test": model.probabilities(x_test)}
