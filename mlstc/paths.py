"""Where things live: the project root, the data directory, caches and results
(introduced in chapter 00).

Every location can be moved with an environment variable, so a notebook runs the
same from a clone, from papermill, from nbval or in Colab.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MLSTC_DATA_DIR"
CACHE_ENV = "MLSTC_CACHE_DIR"
RESULTS_ENV = "MLSTC_RESULTS_DIR"


def project_root() -> Path:
    """The repository checkout that holds this package (``_toc.yml`` beside ``mlstc/``)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "data" / "checksums").is_dir():
        raise FileNotFoundError(
            f"mlstc is installed from {root}, which has no data/checksums/ folder. Install "
            "mlstc from a clone of the repository with `pip install -e .` (or `make venv`) so "
            "that the data manifests travel with the code."
        )
    return root


def manifest_dir() -> Path:
    """The repository's ``data/`` folder: checksums and hierarchy files, no raw data."""
    return project_root() / "data"


def cache_dir() -> Path:
    """Downloads and derived caches: ``$MLSTC_CACHE_DIR`` or ``~/.cache/mlstc``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mlstc").expanduser()


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder that holds the data sets, first match wins:
    the ``path`` argument, ``$MLSTC_DATA_DIR``, ``<cache>/data``."""
    if path:
        return Path(path).expanduser().resolve()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser().resolve()
    return cache_dir().resolve() / "data"


def results_dir(profile: str) -> Path:
    """``$MLSTC_RESULTS_DIR/<profile>`` or ``<project>/results/<profile>``."""
    base = os.environ.get(RESULTS_ENV)
    root = Path(base).expanduser() if base else project_root() / "results"
    return root / profile
