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

from mlstc import results
from mlstc.book import shown
from mlstc.evaluation import metrics, selection, stats, thresholds
from mlstc.models import losses as loss_registry
from mlstc.results import rescore

COUPLED = loss_registry.COUPLED  # the losses that couple the labels of a document (a claim in their registration)
# Threshold rules are named as mlstc.evaluation.thresholds.STRATEGIES names them, everywhere in
# code and in stored names; a page shows them as shown.rule() words them ("per-label", "0.5").
RULES = ("global", "per_label")  # the tuned rules every fine-tune is scored under
SWEEP_RULES = ("fixed", *RULES)  # the sweep's heads are scored at 0.5 too
# Chapter 06's threshold grid: the usual one plus low values, since a softmax spreads one
# unit of score over all labels (benchmarks/finetune_schedule.py scores with it too).
GRID = np.unique(np.concatenate([np.geomspace(0.001, 0.04, 12).round(4), thresholds.DEFAULT_GRID]))
COLUMNS = ["micro_f1", "macro_f1", "head_macro_f1", "medium_macro_f1", "tail_macro_f1"]
VALIDATION = ["validation_macro_f1", "validation_macro_f1_crossfit"]
SHORT = {"micro_f1": "micro-F1", "macro_f1": "macro-F1", "head_macro_f1": "head", "medium_macro_f1": "medium",
         "tail_macro_f1": "tail", "validation_macro_f1": "in-sample", "validation_macro_f1_crossfit": "cross-fitted"}
# column headings of a table of COLUMNS + VALIDATION


def cuts(rule: str, y_val, p_val, grid=thresholds.DEFAULT_GRID) -> np.ndarray:
    """One threshold per label by ``rule`` (:data:`mlstc.evaluation.thresholds.STRATEGIES`):
    ``"fixed"`` (0.5 everywhere), or tuned on validation over ``grid``, ``"global"`` (one
    for all labels) or ``"per_label"``."""
    return thresholds.fit(y_val, p_val, rule, grid=grid)


def extra(tuned, settings: dict, checkpoint: str, **more) -> dict:
    """What a fine-tune's result records beside its scores: its ``settings``, per-label
    thresholds, history, checkpoint, training seconds and whether the fit cache
    restored it; ``more`` on top."""
    from mlstc.text import checkpoints

    return {**settings, "per_label_thresholds": tuned.per_label_cuts, "history": tuned.history,
            "checkpoint": checkpoint or checkpoints.DEFAULT, "train_seconds": tuned.train_seconds,
            "restored_from_fit_cache": tuned.cached, **more}


