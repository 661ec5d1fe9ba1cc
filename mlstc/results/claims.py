"""The source article's claims, the evidence the chapters record for them, and the
verdict page built from it (introduced in chapter 01; the page is ``90_verdicts``).

A chapter records each comparison that bears on a claim as an *evidence row*
(:func:`evidence`), oriented so that ``better`` supports the claim. Rows are saved
with the chapter's results as ``claims.json`` and gathered by :func:`assess`, which
applies one rule to every claim:

- **one family per claim**: every row recorded for a claim, from every chapter and
  data set, is one family; p-values (from each difference and its bootstrap standard
  error) are Holm-adjusted within it, and each interval is widened to match
  (:func:`mlstc.evaluation.stats.adjusted_interval`), so an interval that excludes
  zero is never called "within noise";
- an **experiment** (a comparison on one data set, scored in one or more metrics)
  *holds* when some metric is better and none is worse, and *fails* when some metric
  is worse and none better;
- a claim is **supported** when every experiment holds, **not supported** when none
  does, **depends** otherwise (the page says where it holds), **pending** when its
  chapter has not run.

Rows are filed by :func:`file_under`: Naive Bayes and SVMs are judged as separate
claims, and softmax cross-entropy, a cross-entropy itself, is evidence about
cross-entropy wherever a chapter filed it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mlstc.core import paths, storage
from mlstc.evaluation import stats

SCHEMA = "claims-1"
FILE = "claims.json"


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str
    text: str  # the article's words (or a faithful summary)
    chapters: tuple[str, ...]  # where the evidence comes from


CLAIMS = (
    Claim("accuracy", "accuracy (`metrics=['accuracy']`) is the metric to compile and watch", ("00_data",)),
    Claim("ner", "named-entity (NER) features improve multi-label accuracy", ("01_preprocessing",)),
    Claim("pos", "part-of-speech (POS) tags improve multi-label accuracy", ("01_preprocessing",)),
    Claim("contextual", "contextual embeddings (BERT) beat word2vec/GloVe-style features",
          ("01_preprocessing", "03_bert", "05_ensembles")),
    Claim("domain", "fine-tuning BERT on a domain corpus further boosts performance", ("07_domain_adaptation",)),
    Claim("naive_bayes", "simple models like Naive Bayes are inadequate", ("01_preprocessing", "02_lstm", "03_bert")),
    Claim("svm", "simple models like (linear) SVMs are inadequate", ("02_lstm", "03_bert")),
    Claim("rnn", "LSTM/GRU networks are better suited than simple models", ("02_lstm", "05_ensembles")),
    Claim("attention", "attention mechanisms substantially improve the recurrent model", ("02_lstm",)),
    Claim("hierarchical", "hierarchical models help with hierarchical labels", ("04_hierarchical",)),
    Claim("ensembles", "ensembles of different models improve accuracy", ("05_ensembles",)),
    Claim("cross_entropy", "standard cross-entropy loss is unsuitable for multi-label classification",
          ("06_losses",)),
    Claim("dependencies", "the loss must account for label dependencies and correlations",
          ("06_losses", "05_ensembles")),
)
BY_ID = {c.id: c for c in CLAIMS}
RECORDED = set(BY_ID) | {"linear"}  # "linear" is filed as naive_bayes or svm


def file_under(claim: str, experiment: str) -> str:
    """The claim an evidence row belongs to. Chapters record ``linear`` for "simple
    models like Naive Bayes or SVMs are inadequate"; that is two claims, judged
    apart (the baseline named in the experiment decides). Softmax cross-entropy is a
    cross-entropy: its comparisons with BCE are evidence on ``cross_entropy``."""
    words = experiment.lower()
    if claim == "linear":
        return "naive_bayes" if ("naive bayes" in words or "nb-" in words) else "svm"
    if "softmax-ce" in words or "softmax cross-entropy" in words:
        return "cross_entropy"
    return claim


def evidence(claim: str, *, dataset: str, experiment: str, metric: str, delta: float, low: float, high: float,
             outcome: str, p: float | None = None, p_holm: float | None = None, se: float | None = None,
             seeds: str = "1", note: str = "", sources: Mapping | None = None, family: Mapping | None = None) -> dict:
    """One evidence row; ``outcome`` is ``better`` (supports the claim), ``worse``
    or ``within noise`` (see :func:`mlstc.evaluation.stats.outcome`); ``low`` and
    ``high`` bound the 95% interval, ``se`` is the bootstrap standard error of
    ``delta`` (rows recorded before it was kept have none). ``sources`` names the saved
    results each side's predictions are, and ``family`` the Holm family (``id``, the
    test's ``index`` in it and its ``size``): what ``verify --evidence`` recomputes from."""
    if claim not in RECORDED:
        raise ValueError(f"unknown claim {claim!r}; the claims are {', '.join(BY_ID)}")
    if outcome not in stats.OUTCOMES:
        raise ValueError(f"outcome must be better, worse or within noise, not {outcome!r}")
    return {"claim": file_under(claim, experiment), "dataset": dataset, "experiment": experiment, "metric": metric,
            "delta": float(delta), "low": float(low), "high": float(high), "se": None if se is None else float(se),
            "p": p, "p_holm": p_holm, "outcome": outcome, "seeds": seeds, "note": note,
            **({"sources": dict(sources)} if sources else {}), **({"family": dict(family)} if family else {})}


