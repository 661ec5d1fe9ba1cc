"""``python -m mlstc verify NN``: rerun a chapter and compare with what is committed
(introduced in chapter 00).

The chapter is rerun with the profile and parameters of its executed copy in
``book/`` into a temporary results folder (``results/`` is not touched), and every
metric of every committed JSON of that chapter is compared with the new value, and
every probability file with the committed one by its SHA-256 (recorded in the JSON).

A metric agrees when ``|new - committed| <= tolerance``. The tolerance is founded on
measurement, not exact equality: a record that saved ``extra.tolerance`` (the neural
chapters write three times the seed-to-seed standard deviation they measured) uses
it, or three times a seed-to-seed standard deviation the record keeps
(``extra.seed_std``); otherwise :data:`DEFAULT_TOLERANCE`, which covers the last-digit
drift of deterministic linear solvers across machines. A record with a seed spread for
some metrics comes from a seeded training, whose other metrics (precision, Hamming loss,
validation scores) vary from seed to seed and from one CPU to another by an amount
nobody measured: those are shown but not judged (``judged`` is false), rather than held
to the deterministic tolerance. Timings are not compared.

``--record`` keeps a one-line summary per chapter (what agreed, what was identical, on
which machine, from which commit, in how many minutes) in
``results/<profile>/reproduced.json``, which the environment page shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlstc import results
from mlstc.book import runlog, runner
from mlstc.core import cpu, paths, storage, system
from mlstc.results import evidence

DEFAULT_TOLERANCE = 1e-3
NOT_COMPARED = ("second", "minute", "epoch", "time", "per_s", "docs/s", "memory")


def compared(name: str, value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        not any(word in name for word in NOT_COMPARED)


SPREAD = 3  # a seeded model's tolerance: this many standard errors of what was recorded
MAX_FRACTION = 0.1  # and never more than a tenth of the committed value, so that a check can fail


def seeds_in(record: dict) -> int:
    """How many training seeds a record's metrics average (``extra.seeds``; 1 for one run)."""
    seeds = (record.get("extra") or {}).get("seeds")
    return len(seeds) if isinstance(seeds, list) and seeds else 1


def tolerance(record: dict, metric: str) -> float | None:
    """The founded tolerance of ``metric`` in ``record``:

    - with a seed-to-seed standard deviation ``s`` of single runs (``extra.seed_std``
      or ``extra.<metric>_seed_std``), :data:`SPREAD` standard errors of what the
      record holds: ``3 s / sqrt(n)`` for the mean of ``n`` seeds (``extra.seeds``),
      ``3 s`` for one run;
    - else the one the chapter saved (``extra.tolerance``, three single-run deviations);
    - else :data:`DEFAULT_TOLERANCE` for a deterministic model;
    - ``None`` for a seeded training's metric with no recorded spread (not judged).

    No tolerance exceeds :data:`MAX_FRACTION` of the committed value."""
    extra = record.get("extra") or {}
    saved, spread = extra.get("tolerance") or {}, extra.get("seed_std") or {}
    base = metric.removesuffix("_low").removesuffix("_high")
    if (std := spread.get(metric, spread.get(base, extra.get(f"{base}_seed_std")))) is not None:
        found = SPREAD * float(std) / seeds_in(record) ** 0.5
    elif (kept := saved.get(metric, saved.get(base))) is not None:
        found = float(kept)
    else:
        seeded = saved or spread or any(k.endswith("_seed_std") for k in extra)
        return None if seeded else DEFAULT_TOLERANCE
    value = (record.get("metrics") or {}).get(metric)
    return min(found, MAX_FRACTION * abs(float(value))) if isinstance(value, (int, float)) else found


def compare(committed: list[dict], rerun: list[dict]) -> pd.DataFrame:
    """One row per (dataset, model, metric): committed, new, tolerance, whether it is
    judged (it has a founded tolerance) and, if so, whether it agrees."""
    new = {(r["dataset"], r["model"]): r for r in rerun}
    rows = []
    for record in committed:
        again = new.get((record["dataset"], record["model"]))
        for metric, value in record["metrics"].items():
            if not compared(metric, value):
                continue
            other = (again or {}).get("metrics", {}).get(metric)
            tol = tolerance(record, metric)
            agrees = other is not None and (tol is None or abs(float(other) - float(value)) <= tol)
            rows.append({"dataset": record["dataset"], "model": record["model"], "metric": metric,
                         "committed": value, "new": other, "tolerance": tol, "judged": tol is not None,
                         "agrees": agrees})
    return pd.DataFrame(rows, columns=["dataset", "model", "metric", "committed", "new", "tolerance", "judged",
                                       "agrees"])


def committed_run(notebook: Path) -> dict:
    """The papermill parameters of the executed copy in ``book/``."""
    executed = paths.project_root() / "book" / notebook.name
    if not executed.is_file():
        raise FileNotFoundError(f"{executed} does not exist: nothing committed to verify against")
    return json.loads(executed.read_text())["metadata"]["papermill"]["parameters"]


def compare_probabilities(committed: list[dict], rerun: list[dict]) -> pd.DataFrame:
    """One row per committed record with probabilities: whether the rerun wrote the
    same bytes (the SHA-256 both JSON files record)."""
    new = {(r["dataset"], r["model"]): (r.get("probs") or {}).get("sha256") for r in rerun}
    rows = [{"dataset": r["dataset"], "model": r["model"],
             "identical": new.get((r["dataset"], r["model"])) == r["probs"]["sha256"]}
            for r in committed if r.get("probs")]
    return pd.DataFrame(rows, columns=["dataset", "model", "identical"])


