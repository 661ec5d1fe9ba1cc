"""The one set-up call at the top of every chapter (introduced in chapter 00).

``run = setup.setup("02_lstm", globals())`` reads the chapter's parameters (the names
in its ``parameters`` cell), resolves the profile, seeds every random generator, sets
the plot style and returns a :class:`Run`, which

- loads the chapter's data sets (:meth:`Run.load`), plus any listed in
  ``$MLSTC_EXTRA_DATASETS`` (how CI runs every chapter on a generated CSV too);
- checks, before any training, what the chapter needs from earlier chapters and
  produces what is missing (:meth:`Run.require`, :mod:`mlstc.book.prerequisites`);
- writes results, figures, saved models and claim evidence into a *staging* folder
  (:meth:`Run.save`, :meth:`Run.figure`, :meth:`Run.save_model`, :meth:`Run.claim`);
- moves them into ``results/<profile>/<chapter>/`` only in the chapter's last cell
  (:meth:`Run.finish`), so a run that fails or is stopped leaves ``results/`` as it
  was, and keeps a copy in the run cache so that no later chapter redoes the work.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

from mlstc import data, results
from mlstc.book import plots, quiet, runcache, shown
from mlstc.core import paths, profiles, storage, system
from mlstc.evaluation import metrics
from mlstc.results import claims

EXTRA_ENV = "MLSTC_EXTRA_DATASETS"


@dataclasses.dataclass
class Kept:
    """What :meth:`Run.keep` scored and saved: the row, the thresholds, the test
    decisions and every threshold rule's ``(thresholds, test scores)``."""

    row: dict
    thresholds: np.ndarray
    decisions: np.ndarray
    by_rule: dict