def write(folder: Path, chapter: str, rows: Sequence[Mapping], *, replace_datasets: Sequence[str] = ()) -> Path:
    """Write ``claims.json`` into ``folder``, keeping the rows of an earlier file
    whose dataset is not in ``replace_datasets``."""
    path = Path(folder) / FILE
    kept = [r for r in read(path) if r["dataset"] not in set(replace_datasets)] if path.is_file() else []
    return storage.atomic_write_json(path, {"schema": SCHEMA, "chapter": chapter,
                                            "rows": kept + [dict(r) for r in rows]})


def read(path: Path) -> list[dict]:
    record = json.loads(Path(path).read_text())
    if record.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a claims file ({SCHEMA})")
    return [r | {"chapter": record["chapter"], "claim": file_under(r["claim"], r["experiment"])}
            for r in record["rows"]]


COLUMNS = ["claim", "chapter", "dataset", "experiment", "metric", "delta", "low", "high", "se", "p", "p_holm",
           "outcome", "seeds", "note"]


def gather(profile: str) -> pd.DataFrame:
    """Every evidence row recorded under ``results/<profile>/``."""
    rows = [r for path in sorted(paths.results_dir(profile).glob(f"*/{FILE}")) for r in read(path)]
    return pd.DataFrame(rows, columns=COLUMNS)


def adjust(rows: pd.DataFrame, alpha: float = stats.ALPHA) -> pd.DataFrame:
    """The rows with the page's rule applied: ``se`` (the recorded one, else read
    from the 95% interval: ``se from interval``), ``p`` from ``delta / se``,
    ``p_adjusted`` (Holm within each claim), the matching ``adj_low``/``adj_high``
    and ``verdict`` (better, worse or within noise)."""
    out = rows.copy()
    recorded = pd.to_numeric(out["se"], errors="coerce")
    out["se from interval"] = recorded.isna()
    out["se"] = recorded.where(~recorded.isna(), [stats.se_from_interval(lo, hi)
                                                 for lo, hi in zip(out["low"], out["high"])])
    out["p"] = [stats.p_value(d, e) for d, e in zip(out["delta"], out["se"])]
    out["p_adjusted"] = np.nan
    for _, index in out.groupby("claim").groups.items():
        out.loc[index, "p_adjusted"] = stats.holm(out.loc[index, "p"].to_numpy())
    bounds = [stats.adjusted_interval(d, e, p, q, alpha)
              for d, e, p, q in zip(out["delta"], out["se"], out["p"], out["p_adjusted"])]
    out["adj_low"] = [b[0] for b in bounds]
    out["adj_high"] = [b[1] for b in bounds]
    out["verdict"] = [stats.outcome(lo, hi, q, alpha) for lo, hi, q in zip(out["adj_low"], out["adj_high"],
                                                                        out["p_adjusted"])]
    return out


