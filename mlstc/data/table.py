"""A reader's own data: CSV or JSON Lines with a text column, a labels column and an
optional split column (introduced in chapter 00).

Every chapter runs on it by a papermill parameter, e.g.
``python -m mlstc run 02 -p datasets my_news.csv``. Labels written as paths
(``positive/earnings``) also give the document every prefix (``positive``) and build
the label hierarchy that chapter 04 uses.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlstc.core import storage
from mlstc.data import files
from mlstc.data.hierarchy import Hierarchy, expand_paths
from mlstc.data.dataset import SPLITS, DataError, Dataset, Provenance, multi_hot, stratified_splits

SPLIT_ALIASES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
                 "dev": "validation", "test": "test"}


def _rows(path: Path):
    """(row number, dict) for a .csv/.tsv or .jsonl file."""
    text = files.read_text(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if suffix == ".tsv" else ",")
        for row_no, row in enumerate(reader, 1):
            if None in row:
                raise DataError(path, f"has {len(row) - 1 + len(row[None])} fields, the header has {len(row) - 1}.",
                                row=row_no, fix="quote fields that contain the delimiter.")
            yield row_no, row
    elif suffix in (".jsonl", ".ndjson"):
        for row_no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(path, f"not a JSON object ({error.msg}).", row=row_no,
                                fix="write one JSON object per line.") from None
            if not isinstance(row, dict):
                raise DataError(path, "not a JSON object.", row=row_no, fix="write one JSON object per line.")
            yield row_no, row
    else:
        raise ValueError(f"{path}: use a .csv, .tsv or .jsonl file (got {suffix or 'no suffix'}).")


def load(
    path: str | Path,
    *,
    text_column: str = "text",
    labels_column: str = "labels",
    label_delimiter: str = "|",
    split_column: str | None = None,
    id_column: str | None = None,
    label_names: list[str] | None = None,
    seed: int = 0,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.125,
    name: str | None = None,
    path_separator: str | None = "/",
) -> Dataset:
    """Load a CSV/TSV/JSONL file of labelled texts.

    The dataset's ``name`` is the file stem unless given; its ``key`` (under which
    results and caches are filed) adds a hash of the file's content. Labels holding
    ``path_separator`` are paths: every prefix becomes a label too and the paths form
    ``hierarchy`` (``None`` turns this off).

    ``labels_column`` holds labels joined by ``label_delimiter`` (or, in JSONL, a
    list); an empty value means a document with no label. ``split_column`` values
    are train/validation/test (val, valid and dev mean validation); without the
    column, splits are carved by iterative stratification; without validation rows,
    validation is carved from train. With ``label_names`` given, any other label is
    an error; otherwise the label set is what the file uses.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist. Pass the path of your CSV or JSONL file "
                                "(the notebook parameter `dataset`).")
    columns = _Columns(text_column, labels_column, label_delimiter, split_column, id_column)
    texts, label_sets, ids, split_of = _read(path, columns, label_names)
    names, label_sets, hierarchy = _labels(label_sets, label_names, path_separator)
    y = multi_hot(label_sets, names)
    if split_column:
        splits = _given_splits(path, y, split_of, split_column, seed=seed, validation_fraction=validation_fraction)
        note = f"splits from column {split_column!r}"
    else:
        splits = stratified_splits(y, seed=seed, test_fraction=test_fraction, validation_fraction=validation_fraction)
        note = f"splits carved by iterative stratification, seed {seed}"
    digest = storage.file_sha256(path)
    return Dataset(
        name=name or path.stem,
        texts=texts,
        y=y,
        label_names=names,
        splits=splits,
        ids=ids,
        provenance=Provenance(source=f"user file {path.name}", location=str(path.parent),
                              files={path.name: digest}, notes=[note]),
        hierarchy=hierarchy,
        content_hash=digest,
    )


@dataclass(frozen=True)
class _Columns:
    """Which column holds what, and how labels are joined."""

    text: str
    labels: str
    delimiter: str
    split: str | None
    id: str | None


def _read(path: Path, columns: _Columns, label_names) -> tuple[list, list, list, list]:
    """Every row's text, sorted labels, id and split name (empty without a split
    column), each row checked; the first bad row is a :class:`DataError` naming it."""
    texts, label_sets, ids, split_of = [], [], [], []
    for row_no, row in _rows(path):
        text, labels, split = _row(path, row_no, row, columns, label_names)
        texts.append(text)
        label_sets.append(labels)
        ids.append(str(row[columns.id]) if columns.id else str(row_no))
        if split:
            split_of.append(split)
    if not texts:
        raise DataError(path, "has no rows.", fix="check the file and its header.")
    return texts, label_sets, ids, split_of


def _row(path: Path, row_no: int, row: dict, columns: _Columns, label_names) -> tuple[str, list[str], str]:
    """One row's stripped text, sorted labels and split name ("" without a split column)."""
    for column in filter(None, (columns.text, columns.labels, columns.split, columns.id)):
        if column not in row:
            raise DataError(path, f"has no column {column!r}; it has {sorted(row)}.", row=row_no,
                            fix=f"name the right column with the {column!r}-column parameter.")
    text = row[columns.text]
    if not isinstance(text, str) or not text.strip():
        raise DataError(path, f"empty text in column {columns.text!r}.", row=row_no,
                        fix="remove the row or fill in its text.")
    raw = row[columns.labels]
    labels = raw if isinstance(raw, list) else (str(raw or "").split(columns.delimiter) if raw else [])
    labels = sorted({str(label).strip() for label in labels if str(label).strip()})
    if label_names is not None and set(labels) - set(label_names):
        raise DataError(path, f"unknown label(s) {sorted(set(labels) - set(label_names))}.", row=row_no,
                        fix=f"use labels from {label_names} or add them to label_names.")
    split = ""
    if columns.split:
        value = str(row[columns.split]).strip().lower()
        if value not in SPLIT_ALIASES:
            raise DataError(path, f"unknown split {row[columns.split]!r} in column {columns.split!r}.",
                            row=row_no, fix=f"use one of {sorted(SPLIT_ALIASES)}.")
        split = SPLIT_ALIASES[value]
    return text.strip(), labels, split


def _labels(label_sets, label_names, path_separator) -> tuple[list[str], list, dict | None]:
    """The label names, the label sets with every prefix of a path label added, and
    the hierarchy those paths form (``None`` without path labels)."""
    if path_separator and any(path_separator in label for labels in label_sets for label in labels):
        label_sets = expand_paths(label_sets, path_separator)
    names = list(label_names) if label_names is not None else sorted(set().union(*map(set, label_sets)))
    hierarchy = None
    if path_separator and any(path_separator in label for label in names):
        tree = Hierarchy.from_paths(names, path_separator)
        hierarchy = {p: tree.children(p) for p in tree.nodes if tree.children(p)}
    return names, label_sets, hierarchy


def _given_splits(path: Path, y, split_of, split_column: str, *, seed: int, validation_fraction: float) -> dict:
    """The splits a split column names; validation carved from train where it names none."""
    splits = {s: np.array([i for i, v in enumerate(split_of) if v == s], dtype=np.int64) for s in SPLITS}
    if not len(splits["train"]):
        raise DataError(path, f"column {split_column!r} marks no row as train.", fix="mark training rows.")
    if not len(splits["validation"]):
        carved = stratified_splits(y, seed=seed, validation_fraction=validation_fraction,
                                   train_indices=splits["train"])
        splits.update(train=carved["train"], validation=carved["validation"])
    return {s: v for s, v in splits.items() if len(v)}
