"""A saved result scored again from its committed arrays, for ``verify --evidence``.

A result's columns are its data set's labels, or (chapter 04) the nodes of the data
set's hierarchy, group nodes included: :func:`truth` gives the labels over either. A
result's decisions are its stored probabilities at its saved thresholds
(:func:`decisions`), and :func:`score` computes its row from them the way the chapter
did (:func:`mlstc.evaluation.hierarchical.evaluate_tree` over a hierarchy's nodes). A
row of seed means names the results of its other seeds (``extra.seed_runs``), and
:func:`seed_means` averages the rows of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlstc import data
from mlstc.evaluation import hierarchical, metrics, stats
from mlstc.results import store

SPLITS = ("validation", "test")


@dataclass(frozen=True)
class Truth:
    """The labels over a result's columns, per split, and the hierarchy whose nodes
    those columns are (``None`` for the data set's own labels)."""

    y: dict
    tree: data.Hierarchy | None = None


def truth(ds: data.Dataset, label_names) -> Truth | None:
    """The labels of ``ds`` over ``label_names``: its own labels, or every node of its
    hierarchy (ancestors of a true label true); ``None`` where they are neither."""
    names = list(label_names or [])
    if names == list(ds.label_names):
        return Truth({s: ds.split(s).y for s in SPLITS})
    if not ds.hierarchy:
        return None
    try:
        tree = data.Hierarchy.from_mapping(ds.hierarchy, ds.label_names, source=f"{ds.name}'s hierarchy")
    except data.HierarchyError:
        return None
    if list(tree.nodes) != names:
        return None
    return Truth({s: tree.augment(ds.split(s).y, ds.label_names) for s in SPLITS}, tree)


def decisions(record: dict, probs: dict, split: str = "test") -> np.ndarray:
    """The result's decisions on ``split``, over its own columns."""
    return store.threshold_predict(probs[split], record["extra"]["thresholds"])


def score(record: dict, probs: dict, labels: Truth, *, n_samples: int | None = None) -> dict:
    """The result's row from its stored arrays: test metrics (with intervals, from
    ``n_samples`` bootstrap resamples and the result's seed, where given), a
    hierarchy's figures over its nodes, and validation micro- and macro-F1."""
    y_test, test = labels.y["test"], decisions(record, probs)
    row = {}
    if n_samples:
        row = stats.table_row(y_test, test, probs["test"], n_samples=n_samples, seed=int(record["seed"]))
    if labels.tree is not None:  # metrics.evaluate's figures and the hierarchy's
        row |= hierarchical.evaluate_tree(labels.tree, y_test, test, probs["test"])
    elif not n_samples:
        row = metrics.evaluate(y_test, test, probs["test"])
    if "validation" in probs:
        val = metrics.evaluate(labels.y["validation"], decisions(record, probs, "validation"))
        row |= {"validation_micro_f1": val["micro_f1"], "validation_macro_f1": val["macro_f1"]}
    return row


def seed_means(rows: list[dict]) -> tuple[dict, dict]:
    """The seed means and standard deviations, as chapter 04 computed them
    (:func:`mlstc.evaluation.hierarchical.seed_summary`)."""
    return hierarchical.seed_summary(rows)


def decision_name(split: str, rule: str, seed: int) -> str:
    """The name a decision matrix of one seed under one threshold rule is saved under
    beside a result of seed means (chapter 06's sweep): ``test-per_label-seed1``."""
    return f"{split}-{rule}-seed{seed}"


def sweep_scores(y: dict, test, validation, train_counts) -> dict:
    """One head's scores under one rule, as chapter 06's sweep records them (and
    :func:`decision_means` recomputes them): validation micro- and macro-F1, test micro-
    and macro-F1 and the test macro-F1 of each label-frequency group (``y``: the
    validation and test labels; ``test``, ``validation``: the decisions)."""
    val = metrics.evaluate(y["validation"], validation)
    return {"validation_micro_f1": val["micro_f1"], "validation_macro_f1": val["macro_f1"],
            **{m: v for m, v in metrics.evaluate(y["test"], test).items() if m in ("micro_f1", "macro_f1")},
            **metrics.group_macro_f1(y["test"], test, train_counts)}


def decision_means(plan: dict, saved: dict, labels: Truth, train_counts) -> tuple[dict, dict]:
    """A row of seed means scored from saved decisions, as chapter 06's sweep scored
    it (:func:`sweep_scores`): per rule of ``plan["rules"]`` and seed of
    ``plan["seeds"]``; the means of the first rule under the metrics' names, of the
    others as ``<metric> <rule>``; and the first rule's seed standard deviations
    (``ddof=1``)."""
    import pandas as pd

    means, spread = {}, {}
    for k, rule in enumerate(plan["rules"]):
        frame = pd.DataFrame([sweep_scores(labels.y, saved[decision_name("test", rule, s)],
                                           saved[decision_name("validation", rule, s)], train_counts)
                              for s in plan["seeds"]])
        means |= {m if k == 0 else f"{m} {rule}": float(v) for m, v in frame.mean().items()}
        if k == 0:
            spread = {m: float(v) for m, v in frame.std(ddof=1).fillna(0.0).items()}
    return means, spread
