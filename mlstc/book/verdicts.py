"""The comparison-and-claim step every chapter ends with, written once.

A chapter compares systems with :func:`mlstc.evaluation.stats.compare`, wraps each
comparison in a :class:`Comparison` (which claims of the article it bears on, and how
the verdict page should name it), and calls :func:`judge`: the p-values of every
comparison and metric form one family for Holm's adjustment, each becomes evidence for
its claims (``run.claim``), and the returned table gives each a verdict in words with
the adjusted interval that matches it. :func:`outcome_counts` says how a set of rows
came out ("2 better, 1 within noise") for a chapter's summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from mlstc.book import shown as display  # this module has a shown() of its own
from mlstc.evaluation import stats
from mlstc.results import families
from mlstc.results.claims import MIN_SEEDS  # one threshold: chapters apply it, the page reads it

METRICS = ("micro_f1", "macro_f1")


def if_seeds(claims: dict[str, str], seeds: int) -> dict[str, str]:
    """``claims`` when a neural system was trained with at least :data:`MIN_SEEDS`
    seeds, else none: one run's comparison is shown in its chapter but kept out of the
    verdicts, since one seed cannot say how far the result moves on another seed or CPU."""
    return dict(claims) if seeds >= MIN_SEEDS else {}


def seeds_phrase(seeds: int) -> str:
    """How a chapter says whether its neural comparisons count for the verdicts."""
    if seeds >= MIN_SEEDS:
        return f"recorded as evidence for the article's claims ({seeds} seeds)"
    return (f"shown here but kept out of the verdicts ({seeds} seed{'s' if seeds != 1 else ''}; "
            f"the verdicts take a neural result with {MIN_SEEDS} or more)")


@dataclass
class Comparison:
    """``table`` (from ``stats.compare(y, a, b)``: ``b - a``) of ``dataset``, shown as
    ``name`` ("X vs Y": X is ``b``); ``claims`` maps each claim it bears on to the
    experiment's name on the verdict page."""

    dataset: str
    name: str
    table: pd.DataFrame
    claims: dict[str, str] = field(default_factory=dict)


def adjusted(tables: Sequence[pd.DataFrame], metrics: Sequence[str] = METRICS) -> list[dict]:
    """Holm's adjustment over every table and metric as one family (tables first, then
    metrics): :func:`mlstc.evaluation.stats.holm_family` of their differences."""
    rows = [t.loc[m] for t in tables for m in metrics]
    return stats.holm_family([(float(r["delta"]), float(r["se"]), float(r["df"]) if "df" in r else math.inf)
                              for r in rows])


def judge(run, comparisons: Sequence[Comparison], metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Holm-adjust every comparison and metric as one family (:func:`adjusted`), record
    each as evidence for its claims (``run.claim``, with this family's adjusted p and
    interval, which the verdict page shows unchanged), and return one row per
    comparison and metric: dataset, comparison, metric, seeds (``X/Y``), verdict (with
    the adjusted interval), outcome, delta and p_holm."""
    family_tests = adjusted([c.table for c in comparisons], metrics)
    run.families = getattr(run, "families", 0) + 1
    family = {"id": f"{run.notebook}/{run.families}", "size": len(comparisons) * len(metrics)}
    rows = []
    for index, ((c, metric), test) in enumerate(zip(((c, m) for c in comparisons for m in metrics), family_tests)):
        row = c.table.loc[metric]
        if hasattr(run, "tests"):  # every test, so that `verify --evidence` can adjust the family again
            run.tests.append(families.record(
                dataset=c.dataset, experiment=c.name, metric=metric, delta=row["delta"], se=row["se"],
                df=row.get("df"), sources=c.table.attrs.get("sources"), family=family | {"index": index}))
        for claim, experiment in c.claims.items():
            run.claim(claim, c.dataset, experiment, c.table, metric=metric, p_holm=test["p_holm"],
                      adjusted=(test["adj_low"], test["adj_high"]), family=family | {"index": index})
        verdict = stats.verdict(row["delta"], test["adj_low"], test["adj_high"], test["p_holm"])
        rows.append({"dataset": c.dataset, "comparison": c.name, "metric": metric,
                     "seeds": f"{int(row['b_seeds'])}/{int(row['a_seeds'])}", "verdict": verdict,
                     "outcome": verdict.split(":")[0], "delta": float(row["delta"]), "p_holm": test["p_holm"]})
    return pd.DataFrame(rows)


def outcome_counts(judged: pd.DataFrame) -> str:
    """How the rows of ``judged`` came out, e.g. ``"2 better, 1 within noise"``."""
    counts = judged["outcome"].value_counts()
    return ", ".join(f"{counts[w]} {w}" for w in stats.OUTCOMES if w in counts) or "none"


def shown(judged: pd.DataFrame) -> pd.DataFrame:
    """The table a page shows: data set, comparison and metric (in words) as the index;
    the seeds of each side and the verdict."""
    table = judged.assign(metric=judged["metric"].map(display.metric))
    return table.set_index(["dataset", "comparison", "metric"])[["seeds", "verdict"]].rename_axis(
        ["data set", "comparison", "metric"]).rename(columns={"seeds": "seeds (each side)"})


def against(row: dict, bars: dict[str, float]) -> pd.DataFrame:
    """Whether each metric of a result ``row`` reaches its bar (a target, or a
    published score): one row per metric with the bar, the test score, its interval
    (``<metric>_low``/``_high``; the score itself where the row has none) and the
    outcome of :func:`mlstc.evaluation.stats.reaches` (reaches, within noise of or
    misses)."""
    rows = {}
    for metric, bar in bars.items():
        low, high = (row[metric + "_low"], row[metric + "_high"]) if metric + "_low" in row else (row[metric],) * 2
        rows[metric] = {"target": bar, "test": row[metric], "low": low, "high": high,
                        "outcome": stats.reaches(low, high, bar)}
    return pd.DataFrame(rows).T.rename_axis("metric").astype({"target": float, "test": float, "low": float,
                                                             "high": float})


def shown_against(table: pd.DataFrame):
    """:func:`against`'s table as a page shows it: metrics named in words, scores and
    bounds to three decimals."""
    return table.rename(index=display.metric).style.format(
        "{:.3f}", subset=["target", "test", "low", "high"])


def phrase(outcome: str) -> str:
    """An outcome of :func:`against` as a verb phrase for prose: ``reaches``,
    ``misses``, ``is within noise of``."""
    return "is within noise of" if outcome == "within noise of" else outcome