def experiment_outcome(verdicts: Sequence[str]) -> str:
    """``holds`` when some metric is better and none worse, ``fails`` when some
    is worse and none better, ``mixed`` when both, else ``within noise``."""
    better, worse = "better" in verdicts, "worse" in verdicts
    if better and not worse:
        return "holds"
    if worse and not better:
        return "fails"
    return "mixed" if better else "within noise"


def overall(outcomes: Sequence[str]) -> str:
    """``pending``, ``supported``, ``not supported`` or ``depends`` from the
    experiments' outcomes (module docstring)."""
    outcomes = list(outcomes)
    if not outcomes:
        return "pending"
    holds = sum(o == "holds" for o in outcomes)
    if holds == len(outcomes):
        return "supported"
    return "not supported" if holds == 0 else "depends"


def points(value: float) -> str:
    return f"{value * 100:+.1f}"


def effect(row) -> str:
    """``+1.2 [+0.3, +2.1] micro-F1 points`` with the adjusted interval."""
    metric = str(row["metric"]).replace("_f1", "-F1").replace("binary_accuracy", "binary accuracy")
    return f"{points(row['delta'])} [{points(row['adj_low'])}, {points(row['adj_high'])}] {metric}"


def decisive(evidence: pd.DataFrame) -> pd.DataFrame:
    """Per claim, at most two evidence rows: the strongest for the claim (the
    highest adjusted lower bound) and the strongest against it (the lowest adjusted
    upper bound), when they differ."""
    picked = []
    for _, rows in evidence.groupby("claim", sort=False):
        best, worst = rows["adj_low"].idxmax(), rows["adj_high"].idxmin()
        picked += [best] if best == worst else [best, worst]
    return evidence.loc[picked]


@dataclasses.dataclass
class Assessment:
    """The verdict page's content: ``claims`` (one row per claim), ``experiments``
    (one row per comparison and data set) and ``evidence`` (every row, adjusted)."""

    claims: pd.DataFrame
    experiments: pd.DataFrame
    evidence: pd.DataFrame

    def decisive(self) -> pd.DataFrame:
        """:func:`decisive` of this assessment's evidence."""
        return decisive(self.evidence)


def assess(profile: str, alpha: float = stats.ALPHA) -> Assessment:
    """Apply the page's rule (module docstring) to every recorded row."""
    evidence = adjust(gather(profile), alpha)
    keys = ["claim", "chapter", "dataset", "experiment"]
    experiments = pd.DataFrame(columns=keys + ["outcome"])
    if len(evidence):
        experiments = (evidence.groupby(keys, sort=False)["verdict"].agg(lambda v: experiment_outcome(list(v)))
                       .rename("outcome").reset_index())
    strongest = decisive(evidence)
    out = []
    for claim in CLAIMS:
        mine = experiments[experiments["claim"] == claim.id]
        verdict = overall(mine["outcome"])
        holds = sorted({f"{r.dataset}: {r.experiment}" for r in mine.itertuples() if r.outcome == "holds"})
        shown = strongest[strongest["claim"] == claim.id]
        rows = evidence[evidence["claim"] == claim.id]
        out.append({"id": claim.id, "claim": claim.text, "verdict": verdict,
                    "experiments": len(mine), "hold": len(holds), "holds for": holds,
                    "comparisons": len(rows),
                    "decisive": [f"{r['dataset']}, {r['experiment']}: {effect(r)}" for _, r in shown.iterrows()],
                    "chapters": sorted(set(rows["chapter"])) or list(claim.chapters)})
    return Assessment(pd.DataFrame(out).set_index("id"), experiments, evidence)


def verdicts(profile: str) -> pd.DataFrame:
    """One row per claim (indexed by its text): its verdict, where it holds, its
    decisive evidence and its chapters (see :func:`assess`)."""
    table = assess(profile).claims
    table["verdict"] = [v + (" (holds for " + "; ".join(h) + ")" if v == "depends" else "")
                        for v, h in zip(table["verdict"], table["holds for"])]
    table["evidence"] = [d or [f"pending: run {', '.join(BY_ID[i].chapters)}"] for i, d in
                         zip(table.index, table["decisive"])]
    return table.set_index("claim")[["verdict", "evidence", "chapters"]]
