"""Validation scores fit for *choosing* among systems (chapter 06).

A threshold tuned on the validation split and scored on that same split is
optimistic, and the more thresholds it tunes the more optimistic it is: 90 per-label
thresholds each pick the best of 91 grid values for a label that may have one or two
validation documents. Choosing between a global and a per-label rule by their
in-sample validation scores therefore favours the per-label rule whatever test says.

:func:`crossfit` removes that optimism by cross-fitting: the validation documents are
split into folds (multi-label stratified, so each fold keeps its share of every
label), each fold is predicted with thresholds tuned on the other folds only, and the
out-of-fold predictions of the whole split are scored once. Every rule is scored the
same way, so the comparison between rules is fair. The thresholds a system *uses* are
still tuned on the whole validation split; cross-fitting only scores the rule.
"""

from __future__ import annotations

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

from mlstc.evaluation import metrics, thresholds

FOLDS = 5


def out_of_fold(y_val, probs_val, strategy: str, *, grid=thresholds.DEFAULT_GRID, folds: int = FOLDS,
                seed: int = 0) -> np.ndarray:
    """Binary validation predictions in which each document's thresholds were tuned
    (by :func:`mlstc.evaluation.thresholds.fit` with ``strategy``) on the other folds."""
    y_val, probs_val = np.asarray(y_val), np.asarray(probs_val, dtype=float)
    if y_val.shape != probs_val.shape:
        raise ValueError(f"labels {y_val.shape} and probabilities {probs_val.shape} differ in shape")
    if len(y_val) < folds:
        raise ValueError(f"{len(y_val)} validation documents cannot be split into {folds} folds; pass folds=2 or "
                         "use a larger validation split")
    pred = np.zeros(y_val.shape, dtype=np.int8)
    splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tune_on, held_out in splitter.split(probs_val, y_val):
        cuts = thresholds.fit(y_val[tune_on], probs_val[tune_on], strategy, grid=grid)
        pred[held_out] = thresholds.predict(probs_val[held_out], cuts)
    return pred


def crossfit(y_val, probs_val, strategy: str, *, grid=thresholds.DEFAULT_GRID, folds: int = FOLDS,
             seed: int = 0) -> dict[str, float]:
    """Cross-fitted validation micro- and macro-F1 of a threshold ``strategy``
    (``"global"`` or ``"per_label"``): see the module docstring."""
    pred = out_of_fold(y_val, probs_val, strategy, grid=grid, folds=folds, seed=seed)
    scores = metrics.evaluate(y_val, pred)
    return {"micro_f1": scores["micro_f1"], "macro_f1": scores["macro_f1"]}
