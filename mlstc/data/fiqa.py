"""FiQA 2018 task 1: aspect-based financial sentiment, headlines and microblog posts
(introduced in chapter 00).

Each item has a sentence and one or more targets, each with a sentiment score in
[-1, 1] and aspect paths such as ``Stock/Price Action/Bullish``. Labels are the
level-1 aspects (Corporate, Economy, Market, Stock) and the level-2 paths
(``Corporate/Appointment``); the hierarchy maps each level-1 aspect to its level-2
children. Per-target sentiment and full aspect paths are kept in
``extras["targets"]``. ``aspects`` is a Python-style list in a string, parsed with
``ast.literal_eval`` (never ``eval``).

Cite: Maia, Handschuh, Freitas, Davis, McDermott, Zarrouk & Balahur (2018), WWW'18
open challenge: financial opinion mining and question answering. WWW '18 Companion.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

from mlstc.data import files
from mlstc.data.dataset import DataError, Dataset, Provenance, multi_hot, stratified_splits
from mlstc.data.hierarchy import Hierarchy, expand_paths

NAME = "fiqa2018"
FILES = {"headline": "task1_headline_ABSA_train.json", "post": "task1_post_ABSA_train.json"}
SOURCE = "FiQA 2018 open challenge, task 1 (Maia et al. 2018, WWW '18 Companion)"
# Defects in the published files, repaired only where the value is exactly this,
# and reported in the dataset's provenance: (file, item id) -> (published, repaired).
ERRATA = {
    (FILES["post"], item_id): ("['Market/Volatility]", "['Market/Volatility']")
    for item_id in ("14931", "15751", "17087")
}
HOW_TO_GET = (
    "FiQA 2018 task 1 training files are published on the challenge site (sites.google.com/view/fiqa): "
    f"put {' and '.join(FILES.values())} in <data_dir>/fiqa2018/."
)


def parse_aspects(value, path: Path, row: str) -> list[list[str]]:
    """``"['Stock/Price Action']"`` -> ``[['Stock', 'Price Action']]``, safely."""
    try:
        aspects = ast.literal_eval(value) if isinstance(value, str) else value
    except (ValueError, SyntaxError):
        raise DataError(path, f"aspects {value!r} is not a list literal.", row=row,
                        fix="write it as \"['Level1/Level2']\".") from None
    if not isinstance(aspects, list) or not aspects or not all(isinstance(a, str) and a.strip() for a in aspects):
        raise DataError(path, f"aspects {value!r} must be a non-empty list of aspect paths.", row=row)
    return [[part.strip() for part in a.split("/")] for a in aspects]


def read_items(path: Path, source: str, repaired: list[str] | None = None) -> list[dict]:
    """Items of one FiQA file; :data:`ERRATA` repairs are appended to ``repaired``."""
    try:
        raw = json.loads(files.read_text(path))
    except json.JSONDecodeError as error:
        raise DataError(path, f"not valid JSON ({error.msg}).", row=f"line {error.lineno}",
                        fix="use the published file.") from None
    if not isinstance(raw, dict):
        raise DataError(path, "expected a JSON object id -> item.", fix="use the published file.")
    items = []
    for item_id, item in raw.items():
        row = f"id {item_id}"
        sentence = (item.get("sentence") or "").strip() if isinstance(item, dict) else ""
        if not sentence:
            raise DataError(path, "empty or missing sentence.", row=row, fix="remove the item or restore its text.")
        targets = []
        for info in item.get("info") or []:
            try:
                score = float(info["sentiment_score"])
            except (KeyError, TypeError, ValueError):
                raise DataError(path, f"sentiment_score missing or not a number in {info!r}.", row=row) from None
            aspects = info.get("aspects")
            published, fixed = ERRATA.get((path.name, item_id), (None, None))
            if aspects == published:
                aspects = fixed
                if repaired is not None:
                    repaired.append(f"{path.name} id {item_id}: aspects {published!r} -> {fixed!r}")
            for aspect in parse_aspects(aspects, path, row):
                targets.append({"target": info.get("target", ""), "aspect": "/".join(aspect), "score": score,
                                "sign": (score > 0) - (score < 0)})
        if not targets:
            raise DataError(path, "item has no target with aspects.", row=row)
        items.append({"id": f"{source}-{item_id}", "text": sentence, "source": source, "targets": targets})
    return items


SENTIMENT_CUTOFF = 0.1  # |score| <= 0.1 is neutral (about 8% of targets)
MIN_LEVEL3_DOCS = 5  # a sentiment/aspect/sub-aspect label needs this many documents


def _read(data_dir):
    folder = files.locate(data_dir, NAME, FILES["headline"], how_to_get=HOW_TO_GET)
    digests = files.verify(folder, NAME, FILES.values())
    repaired: list[str] = []
    items = [it for source, file in FILES.items() for it in read_items(folder / file, source, repaired)]
    return folder, digests, items, repaired


def _dataset(name, folder, digests, items, repaired, label_sets, notes, *, seed, test_fraction,
             validation_fraction) -> Dataset:
    label_names = sorted(set().union(*label_sets))
    y = multi_hot(label_sets, label_names)
    splits = stratified_splits(y, seed=seed, test_fraction=test_fraction, validation_fraction=validation_fraction)
    tree = Hierarchy.from_paths(label_names)
    return Dataset(
        name=name,
        texts=[it["text"] for it in items],
        y=y,
        label_names=label_names,
        splits=splits,
        ids=[it["id"] for it in items],
        provenance=Provenance(
            source=SOURCE, location=str(folder), files=digests,
            notes=[f"splits: test {test_fraction:.0%} of all, validation {validation_fraction:.1%} of the rest; "
                   f"iterative stratification, seed {seed}", *notes,
                   *(f"repaired a defect of the published file: {r}" for r in repaired)],
        ),
        hierarchy={p: tree.children(p) for p in tree.nodes if tree.children(p)},
        extras={"source": [it["source"] for it in items], "targets": [it["targets"] for it in items]},
    )


def load(
    data_dir: str | Path | None = None,
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.125,
) -> Dataset:
    """FiQA 2018 task 1 headlines and posts with level-1 and level-2 aspect labels;
    70/10/20 splits by default (iterative stratification, ``seed``), since only the
    training files were released."""
    folder, digests, items, repaired = _read(data_dir)
    label_sets = expand_paths([["/".join(t["aspect"].split("/")[:2]) for t in it["targets"]] for it in items])
    return _dataset("fiqa", folder, digests, items, repaired, label_sets, [], seed=seed, test_fraction=test_fraction,
                    validation_fraction=validation_fraction)


def sentiment(score: float, cutoff: float = SENTIMENT_CUTOFF) -> str:
    """``positive`` above ``cutoff``, ``negative`` below ``-cutoff``, else ``neutral``."""
    return "positive" if score > cutoff else "negative" if score < -cutoff else "neutral"


def load_sentiment(
    data_dir: str | Path | None = None,
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.125,
    cutoff: float = SENTIMENT_CUTOFF,
    min_level3_docs: int = MIN_LEVEL3_DOCS,
) -> Dataset:
    """The source article's hierarchy on real data: sentiment, then aspect.

    Each target contributes ``<sentiment>`` (level 1, from its score with
    ``cutoff``), ``<sentiment>/<Aspect>`` (level 2, e.g. ``positive/Corporate``) and
    ``<sentiment>/<Aspect>/<Sub-aspect>`` (level 3, kept only where at least
    ``min_level3_docs`` documents carry it, else the document keeps level 2). A
    document whose targets disagree carries a positive and a negative branch.
    """
    folder, digests, items, repaired = _read(data_dir)
    paths3 = [[f"{sentiment(t['score'], cutoff)}/{'/'.join(t['aspect'].split('/')[:2])}" for t in it["targets"]]
              for it in items]
    counts = Counter(p for doc in paths3 for p in set(doc) if p.count("/") == 2)
    label_sets = expand_paths([[p if p.count("/") < 2 or counts[p] >= min_level3_docs else p.rsplit("/", 1)[0]
                                for p in doc] for doc in paths3])
    notes = [f"sentiment: score > {cutoff} positive, < -{cutoff} negative, else neutral; level-3 labels with at "
             f"least {min_level3_docs} documents ({sum(c >= min_level3_docs for c in counts.values())} of "
             f"{len(counts)})"]
    return _dataset("fiqa-sentiment", folder, digests, items, repaired, label_sets, notes, seed=seed,
                    test_fraction=test_fraction, validation_fraction=validation_fraction)
