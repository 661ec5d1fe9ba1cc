"""The run log (introduced in chapter 99): every successful chapter run, with its
start, minutes, how many trainings it restored from the fit cache and which version of
the chapter's code it ran (:func:`version`), in ``results/<profile>/run_log.jsonl``;
and the tables the environment page and the README read from it (:func:`cache_times`,
:func:`run_times`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from mlstc.core import paths
from mlstc.models import fitcache

RESTORED_SUMMARY = re.compile(r"fit cache: (\d+) trainings? restored")  # a notebook cell's one line (fitcache)


def restored_trainings(notebook: dict) -> int:
    """How many training runs an executed notebook restored from the fit cache: the
    count its last cell glued (:data:`mlstc.book.quiet.RESTORED_KEY`), or, for a run
    before that, the count in each cell's summary line, or one per line of a run that
    printed one line per training."""
    from mlstc.book import quiet

    outputs = [o for c in notebook.get("cells", []) for o in c.get("outputs", [])]
    for o in outputs:
        if (o.get("metadata") or {}).get("scrapbook", {}).get("name") == quiet.RESTORED_KEY:
            return int(next(v for k, v in o["data"].items() if k.endswith("text/plain")))
    texts = ["".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream"]
    return sum(t.count(fitcache.RESTORED) + sum(int(n) for n in RESTORED_SUMMARY.findall(t)) for t in texts)


def version(notebook: dict) -> str:
    """Which version of a chapter's code a notebook holds: the SHA-256 (12 hex digits)
    of its code cells' sources, papermill's injected parameters cell left out, so that
    an executed copy and its source give the same."""
    cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
             for c in notebook.get("cells", []) if c.get("cell_type") == "code"
             and "injected-parameters" not in (c.get("metadata") or {}).get("tags", [])]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()[:12]


def current_version(name: str) -> str | None:
    """:func:`version` of ``notebooks/<name>.ipynb`` as it is now (``None`` if absent)."""
    source = paths.project_root() / "notebooks" / f"{name}.ipynb"
    return version(json.loads(source.read_text())) if source.is_file() else None


def _run_entry(path: Path) -> dict:
    notebook = json.loads(Path(path).read_text())
    meta = notebook["metadata"].get("papermill", {})
    name = Path(meta.get("input_path") or path).stem  # the source's name, wherever the executed copy lies
    return {"notebook": name, "profile": meta.get("parameters", {}).get("profile", "?"),
            "started": (meta.get("start_time") or "")[:19], "minutes": round((meta.get("duration") or 0) / 60, 1),
            "trainings restored": restored_trainings(notebook), "version": version(notebook)}


def log_run(executed: Path, log: Path | None = None, *, made_for: str = "") -> dict:
    """Add a successful run (an executed notebook) to its profile's run log,
    ``results/<profile>/run_log.jsonl``: notebook, start, minutes and trainings
    restored, plus the machine's cores. The book's copy keeps only a chapter's last
    run; the log keeps every run, so that a chapter's time with a cold and with a
    warm fit cache both stay on record (:func:`cache_times`). A run already logged
    (same notebook and start) is not added twice.

    A chapter run as another's prerequisite (``made_for``: the chain of chapters
    it was run for, as :mod:`~mlstc.book.prerequisites` passes it) is logged with
    ``prerequisite for``; it ran on the data sets that chapter needed, not the
    book's. The chapter that waited for it gets those minutes as ``prerequisite
    minutes`` (its own prerequisites', logged before it ends), so that its own time
    is ``minutes`` less them."""
    entry = _run_entry(executed) | {"cpu_count": os.cpu_count()}
    log = log or paths.results_dir(entry["profile"]) / "run_log.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    if any((e["notebook"], e["started"]) == (entry["notebook"], entry["started"]) for e in entries):
        return entry
    if made_for:
        entry["prerequisite for"] = made_for
    waited = sum(e["minutes"] for e in entries if e.get("prerequisite for", "").split(",")[-1] == entry["notebook"]
                 and e["started"] >= entry["started"])
    if waited:
        entry["prerequisite minutes"] = round(waited, 1)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(json.dumps(entry) + "\n")
    return entry


def cache_times(log: Path):
    """Each chapter's latest logged run with a cold fit cache (nothing restored) and
    with a warm one (some training restored), in minutes of its own (less any
    prerequisite chapters it waited for; runs made as another chapter's prerequisite
    are left out, having run on fewer data sets), and a last row with the book's sum
    taking each chapter's warm run where one was logged, its cold run otherwise (the
    row's name says how many chapters had a warm run). A chapter that trains nothing
    (00, 90) has only cold runs; chapter 01's spaCy and embedding caches were as each
    run found them. A run that restored some trainings and made others counts as
    warm; its minutes say how warm. ``cold run of this code`` says whether the cold run
    ran the chapter's code as ``notebooks/`` has it now (``yes``), an earlier version
    (``no``: its minutes may no longer hold) or one the log did not record (``?``)."""
    import pandas as pd

    columns = ["cold fit cache (min)", "cold run started", "cold run of this code", "warm fit cache (min)",
               "warm run started", "trainings restored"]
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    latest = {}
    for e in sorted(entries, key=lambda e: e["started"]):
        if "prerequisite for" not in e and not e["notebook"].startswith("99"):
            latest[(e["notebook"], e["trainings restored"] > 0)] = e

    def own(e):
        return e and round(e["minutes"] - e.get("prerequisite minutes", 0), 1)

    rows = {}
    for name in sorted({n for n, _ in latest}):
        cold, warm = latest.get((name, False)), latest.get((name, True))
        current = cold and ("?" if "version" not in cold else
                            "yes" if cold["version"] == current_version(name) else "no")
        rows[name] = [own(cold), cold and cold["started"], current, own(warm), warm and warm["started"],
                      warm["trainings restored"] if warm else 0]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("notebook")
    best = frame["warm fit cache (min)"].fillna(frame["cold fit cache (min)"])
    label = f"book ({frame['warm run started'].notna().sum()} chapters warm, the rest cold)"
    frame.loc[label] = [round(frame["cold fit cache (min)"].sum(), 1), None, None, round(best.sum(), 1), None,
                        int(frame["trainings restored"].sum())]
    return frame


def run_times(folder: Path | None = None):
    """Per executed notebook in ``book/``: profile, start, minutes (papermill's
    metadata) and how many training runs it restored from the fit cache instead of
    training (0: everything it trained, it trained in those minutes)."""
    import pandas as pd

    columns = ["profile", "started", "minutes", "trainings restored"]
    executed = sorted((folder or paths.project_root() / "book").glob("[0-9][0-9]_*.ipynb"))
    rows = [{k: v for k, v in _run_entry(path).items() if k != "version"} for path in executed
            if not path.stem.startswith("99")]
    if not rows:
        return pd.DataFrame(columns=["notebook", *columns])
    frame = pd.DataFrame(rows).set_index("notebook")
    frame.loc["all chapters"] = ["", "", round(frame["minutes"].sum(), 1), int(frame["trainings restored"].sum())]
    return frame
