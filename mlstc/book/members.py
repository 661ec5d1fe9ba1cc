"""Chapter 05's ensemble members and combiners, for the chapters after it.

:func:`gather` reads every member's saved validation and test probabilities (the
models of chapters 01-04 and chapter 05's own), keeps the data set's label columns and
Platt-scales SVM scores, as chapter 05 does; chapter 06 uses it, with
:func:`mlstc.ensembles.fit`, to add a fine-tune to chapter 05's best ensemble.
:func:`save_ensemble` saves chapter 05's chosen ensemble with every member it uses
(:func:`member_model` finds the directories the earlier chapters saved them in) for
``python -m mlstc predict``. Chapter 03 fine-tunes with several seeds and saves the
extra ones as ``bert-128-seed1``, ... (:func:`mlstc.results.seed_name`); chapter 05 lets
validation decide whether its combiners use them (:func:`choose_pool`), and
:func:`pool` says what it chose.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlstc import ensembles, results
from mlstc.book import finetunes, prerequisites, runcache
from mlstc.core import profiles

SAVED = {"01_preprocessing": ["svm-tf-idf", "logreg-tf-idf", "svm-MiniLM-frozen"], "02_lstm": ["bilstm-attention"],
         "03_bert": ["bert-128"], "05_ensembles": ["bigru", "bilstm-word2vec", "lightgbm-tf-idf", "classifier-chains"]}
HIERARCHY = {"04_hierarchical": ["hierarchical-minilm-frozen"]}
MEMBER_NAMES = {"hierarchical-minilm-frozen": "hierarchical"}  # a saved result's name -> its name as a member
_SEED_MEMBER = re.compile(r"bert-\d+-seed\d+")  # chapter 03's extra seeds of its fine-tune


def fine_tune_seeds(profile: str, seed: int = 0) -> list[str]:
    """The extra seeds of chapter 03's fine-tune that its run with ``seed`` saves in
    ``profile`` (one fewer than the profile's seeds): ``["bert-128-seed1", ...]``."""
    return results.seed_names(SAVED["03_bert"][0], profiles.resolve(profile).seeds, seed)[1:]


def saved_runs(profile: str, dataset, name: str, seed: int = 0) -> list:
    """Every seed of an earlier chapter's member ``name`` as that chapter saved it: the
    test decisions at the chapter's own thresholds (:func:`mlstc.results.predictions_for`,
    which notes them as saved results, so a comparison names its sides), its first seed
    first: chapter 03's fine-tune with its other seeds, a result that lists ``seeds``
    (chapter 02's BiLSTM) with those."""
    chapter, stored = _source(name)
    if (chapter, stored) == ("03_bert", SAVED["03_bert"][0]):
        names = [stored, *fine_tune_seeds(profile, seed)]
    else:
        record = results.load(profile, chapter, dataset.key, stored)
        names = [stored] + [results.seed_name(stored, s) for s in record.get("extra", {}).get("seeds", [])
                            if s != record["seed"]]
    return [results.predictions_for(profile, chapter, dataset, n) for n in names]


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
            if needs_calibration(name):
                probs = ensembles.calibrate(probs, y_val, seed=seed)
            members[MEMBER_NAMES.get(name, name)] = probs
    return members


def needs_calibration(name: str) -> bool:
    """Whether a member's scores are an SVM's decision values, which are Platt-scaled
    (:func:`mlstc.ensembles.calibrate`) before they are mixed with probabilities: the
    one rule :func:`gather` and :func:`save_ensemble` share."""
    return name.startswith("svm")


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
              for name in ensembles.NAMES}
    return max(scores, key=scores.get)