def seed_std(rows: list[dict], metrics=("micro_f1", "macro_f1", "subset_accuracy", "hamming_loss")) -> dict:
    """The standard deviation over seeds of single runs (``rows``: one result row per
    seed), per metric that every row has; empty with fewer than two rows."""
    if len(rows) < 2:
        return {}
    return {m: float(np.std([r[m] for r in rows], ddof=1)) for m in metrics if all(m in r for r in rows)}


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
            crossfit = selection.crossfit(self.y_val, probs["validation"], rule, grid=self.grid,
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
        row |= {f"{m} per-label thresholds": by_rule["per_label"][m] for m in COLUMNS + VALIDATION}
        row |= results.schedule(tuned)
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

    def still_rising(self) -> list[str]:
        """The runs (``"<loss>, seed <k>"``) that kept their last epoch: validation was
        still improving when the schedule ended, so a longer one might have helped."""
        return [f"{line['loss']}, seed {line['seed']}" for line in self.lines
                if line["best epoch"] == line["epochs run"]]

    def schedule_note(self) -> str:
        """Whether the schedule was long enough, in a sentence: the runs that kept their
        last epoch (:meth:`still_rising`), or that none did."""
        rising, n = self.still_rising(), len(self.lines)
        if rising:
            return (f"{len(rising)} of {n} runs kept their last epoch ({'; '.join(rising)}): validation micro-F1 "
                    "was still improving when the schedule ended")
        return f"none of the {n} runs kept its last epoch: each peaked before the schedule ended"

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
    head, loss, seed, rule)``, the thresholds behind them under the same key, and the
    probabilities per ``(dataset, representation, head, loss, seed)``."""

    grid: np.ndarray
    rows: list[dict] = field(default_factory=list)
    preds: dict[tuple, np.ndarray] = field(default_factory=dict)
    probs: dict[tuple, dict] = field(default_factory=dict)
    cuts: dict[tuple, np.ndarray] = field(default_factory=dict)
    val_preds: dict[tuple, np.ndarray] = field(default_factory=dict)  # validation decisions, keyed like preds
    seconds: float = 0.0  # training time of the joint runs (the stored runs' where the fit cache restored them)

    def add(self, key: str, rep: str, kind: str, seed: int, losses, trained, x: dict, y: dict) -> None:
        """Score one joint run: ``trained`` is :func:`mlstc.models.heads.train_many`'s
        answer for ``losses`` on the features ``x`` (split -> matrix), ``y`` the labels
        (``train``, ``validation``, ``test``)."""
        from mlstc.models import heads

        joint_seconds = trained[0][2]["train_seconds"]
        self.seconds += joint_seconds
        for name, (model, loss, history) in zip(losses, trained):
            probs = {split: heads.predict_scores(model, loss, x[split]) for split in ("validation", "test")}
            self.record((key, rep, kind, name, seed), probs, y, epochs=len(history["loss"]),
                        seconds=joint_seconds / len(losses))

    def record(self, head: tuple, probs: dict, y: dict, *, epochs: int, seconds: float) -> None:
        """Score one head, ``(dataset, representation, head kind, loss, seed)``, from
        its validation and test ``probs`` under each rule: its rows, decisions,
        thresholds and probabilities."""
        key, rep, kind, name, seed = head
        for rule in SWEEP_RULES:
            cut = cuts(rule, y["validation"], probs["validation"], self.grid)
            pred, val_pred = (thresholds.predict(probs[split], cut) for split in ("test", "validation"))
            self.rows.append({"dataset": key, "representation": rep, "head": kind, "loss": name, "seed": seed,
                              "rule": rule, **rescore.sweep_scores(y, pred, val_pred, y["train"].sum(0)),
                              "epochs": epochs, "seconds": seconds})
            self.preds[(*head, rule)], self.val_preds[(*head, rule)], self.cuts[(*head, rule)] = pred, val_pred, cut
        self.probs[head] = probs

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def comparisons(self, run, corpora: dict, settings, losses, seeds) -> tuple[list, list[dict]]:
        """Every loss against BCE, paired over ``seeds``, per data set, setting
        (representation, head) and tuned rule: :class:`mlstc.book.verdicts.Comparison`
        objects for :func:`mlstc.book.verdicts.judge` and, per comparison and metric,
        its setting, rule and loss. The first setting's per-label comparisons of the
        losses that couple labels are the verdict page's evidence: ZLPR and LSEP on "the
        loss must model dependencies", softmax-CE, the standard cross-entropy, on
        "cross-entropy is unsuitable" (the page reads it from BCE's side,
        :func:`mlstc.results.claims.filed`). A loss for imbalance against BCE compares two
        multi-label losses, which no claim of the article names."""
        from mlstc.book import verdicts

        family, keys = [], []
        for key, ds in corpora.items():
            y_test = ds.split("test").y
            for rep, kind in settings:
                for rule in RULES:
                    base = [self.preds[(key, rep, kind, "bce", s, rule)] for s in seeds]
                    for name in [n for n in losses if n != "bce"]:
                        other = [self.preds[(key, rep, kind, name, s, rule)] for s in seeds]
                        claims = {}
                        if rule == "per_label" and (rep, kind) == tuple(settings[0]) and name in COUPLED:
                            claims = {loss_registry.REGISTRY[name].claim: f"{rep} {kind} head: {name} vs BCE "
                                             f"(per-label thresholds, {len(seeds)} seeds)"}
                        family.append(verdicts.Comparison(key, f"{rep} {kind}, {shown.rule(rule)}: {name} vs BCE",
                                                          run.compare(y_test, base, other), claims))
                        keys += [{"setting": f"{rep} {kind}", "rule": rule, "loss": name}] * len(verdicts.METRICS)
        return family, keys

    def save(self, run, corpora: dict) -> None:
        """Save one result per data set, representation, head and loss (named by
        :func:`sweep_name`): the test scores' means over seeds under the global rule,
        the per-label rule's beside them, every rule's means in ``extra``; the first
        seed's probabilities and its global thresholds; and every seed's validation
        and test decisions under each tuned rule, bit-packed (``extra.seed_decisions``
        says which), so that ``verify --evidence`` computes the means and every
        comparison made with them again. Save before comparing: a comparison names
        the saved decisions it used."""
        scores = ["micro_f1", "macro_f1", "head_macro_f1", "medium_macro_f1", "tail_macro_f1", "validation_micro_f1",
                  "validation_macro_f1"]
        for (key, rep, kind, name), part in self.table.groupby(["dataset", "representation", "head", "loss"],
                                                               sort=False):
            seeds = [int(s) for s in dict.fromkeys(part["seed"])]
            means = part.groupby("rule")[scores].mean()
            row = means.loc["global"].to_dict()
            row |= {f"{m} per_label": means.loc["per_label", m] for m in ("micro_f1", "macro_f1", "tail_macro_f1")}
            spread = part[part.rule == "global"][scores].std(ddof=1).fillna(0.0)  # seed sd of single runs
            decisions = {rescore.decision_name(split, rule, s): kept[(key, rep, kind, name, s, rule)]
                         for split, kept in (("test", self.preds), ("validation", self.val_preds))
                         for rule in RULES for s in seeds}
            extra = {"seeds": seeds, "rules": means.round(5).to_dict(orient="index"), "representation": rep,
                     "head": kind, "loss": name, "seed_std": {m: float(v) for m, v in spread.items()},
                     "seed_decisions": {"seeds": seeds, "rules": list(RULES)}}
            run.save(corpora[key], sweep_name(rep, kind, name), row, probs=self.probs[(key, rep, kind, name, seeds[0])],
                     thresholds=self.cuts[(key, rep, kind, name, seeds[0], "global")], extra=extra, decisions=decisions)


def describe(settings: dict, *, seeds: int, losses) -> str:
    """One line on the fine-tunes about to run: chapter 03's settings, the schedule,
    the seeds per loss and the losses."""
    return (f"chapter 03's settings: max_length {settings['max_length']}, {settings['truncation']} truncation, "
            f"learning rate {settings['learning_rate']}, batch {settings['batch_size']}, {settings['precision']}; "
            f"{settings['epochs']} epochs, every one run, the best on validation kept; {seeds} seed(s) per loss; "
            f"losses: {', '.join(losses)}")


def sweep_name(rep: str, kind: str, loss: str) -> str:
    """A sweep head's result name: ``head-<loss>`` (linear head on MiniLM vectors),
    ``mlp-<loss>``, with ``-<representation>`` after the head for another one."""
    return ("head" if kind == "linear" else "mlp") + ("" if rep == "minilm" else f"-{rep}") + f"-{loss}"


def mean_std(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """``mean ± sd`` over seeds of ``columns`` per loss and rule, three decimals each
    (``0.160 ± 0.239``, never ``0.16 ± 0.239``), the columns named in words
    (``tail macro-F1``, not ``tail_macro_f1``)."""
    grouped = frame.groupby(["loss", "rule"], sort=False)[columns]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0)
    table = mean.map("{:.3f}".format) + " ± " + std.map("{:.3f}".format)
    return table.rename(index=shown.rule, level="rule").rename(columns=shown.metric)


def comparison_name(loss: str, rule: str) -> str:
    """The end-to-end study's comparison of ``loss`` with BCE under ``rule``, as its
    table names it: ``db vs BCE, per-label thresholds``."""
    return f"{loss} vs BCE, {shown.rule(rule)} thresholds"


def glued(table: pd.DataFrame, judged: pd.DataFrame, losses=("bce", "db", "cb-ntr")) -> dict[str, str]:
    """The end-to-end study's numbers for the chapter's prose, per loss and rule (tag
    ``global`` or ``pl``): macro-, tail macro- and micro-F1 (``ft_<loss>_<metric>_<tag>``,
    ``not run`` where it was not) and the macro-F1 verdict against BCE
    (``ft_<loss>_vs_bce_<tag>``)."""
    out = {}
    for name in losses:
        slug = f"ft_{name.replace('-', '_')}"
        for rule, tag in (("global", "global"), ("per_label", "pl")):
            found = len(table) and (rule, name) in table.index
            for metric, short in (("macro_f1", "macro"), ("tail_macro_f1", "tail"), ("micro_f1", "micro")):
                out[f"{slug}_{short}_{tag}"] = f"{table.loc[(rule, name), metric]:.3f}" if found else "not run"
            row = judged[(judged["comparison"] == comparison_name(name, rule))
                         & (judged["metric"] == "macro_f1")] if len(judged) else judged
            out[f"{slug}_vs_bce_{tag}"] = row["verdict"].iloc[0] if len(row) else "not run"
    return out
