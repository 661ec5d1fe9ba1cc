"""The one dataset type every loader returns (introduced in chapter 00)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from mlstc.core.storage import slug

SPLITS = ("train", "validation", "test")


class DataError(ValueError):
    """Bad input: names the file, the row (where there is one) and the fix."""

    def __init__(self, file, problem: str, *, row: int | str | None = None, fix: str = ""):
        self.file, self.row, self.problem, self.fix = str(file), row, problem, fix
        where = f"{file}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}: {problem}" + (f" Fix: {fix}" if fix else ""))


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Where a dataset came from and what loading it did."""

    source: str
    location: str
    files: Mapping[str, str]  # file name -> SHA-256 verified at load time ("" if none listed)
    skipped: Mapping[str, int] = dataclasses.field(default_factory=dict)  # reason -> documents
    notes: Sequence[str] = ()


class Split(NamedTuple):
    """One split of a :class:`Dataset`: parallel ``texts``, ``y`` and ``ids``."""

    texts: list[str]
    y: np.ndarray
    ids: list[str]
    indices: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Texts, a binary label matrix and named splits.

    ``y`` has shape ``(num_docs, num_labels)`` and dtype ``uint8``; column ``j`` is
    ``label_names[j]``. ``splits`` maps ``train``/``validation``/``test`` to row
    indices. ``hierarchy`` maps a parent to its children (parents may or may not be
    labels themselves). ``extras`` holds per-document columns aligned with ``texts``
    that later chapters use (entity sentiments, aspect paths, ...).
    """

    name: str
    texts: list[str]
    y: np.ndarray
    label_names: list[str]
    splits: Mapping[str, np.ndarray]
    ids: list[str]
    provenance: Provenance
    hierarchy: Mapping[str, list[str]] | None = None
    extras: Mapping[str, list] = dataclasses.field(default_factory=dict)
    content_hash: str = ""  # SHA-256 of a user's file; empty for the named corpora

    @property
    def key(self) -> str:
        """The name results, caches and saved models are filed under: the corpus
        name (``reuters``), or for a user's file its name plus the first 8 hex digits
        of its SHA-256 (``headlines-1f2e3d4c``), so two different files with the same
        stem never share an entry."""
        return f"{slug(self.name)}-{self.content_hash[:8]}" if self.content_hash else self.name

    def __post_init__(self):
        n = len(self.texts)
        if self.y.shape != (n, len(self.label_names)):
            raise ValueError(f"y has shape {self.y.shape}, expected ({n}, {len(self.label_names)})")
        if len(self.ids) != n or any(len(v) != n for v in self.extras.values()):
            raise ValueError("ids and every extras column must have one entry per text")
        unknown = set(self.splits) - set(SPLITS)
        if unknown:
            raise ValueError(f"unknown split names {sorted(unknown)}; use {SPLITS}")

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def split(self, name: str) -> Split:
        """The texts, labels, ids and row indices of one split."""
        if name not in self.splits:
            raise ValueError(
                f"{self.name} has no split {name!r}; it has {', '.join(self.splits)}."
            )
        idx = self.splits[name]
        return Split([self.texts[i] for i in idx], self.y[idx], [self.ids[i] for i in idx], idx)

    def sizes(self, splits=("validation", "test")) -> dict[str, int]:
        """Documents per split: what saved probabilities for this data set must have
        as rows (:mod:`mlstc.book.prerequisites` checks them)."""
        return {name: len(self.splits[name]) for name in splits}

    def extra(self, column: str, split: str) -> list:
        """An extras column restricted to one split."""
        return [self.extras[column][i] for i in self.split(split).indices]

    def parent_of(self) -> dict[str, str]:
        """Child label -> parent, from the hierarchy (empty if there is none)."""
        return {c: p for p, cs in (self.hierarchy or {}).items() for c in cs}

    def head(self, max_docs: Mapping[str, int | None], seed: int = 0) -> Dataset:
        """A smaller dataset with at most ``max_docs[split]`` documents per split,
        drawn at random with ``seed`` (order kept). ``None`` keeps a split whole.
        Used by the ``smoke`` profile."""
        if all(max_docs.get(s) is None for s in self.splits):
            return self
        rng = np.random.default_rng(seed)
        keep = {}
        for name, idx in self.splits.items():
            cap = max_docs.get(name)
            keep[name] = idx if cap is None or len(idx) <= cap else np.sort(rng.choice(idx, cap, replace=False))
        rows = np.concatenate(list(keep.values()))
        new_pos = {int(r): i for i, r in enumerate(rows)}
        return dataclasses.replace(
            self,
            texts=[self.texts[i] for i in rows],
            y=self.y[rows],
            ids=[self.ids[i] for i in rows],
            splits={k: np.array([new_pos[int(r)] for r in v], dtype=np.int64) for k, v in keep.items()},
            extras={k: [v[i] for i in rows] for k, v in self.extras.items()},
            provenance=dataclasses.replace(
                self.provenance,
                notes=[*self.provenance.notes, f"subsampled to {dict(max_docs)} documents per split (seed {seed})"],
            ),
        )

    def summary(self) -> pd.DataFrame:
        """Per split: documents, labels in use, label cardinality and density."""
        rows = []
        for name in self.splits:
            y = self.split(name).y
            card = y.sum(1)
            rows.append({
                "split": name,
                "documents": len(y),
                "labels used": int((y.sum(0) > 0).sum()),
                "cardinality": float(card.mean()) if len(y) else 0.0,
                "density": float(card.mean() / self.num_labels) if len(y) else 0.0,
                "no label": int((card == 0).sum()),
                "multi-label": int((card > 1).sum()),
            })
        return pd.DataFrame(rows).set_index("split")

    def label_counts(self, split: str | None = None) -> pd.Series:
        """Documents per label, most frequent first (whole dataset if ``split`` is None)."""
        y = self.y if split is None else self.split(split).y
        return pd.Series(y.sum(0), index=self.label_names, name="documents").sort_values(ascending=False)


def multi_hot(label_sets: Sequence[Sequence[str]], label_names: Sequence[str]) -> np.ndarray:
    """Binary matrix for ``label_sets`` over ``label_names`` (labels must be known)."""
    index = {name: j for j, name in enumerate(label_names)}
    y = np.zeros((len(label_sets), len(label_names)), dtype=np.uint8)
    for i, labels in enumerate(label_sets):
        for label in labels:
            y[i, index[label]] = 1
    return y


def stratified_splits(
    y: np.ndarray,
    *,
    seed: int,
    test_fraction: float | None = 0.2,
    validation_fraction: float = 0.1,
    train_indices: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Multi-label stratified splits (iterative stratification, Sechidis et al. 2011).

    With ``train_indices`` given (a corpus with an official test split) only the
    validation split is carved from them; otherwise ``test_fraction`` of all rows is
    carved as test first. ``validation_fraction`` is a fraction of the rows that are
    not test. Indices come back sorted; the same ``seed`` gives the same splits.
    """
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    def carve(idx: np.ndarray, fraction: float, offset: int) -> tuple[np.ndarray, np.ndarray]:
        splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed + offset)
        keep, out = next(splitter.split(np.zeros(len(idx)), y[idx]))
        return np.sort(idx[keep]), np.sort(idx[out])

    splits = {}
    if train_indices is None:
        rest, splits["test"] = carve(np.arange(len(y)), test_fraction, 0)
    else:
        rest = np.asarray(train_indices)
    splits["train"], splits["validation"] = carve(rest, validation_fraction, 1)
    return {name: splits[name] for name in SPLITS if name in splits}
