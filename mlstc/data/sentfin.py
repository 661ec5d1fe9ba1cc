"""SEntFiN 1.0: entity-level sentiment in financial news headlines (chapter 00).

Each headline names one or more entities, each with a sentiment. The headline's
labels are every sentiment its entities carry, so a headline with a positive and a
negative entity is a multi-label example: the article's "one article, two
sentiments" case. The entity -> sentiment pairs are kept in ``extras["entities"]``.

Cite: Sinha, Kedas, Kumar & Malo (2022), SEntFiN 1.0: Entity-aware sentiment
analysis for financial news. JASIST 73(9). doi:10.1002/asi.24634
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from mlstc.data import files
from mlstc.data.dataset import DataError, Dataset, Provenance, multi_hot, stratified_splits

NAME = "sentfin"
FILE = "SEntFiN-v1.1.csv"
LABELS = ["negative", "neutral", "positive"]
SOURCE = "SEntFiN 1.0 (Sinha et al. 2022, JASIST, doi:10.1002/asi.24634)"
HOW_TO_GET = (
    "SEntFiN is distributed on Kaggle (data set 'aspect-based-sentiment-analysis-for-financial-news', "
    f"an account is needed): download it and put {FILE} in <data_dir>/sentfin/."
)


def read_rows(path: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(id, headline, entity -> sentiment) for every row; any bad row raises."""
    rows = []
    with io.StringIO(files.read_text(path), newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"S No.", "Title", "Decisions"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(path, f"missing column(s) {sorted(missing)}; found {reader.fieldnames}.",
                            fix=f"use the published {FILE}.")
        for row_no, row in enumerate(reader, 1):
            title = (row["Title"] or "").strip()
            if not title:
                raise DataError(path, "empty headline.", row=row_no, fix="remove the row or restore its Title.")
            try:
                decisions = json.loads(row["Decisions"] or "")
            except json.JSONDecodeError as error:
                raise DataError(path, f"Decisions is not JSON ({error.msg}).", row=row_no,
                                fix='write it as {"entity": "positive"}.') from None
            if not isinstance(decisions, dict) or not decisions:
                raise DataError(path, "Decisions must be a non-empty JSON object entity -> sentiment.", row=row_no)
            unknown = sorted(set(decisions.values()) - set(LABELS))
            if unknown:
                raise DataError(path, f"unknown sentiment(s) {unknown}.", row=row_no, fix=f"use one of {LABELS}.")
            rows.append((row["S No."], title, decisions))
    return rows


def load(
    data_dir: str | Path | None = None,
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.125,
) -> Dataset:
    """SEntFiN headlines with labels {negative, neutral, positive}: 70/10/20 splits by
    default (iterative stratification, ``seed``); SEntFiN has no official split."""
    folder = files.locate(data_dir, NAME, FILE, how_to_get=HOW_TO_GET)
    digests = files.verify(folder, NAME, [FILE])
    rows = read_rows(folder / FILE)
    y = multi_hot([set(d.values()) for _, _, d in rows], LABELS)
    splits = stratified_splits(y, seed=seed, test_fraction=test_fraction, validation_fraction=validation_fraction)
    return Dataset(
        name="sentfin",
        texts=[t for _, t, _ in rows],
        y=y,
        label_names=list(LABELS),
        splits=splits,
        ids=[i for i, _, _ in rows],
        provenance=Provenance(
            source=SOURCE, location=str(folder), files=digests,
            notes=[f"splits: test {test_fraction:.0%} of all, validation {validation_fraction:.1%} of the rest; "
                   f"iterative stratification, seed {seed}"],
        ),
        extras={"entities": [d for _, _, d in rows]},
    )