@dataclass
class PoolChoice:
    """What :func:`choose_pool` measured: each pool's combiners and the pool chosen."""

    chosen: str
    pools: dict[str, list[str]]
    fitted: dict[str, dict[str, ensembles.Fitted]]  # pool -> combiner -> fitted on that pool
    validation_micro_f1: dict[str, dict[str, float]]  # pool -> combiner -> out of fold, its tuned threshold
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # pool -> combiner -> fitting time
    validation_macro_f1: dict[str, dict[str, float]] = field(default_factory=dict)  # the same, macro-F1

    def best(self, pool_name: str, objective: str = "micro_f1") -> str:
        """The combiner with the best validation ``objective`` (``"micro_f1"`` or
        ``"macro_f1"``) on ``pool_name``."""
        scores = {"micro_f1": self.validation_micro_f1, "macro_f1": self.validation_macro_f1}[objective][pool_name]
        return max(scores, key=scores.get)

    @property
    def kept(self) -> dict[str, ensembles.Fitted]:
        """Every combiner fitted on the chosen pool."""
        return self.fitted[self.chosen]

    def rows(self) -> list[dict]:
        """One row per pool: its members, its best combiner and that one's validation
        micro-F1, whether it was chosen."""
        return [{"pool": p, "members": len(names), "best combiner": self.best(p),
                 "its validation micro-F1": self.validation_micro_f1[p][self.best(p)],
                 "chosen": "yes" if p == self.chosen else ""} for p, names in self.pools.items()]

    def record(self, name: str) -> dict:
        """What combiner ``name``'s result records about how it was fitted: its weights,
        fitting seconds, the pool kept and every pool's best validation micro-F1."""
        return {"weights": self.kept[name].weights, "combiner_seconds": round(self.seconds[self.chosen][name], 1),
                "pool": self.pools[self.chosen],
                "pool_choice": {p: self.validation_micro_f1[p][self.best(p)] for p in self.pools}}


def choose_pool(pools: dict[str, list[str]], members, y_val, y_train, *, seed: int = 0,
                selection_rounds: int = 25) -> PoolChoice:
    """Fit every combiner on every pool (name -> member names, a subset of
    ``members``) and choose the pool whose best combiner has the best validation
    micro-F1 (out of fold for the combiners that learn from validation, at the global
    threshold tuned on those probabilities); a tie goes to the pool listed first."""
    from mlstc.evaluation import metrics, thresholds

    fitted, scores, macro, seconds = {}, {}, {}, {}
    for pool_name, names in pools.items():
        unknown = [n for n in names if n not in members]
        if unknown:
            raise KeyError(f"pool {pool_name!r} names members that are not there: {', '.join(unknown)}")
        chosen_members = {n: members[n] for n in names}
        fitted[pool_name], scores[pool_name], macro[pool_name], seconds[pool_name] = {}, {}, {}, {}
        for name in ensembles.NAMES:
            started = time.perf_counter()
            out = ensembles.fit(name, chosen_members, y_val, y_train.mean(0), seed=seed, rounds=selection_rounds)
            seconds[pool_name][name] = time.perf_counter() - started
            cut = thresholds.tune_global(y_val, out.probs["validation"])
            fitted[pool_name][name] = out
            validation = metrics.evaluate(y_val, out.probs["validation"] >= cut)
            scores[pool_name][name], macro[pool_name][name] = validation["micro_f1"], validation["macro_f1"]
    best = {p: max(s.values()) for p, s in scores.items()}
    chosen = max(pools, key=lambda p: (best[p], -list(pools).index(p)))
    return PoolChoice(chosen, dict(pools), fitted, scores, seconds, macro)


def member_model(profile: str, dataset, name: str, *, seed: int = 0, rebuilt: dict | None = None) -> Path:
    """A member of :func:`gather` as :func:`mlstc.saved.ensembles.save` takes
    it: the directory the member's chapter saved the model in (chapters 01-04; chapter
    05's own members come from chapter 05). Restored from the run cache where the
    chapter's saved run is there but its models are not; where neither has it (a fresh
    clone), just this model is trained (:func:`mlstc.results.rebuild.model`) and
    ``rebuilt[name]`` gets the largest difference of its validation scores from the
    committed ones."""
    from mlstc.results import rebuild
    from mlstc.saved import base

    chapter, stored = _source(name) or (None, None)
    if chapter is None or chapter == "05_ensembles":
        raise KeyError(f"{name!r} is not a member an earlier chapter saved; pass chapter 05's own members as models")
    first_seed = chapter in ("02_lstm", "03_bert") and stored in SAVED[chapter]  # saved under the data set's key
    folder = results.run_dir(profile, chapter) / runcache.MODELS / base.folder_name(dataset.key,
                                                                                    "" if first_seed else stored)
    if not folder.is_dir():
        chapter_models = (SAVED | HIERARCHY)[chapter]
        prerequisites.restore_cached(profile, chapter, chapter_models + ([] if stored in chapter_models else [stored]),
                                     dataset.key, seed=seed)
    if not folder.is_dir():
        difference = rebuild.model(profile, chapter, dataset, stored, folder)
        if rebuilt is not None:
            rebuilt[name] = difference
    return folder


