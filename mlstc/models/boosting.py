"""Gradient-boosted trees per label on sparse features (introduced in chapter 05).

:func:`fit_per_label` trains one LightGBM classifier per label (Ke et al. 2017), each
stopping early on the label's validation log-loss, and returns validation and test
probabilities. A label with fewer than two positive training documents gets its
training frequency as a constant score (a tree model cannot learn from one example).
A fitted set is kept by :func:`mlstc.models.fitcache.estimator` (keyed by the data,
settings, seed, this module's code and the LightGBM version), so a rerun restores it.
"""

from __future__ import annotations

import time

import numpy as np

from mlstc.models import fitcache

# One thread per model, ``jobs`` models at a time (:func:`fit`): on tf-idf features a
# LightGBM model gains little from a second thread (1.2x on Reuters' most frequent
# label), so two labels side by side use two cores better. Column-wise histograms are
# about 1.3x faster than LightGBM's automatic choice on these wide sparse matrices.
DEFAULTS = {"n_estimators": 300, "learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 5,
            "colsample_bytree": 0.5, "subsample": 0.8, "subsample_freq": 1, "reg_lambda": 1.0, "n_jobs": 1,
            "force_col_wise": True, "verbose": -1}


class PerLabelLightGBM:
    """One fitted LightGBM classifier per label (a constant score where a label had
    fewer than two positive training documents); ``probabilities(X)``;
    ``fit_seconds``, how long fitting took."""

    def __init__(self, models: list, priors: list[float | None], fit_seconds: float = float("nan")):
        self.models, self.priors, self.fit_seconds = models, priors, fit_seconds

    @property
    def rounds(self) -> list[int]:
        return [0 if m is None else int(m.best_iteration_ or m.n_estimators) for m in self.models]

    def probabilities(self, x) -> np.ndarray:
        out = np.zeros((x.shape[0], len(self.models)))
        for j, (model, prior) in enumerate(zip(self.models, self.priors)):
            out[:, j] = prior if model is None else model.predict_proba(x)[:, 1]
        return out


def fit(x_train, y_train, x_val, y_val, *, seed: int = 0, early_stopping: int = 20,
        params: dict | None = None, jobs: int = 2) -> PerLabelLightGBM:
    """One LightGBM classifier per label, each stopping early on its validation log-loss;
    ``jobs`` labels are trained at a time (threads: LightGBM releases the GIL). Each
    model is the same whatever ``jobs`` is, so ``jobs`` is not part of the cache key.
    Restored when the same set was fitted on the same data before."""
    y_train, y_val = np.asarray(y_train), np.asarray(y_val)
    settings = DEFAULTS | {"random_state": seed} | dict(params or {})
    return fitcache.estimator("lightgbm", lambda: _fit(x_train, y_train, x_val, y_val, settings, early_stopping, jobs),
                              settings={"params": settings, "early_stopping": early_stopping},
                              data=[x_train, y_train, x_val, y_val], loop=[__name__],
                              versions=("lightgbm", "scikit-learn", "numpy"))


def _fit(x_train, y_train, x_val, y_val, settings: dict, early_stopping: int, jobs: int) -> PerLabelLightGBM:
    import lightgbm
    from joblib import Parallel, delayed

    started = time.perf_counter()

    def one(j):
        positives = int(y_train[:, j].sum())
        if positives < 2 or positives == len(y_train):
            return None, positives / len(y_train)
        model = lightgbm.LGBMClassifier(**settings)
        has_both = 0 < y_val[:, j].sum() < len(y_val)
        model.fit(x_train, y_train[:, j], eval_X=(x_val,) if has_both else None,
                  eval_y=(y_val[:, j],) if has_both else None,
                  callbacks=[lightgbm.early_stopping(early_stopping, verbose=False)] if has_both else None)
        return model, None

    fitted = Parallel(n_jobs=jobs, prefer="threads")(delayed(one)(j) for j in range(y_train.shape[1]))
    return PerLabelLightGBM([m for m, _ in fitted], [p for _, p in fitted], time.perf_counter() - started)


def fit_per_label(x_train, y_train, x_val, y_val, x_test, *, seed: int = 0, early_stopping: int = 20,
                  params: dict | None = None) -> tuple[dict[str, np.ndarray], list[int]]:
    """``({"validation": P, "test": P}, rounds kept per label)``, from :func:`fit`."""
    model = fit(x_train, y_train, x_val, y_val, seed=seed, early_stopping=early_stopping, params=params)
    return {"validation": model.probabilities(x_val), "test": model.probabilities(x_test)}, model.rounds
