"""Publishing a folder whole: the one write-then-rename of the caches (the fit cache's
entries, the run cache's chapter runs).

A reader (another chapter, a second terminal) sees either the old entry or the whole
new one, never a half-written folder: the new one is filled under a temporary name
beside it, then put in its place by a rename, which is atomic on one file system.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

TMP_SUFFIX = ".tmp"  # what a folder still being written ends with (pruning passes over it)


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
