"""Metrics for labels in a hierarchy (introduced in chapter 04).

- :func:`violation_rate`: the share of documents with a predicted label whose parent
  is not predicted (a prediction no hierarchy allows).
- :func:`hierarchical_prf`: hierarchical precision, recall and F1 of Kiritchenko,
  Matwin & Famili (2005): each document's true and predicted label sets are augmented
  with all their ancestors, then ``hP = sum |P & T| / sum |P|`` and
  ``hR = sum |P & T| / sum |T|`` over documents.
- :func:`by_level`: micro- and macro-F1 of the labels of each level.

Every function takes matrices over the nodes of a :class:`mlstc.data.Hierarchy`
(``parent_index[j]`` is the column of node ``j``'s parent, ``-1`` for a root).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlstc.evaluation import metrics


def violations(y_pred, parent_index) -> np.ndarray:
    """Per document, whether some predicted label's parent is not predicted."""
    y_pred = np.asarray(y_pred) > 0
    parent_index = np.asarray(parent_index)
    children = np.flatnonzero(parent_index >= 0)
    if not len(children):
        return np.zeros(len(y_pred), dtype=bool)
    return (y_pred[:, children] & ~y_pred[:, parent_index[children]]).any(1)


def violation_rate(y_pred, parent_index) -> float:
    return float(violations(y_pred, parent_index).mean()) if len(y_pred) else 0.0


def ancestor_closure(y, parent_index) -> np.ndarray:
    """Each row with every ancestor of its labels added."""
    out = np.asarray(y) > 0
    parent_index = np.asarray(parent_index)
    for _ in range(len(parent_index)):  # at most depth passes; stops when nothing changes
        children = np.flatnonzero(parent_index >= 0)
        grown = out.copy()
        grown[:, parent_index[children]] |= out[:, children]
        if np.array_equal(grown, out):
            break
        out = grown
    return out


def hierarchical_prf(y_true, y_pred, parent_index) -> dict[str, float]:
    """``hierarchical_precision``, ``hierarchical_recall``, ``hierarchical_f1``."""
    t, p = ancestor_closure(y_true, parent_index), ancestor_closure(y_pred, parent_index)
    both, predicted, true = (t & p).sum(), p.sum(), t.sum()
    hp = both / predicted if predicted else 0.0
    hr = both / true if true else 0.0
    hf = 2 * hp * hr / (hp + hr) if hp + hr else 0.0
    return {"hierarchical_precision": float(hp), "hierarchical_recall": float(hr), "hierarchical_f1": float(hf)}


def by_level(y_true, y_pred, levels: list[list[int]]) -> dict[str, float]:
    """``level<k>_micro_f1`` and ``level<k>_macro_f1`` for the node columns of each level."""
    out = {}
    for k, columns in enumerate(levels, 1):
        m = metrics.evaluate(np.asarray(y_true)[:, columns], np.asarray(y_pred)[:, columns])
        out |= {f"level{k}_micro_f1": m["micro_f1"], f"level{k}_macro_f1": m["macro_f1"]}
    return out


def evaluate(y_true, y_pred, scores, parent_index, levels: list[list[int]]) -> dict[str, float]:
    """:func:`mlstc.evaluation.metrics.evaluate` over all nodes, plus the
    hierarchical, per-level and violation figures."""
    return (metrics.evaluate(y_true, y_pred, scores) | hierarchical_prf(y_true, y_pred, parent_index)
            | by_level(y_true, y_pred, levels) | {"violation_rate": violation_rate(y_pred, parent_index)})


def evaluate_tree(tree, y_true, y_pred, scores=None) -> dict[str, float]:
    """:func:`evaluate` with the parents and levels of ``tree`` (a
    :class:`mlstc.data.Hierarchy` whose nodes are the columns)."""
    levels = [[tree.nodes.index(n) for n in level] for level in tree.levels]
    return evaluate(y_true, y_pred, scores, tree.parent_index(), levels)


@dataclass
class SeedScores:
    """What :func:`score_seeds` found: the seed means of the test metrics and of the
    validation micro- and macro-F1, the standard deviation over seeds of the test
    metrics (empty for one seed), and per seed its test decisions, its row of metrics,
    its threshold and the probabilities it was scored on."""

    mean: dict
    spread: dict
    preds: list
    rows: list
    cuts: list
    probs: list


def score_seeds(tree, y_val, y_test, runs: list[dict], *, stored=None) -> SeedScores:
    """Score each seed's ``{"validation": P, "test": P}`` (probabilities over the
    tree's nodes) with one global threshold tuned on validation, by
    :func:`evaluate_tree`. ``stored(P, threshold)``, if given, turns the probabilities
    into what will be saved (:func:`mlstc.results.store.stored_or_float32`) before they
    are scored, so that every saved number is what the saved arrays give."""
    from mlstc.evaluation import thresholds

    rows, preds, cuts, scored = [], [], [], []
    for probs in runs:
        cut = thresholds.tune_global(y_val, probs["validation"])
        probs = {split: stored(p, cut) for split, p in probs.items()} if stored else probs
        preds.append(probs["test"] >= cut)
        validation = metrics.evaluate(y_val, probs["validation"] >= cut)
        rows.append(evaluate_tree(tree, y_test, preds[-1], probs["test"])
                    | {f"validation_{m}": validation[m] for m in ("micro_f1", "macro_f1")})
        cuts.append(float(cut))
        scored.append(probs)
    return SeedScores(*seed_summary(rows), preds, rows, cuts, scored)


def seed_summary(rows: list[dict]) -> tuple[dict, dict]:
    """The mean of each metric over the seeds' rows, and the standard deviation over
    seeds of the test metrics (not of ``validation_*``; empty for one seed)."""
    import pandas as pd

    table = pd.DataFrame(rows)
    test = table[[c for c in table.columns if not c.startswith("validation_")]]
    return table.mean().to_dict(), (test.std(ddof=1).to_dict() if len(rows) > 1 else {})


def subsets(tree, label_names) -> dict[str, list[int]]:
    """The node columns a hierarchical model is compared on: all nodes and the second
    level; only the data set's own labels (``label_names``) where the tree adds group
    nodes of its own (``tree.derived``), which the data set never labels."""
    if tree.derived:
        return {"leaves (the data set's labels)": [tree.nodes.index(n) for n in label_names]}
    found = {"all nodes": list(range(len(tree.nodes)))}
    if len(tree.levels) > 1:
        found["level 2"] = [tree.nodes.index(n) for n in tree.levels[1]]
    return found
