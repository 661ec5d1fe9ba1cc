"""Every test of a chapter's Holm families, whether or not it bears on a claim of the
article (introduced with ``verify --evidence``): :func:`mlstc.book.verdicts.judge`
records one :func:`record` per comparison and metric, ``claims.json`` keeps them under
``tests`` beside the evidence rows (:func:`mlstc.results.claims.write`), and
:mod:`mlstc.results.evidence` computes each again and adjusts the family again from
them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path


def record(*, dataset: str, experiment: str, metric: str, delta: float, se: float, df: float | None,
           sources: Mapping | None, family: Mapping) -> dict:
    """One test of a chapter's Holm family, whether or not it bears on a claim: what
    ``verify --evidence`` needs to adjust the family again (its tests' differences,
    standard errors and degrees of freedom, recomputed from ``sources``)."""
    return {"dataset": dataset, "experiment": experiment, "metric": metric, "delta": float(delta),
            "se": float(se), "df": None if df is None or not math.isfinite(df) else float(df),
            **({"sources": dict(sources)} if sources else {}), "family": dict(family)}


def read(path: Path) -> list[dict]:
    """Every test of the Holm families recorded in one ``claims.json`` (none in a file
    written before they were kept), each with its chapter."""
    record = json.loads(Path(path).read_text())
    return [t | {"chapter": record["chapter"]} for t in record.get("tests", [])]
