"""Data loaders: one :class:`Dataset` type for every source (introduced in chapter 00).

``load(name)`` is what notebooks call with their ``dataset`` parameter: ``reuters``,
``sentfin``, ``fiqa``, or the path of a reader's own CSV/JSONL file.
"""

from __future__ import annotations

from pathlib import Path

from mlstc.data import fiqa, reuters, sentfin, table
from mlstc.data.dataset import SPLITS, DataError, Dataset, Provenance, Split, multi_hot, stratified_splits

LOADERS = {"reuters": reuters.load, "sentfin": sentfin.load, "fiqa": fiqa.load}

__all__ = ["SPLITS", "DataError", "Dataset", "Provenance", "Split", "load", "multi_hot", "stratified_splits"]


def load(dataset: str, data_dir: str | Path | None = None, *, seed: int = 0, **options) -> Dataset:
    """Load a named data set or a CSV/TSV/JSONL file (``options`` go to its loader)."""
    if dataset in LOADERS:
        return LOADERS[dataset](data_dir, seed=seed, **options)
    if Path(dataset).suffix.lower() in (".csv", ".tsv", ".jsonl", ".ndjson"):
        return table.load(dataset, seed=seed, **options)
    raise ValueError(f"Unknown dataset {dataset!r}: use one of {', '.join(LOADERS)}, "
                     "or the path of a .csv/.tsv/.jsonl file.")
