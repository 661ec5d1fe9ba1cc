"""Chapter 06's two studies, scored. Its fast sweep trains heads on frozen features,
one per loss (:func:`mlstc.models.heads.train_many`); :class:`Sweep` scores each head
under three threshold rules. Its end-to-end study fine-tunes one checkpoint on one
data set with several losses and seeds (:func:`mlstc.models.finetune.finetune`,
chapter 03's fine-tune with one thing changed); :class:`Scorer` scores every run the
same way under both tuned rules and :class:`Study` gathers the runs. Nothing here
trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlstc.evaluation import metrics, selection, stats, thresholds

RULES = ("global", "per-label")  # the tuned rules every fine-tune is scored under
SWEEP_RULES = ("0.5", *RULES)  # the sweep's heads are scored at 0.5 too
COLUMNS = ["micro_f1", "macro_f1", "head_macro_f1", "medium_macro_f1", "tail_macro_f1"]
VALIDATION = ["validation_macro_f1", "validation_macro_f1_crossfit"]


def cuts(rule: str, y_val, p_val, grid=thresholds.DEFAULT_GRID) -> np.ndarray:
    """One threshold per label by ``rule``: ``"0.5"`` everywhere, or tuned on
    validation over ``grid``, ``"global"`` (one for all labels) or ``"per-label"``."""
    if rule == "0.5":
        return np.full(np.shape(p_val)[1], 0.5)
    return thresholds.fit(y_val, p_val, "global" if rule == "global" else "per_label", grid=grid)


@dataclass
class Scorer:
    """Scores a run's ``{"validation": P, "test": P}`` under each of :data:`RULES`:
    test metrics with bootstrap intervals and Huang et al.'s frequency groups, the
    validation scores at the tuned thresholds, and the cross-fitted validation macro-F1
    (:mod:`mlstc.evaluation.selection`) a choice between rules is made on."""

    y_val: np.ndarray
    y_test: np.ndarray
    train_counts: np.ndarray
    grid: np.ndarray = field(default_factory=lambda: thresholds.DEFAULT_GRID)
    n_samples: int = 1000
    seed: int = 0

    def __call__(self, probs: dict) -> dict[str, dict]:
        out = {}
        for rule in RULES:
            cut = cuts(rule, self.y_val, probs["validation"], self.grid)
            pred = thresholds.predict(probs["test"], cut)
            row = stats.table_row(self.y_test, pred, probs["test"], n_samples=self.n_samples, seed=self.seed)
            row |= metrics.group_macro_f1(self.y_test, pred, self.train_counts)
            val = metrics.evaluate(self.y_val, thresholds.predict(probs["validation"], cut))
            crossfit = selection.crossfit(self.y_val, probs["validation"], rule.replace("-", "_"), grid=self.grid,
                                          seed=self.seed)
            out[rule] = row | {"validation_micro_f1": val["micro_f1"], "validation_macro_f1": val["macro_f1"],
                               "validation_macro_f1_crossfit": crossfit["macro_f1"], "cut": cut, "pred": pred}
        return out


@dataclass
class Study:
    """The chapter's fine-tunes (:meth:`add`): per loss, each seed's probabilities and
    scores (:class:`Scorer`), the row of its first seed, and per ``(loss, seed)`` the
    training history and one line of :meth:`runs`."""

    probs: dict[str, list[dict]] = field(default_factory=dict)
    scored: dict[str, list[dict]] = field(default_factory=dict)
    rows: dict[str, dict] = field(default_factory=dict)
    histories: dict[tuple[str, int], dict] = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)

    def add(self, loss: str, seed: int, tuned, by_rule: dict, saved_as: str) -> dict:
        """Record one fine-tune (a :class:`mlstc.models.finetune.Finetuned`) and its
        scores ``by_rule``; its result row: the global rule's scores, the per-label
        variants, its training time, epochs run and the epoch it kept."""
        row = {k: v for k, v in by_rule["global"].items() if k not in ("cut", "pred")}
        row |= {f"{m} per-label thresholds": by_rule["per-label"][m] for m in COLUMNS + VALIDATION}
        row |= {"train seconds": round(tuned.train_seconds, 1), "epochs run": len(tuned.history["loss"]),
                "best epoch": int(np.argmax(tuned.history["val_micro_f1"])) + 1}
        self.probs.setdefault(loss, []).append(tuned.probs)
        self.scored.setdefault(loss, []).append(by_rule)
        self.rows.setdefault(loss, row)  # the first seed's
        self.histories[(loss, seed)] = tuned.history
        self.lines.append({"loss": loss, "seed": seed, "saved as": saved_as, "epochs run": row["epochs run"],
                           "best epoch": row["best epoch"], "train min": row["train seconds"] / 60,
                           "restored from fit cache": "yes" if tuned.cached else ""})
        return row

    @property
    def minutes(self) -> float:
        """Training minutes of every run (the stored runs' where the fit cache restored them)."""
        return sum(line["train min"] for line in self.lines)

    def runs(self) -> pd.DataFrame:
        """One row per ``(loss, seed)``: saved as, epochs run and kept, training minutes."""
        return pd.DataFrame(self.lines).set_index(["loss", "seed"])

    def table(self, extra_runs: dict[str, list[dict]] | None = None) -> pd.DataFrame:
        """Per rule and loss, the mean over seeds of :data:`COLUMNS` and the validation
        macro-F1s; ``extra_runs`` (name -> scored runs) are added as further rows."""
        rows = []
        for rule in RULES:
            for name, scored in (self.scored | (extra_runs or {})).items():
                means = {m: float(np.mean([r[rule][m] for r in scored])) for m in COLUMNS + VALIDATION}
                rows.append({"rule": rule, "loss": name, "seeds": len(scored), **means})
        return pd.DataFrame(rows).set_index(["rule", "loss"]) if rows else pd.DataFrame()


@dataclass
class Sweep:
    """The fast sweep's heads (:meth:`add`), scored on test under each of
    :data:`SWEEP_RULES` with thresholds tuned on validation over ``grid``: one row per
    head and rule (:attr:`table`), the test predictions per ``(dataset, representation,
    head, loss, seed, rule)`` and the probabilities per ``(dataset, representation,
    head, loss, seed)``."""

    grid: np.ndarray
    rows: list[dict] = field(default_factory=list)
    preds: dict[tuple, np.ndarray] = field(default_factory=dict)
    probs: dict[tuple, dict] = field(default_factory=dict)
    seconds: float = 0.0  # training time of the joint runs (the stored runs' where the fit cache restored them)

    def add(self, key: str, rep: str, kind: str, seed: int, losses, trained, x: dict, y: dict) -> None:
        """Score one joint run: ``trained`` is :func:`mlstc.models.heads.train_many`'s
        answer for ``losses`` on the features ``x`` (split -> matrix), ``y`` the labels
        (``train``, ``validation``, ``test``)."""
        from mlstc.models import heads

        joint_seconds = trained[0][2]["train_seconds"]
        self.seconds += joint_seconds
        train_counts = y["train"].sum(0)
        for name, (model, loss, history) in zip(losses, trained):
            probs = {split: heads.predict_scores(model, loss, x[split]) for split in ("validation", "test")}
            for rule in SWEEP_RULES:
                cut = cuts(rule, y["validation"], probs["validation"], self.grid)
                pred = thresholds.predict(probs["test"], cut)
                val = metrics.evaluate(y["validation"], thresholds.predict(probs["validation"], cut))
                self.rows.append({"dataset": key, "representation": rep, "head": kind, "loss": name, "seed": seed,
                                  "rule": rule, "validation_micro_f1": val["micro_f1"],
                                  "validation_macro_f1": val["macro_f1"],
                                  **{m: v for m, v in metrics.evaluate(y["test"], pred).items()
                                     if m in ("micro_f1", "macro_f1")},
                                  **metrics.group_macro_f1(y["test"], pred, train_counts),
                                  "epochs": len(history["loss"]), "seconds": joint_seconds / len(losses)})
                self.preds[(key, rep, kind, name, seed, rule)] = pred
            self.probs[(key, rep, kind, name, seed)] = probs

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)
