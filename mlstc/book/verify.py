"""``python -m mlstc verify NN``: rerun a chapter and compare with what is committed
(introduced in chapter 00).

The chapter is rerun with the profile and parameters of its executed copy in
``book/`` into a temporary results folder (``results/`` is not touched), and every
metric of every committed JSON of that chapter is compared with the new value.

A metric agrees when ``|new - committed| <= tolerance``. The tolerance is founded on
measurement, not exact equality: a record that saved ``extra.tolerance`` (the neural
chapters write three times the seed-to-seed standard deviation they measured) uses
it; otherwise :data:`DEFAULT_TOLERANCE`, which covers the last-digit drift of
deterministic linear solvers across machines. Timings are not compared.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from mlstc import results
from mlstc.book import runner
from mlstc.core import paths

DEFAULT_TOLERANCE = 1e-3
NOT_COMPARED = ("second", "minute", "epoch", "time", "per_s", "docs/s", "memory")


def compared(name: str, value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        not any(word in name for word in NOT_COMPARED)


def tolerance(record: dict, metric: str) -> float:
    saved = (record.get("extra") or {}).get("tolerance") or {}
    base = metric.removesuffix("_low").removesuffix("_high")
    return float(saved.get(metric, saved.get(base, DEFAULT_TOLERANCE)))


def compare(committed: list[dict], rerun: list[dict]) -> pd.DataFrame:
    """One row per (dataset, model, metric): committed, new, tolerance, agrees."""
    new = {(r["dataset"], r["model"]): r for r in rerun}
    rows = []
    for record in committed:
        again = new.get((record["dataset"], record["model"]))
        for metric, value in record["metrics"].items():
            if not compared(metric, value):
                continue
            other = (again or {}).get("metrics", {}).get(metric)
            tol = tolerance(record, metric)
            agrees = other is not None and abs(float(other) - float(value)) <= tol
            rows.append({"dataset": record["dataset"], "model": record["model"], "metric": metric,
                         "committed": value, "new": other, "tolerance": tol, "agrees": agrees})
    return pd.DataFrame(rows, columns=["dataset", "model", "metric", "committed", "new", "tolerance", "agrees"])


def committed_run(notebook: Path) -> dict:
    """The papermill parameters of the executed copy in ``book/``."""
    executed = paths.project_root() / "book" / notebook.name
    if not executed.is_file():
        raise FileNotFoundError(f"{executed} does not exist: nothing committed to verify against")
    return json.loads(executed.read_text())["metadata"]["papermill"]["parameters"]


def verify(chapter: str, profile: str | None = None) -> tuple[bool, pd.DataFrame]:
    """Rerun ``chapter`` and compare; ``(all agree, comparison table)``."""
    notebook = runner.find(chapter)
    parameters = committed_run(notebook)
    profile = profile or parameters.pop("profile", "cpu")
    parameters.pop("profile", None)
    committed = [r for r in results.records(profile) if r["notebook"] == notebook.stem]
    if not committed:
        raise FileNotFoundError(f"no committed results of {notebook.stem} in the {profile} profile")
    with tempfile.TemporaryDirectory(prefix="mlstc-verify-") as tmp:
        tmp = Path(tmp)
        previous = os.environ.get(paths.RESULTS_ENV)
        os.environ[paths.RESULTS_ENV] = str(tmp / "results")
        try:
            runner.execute(notebook, profile, parameters, output_dir=tmp / "book",
                           environment={"MLSTC_EXTRA_DATASETS": ""})
            rerun = [r for r in results.records(profile) if r["notebook"] == notebook.stem]
        finally:
            if previous is None:
                os.environ.pop(paths.RESULTS_ENV)
            else:
                os.environ[paths.RESULTS_ENV] = previous
    table = compare(committed, rerun)
    return bool(len(table)) and bool(table["agrees"].all()), table