@dataclass
class Verified:
    """What :func:`verify` found for one chapter."""

    notebook: str
    profile: str
    metrics: pd.DataFrame  # :func:`compare`
    probabilities: pd.DataFrame  # :func:`compare_probabilities`
    minutes: float
    restored: int = 0  # trainings the rerun restored from the fit cache instead of training
    commit: str | None = None  # the checkout the rerun ran (``git rev-parse --short HEAD``)

    @property
    def agree(self) -> bool:
        """Every judged metric agrees (and there was one to judge)."""
        judged = self.metrics[self.metrics["judged"]]
        return bool(len(judged)) and bool(judged["agrees"].all())

    @property
    def different_files(self) -> list[str]:
        return [f"{r.dataset}/{r.model}" for r in self.probabilities.itertuples() if not r.identical]

    def summary(self) -> dict:
        """The line :func:`record` keeps."""
        m, p = self.metrics, self.probabilities
        judged = m[m["judged"]]
        failing = judged[~judged["agrees"].astype(bool)]
        return {"metrics": len(m), "metrics judged": len(judged), "metrics agreeing": int(judged["agrees"].sum()),
                "disagreeing": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                                for row in failing[["dataset", "model", "metric", "committed", "new",
                                                    "tolerance"]].to_dict("records")],
                "metrics identical": int((m["new"] == m["committed"]).sum()),
                "probability files": len(p), "probability files identical": int(p["identical"].sum()),
                "minutes": round(self.minutes, 1), "trainings restored": self.restored, "commit": self.commit,
                "date": time.strftime("%Y-%m-%d"),
                "machine": {"cpu": cpu.model(), "cpu_count": system.machine()["cpu_count"],
                            "memory_gib": system.machine().get("memory_gib")}}


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.project_root(), capture_output=True,
                              text=True, check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def record(verified: Verified) -> Path:
    """Keep ``verified``'s summary under its chapter in ``results/<profile>/reproduced.json``."""
    path = paths.results_dir(verified.profile) / "reproduced.json"
    kept = json.loads(path.read_text()) if path.is_file() else {}
    kept[verified.notebook] = verified.summary()
    return storage.atomic_write_json(path, kept)


def verify(chapter: str, profile: str | None = None) -> Verified:
    """Rerun ``chapter`` with its committed parameters and compare (:class:`Verified`)."""
    notebook = runner.find(chapter)
    parameters = committed_run(notebook)
    profile = profile or parameters.pop("profile", "cpu")
    parameters.pop("profile", None)
    committed = [r for r in results.records(profile) if r["notebook"] == notebook.stem]
    if not committed:
        raise FileNotFoundError(f"no committed results of {notebook.stem} in the {profile} profile")
    started, commit = time.perf_counter(), _commit()
    with tempfile.TemporaryDirectory(prefix="mlstc-verify-") as tmp:
        tmp = Path(tmp)
        previous = os.environ.get(paths.RESULTS_ENV)
        os.environ[paths.RESULTS_ENV] = str(tmp / "results")
        try:
            executed = runner.execute(notebook, profile, parameters, output_dir=tmp / "book",
                                      environment={"MLSTC_EXTRA_DATASETS": ""})
            restored = runlog.restored_trainings(json.loads(Path(executed).read_text()))
            rerun = [r for r in results.records(profile) if r["notebook"] == notebook.stem]
        finally:
            if previous is None:
                os.environ.pop(paths.RESULTS_ENV)
            else:
                os.environ[paths.RESULTS_ENV] = previous
    return Verified(notebook.stem, profile, compare(committed, rerun), compare_probabilities(committed, rerun),
                    (time.perf_counter() - started) / 60, restored, commit)


# --- verify --evidence: the pages drawn from the committed evidence ----------------

PAGES = ("90_verdicts",)
TEXT = ("text/plain", "text/html", "text/markdown", "text/latex")


def shown_text(notebook: dict) -> list[list[str]]:
    """Per code cell, every text it shows: streams and the text forms of displays
    and glued values (not images, whose bytes depend on the renderer)."""
    out = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        texts = []
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                texts.append("".join(o["text"]))
            elif "data" in o:
                texts += ["".join(o["data"][kind]) for kind in TEXT if kind in o["data"]]
        out.append(texts)
    return out


def _pages(found: evidence.Evidence, profile: str) -> None:
    for page in PAGES:
        committed = paths.project_root() / "book" / f"{page}.ipynb"
        with tempfile.TemporaryDirectory() as folder:
            again = runner.execute(runner.find(page), profile, {}, output_dir=Path(folder), log=False)
            new = shown_text(json.loads(again.read_text()))
        old = shown_text(json.loads(committed.read_text()))
        if len(old) != len(new):
            found.add("page", page, "code cells", len(old), len(new))
            continue
        for index, (a, b) in enumerate(zip(old, new)):
            for k in range(max(len(a), len(b))):
                found.add("page", page, f"cell {index + 1}, output {k + 1}", a[k] if k < len(a) else None,
                          b[k] if k < len(b) else None)


def evidence_check(profile: str = "cpu", data_dir: str | None = None, *, pages: bool = True) -> int:
    """``verify --evidence``: :func:`mlstc.results.evidence.check`, and for the profile
    the book shows (cpu) the verdict page drawn again; print the report; 0 when every
    compared number agrees."""
    found = evidence.check(profile, data_dir)
    if pages and profile == "cpu":
        _pages(found, profile)
    print(found.report())
    return 0 if found.ok else 1
