"""Train just one model an earlier chapter saved, where a later chapter needs the model
itself and the machine does not have it.

Trained weights are never in git, so on a fresh clone chapter 05 finds the committed
probabilities of chapters 01-04's models but not the models. It needs them only to
save its chosen ensembles for ``python -m mlstc predict``; :func:`model` trains each
missing member the way its chapter did and saves it where that chapter saves it
(``results/<profile>/<chapter>/models/``), and nothing else of that chapter runs.

A model is trained from what its committed record keeps, and nothing else: the
settings its chapter ran it with (``extra.settings``, which each chapter records; a
fine-tune's are its record's own), the setting chosen on validation and the seed; and
the data set of the calling chapter. A run made with other parameters is rebuilt as it
was run. Every training goes through the fit cache like the chapter's own, so on the
machine where the chapter ran it is restored, not repeated. :func:`model` returns the
largest difference between the rebuilt model's validation scores and the committed
ones, so a caller can show that it rebuilt the model it scored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mlstc.results import store as results

BUILDERS: dict[str, Callable] = {}  # chapter -> builder(dataset, name, record) -> Built


class Built:
    """A rebuilt model, ready for :func:`save`: what its chapter's ``Run.save_model`` took."""

    def __init__(self, model, thresholds, validation, *, seed: int, **options):
        self.model, self.thresholds, self.validation = model, np.asarray(thresholds), np.asarray(validation)
        self.seed, self.options = seed, options


def builder(chapter: str):
    """Register the function that rebuilds ``chapter``'s saved models."""

    def register(function):
        BUILDERS[chapter] = function
        return function

    return register


def record(profile: str, chapter: str, dataset, name: str) -> dict:
    """The committed result of ``name`` on ``dataset`` in ``chapter``."""
    path = results.path(profile, chapter, dataset.key, name)
    if not path.is_file():
        raise FileNotFoundError(f"{chapter} has no committed result {path.name} for {dataset.key}; run "
                                f"`python -m mlstc run {chapter[:2]} --profile {profile}` to make it")
    return json.loads(path.read_text())


def model(profile: str, chapter: str, dataset, name: str, folder: Path) -> float:
    """Train ``chapter``'s model ``name`` for ``dataset`` as its committed record says
    and save it in ``folder``; the largest difference between its validation scores and
    the committed ones."""
    if chapter not in BUILDERS:
        raise KeyError(f"nothing rebuilds {chapter}'s models: run `python -m mlstc run {chapter[:2]} "
                       f"--profile {profile}` on this machine")
    committed = record(profile, chapter, dataset, name)
    built = BUILDERS[chapter](dataset, name, committed)
    save(folder, built, dataset, profile)
    stored = results.probs_for(profile, chapter, dataset, name)["validation"]
    return float(np.abs(np.asarray(built.validation, dtype=np.float64) - stored).max())


def save(folder: Path, built: Built, dataset, profile: str) -> Path:
    """Save ``built`` as its chapter's ``Run.save_model`` does (:func:`mlstc.saved.save`)."""
    from mlstc import saved

    return saved.save(folder, built.model, dataset.label_names, built.thresholds, dataset=dataset.key,
                      profile=profile, seed=built.seed, **built.options)


def settings(committed: dict) -> dict:
    """The settings a chapter recorded with a result (``extra.settings``); an error that
    says to rerun the chapter where a record from before they were recorded has none."""
    if "settings" not in committed.get("extra", {}):
        raise KeyError(f"the committed result {committed.get('model', '?')} of {committed.get('notebook', '?')} "
                       "keeps no settings to rebuild it from; rerun that chapter once to record them")
    return committed["extra"]["settings"]


def _thresholds(committed: dict) -> np.ndarray:
    return np.asarray(committed["extra"]["thresholds"], dtype=np.float64)