def save_ensemble(model_dir, profile: str, dataset, fitted: ensembles.Fitted, thresholds, *, own: dict,
                  seed: int = 0, **info) -> Path:
    """Save the ensemble ``fitted`` (from :func:`mlstc.ensembles.fit`) to ``model_dir`` with
    every member its combiner uses: chapter 05's own from ``own`` (name -> saved
    directory or pipeline), the earlier chapters' from :func:`member_model`. An SVM
    member gets the Platt scaling :func:`gather` gave its test scores (fitted on all
    of its saved validation scores)."""
    from mlstc.saved import ensembles as saved_ensembles

    y_val = dataset.split("validation").y
    sources, calibration, rebuilt = {}, {}, {}
    for name in fitted.combiner.members:
        sources[name] = own[name] if name in own else member_model(profile, dataset, name, seed=seed, rebuilt=rebuilt)
        if needs_calibration(name):
            chapter = _source(name)[0]
            raw = results.probs_for(profile, chapter, dataset, name)["validation"]
            calibration[name] = ensembles.platt(raw, y_val)
    return saved_ensembles.save(model_dir, sources, fitted, dataset.label_names, thresholds, calibration=calibration,
                               dataset=dataset.key, profile=profile, seed=seed, rebuilt_members=rebuilt, **info)


OBJECTIVES = {"micro_f1": "ensemble", "macro_f1": "ensemble-macro"}  # objective -> saved directory name


def save_for_objectives(run, dataset, choice: PoolChoice, scored: dict, *, own: dict, seed: int = 0):
    """Save, for each objective of :data:`OBJECTIVES`, the combiner of the kept pool
    with the best validation score in it (one combiner that serves both is saved
    once), with :func:`save_ensemble` in ``run``'s model folder; then load it back and
    score it on test. ``scored``: combiner -> its test metrics as the chapter scored
    them. Returns the directory per objective and one round-trip row per directory."""
    from mlstc import saved
    from mlstc.evaluation import metrics, thresholds

    y_val, test = dataset.split("validation").y, dataset.split("test")
    by_objective, by_combiner, round_trip = {}, {}, []
    for objective, dir_name in OBJECTIVES.items():
        chosen = choice.best(choice.chosen, objective)  # of the pool kept, on validation
        if chosen in by_combiner:
            by_objective[objective] = by_combiner[chosen]
            continue
        started = time.perf_counter()
        probs = choice.kept[chosen].probs
        model_dir = save_ensemble(run.model_dir(dataset, dir_name), run.profile.name, dataset, choice.kept[chosen],
                                  thresholds.tune_global(y_val, probs["validation"]), own=own, seed=seed,
                                  combiner=chosen, chosen_by=f"validation {objective}")
        by_objective[objective] = by_combiner[chosen] = model_dir
        loaded = saved.load(model_dir)
        reloaded_probs = loaded.probabilities(test.texts)
        reloaded = metrics.evaluate(test.y, reloaded_probs >= loaded.thresholds)
        earlier = [m for m in choice.kept[chosen].combiner.members if m not in own]
        earlier_seconds = train_seconds(run.profile.name, dataset.key, earlier)
        training = "" if earlier_seconds is None else f", {earlier_seconds / 60:.0f} min"
        round_trip.append({"data set": dataset.key, "objective": objective.replace("_f1", "-F1"), "combiner": chosen,
                           "members": f"{len(loaded.members)} ({len(earlier)} from 01-04{training})",
                           **{m.replace("_f1", "-F1"): f"{scored[chosen][m]:.3f} → {reloaded[m]:.3f}"
                              for m in ("micro_f1", "macro_f1")},
                           "largest probability difference": float(abs(reloaded_probs - probs["test"]).max()),
                           "min": (time.perf_counter() - started) / 60})
    return by_objective, round_trip


@dataclass
class Grown:
    """Chapter 05's best combiner refitted with one more member (:func:`grow`)."""

    combiner: str
    before: dict  # the combiner on chapter 05's pool: {"validation": P, "test": P}
    after: dict  # the same combiner with the new member
    seconds: float | None  # its members' recorded training and its own fit; None where a member's is unknown


