"""Train just one model an earlier chapter saved, where a later chapter needs the model
itself and the machine does not have it.

Trained weights are never in git, so on a fresh clone chapter 05 finds the committed
probabilities of chapters 01-04's models but not the models. It needs them only to
save its chosen ensembles for ``python -m mlstc predict``; :func:`model` trains each
missing member the way its chapter did and saves it where that chapter saves it
(``results/<profile>/<chapter>/models/``), and nothing else of that chapter runs.

A model is trained from its chapter's parameters (the caller passes them: the defaults
of the chapter's notebook, which the committed run used), the settings its committed record keeps (a linear model's
chosen setting, a fine-tune's schedule and seed) and the data set of the calling
chapter. Every training goes through the fit cache like the chapter's own, so on the
machine where the chapter ran it is restored, not repeated. :func:`model` returns the
largest difference between the rebuilt model's validation scores and the committed
ones, so a caller can show that it rebuilt the model it scored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mlstc.core import profiles
from mlstc.results import store as results

BUILDERS: dict[str, Callable] = {}  # chapter -> builder(profile, dataset, name, record, parameters) -> Built


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


def model(profile: str, chapter: str, dataset, name: str, folder: Path, parameters: dict) -> float:
    """Train ``chapter``'s model ``name`` for ``dataset`` with the chapter's
    ``parameters`` and save it in ``folder``; the largest difference between its
    validation scores and the committed ones."""
    if chapter not in BUILDERS:
        raise KeyError(f"nothing rebuilds {chapter}'s models: run `python -m mlstc run {chapter[:2]} "
                       f"--profile {profile}` on this machine")
    committed = record(profile, chapter, dataset, name)
    built = BUILDERS[chapter](profiles.resolve(profile), dataset, name, committed, parameters)
    save(folder, built, dataset, profile)
    stored = results.probs_for(profile, chapter, dataset, name)["validation"]
    return float(np.abs(np.asarray(built.validation, dtype=np.float64) - stored).max())


def save(folder: Path, built: Built, dataset, profile: str) -> Path:
    """Save ``built`` as its chapter's ``Run.save_model`` does (:func:`mlstc.saved.save`)."""
    from mlstc import saved

    return saved.save(folder, built.model, dataset.label_names, built.thresholds, dataset=dataset.key,
                      profile=profile, seed=built.seed, **built.options)


def _thresholds(committed: dict) -> np.ndarray:
    return np.asarray(committed["extra"]["thresholds"], dtype=np.float64)


@builder("01_preprocessing")
def _linear(profile, dataset, name: str, committed: dict, parameters: dict) -> Built:
    """Chapter 01's linear models on tf-idf or frozen MiniLM vectors: the chapter's
    grid on the chapter's features (its fit is cached by both)."""
    from mlstc.models import linear
    from mlstc.saved import pipelines
    from mlstc.text import embeddings, features

    model_kind, view = name.split("-", 1)
    parts = [dataset.split(s) for s in ("train", "validation", "test")]
    if view == "tf-idf":
        featurizer, matrices = features.tfidf(*[p.texts for p in parts])
    else:
        vectors = embeddings.embed(dataset.texts, dataset=dataset.key, checkpoint=parameters["checkpoint"],
                                   max_length=parameters["max_length"])
        featurizer = pipelines.FrozenEmbeddings(parameters["checkpoint"], parameters["max_length"])
        matrices = [vectors[p.indices] for p in parts]
    fitted = linear.fit(model_kind, matrices[0], parts[0].y, matrices[1], parts[1].y, seed=committed["seed"])
    return Built(pipelines.TextPipeline(featurizer, pipelines.LinearScores(fitted.estimator)), _thresholds(committed),
                 fitted.scores(matrices[1]), seed=committed["seed"], chosen_on_validation=fitted.params)


@builder("02_lstm")
def _bilstm(profile, dataset, name: str, committed: dict, parameters: dict) -> Built:
    """Chapter 02's main BiLSTM: every epoch of its schedule, the best on validation kept."""
    from mlstc.models import recurrent

    epochs = min(parameters["epochs"], profile.max_epochs)
    settings = {k: parameters[k] for k in ("max_tokens", "embedding_dim", "units", "learning_rate", "batch_size")}
    out = recurrent.train(dataset, seed=committed["seed"], max_length=parameters["max_length"], epochs=epochs,
                          patience=epochs, **settings)
    return Built(out.model, _thresholds(committed), out.probs["validation"], seed=committed["seed"])


@builder("03_bert")
def _finetune(profile, dataset, name: str, committed: dict, parameters: dict) -> Built:
    """One seed of chapter 03's fine-tune, with the settings its record keeps."""
    from mlstc.models import finetune
    from mlstc.text import checkpoints

    extra = committed["extra"]
    settings = {k: parameters[k] for k in ("patience", "warmup_fraction", "weight_decay", "dropout",
                                           "predict_batch_size")}
    settings |= finetune.settings_of(committed)
    checkpoint = extra.get("checkpoint", parameters["checkpoint"])
    given = "" if checkpoint == checkpoints.DEFAULT else checkpoint  # how chapter 03 passed it (its fit-cache key)
    seed = int(extra.get("seed", committed["seed"]))
    out = finetune.finetune(given, dataset, **settings, seed=seed)
    return Built(out.model, out.cuts, out.probs["validation"], seed=seed,
                 tokenizer=checkpoints.tokenizer(given),
                 encoding={"max_length": settings["max_length"], "strategy": settings["truncation"]},
                 checkpoint=checkpoint)


@builder("04_hierarchical")
def _hierarchical(profile, dataset, name: str, committed: dict, parameters: dict) -> Built:
    """Chapter 04's hierarchical model on frozen MiniLM vectors (its first seed), saved as
    chapter 05 uses it: text in, the data set's own labels out."""
    from mlstc import data
    from mlstc.evaluation import thresholds
    from mlstc.models import hierarchy_training
    from mlstc.saved import base, pipelines
    from mlstc.text import embeddings

    if not dataset.hierarchy:
        raise ValueError(f"{dataset.key} has no label hierarchy, so chapter 04 saved no {name} for it")
    tree = data.Hierarchy.from_mapping(dataset.hierarchy, dataset.label_names, source=f"{dataset.name}'s hierarchy")
    vectors = embeddings.embed(dataset.texts, dataset=dataset.key, checkpoint=parameters["checkpoint"],
                               max_length=parameters["embedding_length"])
    settings = {k: parameters[k] for k in ("batch_size", "patience", "learning_rate", "max_tokens", "max_length")}
    seed = int(committed["seed"])
    out = hierarchy_training.train(dataset, tree, "minilm-frozen", "hierarchical", seed=seed, vectors=vectors,
                                   epochs=min(parameters["epochs"], profile.max_epochs), **settings)
    columns = base.columns(tree.nodes, dataset.label_names, "the hierarchy's nodes")
    validation = thresholds.sigmoid(out.logits["validation"])[:, columns]  # the data set's labels, as probs_for reads
    cut = thresholds.tune_global(dataset.split("validation").y, validation)
    pipeline = pipelines.TextPipeline(pipelines.FrozenEmbeddings(parameters["checkpoint"],
                                                                 parameters["embedding_length"]),
                                      pipelines.KerasHead(out.predictor, columns))
    return Built(pipeline, cut, validation, seed=seed)