@builder("01_preprocessing")
def _linear(dataset, name: str, committed: dict) -> Built:
    """Chapter 01's linear models on tf-idf or frozen MiniLM vectors: the setting chosen
    on the chapter's grid, on the chapter's features (its fit is cached by both)."""
    from mlstc.models import linear
    from mlstc.saved import pipelines
    from mlstc.text import embeddings, features

    model_kind, view = name.split("-", 1)
    parts = [dataset.split(s) for s in ("train", "validation", "test")]
    if view == "tf-idf":
        featurizer, matrices = features.tfidf(*[p.texts for p in parts])
    else:
        given = settings(committed)
        vectors = embeddings.embed(dataset.texts, dataset=dataset.key, checkpoint=given["checkpoint"],
                                   max_length=given["max_length"])
        featurizer = pipelines.FrozenEmbeddings(given["checkpoint"], given["max_length"])
        matrices = [vectors[p.indices] for p in parts]
    fitted = linear.fit(model_kind, matrices[0], parts[0].y, matrices[1], parts[1].y, seed=committed["seed"])
    return Built(pipelines.TextPipeline(featurizer, pipelines.LinearScores(fitted.estimator)), _thresholds(committed),
                 fitted.scores(matrices[1]), seed=committed["seed"], chosen_on_validation=fitted.params)


@builder("02_lstm")
def _bilstm(dataset, name: str, committed: dict) -> Built:
    """Chapter 02's main BiLSTM: every epoch of its schedule, the best on validation kept."""
    from mlstc.models import recurrent

    given = settings(committed)  # the epochs as run (the profile's cap applied)
    out = recurrent.train(dataset, seed=committed["seed"], patience=given["epochs"], **given)
    return Built(out.model, _thresholds(committed), out.probs["validation"], seed=committed["seed"])


@builder("03_bert")
def _finetune(dataset, name: str, committed: dict) -> Built:
    """One seed of chapter 03's fine-tune, with the settings its record keeps."""
    from mlstc.models import finetune
    from mlstc.text import checkpoints

    extra = committed["extra"]
    given = {k: extra[k] for k in ("patience", "warmup_fraction", "weight_decay", "dropout", "predict_batch_size")}
    given |= finetune.settings_of(committed)
    checkpoint = extra["checkpoint"]
    passed = "" if checkpoint == checkpoints.DEFAULT else checkpoint  # how chapter 03 passed it (its fit-cache key)
    seed = int(extra.get("seed", committed["seed"]))
    out = finetune.finetune(passed, dataset, **given, seed=seed)
    return Built(out.model, out.cuts, out.probs["validation"], seed=seed,
                 tokenizer=checkpoints.tokenizer(passed),
                 encoding={"max_length": given["max_length"], "strategy": given["truncation"]},
                 checkpoint=checkpoint)


@builder("04_hierarchical")
def _hierarchical(dataset, name: str, committed: dict) -> Built:
    """Chapter 04's hierarchical model on frozen MiniLM vectors (its first seed), saved as
    chapter 05 uses it (:func:`mlstc.saved.pipelines.hierarchy_member`)."""
    from mlstc import data
    from mlstc.models import hierarchy_training
    from mlstc.saved import pipelines
    from mlstc.text import embeddings

    if not dataset.hierarchy:
        raise ValueError(f"{dataset.key} has no label hierarchy, so chapter 04 saved no {name} for it")
    tree = data.Hierarchy.from_mapping(dataset.hierarchy, dataset.label_names, source=f"{dataset.name}'s hierarchy")
    given = dict(settings(committed))
    checkpoint, length = given.pop("checkpoint"), given.pop("embedding_length")
    vectors = embeddings.embed(dataset.texts, dataset=dataset.key, checkpoint=checkpoint, max_length=length)
    seed = int(committed["seed"])
    out = hierarchy_training.train(dataset, tree, "minilm-frozen", "hierarchical", seed=seed, vectors=vectors, **given)
    pipeline, cut, validation = pipelines.hierarchy_member(out.predictor, out.logits["validation"], tree.nodes,
                                                           dataset.label_names, dataset.split("validation").y,
                                                           checkpoint=checkpoint, max_length=length)
    return Built(pipeline, cut, validation, seed=seed)
