"""Where things live: the project root, the data directory, caches and results
(introduced in chapter 00).

Every location can be moved with an environment variable, so a notebook runs the
same from a clone, from papermill, from nbval or in Colab. Nothing a run computes is
ever written beside a data file: caches go under :func:`cache_dir`, results under
:func:`results_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MLSTC_DATA_DIR"
CACHE_ENV = "MLSTC_CACHE_DIR"
RESULTS_ENV = "MLSTC_RESULTS_DIR"


def project_root() -> Path:
    """The repository checkout that holds this package (``_toc.yml`` beside ``mlstc/``)."""
    root = Path(__file__).resolve().parents[2]
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


def fits_dir() -> Path:
    """Kept trainings: the neural models' (:mod:`mlstc.models.fitcache`) and the linear grids'."""
    return cache_dir() / "fits"


def download_dir() -> Path:
    """Where data sets are downloaded to when no data folder was given."""
    return cache_dir().resolve() / "data"


def data_dir(path: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """The folder that holds the data sets and whether the user named it:
    the ``path`` argument, else ``$MLSTC_DATA_DIR`` (both named: never replaced by
    another copy), else the download folder in the cache (not named)."""
    if path:
        return Path(path).expanduser().resolve(), True
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser().resolve(), True
    return download_dir(), False


def results_root() -> Path:
    """``$MLSTC_RESULTS_DIR`` or ``<project>/results``."""
    base = os.environ.get(RESULTS_ENV)
    return Path(base).expanduser() if base else project_root() / "results"


def results_dir(profile: str) -> Path:
    """``<results root>/<profile>``."""
    return results_root() / profile


def staging_dir() -> Path:
    """Where a running chapter writes its results until it finishes
    (``<cache>/staging``): a failed run never touches ``results/``."""
    return cache_dir() / "staging"