def grow(profile: str, dataset, name: str, probs: dict, seconds: float, *, seed: int = 0) -> Grown:
    """Refit the combiner chapter 05 chose for ``dataset`` on chapter 05's pool
    (:func:`gather`) plus a new member ``name`` (``probs``: its validation and test
    probabilities; ``seconds``: its training time); ``before`` is chapter 05's saved
    run of that combiner."""
    combiner = best_combiner(profile, dataset.key)
    members = gather(profile, dataset, seed=seed)
    y_val, prior = dataset.split("validation").y, dataset.split("train").y.mean(0)
    before = results.probs_for(profile, "05_ensembles", dataset, combiner)
    started = time.perf_counter()
    refitted = ensembles.fit(combiner, members | {name: probs}, y_val, prior, seed=seed)
    fit_seconds = time.perf_counter() - started
    members_seconds = train_seconds(profile, dataset.key, refitted.combiner.members, own={name: seconds})
    return Grown(combiner, before, refitted.probs, None if members_seconds is None else members_seconds + fit_seconds)


def save_seeds(run, corpora: dict, rows: dict, others: dict) -> dict:
    """Save the runs of each member with the seeds after the run's own (``others``:
    ``(data set, member) -> trainings with .probs``, seeds ``run.seed + 1``, ...) as
    ``<member>-seed<k>`` with their probabilities (:meth:`mlstc.book.setup.Run.keep`),
    and record on the member's own result (its scores: ``rows[(data set, "member",
    member)]``) every seed and the seed standard deviation of single runs per metric.
    Per ``(data set, member)``, the other seeds' test decisions, for comparisons over
    every seed."""
    decided = {}
    for (key, name), runs in others.items():
        kept = run.keep_seeds(corpora[key], name, runs, seeds=range(run.seed + 1, run.seed + 1 + len(runs)))
        if kept:
            spread = finetunes.seed_std([rows[(key, "member", name)], *(k.row for k in kept)])
            run.update(key, name, seeds=[run.seed + k for k in range(len(kept) + 1)], seed_std=spread)
        decided[(key, name)] = [k.decisions for k in kept]
    return decided


def register(profile: str, dataset, name: str) -> None:
    """Read member ``name``'s saved test decisions where an earlier chapter saved it
    (at that chapter's thresholds), so that a comparison whose side they are names the
    result (:func:`mlstc.results.source`); nothing for another member, or where the
    result is not there."""
    found = _source(name)
    if found:
        try:
            results.predictions_for(profile, found[0], dataset, found[1])
        except (FileNotFoundError, ValueError):
            pass


def versus_best(run, corpora: dict, rows: dict, best_single: dict, combined: dict) -> list:
    """Chapter 05's family: every combiner against the best single member on
    validation, paired over test documents (``rows[(data set, "predictions", "")]``:
    each system's test decisions). Call it after the chapter saved its systems, so that
    each comparison names the saved results it compares."""
    from mlstc.book import verdicts

    family = []
    for key, ds in corpora.items():
        predictions, best = rows[(key, "predictions", "")], best_single[key]
        register(run.profile.name, ds, best)
        for name in combined[key]:
            family.append(verdicts.Comparison(key, name, run.compare(ds.split("test").y, predictions[best],
                                                                     predictions[name]),
                                              {"ensembles": f"{name} ensemble vs the best single member ({best})"}))
    return family


def versus_record(comparison, best_single: dict, judged) -> dict:
    """What a combiner's record keeps of its comparison with the best single member:
    the member, the micro-F1 difference and interval, the macro-F1 difference and the
    family's adjusted p (``judged``: :func:`mlstc.book.verdicts.judge`'s table indexed
    by dataset, comparison and metric)."""
    micro, key = comparison.table.loc["micro_f1"], comparison.dataset
    return {"member": best_single[key], "micro_f1_diff": float(micro["delta"]), "ci_low": float(micro["low"]),
            "ci_high": float(micro["high"]), "macro_f1_diff": float(comparison.table.loc["macro_f1", "delta"]),
            "p_holm": float(judged.loc[(key, comparison.name, "micro_f1"), "p_holm"])}
