"""One store for every cache under ``~/.cache/mlstc``: key, atomic write, mark used, prune.

The embeddings (chapter 01), the word2vec vectors (chapter 05), the spaCy annotations
(chapter 01), the fit cache's trainings (:mod:`mlstc.models.fitcache`) and the run
cache's chapter runs (:mod:`mlstc.book.runcache`) are each a :class:`Store`. An entry is
a file or a folder named by its caller's key, in the store's folder:

- :meth:`Store.get`: the entry's path, marked recently used, or ``None`` (missing, or the
  store switched off by ``MLSTC_CACHE=0``, :func:`mlstc.core.folders.enabled`);
- :meth:`Store.put_bytes` (a file) and :meth:`Store.put_folder` (a folder, filled by a
  function) write under a temporary name beside the entry and rename it into place, so a
  reader sees the old entry or the whole new one, never half of one; then the store is
  pruned to its bound;
- :meth:`Store.prune`: the least recently used entries go until the store holds at most
  ``$MLSTC_CACHE_GB`` (:func:`mlstc.core.folders.size_limit`), and what a crashed
  writer left under a temporary name is removed once it is older than
  :data:`STALE_SECONDS` (a younger one may still be being written by another process).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlstc.core import folders, paths, storage

STALE_SECONDS = 6 * 3600  # a temporary entry this old belongs to a writer that died


@dataclass(frozen=True)
class Store:
    """The cache ``name`` (one of :data:`mlstc.core.folders.STORES`).

    ``bounded=False`` leaves pruning to the caller (the run cache keeps the latest runs
    of each chapter and data set instead of a size)."""

    name: str
    bounded: bool = True

    def __post_init__(self) -> None:
        folders.enabled(self.name)  # an unknown store's name fails here, once

    @property
    def folder(self) -> Path:
        return paths.cache_dir() / self.name

    @property
    def enabled(self) -> bool:
        return folders.enabled(self.name)

    def path(self, entry: str) -> Path:
        """Where ``entry`` (a file or folder name, or a relative path) lives."""
        return self.folder / entry

    def get(self, entry: str) -> Path | None:
        """The entry's path, marked recently used; ``None`` if absent or switched off."""
        path = self.path(entry)
        if not self.enabled or not path.exists():
            return None
        self.mark_used(path)
        return path

    @staticmethod
    def mark_used(path: Path) -> None:
        """Mark ``path`` recently used: pruning removes it last."""
        os.utime(path)

    def put_bytes(self, entry: str, payload: bytes) -> Path | None:
        """Write ``payload`` as the file ``entry`` atomically, then prune; ``None`` when
        the store is switched off (nothing written)."""
        if not self.enabled:
            return None
        path = storage.atomic_write_bytes(self.path(entry), payload)
        self.prune()
        return path

    def put_folder(self, entry: str, write: Callable[[Path], None]) -> Path | None:
        """Fill a temporary folder with ``write(folder)``, rename it to ``entry``
        (replacing an older one), then prune; ``None`` when switched off."""
        if not self.enabled:
            return None
        path = folders.publish(self.path(entry), write)
        self.prune()
        return path

    def prune(self, limit: int | None = None) -> list[Path]:
        """Remove stale temporary entries and, for a bounded store, the least recently
        used entries beyond ``limit`` bytes (default: the store's bound); the removed."""
        removed = self.sweep_stale()
        if self.bounded:
            removed += folders.prune(self.folder, folders.size_limit(self.name) if limit is None else limit)
        return removed

    def sweep_stale(self, older_than: float = STALE_SECONDS) -> list[Path]:
        """Remove what a writer that died between writing and renaming left behind:
        temporary entries (``.<name>….tmp``) older than ``older_than`` seconds."""
        if not self.folder.is_dir():
            return []
        now, removed = time.time(), []
        for p in self.folder.glob(f".*{folders.TMP_SUFFIX}"):
            if now - p.stat().st_mtime >= older_than:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(p)
        return removed
