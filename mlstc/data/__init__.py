"""Data loaders: one :class:`Dataset` type for every source (introduced in chapter 00).

``load(name)`` is what notebooks call for each entry of their ``datasets`` parameter:
``reuters``, ``sentfin``, ``fiqa``, ``fiqa-sentiment``, or the path of a reader's own
CSV/TSV/JSONL file, optionally named (``politics=/data/headlines.csv``).
"""

from __future__ import annotations

from pathlib import Path

import re

from mlstc.data import fiqa, reuters, sentfin, table
from mlstc.data.dataset import SPLITS, DataError, Dataset, Provenance, Split, multi_hot, stratified_splits
from mlstc.data.hierarchy import Hierarchy, HierarchyError

LOADERS = {"reuters": reuters.load, "sentfin": sentfin.load, "fiqa": fiqa.load,
           "fiqa-sentiment": fiqa.load_sentiment}
FILE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")

__all__ = ["SPLITS", "DataError", "Dataset", "Hierarchy", "HierarchyError", "Provenance", "Split", "load",
           "multi_hot", "parse_names", "stratified_splits"]


def parse_names(datasets: str) -> list[str]:
    """``"reuters, sentfin,my.csv"`` -> ``["reuters", "sentfin", "my.csv"]``."""
    return [name.strip() for name in str(datasets).split(",") if name.strip()]


def load(dataset: str, data_dir: str | Path | None = None, *, seed: int = 0, **options) -> Dataset:
    """Load a named data set or a CSV/TSV/JSONL file (``options`` go to its loader).

    A file may carry a display name: ``politics=/data/headlines.csv``.
    """
    if dataset in LOADERS:
        return LOADERS[dataset](data_dir, seed=seed, **options)
    named = re.fullmatch(r"([A-Za-z0-9_.-]+)=(.+)", dataset)
    name, path = (named.group(1), named.group(2)) if named else (None, dataset)
    if Path(path).suffix.lower() in FILE_SUFFIXES:
        return table.load(path, seed=seed, name=name, **options)
    raise ValueError(f"Unknown dataset {dataset!r}: use one of {', '.join(LOADERS)}, "
                     "or the path of a .csv/.tsv/.jsonl file (optionally name=path).")