@dataclasses.dataclass
class Run:
    """One execution of a chapter: its profile, seed, parameters, staging folder."""

    notebook: str
    profile: profiles.Profile
    seed: int
    parameters: dict
    staging: Path
    started: float = dataclasses.field(default_factory=time.perf_counter)
    specs: dict = dataclasses.field(default_factory=dict)  # dataset key -> how it was named (name or path)
    sizes: dict = dataclasses.field(default_factory=dict)  # dataset key -> {split: documents} as loaded
    evidence: list = dataclasses.field(default_factory=list)
    tests: list = dataclasses.field(default_factory=list)  # every test of the chapter's Holm families
    families: int = 0  # Holm families judged so far (mlstc.book.verdicts.judge)

    # --- time and data ------------------------------------------------------------

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 1)

    def load(self, datasets: str, data_dir: str = "", *, whole: bool = False, register: bool = True,
             **options) -> dict[str, data.Dataset]:
        """The data sets named in ``datasets`` (comma-separated names or paths) and in
        ``$MLSTC_EXTRA_DATASETS``, cut to the profile's size (unless ``whole``);
        keyed by dataset key (``reuters``, or ``<file stem>-<hash>`` for a file).
        ``register=False`` loads data sets the chapter only reads (chapter 07's
        pretraining text): its results, claims and cache entries are not about them."""
        specs = list(dict.fromkeys(data.parse_names(datasets) + data.parse_names(os.environ.get(EXTRA_ENV, ""))))
        if not specs:
            raise ValueError("no data set given: set the `datasets` parameter (e.g. 'reuters' or a CSV path)")
        out = {}
        for spec in specs:
            ds = data.load(spec, data_dir or None, seed=self.seed, **options)
            ds = ds if whole else ds.head(self.profile.max_docs, seed=self.seed)
            out[ds.key] = ds
            if register:
                self.specs[ds.key] = spec
                self.sizes[ds.key] = ds.sizes()
        return out

    def require(self, chapter: str, models: list[str], datasets=None) -> None:
        """Make sure chapter ``chapter`` has saved ``models`` (with probabilities) for
        ``datasets`` (default: this run's), producing what is missing now."""
        from mlstc.book import prerequisites

        keys = list(datasets) if datasets is not None else list(self.specs)
        prerequisites.ensure(self, chapter, models, {k: self.specs.get(k, k) for k in keys})

    # --- scoring with the profile's bootstrap -----------------------------------------

    def score(self, y_true, y_pred, scores=None, **options) -> dict:
        """:func:`mlstc.evaluation.stats.table_row` with the profile's bootstrap
        resamples and the run's seed: every metric with its interval."""
        from mlstc.evaluation import stats

        return stats.table_row(y_true, y_pred, scores, n_samples=self.profile.bootstrap_samples, seed=self.seed,
                               **options)

    def compare(self, y_true, a, b, *, columns=None, **options):
        """:func:`mlstc.evaluation.stats.compare` (``b - a``; a list of prediction
        matrices for several seeds) with the profile's bootstrap resamples and the
        run's seed; on the label ``columns`` only, where given (chapter 04 compares a
        level of its hierarchy), the sides still named by their whole saved results."""
        from mlstc.evaluation import stats

        pick = (lambda m: np.asarray(m)[:, columns]) if columns is not None else (lambda m: m)
        cut = lambda side: [pick(p) for p in side] if isinstance(side, list) else pick(side)  # noqa: E731
        table = stats.compare(pick(y_true), cut(a), cut(b), n_samples=self.profile.bootstrap_samples, seed=self.seed,
                              **options)
        # the saved results each side's predictions are (None where a side is not a saved
        # result), so that `verify --evidence` can compute this comparison again
        table.attrs["sources"] = {"labels": results.fingerprint(pick(y_true)),
                                  "n_samples": self.profile.bootstrap_samples, "seed": self.seed,
                                  "options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()
                                              if isinstance(v, (bool, int, float, str, tuple))},  # scores= too
                                  **{side: [results.source(p) for p in stats.runs(pred)]
                                     for side, pred in (("a", a), ("b", b))},
                                  **({"columns": [int(c) for c in columns]} if columns is not None else {})}
        return table

    @staticmethod
    def glue(values: dict | None = None, **named) -> None:
        """Glue each value under its name for the prose (MyST-NB ``{glue}``), unshown."""
        from myst_nb import glue

        for name, value in {**(values or {}), **named}.items():
            glue(name, value, display=False)

    # --- writing results ----------------------------------------------------------

    def save(self, dataset: data.Dataset, model: str, metrics_row: dict, *, probs: dict | None = None,
             thresholds=None, extra: dict | None = None, label_names: list[str] | None = None,
             y_validation=None, y_test=None, decisions: dict | None = None) -> Path:
        """:func:`mlstc.results.save` into the staging folder. With ``thresholds``
        and validation probabilities the record also gets ``validation_micro_f1`` and
        ``validation_macro_f1`` (what the verdict page picks recipes by). Columns are
        the dataset's labels unless ``label_names`` (with ``y_validation`` and, for a
        row of one run, ``y_test``) say otherwise. A row of one run scored at
        ``thresholds`` is checked against the stored arrays (``extra.from_stored``),
        and the saved test decisions are noted, whatever the row, so that a comparison
        made with them names this result as its source; so are ``decisions`` (name ->
        matrix, saved bit-packed beside it: other seeds' or rules')."""
        extra = dict(extra or {})
        row = dict(metrics_row)
        if probs is not None:  # from here on, exactly what the .npz will hold
            probs = {split: results.store.stored_or_float32(p, thresholds) for split, p in probs.items()}
        if thresholds is not None:
            extra["thresholds"] = np.asarray(thresholds, dtype=float)
            if probs is not None and "validation" in probs:
                y_val = dataset.split("validation").y if y_validation is None else y_validation
                val = metrics.evaluate(y_val, np.asarray(probs["validation"]) >= thresholds)
                # validation scores the chapter gives (e.g. seed means, beside seed-mean test
                # scores) win over those of the one run whose probabilities are saved
                row = {"validation_micro_f1": val["micro_f1"], "validation_macro_f1": val["macro_f1"]} | row
            if probs is not None and "test" in probs:
                truth = dataset.split("test").y if label_names is None else y_test
                if truth is not None:
                    row, extra["from_stored"] = results.store.from_stored(row, truth, probs["test"], thresholds)
                results.register(results.threshold_predict(probs["test"], thresholds), self.notebook, dataset.key,
                                 model)
        for name, matrix in (decisions or {}).items():
            results.register(matrix, self.notebook, dataset.key, model, name)
        return results.save(notebook=self.notebook, dataset=dataset.key, model=model, profile=self.profile.name,
                            seed=self.seed, metrics=row, label_names=label_names or dataset.label_names, probs=probs,
                            wall_time_s=self.elapsed(), extra=extra, folder=self.staging, thresholds=thresholds,
                            decisions=decisions)

    def keep(self, dataset: data.Dataset, model: str, probs: dict, *, extra: dict | None = None, **row) -> Kept:
        """The usual end of a training: one global threshold tuned on validation (the
        per-label rule's beside it), test scored with :meth:`score`, the result saved
        with its probabilities (:meth:`save`; ``row`` adds to its metrics)."""
        from mlstc.evaluation import thresholds

        (y_val, y_test), test = (dataset.split(s).y for s in ("validation", "test")), probs["test"]
        by_rule = thresholds.compare(y_val, probs["validation"], y_test, test)
        cuts = by_rule["global"][0]
        decisions = thresholds.predict(test, cuts)
        scored = self.score(y_test, decisions, test) | row
        self.save(dataset, model, scored, probs=probs, thresholds=cuts,
                  extra={"per_label_thresholds": by_rule["per_label"][0], **(extra or {})})
        return Kept(scored, cuts, decisions, by_rule)

    def keep_seeds(self, dataset: data.Dataset, model: str, runs: list, seeds=None) -> list[Kept]:
        """:meth:`keep` each of ``runs`` (trainings with ``probs`` and ``history``) with
        its seed (``seeds``; default: the run's seed, then the next ones), the run's own
        seed as ``model`` and any other as :func:`mlstc.results.seed_name`, with its epochs
        recorded; what each kept."""
        seeds = list(range(self.seed, self.seed + len(runs)) if seeds is None else seeds)
        return [self.keep(dataset, model if s == self.seed else results.seed_name(model, s), out.probs,
                          extra={"seed": s}, **results.schedule(out)) for s, out in zip(seeds, runs)]

    def save_other_seeds(self, dataset: data.Dataset, model: str, seeds, rows, probs, cuts, **columns) -> list[str]:
        """Save every seed after the first of a system scored seed by seed (its row of
        metrics, its probabilities and its one global threshold) under
        :func:`mlstc.results.seed_name`, so that ``verify --evidence`` can compute the
        seed means saved as ``model`` again; the names, for its ``extra.seed_runs``.
        ``columns``: :meth:`save`'s ``label_names``, ``y_validation`` and ``y_test``."""
        names = [results.seed_name(model, s) for s in seeds[1:]]
        for name, s, row, p, cut in zip(names, seeds[1:], rows[1:], probs[1:], cuts[1:]):
            self.save(dataset, name, row, probs=p, thresholds=np.full(np.shape(p["test"])[-1], cut),
                      extra={"seed": s}, **columns)
        return names

    def update(self, dataset: str, model: str, **extra) -> Path:
        """Add ``extra`` entries to a result this run has already saved (for what is
        known only later in the chapter, such as a tolerance from a seed study)."""
        path = self.staging / f"{results.stem(dataset, model)}.json"
        if not path.is_file():
            raise FileNotFoundError(f"{model} on {dataset} was not saved by this run ({path})")
        record = json.loads(path.read_text())
        record["extra"] = {**record.get("extra", {}), **extra}
        return storage.atomic_write_json(path, record)

    def figure(self, fig, name: str, *, glued: bool = False) -> Path | None:
        """Save a figure with the book's style into the staging folder and return its
        path. With ``glued`` it is also glued under ``name`` (MyST-NB) and closed, for a
        ``{glue:figure}`` directive in the prose to show with a caption and alt text;
        then nothing is returned, so that a cell ending with the call shows nothing
        more (not the staging path)."""
        path = plots.save(fig, name, self.staging / "figures")
        if not glued:
            return path
        import matplotlib.pyplot as plt
        from myst_nb import glue

        glue(name, fig, display=False)
        plt.close(fig)
        return None

    def tensorflow(self):
        """TensorFlow, for a chapter that trains networks on it (the LSTM's text
        layers need it): imported (Keras 3 on it) with deterministic ops, so that a
        seed gives the same weights on a rerun."""
        tf = system.import_tensorflow()
        tf.config.experimental.enable_op_determinism()
        return tf

    def backend(self) -> str:
        """Keras' backend, ready for a chapter whose networks run on either (the
        transformer chapters): TensorFlow as :meth:`tensorflow` makes it, JAX as it is
        (deterministic on a CPU); its name."""
        if system.backend() == "tensorflow":
            self.tensorflow()
        return system.backend()

    def epochs(self, wanted: int) -> int:
        """``wanted`` epochs, at most the profile's ``max_epochs`` (the smoke profile's one)."""
        return min(wanted, self.profile.max_epochs)

    def model_dir(self, dataset: data.Dataset | str, name: str = "") -> Path:
        """Where a trained model of this chapter is saved (``models/<dataset>[-name]``)."""
        from mlstc.saved import base

        key = dataset.key if isinstance(dataset, data.Dataset) else str(dataset)
        return self.staging / runcache.MODELS / base.folder_name(key, name)

    def save_model(self, dataset: data.Dataset, model, thresholds, name: str = "", *, seed: int | None = None,
                   **options) -> Path:
        """Save a trained model of this chapter in :meth:`model_dir`, for ``python -m
        mlstc predict`` and the chapters after it: a Keras network
        (:func:`mlstc.saved.networks.save`; ``options`` ``tokenizer`` and ``encoding``
        for a word-piece model) or a :class:`mlstc.saved.pipelines.TextPipeline`. It
        records the data set, profile and seed (``seed``: the run's by default), which
        the run cache needs to keep it with this run's results; other ``options`` are
        recorded too."""
        from mlstc import saved

        info = {"dataset": dataset.key, "profile": self.profile.name, "seed": self.seed if seed is None else seed}
        return saved.save(self.model_dir(dataset, name), model, dataset.label_names, thresholds, **info, **options)

    def claim(self, claim: str, dataset: str, experiment: str, comparison, metric: str = "micro_f1",
              p_holm: float | None = None, note: str = "", outcome: str | None = None,
              family: dict | None = None, adjusted: tuple[float, float] | None = None) -> dict:
        """Record one piece of evidence from a row of
        :func:`mlstc.evaluation.stats.compare` (``b`` is the system the claim
        favours, so ``better`` supports it; ``outcome`` overrides that reading), with
        its family's adjusted p and interval (:func:`mlstc.book.verdicts.judge`)."""
        from mlstc.evaluation import stats

        row = comparison.loc[metric] if hasattr(comparison, "loc") else comparison
        seeds = f"{int(row['a_seeds'])}/{int(row['b_seeds'])}" if "a_seeds" in row else "1"
        item = claims.evidence(claim, dataset=dataset, experiment=experiment, metric=metric, delta=row["delta"],
                               low=row["low"], high=row["high"], p=row.get("p"), p_holm=p_holm, se=row.get("se"),
                               df=row.get("df"), adjusted=adjusted,
                               outcome=outcome or stats.outcome(row["low"], row["high"], p_holm), seeds=seeds,
                               note=note, sources=getattr(comparison, "attrs", {}).get("sources"), family=family)
        self.evidence.append(item)
        return item

    # --- the end --------------------------------------------------------------------

    def finish(self) -> None:
        """Move the staged results into ``results/<profile>/<chapter>/`` (replacing
        this chapter's earlier results for the same data sets), figures into
        ``results/<profile>/figures/``, and keep a copy in the run cache."""
        final = results.run_dir(self.profile.name, self.notebook)
        if not any(self.staging.iterdir()) and not self.evidence and not self.tests:
            shutil.rmtree(self.staging, ignore_errors=True)
            print(f"{self.notebook} finished in {self.elapsed() / 60:.1f} min (no results to save)")
            quiet.glue_restored(self)
            return
        final.mkdir(parents=True, exist_ok=True)
        if self.evidence or self.tests:
            previous = final / claims.FILE
            if previous.is_file():
                shutil.copy2(previous, self.staging / claims.FILE)
            claims.write(self.staging, self.notebook, self.evidence, tests=self.tests,
                         replace_datasets=list(self.specs))
        for key in self.specs:  # an earlier run's files for these data sets that this run did not write
            for old in final.glob(f"{storage.slug(key)}__*"):
                if not (self.staging / old.name).exists():
                    old.unlink()
        moved = 0
        for item in sorted(self.staging.iterdir()):
            if item.name == "figures":
                target = paths.results_dir(self.profile.name) / "figures"
            elif item.name == "models":
                target = final / "models"
            else:
                os.replace(item, final / item.name)
                moved += 1
                continue
            target.mkdir(parents=True, exist_ok=True)
            for sub in item.iterdir():
                if (target / sub.name).is_dir():
                    shutil.rmtree(target / sub.name)
                os.replace(sub, target / sub.name)
        runcache.store(self, final)
        shutil.rmtree(self.staging, ignore_errors=True)
        quiet.glue_restored(self)
        print(f"{self.notebook} finished in {self.elapsed() / 60:.1f} min: {moved} result files in "
              f"{shown.path(final)}")


