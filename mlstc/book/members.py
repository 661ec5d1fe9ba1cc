"""Chapter 05's ensemble members and combiners, for the chapters after it.

:func:`gather` reads every member's saved validation and test probabilities (the
models of chapters 01-04 and chapter 05's own), keeps the data set's label columns and
Platt-scales SVM scores, as chapter 05 does; :func:`combine` applies a combiner by its
chapter-05 name. Chapter 06 uses both to add a fine-tune to chapter 05's best ensemble.
"""

from __future__ import annotations

from mlstc import results
from mlstc.book import prerequisites
from mlstc.models import ensembles

SAVED = {"01_preprocessing": ["svm-tf-idf", "logreg-tf-idf", "svm-MiniLM-frozen"], "02_lstm": ["bilstm-attention"],
         "03_bert": ["bert-128"], "05_ensembles": ["bigru", "bilstm-word2vec", "lightgbm-tf-idf", "classifier-chains"]}
HIERARCHY = {"04_hierarchical": ["hierarchical-minilm-frozen"]}
COMBINERS = ("mean", "rank-mean", "weighted-mean", "stacking-logreg", "stacking-lightgbm", "ensemble-selection")


def gather(profile: str, dataset, *, seed: int = 0, before: str | None = None) -> dict[str, dict]:
    """``{member: {"validation": P, "test": P}}`` for ``dataset`` (a loaded
    :class:`mlstc.data.Dataset`): the members of every chapter in :data:`SAVED`, or
    only of the chapters that come ``before`` the one named (chapter 05 gathers the
    members it did not train itself with ``before="05_ensembles"``). A chapter's
    members missing from ``results/`` (a chapter run alone) are restored from the run
    cache when a run with default parameters and ``seed`` is there."""
    chapters = dict(SAVED) | (HIERARCHY if dataset.hierarchy else {})
    if before is not None:
        chapters = {chapter: models for chapter, models in chapters.items() if chapter < before}
    y_val = dataset.split("validation").y
    members = {}
    for chapter, models in chapters.items():
        if prerequisites.missing(profile, chapter, models, [dataset.key]):  # a chapter run alone: the run cache
            prerequisites.restore_cached(profile, chapter, models, dataset.key, seed=seed)
        for name in models:
            path = results.path(profile, chapter, dataset.key, name)
            record, probs = results.load(profile, chapter, dataset.key, name), results.load_probs(path)
            columns = [record["label_names"].index(label) for label in dataset.label_names]
            probs = {s: probs[s][:, columns] for s in ("validation", "test")}
            if name.startswith("svm"):
                probs = ensembles.calibrate(probs, y_val, seed=seed)
            members[name.replace("hierarchical-minilm-frozen", "hierarchical")] = probs
    return members


def best_combiner(profile: str, dataset_key: str) -> str:
    """The combiner chapter 05 chose for ``dataset_key``: the best validation micro-F1."""
    scores = {name: results.load(profile, "05_ensembles", dataset_key, name)["metrics"]["validation_micro_f1"]
              for name in COMBINERS}
    return max(scores, key=scores.get)


def fit(name: str, members, y_val, y_train, *, seed: int = 0, selection_rounds: int = 25) -> tuple[dict, dict | None]:
    """The combiner called ``name`` fitted on validation: its probabilities, and the
    member weights it chose (``None`` for the combiners without weights)."""
    if name == "mean":
        return ensembles.mean(members), None
    if name == "rank-mean":
        return ensembles.rank_mean(members), None
    if name == "weighted-mean":
        return ensembles.weighted_mean(members, y_val)
    if name == "stacking-logreg":
        return ensembles.stack_logreg(members, y_val, seed=seed), None
    if name == "stacking-lightgbm":
        return ensembles.stack_lightgbm(members, y_val, y_train.mean(0), seed=seed), None
    if name == "ensemble-selection":
        return ensembles.ensemble_selection(members, y_val, rounds=selection_rounds)
    raise ValueError(f"unknown combiner {name!r}; known: {', '.join(COMBINERS)}")


def combine(name: str, members, y_val, y_train, *, seed: int = 0, selection_rounds: int = 25) -> dict:
    """The combiner called ``name`` fitted on validation; its probabilities."""
    return fit(name, members, y_val, y_train, seed=seed, selection_rounds=selection_rounds)[0]
