"""The caches' shared rules: publishing a folder whole, switching caches off, and
evicting the least recently used entries.

:func:`publish` is the one write-then-rename of the caches (the fit cache's entries,
the run cache's chapter runs). A reader (another chapter, a second terminal) sees either
the old entry or the whole new one, never a half-written folder: the new one is filled
under a temporary name beside it, then put in its place by a rename, which is atomic on
one file system.

Every store under ``~/.cache/mlstc`` (:data:`STORES`) asks :func:`enabled` before it
reads or writes and calls :func:`prune` after it writes:

- ``MLSTC_CACHE=0`` switches every store off: everything is computed again and nothing
  is kept. ``MLSTC_FIT_CACHE=0`` switches off the fit cache alone (trainings).
- ``MLSTC_CACHE_GB`` (default 10) bounds each store; past it, the least recently used
  entries go first. ``MLSTC_FIT_CACHE_GB`` sets the fit cache's bound alone. The run
  cache keeps the latest runs of each chapter and data set instead
  (:data:`mlstc.book.runcache.KEEP`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

TMP_SUFFIX = ".tmp"  # what a folder still being written ends with (pruning passes over it)
CACHE_ENV = "MLSTC_CACHE"  # 0/off/false/no: no store is read or written
SIZE_ENV = "MLSTC_CACHE_GB"  # each store's bound in GiB
SIZE_ENVS = {"fits": "MLSTC_FIT_CACHE_GB"}  # a store's own bound, where it has one
SWITCH_ENVS = {"fits": "MLSTC_FIT_CACHE"}  # a store's own switch (0/off/false/no), where it has one
STORES = ("fits", "runs", "embeddings", "word2vec", "spacy")
OFF = ("0", "off", "false", "no")


def enabled(store: str) -> bool:
    """Whether the cache ``store`` (one of :data:`STORES`) may be read and written."""
    if store not in STORES:
        raise ValueError(f"unknown cache {store!r}; known: {', '.join(STORES)}")
    switches = (CACHE_ENV, SWITCH_ENVS.get(store))
    return not any(os.environ.get(env, "1").strip().lower() in OFF for env in switches if env)


def size_limit(store: str) -> int:
    """The most bytes ``store`` keeps (``$MLSTC_CACHE_GB``, or the store's own variable)."""
    value = os.environ.get(SIZE_ENVS.get(store, ""), os.environ.get(SIZE_ENV, "10"))
    return int(float(value) * 2**30)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def prune(folder: Path, limit: int) -> list[Path]:
    """Remove the least recently used entries (files or folders) of ``folder`` until it
    holds at most ``limit`` bytes; entries being written and hidden ones are left alone.
    The removed entries."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    entries = [p for p in folder.iterdir() if not p.name.startswith(".") and not p.name.endswith(TMP_SUFFIX)]
    sizes = {p: _size(p) for p in entries}
    removed, total = [], sum(sizes.values())
    for p in sorted(entries, key=lambda p: p.stat().st_mtime):
        if total <= limit:
            break
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
        total -= sizes[p]
    return removed


def publish(entry: Path, write: Callable[[Path], None]) -> Path:
    """Fill a temporary folder beside ``entry`` with ``write(folder)``, then put it in
    ``entry``'s place (replacing an older entry) and mark it recently used."""
    entry = Path(entry)
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}{TMP_SUFFIX}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(entry, ignore_errors=True)
    tmp.rename(entry)
    os.utime(entry)
    return entry
