"""The source article's claims, the evidence the chapters record for them, and the
verdict page built from it (introduced in chapter 01; the page is ``90_verdicts``).

A chapter records each comparison that bears on a claim as an *evidence row*
(:func:`evidence`), oriented so that ``better`` supports the claim. Rows are saved
with the chapter's results as ``claims.json`` and gathered by :func:`verdicts`:

- no evidence yet: **pending** (its chapter has not run);
- every row ``better``: **supported**;
- no row ``better`` (ties and losses): **not supported**; a tie is never a win;
- some rows ``better`` and some not: **depends**, and the page says on what.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from mlstc.core import paths, storage

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
    Claim("linear", "simple models like Naive Bayes or SVMs are inadequate", ("01_preprocessing", "02_lstm", "03_bert")),
    Claim("rnn", "LSTM/GRU networks are better suited than simple models", ("02_lstm", "05_ensembles")),
    Claim("attention", "attention mechanisms substantially improve the recurrent model", ("02_lstm",)),
    Claim("hierarchical", "hierarchical models help with hierarchical labels", ("04_hierarchical",)),
    Claim("ensembles", "ensembles of different models improve accuracy", ("05_ensembles",)),
    Claim("cross_entropy", "standard cross-entropy loss is unsuitable for multi-label classification",
          ("06_losses",)),
    Claim("dependencies", "the loss must account for label dependencies and correlations", ("06_losses", "05_ensembles")),
)
BY_ID = {c.id: c for c in CLAIMS}


def evidence(claim: str, *, dataset: str, experiment: str, metric: str, delta: float, low: float, high: float,
             outcome: str, p: float | None = None, p_holm: float | None = None, seeds: str = "1",
             note: str = "") -> dict:
    """One evidence row; ``outcome`` is ``better`` (supports the claim), ``worse``
    or ``within noise`` (see :func:`mlstc.evaluation.stats.outcome`)."""
    if claim not in BY_ID:
        raise ValueError(f"unknown claim {claim!r}; the claims are {', '.join(BY_ID)}")
    if outcome not in ("better", "worse", "within noise"):
        raise ValueError(f"outcome must be better, worse or within noise, not {outcome!r}")
    return {"claim": claim, "dataset": dataset, "experiment": experiment, "metric": metric, "delta": float(delta),
            "low": float(low), "high": float(high), "p": p, "p_holm": p_holm, "outcome": outcome, "seeds": seeds,
            "note": note}


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
    return [r | {"chapter": record["chapter"]} for r in record["rows"]]


def gather(profile: str) -> pd.DataFrame:
    """Every evidence row recorded under ``results/<profile>/``."""
    rows = [r for path in sorted(paths.results_dir(profile).glob(f"*/{FILE}")) for r in read(path)]
    columns = ["claim", "chapter", "dataset", "experiment", "metric", "delta", "low", "high", "p", "p_holm",
               "outcome", "seeds", "note"]
    return pd.DataFrame(rows, columns=columns)


def overall(outcomes: Sequence[str]) -> str:
    """``pending``, ``supported``, ``not supported`` or ``depends`` (module docstring)."""
    outcomes = list(outcomes)
    if not outcomes:
        return "pending"
    better = sum(o == "better" for o in outcomes)
    if better == len(outcomes):
        return "supported"
    return "not supported" if better == 0 else "depends"


def verdicts(profile: str) -> pd.DataFrame:
    """One row per claim: its verdict, the evidence in words and where it comes from."""
    rows = gather(profile)
    out = []
    for claim in CLAIMS:
        mine = rows[rows["claim"] == claim.id]
        verdict = overall(mine["outcome"])
        if verdict == "depends":
            holds = sorted({f"{r.dataset}: {r.experiment}" for r in mine.itertuples() if r.outcome == "better"})
            verdict += " (holds for " + "; ".join(holds) + ")"
        evidence_text = [f"{r.dataset}, {r.experiment}, {r.metric}: {r.delta * 100:+.1f} "
                         f"[{r.low * 100:+.1f}, {r.high * 100:+.1f}] ({r.outcome}, seeds {r.seeds})"
                         for r in mine.itertuples()]
        out.append({"claim": claim.text, "verdict": verdict,
                    "evidence": evidence_text or [f"pending: run {', '.join(claim.chapters)}"],
                    "chapters": sorted(set(mine["chapter"])) or list(claim.chapters)})
    return pd.DataFrame(out).set_index("claim")
