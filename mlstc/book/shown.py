"""How a page prints a path: relative to the project (``results/cpu/…``), else only
its last part; never the machine's folders (the checkout, home, a temporary folder),
which mean nothing to a reader of the book."""

from __future__ import annotations

from pathlib import Path

from mlstc.core import paths


def path(where: Path | str) -> str:
    where = Path(where)
    try:
        return str(where.resolve().relative_to(paths.project_root().resolve()))
    except ValueError:
        return where.name
