"""Chapter 05's ensemble members and combiners, for the chapters after it.

:func:`gather` reads every member's saved validation and test probabilities (the
models of chapters 01-04 and chapter 05's own), keeps the data set's label columns and
Platt-scales SVM scores, as chapter 05 does; :func:`combine` applies a combiner by its
chapter-05 name. Chapter 06 uses both to add a fine-tune to chapter 05's best ensemble.
:func:`save_ensemble` saves chapter 05's chosen ensemble with every member it uses
(:func:`member_model` finds or refits the earlier chapters' members) for
``python -m mlstc predict``. Chapter 03 fine-tunes with several seeds and saves the
extra ones as ``bert-128-seed1``, ... (:func:`seed_member`); chapter 05 lets
validation decide whether its combiners use them (:func:`choose_pool`), and
:func:`pool` says what it chose.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from mlstc import results
from mlstc.book import prerequisites, runcache
from mlstc.core import profiles
from mlstc.models import ensembles

SAVED = {"01_preprocessing": ["svm-tf-idf", "logreg-tf-idf", "svm-MiniLM-frozen"], "02_lstm": ["bilstm-attention"],
         "03_bert": ["bert-128"], "05_ensembles": ["bigru", "bilstm-word2vec", "lightgbm-tf-idf", "classifier-chains"]}
HIERARCHY = {"04_hierarchical": ["hierarchical-minilm-frozen"]}
MEMBER_NAMES = {"hierarchical-minilm-frozen": "hierarchical"}  # a saved result's name -> its name as a member
COMBINERS = ensembles.NAMES
_SEED_MEMBER = re.compile(r"bert-\d+-seed\d+")  # chapter 03's extra seeds of its fine-tune


seed_member = results.seed_name  # chapter 03's fine-tune ``bert-128`` with seed 1: ``bert-128-seed1``


def fine_tune_seeds(profile: str, seed: int = 0) -> list[str]:
    """The extra seeds of chapter 03's fine-tune that its run with ``seed`` saves in
    ``profile`` (one fewer than the profile's seeds): ``["bert-128-seed1", ...]``."""
    base = SAVED["03_bert"][0]
    return [seed_member(base, seed + k) for k in range(1, profiles.resolve(profile).seeds)]


def pool(profile: str, dataset_key: str) -> list[str] | None:
    """The members chapter 05's combiners were fitted on for ``dataset_key`` (the pool
    it chose on validation), or ``None`` when its saved run records no pool (or is absent)."""
    try:
        record = results.load(profile, "05_ensembles", dataset_key, best_combiner(profile, dataset_key))
    except FileNotFoundError:
        return None
    return record.get("extra", {}).get("pool")


def gather(profile: str, dataset, *, seed: int = 0, before: str | None = None,
           seeds: list[str] | None = None) -> dict[str, dict]:
    """``{member: {"validation": P, "test": P}}`` for ``dataset`` (a loaded
    :class:`mlstc.data.Dataset`): the members of every chapter in :data:`SAVED`, or
    only of the chapters that come ``before`` the one named (chapter 05 gathers the
    members it did not train itself with ``before="05_ensembles"``). ``seeds`` names
    extra seeds of chapter 03's fine-tune to include (:func:`fine_tune_seeds`); by
    default, with chapter 05, those in its pool (:func:`pool`), else none. A chapter's
    members missing from ``results/`` (a chapter run alone) are restored from the run
    cache when a run with default parameters and ``seed`` is there."""
    chapters = dict(SAVED) | (HIERARCHY if dataset.hierarchy else {})
    if before is not None:
        chapters = {chapter: models for chapter, models in chapters.items() if chapter < before}
    if seeds is None and "05_ensembles" in chapters:
        seeds = [name for name in pool(profile, dataset.key) or [] if _SEED_MEMBER.fullmatch(name)]
    if seeds and "03_bert" in chapters:
        chapters["03_bert"] = chapters["03_bert"] + list(seeds)
    y_val = dataset.split("validation").y
    members = {}
    sizes = dataset.sizes()
    for chapter, models in chapters.items():
        if prerequisites.missing(profile, chapter, models, [dataset.key], {dataset.key: sizes}):  # run alone: the cache
            prerequisites.restore_cached(profile, chapter, models, dataset.key, seed=seed, sizes=sizes)
        for name in models:
            probs = results.probs_for(profile, chapter, dataset, name)
            if name.startswith("svm"):
                probs = ensembles.calibrate(probs, y_val, seed=seed)
            members[MEMBER_NAMES.get(name, name)] = probs
    return members


def _source(name: str) -> tuple[str, str] | None:
    """``(chapter, saved result name)`` of a member an earlier chapter saved, or ``None``."""
    if _SEED_MEMBER.fullmatch(name):
        return "03_bert", name
    for chapter, models in (SAVED | HIERARCHY).items():
        for stored in models:
            if name in (stored, MEMBER_NAMES.get(stored)):
                return chapter, stored
    return None


def train_seconds(profile: str, dataset_key: str, names, own: dict[str, float] | None = None) -> float | None:
    """What training the members ``names`` cost: the sum of the training seconds each
    one's chapter recorded (``own``: name -> seconds, for members the calling chapter
    trained itself), or ``None`` when one of them recorded none."""
    own = own or {}
    total = 0.0
    for name in names:
        if name in own:
            seconds = own[name]
        elif (source := _source(name)) is None:
            return None
        else:
            seconds = results.load(profile, source[0], dataset_key, source[1])["metrics"].get("train seconds")
        if seconds is None:
            return None
        total += float(seconds)
    return total


def best_combiner(profile: str, dataset_key: str) -> str:
    """The combiner chapter 05 chose for ``dataset_key``: the best validation micro-F1."""
    scores = {name: results.load(profile, "05_ensembles", dataset_key, name)["metrics"]["validation_micro_f1"]
              for name in COMBINERS}
    return max(scores, key=scores.get)


@dataclass
class PoolChoice:
    """What :func:`choose_pool` measured: each pool's combiners and the pool chosen."""

    chosen: str
    pools: dict[str, list[str]]
    fitted: dict[str, dict[str, ensembles.Fitted]]  # pool -> combiner -> fitted on that pool
    validation_micro_f1: dict[str, dict[str, float]]  # pool -> combiner -> out of fold, its tuned threshold
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # pool -> combiner -> fitting time

    def best(self, pool_name: str) -> str:
        """The combiner with the best validation micro-F1 on ``pool_name``."""
        scores = self.validation_micro_f1[pool_name]
        return max(scores, key=scores.get)


def choose_pool(pools: dict[str, list[str]], members, y_val, y_train, *, seed: int = 0,
                selection_rounds: int = 25) -> PoolChoice:
    """Fit every combiner on every pool (name -> member names, a subset of
    ``members``) and choose the pool whose best combiner has the best validation
    micro-F1 (out of fold for the combiners that learn from validation, at the global
    threshold tuned on those probabilities); a tie goes to the pool listed first."""
    from mlstc.evaluation import metrics, thresholds

    fitted, scores, seconds = {}, {}, {}
    for pool_name, names in pools.items():
        unknown = [n for n in names if n not in members]
        if unknown:
            raise KeyError(f"pool {pool_name!r} names members that are not there: {', '.join(unknown)}")
        chosen_members = {n: members[n] for n in names}
        fitted[pool_name], scores[pool_name], seconds[pool_name] = {}, {}, {}
        for name in COMBINERS:
            started = time.perf_counter()
            out = fit_combiner(name, chosen_members, y_val, y_train, seed=seed, selection_rounds=selection_rounds)
            seconds[pool_name][name] = time.perf_counter() - started
            cut = thresholds.tune_global(y_val, out.probs["validation"])
            fitted[pool_name][name] = out
            scores[pool_name][name] = metrics.evaluate(y_val, out.probs["validation"] >= cut)["micro_f1"]
    best = {p: max(s.values()) for p, s in scores.items()}
    chosen = max(pools, key=lambda p: (best[p], -list(pools).index(p)))
    return PoolChoice(chosen, dict(pools), fitted, scores, seconds)


def fit(name: str, members, y_val, y_train, *, seed: int = 0, selection_rounds: int = 25) -> tuple[dict, dict | None]:
    """The combiner called ``name`` fitted on validation: its probabilities, and the
    member weights it chose (``None`` for the combiners without weights)."""
    out = fit_combiner(name, members, y_val, y_train, seed=seed, selection_rounds=selection_rounds)
    return out.probs, out.weights


def fit_combiner(name: str, members, y_val, y_train, *, seed: int = 0, selection_rounds: int = 25
                 ) -> ensembles.Fitted:
    """As :func:`fit`, with the fitted combiner (what a saved ensemble applies to new text)."""
    if name not in COMBINERS:
        raise ValueError(f"unknown combiner {name!r}; known: {', '.join(COMBINERS)}")
    return ensembles.fit(name, members, y_val, y_train.mean(0), seed=seed, rounds=selection_rounds)


def combine(name: str, members, y_val, y_train, *, seed: int = 0, selection_rounds: int = 25) -> dict:
    """The combiner called ``name`` fitted on validation; its probabilities."""
    return fit(name, members, y_val, y_train, seed=seed, selection_rounds=selection_rounds)[0]


def _linear_member(profile: str, dataset, name: str, seed: int):
    """Chapter 01's linear model ``name`` refitted with the settings it chose on validation."""
    from mlstc.models import linear, pipelines
    from mlstc.text import embeddings, features

    params = results.load(profile, "01_preprocessing", dataset.key, name)["extra"]["params"]
    model, view = name.split("-", 1)
    train = dataset.split("train")
    if view == "tf-idf":
        vectorizer, (x_train,) = features.tfidf(train.texts)
        featurizer = vectorizer
    else:  # svm-MiniLM-frozen: chapter 01's cached embeddings of every text
        chapter = runcache.default_parameters("01_preprocessing")
        featurizer = pipelines.FrozenEmbeddings(chapter["checkpoint"], chapter["max_length"])
        vectors = embeddings.embed(dataset.texts, dataset=dataset.key, checkpoint=featurizer.checkpoint,
                                   max_length=featurizer.max_length)
        x_train = vectors[train.indices]
    with warnings.catch_warnings():  # as chapter 01 fitted it (labels without positives in training)
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        estimator = linear.make(model, params, seed).fit(x_train, train.y)
    return pipelines.TextPipeline(featurizer, pipelines.LinearScores(estimator))


def _hierarchical_member(profile: str, dataset, seed: int):
    """Chapter 04's hierarchical model on frozen MiniLM vectors, retrained with the
    chapter's default settings and its first seed (the one whose probabilities it saved)."""
    from mlstc import data
    from mlstc.models import hierarchy, pipelines, training
    from mlstc.text import embeddings

    chapter = runcache.default_parameters("04_hierarchical")
    tree = data.Hierarchy.from_mapping(dataset.hierarchy, dataset.label_names, source=f"{dataset.name}'s hierarchy")
    featurizer = pipelines.FrozenEmbeddings(chapter["checkpoint"], chapter["embedding_length"])
    vectors = embeddings.embed(dataset.texts, dataset=dataset.key, checkpoint=featurizer.checkpoint,
                               max_length=featurizer.max_length)
    parts = {s: dataset.split(s) for s in ("train", "validation")}
    y = {s: tree.augment(p.y, dataset.label_names).astype("float32") for s, p in parts.items()}
    keras = training.keras
    keras.utils.set_random_seed(seed)
    inputs, hidden = hierarchy.vector_encoder(vectors.shape[1])
    model, predictor = hierarchy.build(inputs, hidden, tree, "hierarchical", learning_rate=chapter["learning_rate"])
    epochs = min(chapter["epochs"], profiles.resolve(profile).max_epochs)
    training.fit_arrays(model, vectors[parts["train"].indices], y["train"], vectors[parts["validation"].indices],
                        y["validation"], epochs=epochs, batch_size=chapter["batch_size"], patience=chapter["patience"],
                        seed=seed, predict_model=predictor)
    columns = [list(tree.nodes).index(label) for label in dataset.label_names]
    return pipelines.TextPipeline(featurizer, pipelines.KerasHead(predictor, columns))


def member_model(profile: str, dataset, name: str, *, seed: int = 0):
    """A member of :func:`gather` as something :func:`mlstc.models.saved.save_ensemble`
    takes: the directory its chapter saved the model in (chapters 02 and 03), or the
    model refitted as a :class:`mlstc.models.pipelines.TextPipeline` with the settings
    its chapter recorded (chapter 01's linear models, chapter 04's hierarchical model).
    Chapter 05's own members come from chapter 05."""
    from mlstc.core import storage

    chapter, stored = _source(name) or (None, None)
    if chapter in ("02_lstm", "03_bert"):
        own_name = stored in SAVED[chapter]  # the chapter's first seed is saved under the data set's key alone
        folder = results.run_dir(profile, chapter) / "models" / storage.slug(dataset.key if own_name
                                                                              else f"{dataset.key}-{stored}")
        if not folder.is_dir():
            prerequisites.restore_cached(profile, chapter, SAVED[chapter] + ([] if own_name else [stored]),
                                         dataset.key, seed=seed)
        if not folder.is_dir():
            raise FileNotFoundError(f"{chapter} saved no model for {dataset.key} in {folder}; run "
                                    f"`python -m mlstc run {chapter[:2]} --profile {profile}` to make it")
        return folder
    if chapter == "01_preprocessing":
        return _linear_member(profile, dataset, name, seed)
    if chapter == "04_hierarchical":
        return _hierarchical_member(profile, dataset, seed)
    raise KeyError(f"{name!r} is not a member an earlier chapter saved; pass chapter 05's own members as models")


def save_ensemble(model_dir, profile: str, dataset, fitted: ensembles.Fitted, thresholds, *, own: dict,
                  seed: int = 0, **info) -> Path:
    """Save the ensemble ``fitted`` (from :func:`fit_combiner`) to ``model_dir`` with
    every member its combiner uses: chapter 05's own from ``own`` (name -> saved
    directory or pipeline), the earlier chapters' from :func:`member_model`. An SVM
    member gets the Platt scaling :func:`gather` gave its test scores (fitted on all
    of its saved validation scores)."""
    from mlstc.models import saved

    y_val = dataset.split("validation").y
    sources, calibration = {}, {}
    for name in fitted.combiner.members:
        sources[name] = own[name] if name in own else member_model(profile, dataset, name, seed=seed)
        if name.startswith("svm"):
            chapter = _source(name)[0]
            record = results.load(profile, chapter, dataset.key, name)
            raw = results.load_probs(results.path(profile, chapter, dataset.key, name))["validation"]
            raw = raw[:, [record["label_names"].index(label) for label in dataset.label_names]]
            calibration[name] = ensembles.platt(raw, y_val)
    return saved.save_ensemble(model_dir, sources, fitted, dataset.label_names, thresholds, calibration=calibration,
                               dataset=dataset.key, profile=profile, seed=seed, **info)
