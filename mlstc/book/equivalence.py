"""``python -m mlstc fits-compare BASE``: whether the working tree trains what the commit
``BASE`` trained, byte for byte (see :mod:`mlstc.models.fitcompare`).

A change that moves code without changing what it computes re-keys every training in
the fit cache. This command runs the chapters in the smoke profile twice, under a
checkout of ``BASE`` and under the working tree, each with its own caches, results and
fit log (in a temporary folder: nothing of yours is touched), then pairs and compares
every training. Where all are identical, the code keys it prints go into
:data:`mlstc.models.fitcompare.EQUIVALENT`, and the cpu trainings cached under the old
keys are restored. ``BASE`` needs the fit log (commit 0ca32b4 or later).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlstc.core import paths
from mlstc.models import fitcompare

CHAPTERS = ("00", "01", "02", "03", "04", "05", "06", "07")  # every chapter that trains, in order


def smoke_pass(tree: Path, folder: Path, chapters=CHAPTERS) -> Path:
    """Run ``chapters`` in the smoke profile with the package of ``tree``, keeping
    caches, results, executed notebooks and the fit log under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(tree), MLSTC_CACHE_DIR=str(folder / "cache"),
               MLSTC_RESULTS_DIR=str(folder / "results"), **{fitcompare.LOG_ENV: str(folder / "fits.jsonl")})
    env.pop(fitcompare.REQUIRE_ENV, None)  # these passes train
    for chapter in chapters:
        log = folder / f"{chapter}.log"
        with open(log, "w") as out:
            done = subprocess.run([sys.executable, "-m", "mlstc", "run", chapter, "--profile", "smoke",
                                   "--output-dir", str(folder / "book")], cwd=tree, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError(f"chapter {chapter} failed under {tree}; its log: {log}")
    return folder


def compare(base: str, chapters=CHAPTERS, folder: Path | None = None) -> tuple[list[dict], dict[str, str]]:
    """:func:`mlstc.models.fitcompare.compare_runs` of a smoke pass under ``base`` (a
    git commit of this repository) and one under the working tree. The passes are kept
    in ``folder`` when given, else in a temporary folder removed once they compare (and
    kept when a chapter fails, for its log)."""
    root = paths.project_root()
    work = Path(folder or tempfile.mkdtemp(prefix="mlstc-fits-"))
    checkout = work / "base"
    git = ["git", "-C", str(root), "worktree"]
    added = subprocess.run([*git, "add", "--detach", str(checkout), base], capture_output=True, text=True)
    if added.returncode:
        if folder is None:
            shutil.rmtree(work, ignore_errors=True)
        raise ValueError(f"cannot check out {base!r}: {added.stderr.strip()}")
    try:
        smoke_pass(checkout, work / "old", chapters)
    finally:
        subprocess.run([*git, "remove", "--force", str(checkout)], capture_output=True)
    if not (work / "old" / "fits.jsonl").is_file():
        raise ValueError(f"{base} wrote no fit log: its trainings cannot be paired (use commit 0ca32b4 or later, "
                         "and chapters that train)")
    smoke_pass(root, work / "new", chapters)
    found = fitcompare.compare_runs(work / "old", work / "new")
    if folder is None:  # the passes' caches and logs served their purpose
        shutil.rmtree(work, ignore_errors=True)
    return found
