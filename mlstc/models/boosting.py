"""Gradient-boosted trees per label on sparse features (introduced in chapter 05).

:func:`fit_per_label` trains one LightGBM classifier per label (Ke et al. 2017), each
stopping early on the label's validation log-loss, and returns validation and test
probabilities. A label with fewer than two positive training documents gets its
training frequency as a constant score (a tree model cannot learn from one example).
"""

from __future__ import annotations

import numpy as np

DEFAULTS = {"n_estimators": 300, "learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 5,
            "colsample_bytree": 0.5, "subsample": 0.8, "subsample_freq": 1, "reg_lambda": 1.0, "n_jobs": 2,
            "verbose": -1}


def fit_per_label(x_train, y_train, x_val, y_val, x_test, *, seed: int = 0, early_stopping: int = 20,
                  params: dict | None = None) -> tuple[dict[str, np.ndarray], list[int]]:
    """``({"validation": P, "test": P}, rounds kept per label)``."""
    import lightgbm

    y_train, y_val = np.asarray(y_train), np.asarray(y_val)
    labels = y_train.shape[1]
    out = {"validation": np.zeros((x_val.shape[0], labels)), "test": np.zeros((x_test.shape[0], labels))}
    rounds = []
    for j in range(labels):
        positives = int(y_train[:, j].sum())
        if positives < 2 or positives == len(y_train):
            prior = positives / len(y_train)
            out["validation"][:, j], out["test"][:, j] = prior, prior
            rounds.append(0)
            continue
        model = lightgbm.LGBMClassifier(**(DEFAULTS | {"random_state": seed} | dict(params or {})))
        has_both = 0 < y_val[:, j].sum() < len(y_val)
        model.fit(x_train, y_train[:, j], eval_X=(x_val,) if has_both else None,
                  eval_y=(y_val[:, j],) if has_both else None,
                  callbacks=[lightgbm.early_stopping(early_stopping, verbose=False)] if has_both else None)
        out["validation"][:, j] = model.predict_proba(x_val)[:, 1]
        out["test"][:, j] = model.predict_proba(x_test)[:, 1]
        rounds.append(int(model.best_iteration_ or model.n_estimators))
    return out, rounds
