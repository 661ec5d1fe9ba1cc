"""Safe files and content-keyed caches (introduced in chapter 00).

Every write is atomic (a temporary file in the same folder, flushed, then renamed),
so a reader sees the old file or the new one, never a part. Every cache entry is
keyed by a hash of what it was computed from (the texts or the file's bytes, and the
settings), so a changed input or setting misses the cache instead of reading a stale
entry, and two inputs that share a name never share an entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def atomic_write_bytes(path: Path, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` so that readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def to_json(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, default=_jsonable) + "\n"


def atomic_write_json(path: Path, obj) -> Path:
    return atomic_write_bytes(path, to_json(obj).encode())


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def content_key(*parts, texts: Iterable[str] | None = None, length: int = 16) -> str:
    """A short hex key for ``parts`` (anything JSON can write) and, optionally, a
    sequence of texts (hashed one by one, in order)."""
    digest = hashlib.sha256(to_json(list(parts)).encode())
    for text in texts or ():
        digest.update(str(text).encode("utf-8") + b"\0")
    return digest.hexdigest()[:length]


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``_.-``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "unnamed"