def setup(notebook: str, namespace: dict, *, show: bool = True) -> Run:
    """Resolve the profile, seed everything, set the plot style and start a
    :class:`Run`; ``namespace`` is the notebook's ``globals()``."""
    names = runcache.parameter_names(notebook)
    parameters = {name: namespace[name] for name in names if name in namespace}
    seed = int(parameters.get("seed", 0))
    profile = profiles.resolve(parameters.get("profile", ""))
    run = Run(notebook=notebook, profile=profile, seed=seed, parameters=parameters,
              staging=runcache.fresh_staging(profile.name, notebook))
    system.seed_everything(seed)
    strategy_name = os.environ.get("MLSTC_STRATEGY", "") or "default"
    if strategy_name != "default":  # set by `python -m mlstc run --strategy` (the chapters' models are built after)
        from mlstc.models import distribute

        replicas = distribute.activate(strategy_name).num_replicas_in_sync
        parameters["strategy"] = strategy_name
        print(f"strategy {strategy_name}: {replicas} replicas; each batch of `batch_size` is split across them")
    plots.style()
    warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto without ipywidgets
    quiet.notebook()
    import pandas as pd

    pd.set_option("display.max_colwidth", 200)
    if show:
        v = system.versions()
        versions = {k: v[k] for k in ("python", "numpy", "pandas", "scikit-learn", "tensorflow", "keras",
                                      "keras-hub", "transformers", "spacy") if k in v}
        machine = system.machine()
        print(f"notebook {notebook} | profile {run.profile.name} ({run.profile.description}) | seed {seed}")
        print(f"machine: {machine['cpu_count']} CPU cores, {machine.get('memory_gib', '?')} GiB"
              + (" | Colab" if system.in_colab() else ""))
        print("versions: " + ", ".join(f"{k} {val}" for k, val in versions.items()))
        print(f"results: {shown.path(results.run_dir(run.profile.name, notebook))}/, written when the chapter finishes")
    return run
