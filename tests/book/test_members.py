"""Chapter 05's members and pools, as chapters 05 and 06 read them."""

import numpy as np
import pytest

from mlstc import ensembles
from mlstc.book import members, setup


def test_gather_restores_a_chapter_run_alone_from_the_run_cache(tmp_path):
    """Chapter 06 run alone (CI) reads chapter 05's pool: members of earlier chapters
    missing from results/ come from the run cache, as prerequisites do."""
    from types import SimpleNamespace

    from mlstc import results
    from mlstc.book import runcache

    rng = np.random.default_rng(0)
    y_val = (rng.random((30, 2)) < 0.4).astype(int)
    y_test = (rng.random((10, 2)) < 0.4).astype(int)
    ds = SimpleNamespace(key="mine", label_names=["a", "b"], hierarchy=None,
                         split=lambda s: SimpleNamespace(y=y_val if s == "validation" else y_test),
                         sizes=lambda: {"validation": 30, "test": 10})
    chapters = {c: m for c, m in members.SAVED.items() if c < "05_ensembles"}
    for chapter, models in chapters.items():
        cached = runcache.entry("smoke", chapter, "mine",
                                runcache.run_key(chapter, runcache.default_parameters(chapter) | {"seed": 0}))
        for name in models:
            results.save(notebook=chapter, dataset="mine", model=name, profile="smoke", seed=0,
                         metrics={"micro_f1": 0.5}, label_names=["a", "b"], folder=cached,
                         probs={"validation": rng.random((30, 2)), "test": rng.random((10, 2))})
    pool = members.gather("smoke", ds, before="05_ensembles")
    assert set(pool) == {m for models in chapters.values() for m in models}
    assert (results.run_dir("smoke", "03_bert") / "mine__bert-128.json").is_file()
    with pytest.raises(FileNotFoundError, match="run chapter 05"):
        members.gather("smoke", ds)  # chapter 05's own members are in no cache


def test_an_ensemble_costs_its_kept_members_recorded_training():
    """The verdict page's cost of an ensemble: every kept member's recorded training
    (earlier chapters' records, the calling chapter's own), or none when one lacks it."""
    from mlstc import results

    def save(chapter, name, seconds):
        results.save(notebook=chapter, dataset="toy", model=name, profile="smoke", seed=0,
                     metrics={"micro_f1": 0.5} | ({} if seconds is None else {"train seconds": seconds}))

    save("01_preprocessing", "svm-tf-idf", 60.0)
    save("03_bert", "bert-128", 900.0)
    save("04_hierarchical", "hierarchical-minilm-frozen", 30.0)
    save("02_lstm", "bilstm-attention", None)
    own = {"bigru": 450.0}
    assert members.train_seconds("smoke", "toy", ["svm-tf-idf", "bert-128", "hierarchical", "bigru"], own) == 1440.0
    assert members.train_seconds("smoke", "toy", ["bert-128"]) == 900.0
    assert members.train_seconds("smoke", "toy", ["svm-tf-idf", "bilstm-attention"]) is None  # recorded none
    assert members.train_seconds("smoke", "toy", ["bert-zlpr"]) is None  # no chapter saves it
    with pytest.raises(FileNotFoundError, match="run chapter 01"):
        members.train_seconds("smoke", "other", ["svm-tf-idf"])


@pytest.mark.slow
def test_choose_pool_takes_the_pool_whose_best_combiner_validates_best():
    """Chapter 05's choice between its members with and without the fine-tune seeds:
    a member that is right on validation wins its pool the choice; equal pools tie and
    the first listed is kept; a pool naming a member that is not there is an error."""
    rng = np.random.default_rng(1)
    y_val = (rng.random((80, 3)) < 0.3).astype(int)
    noisy = {s: rng.random((n, 3)) for s, n in (("validation", 80), ("test", 20))}
    oracle = {"validation": np.clip(y_val * 0.9 + 0.05, 0, 1), "test": rng.random((20, 3))}
    pool = {"noise": noisy, "oracle": oracle}
    choice = members.choose_pool({"small": ["noise"], "large": ["noise", "oracle"]}, pool, y_val, y_val,
                                 selection_rounds=3)
    assert choice.chosen == "large"
    assert set(choice.fitted["large"]) == set(ensembles.NAMES)
    assert choice.validation_micro_f1["large"][choice.best("large")] > choice.validation_micro_f1["small"][
        choice.best("small")]
    tie = members.choose_pool({"first": ["noise"], "second": ["noise"]}, pool, y_val, y_val, selection_rounds=3)
    assert tie.chosen == "first"
    with pytest.raises(KeyError, match="not there: bert-128-seed9"):
        members.choose_pool({"p": ["noise", "bert-128-seed9"]}, pool, y_val, y_val)



def test_each_objective_picks_its_own_combiner():
    """Chapter 05 saves an ensemble per objective: the best validation micro-F1 and
    the best validation macro-F1 may be different combiners of the pool kept."""
    choice = members.PoolChoice("p", {"p": ["a", "b"]}, {}, {"p": {"mean": 0.90, "stacking-lightgbm": 0.89}},
                                validation_macro_f1={"p": {"mean": 0.50, "stacking-lightgbm": 0.58}})
    assert choice.best("p") == choice.best("p", "micro_f1") == "mean"
    assert choice.best("p", "macro_f1") == "stacking-lightgbm"
    with pytest.raises(KeyError):
        choice.best("p", "subset_accuracy")

def test_gather_reads_chapter_03s_seed_members_only_when_chapter_05s_pool_kept_them():
    """Chapter 06 adds a fine-tune to chapter 05's pool: chapter 03's extra fine-tune
    seeds are in it for a corpus whose combiners were fitted with them, and not
    otherwise; chapter 05 itself names the seeds it reads."""
    from types import SimpleNamespace

    from mlstc import results

    rng = np.random.default_rng(0)
    y = {"validation": (rng.random((30, 2)) < 0.4).astype(int), "test": (rng.random((10, 2)) < 0.4).astype(int)}
    for key, keeps_seeds in (("kept", True), ("dropped", False)):
        ds = SimpleNamespace(key=key, label_names=["a", "b"], hierarchy=None, split=lambda s: SimpleNamespace(y=y[s]),
                             sizes=lambda: {"validation": 30, "test": 10})
        fixed = [m for models in members.SAVED.values() for m in models]
        seeds = ["bert-128-seed1", "bert-128-seed2"]
        for name in fixed + seeds:
            chapter = members._source(name)[0]
            results.save(notebook=chapter, dataset=key, model=name, profile="smoke", seed=0,
                         metrics={"micro_f1": 0.5, "train seconds": 10.0}, label_names=["a", "b"],
                         probs={"validation": rng.random((30, 2)), "test": rng.random((10, 2))})
        for i, name in enumerate(ensembles.NAMES):
            results.save(notebook="05_ensembles", dataset=key, model=name, profile="smoke", seed=0,
                         metrics={"micro_f1": 0.5, "validation_micro_f1": 0.5 + i / 100},
                         extra={"pool": fixed + (seeds if keeps_seeds else [])})
        gathered = members.gather("smoke", ds)
        assert set(gathered) == set(fixed + (seeds if keeps_seeds else [])), key
        assert members.pool("smoke", key) == fixed + (seeds if keeps_seeds else [])
    assert members.train_seconds("smoke", "kept", seeds) == 20.0  # chapter 03 recorded them
    assert members.pool("smoke", "absent") is None
    assert members._source("bert-128-seed1") == ("03_bert", "bert-128-seed1")
    in_05 = members.gather("smoke", ds, before="05_ensembles", seeds=seeds[:1])  # ds: the "dropped" corpus
    assert set(in_05) == {m for c, models in members.SAVED.items() if c < "05_ensembles" for m in models} | {seeds[0]}
    assert members.fine_tune_seeds("smoke") == ["bert-128-seed1"]  # the smoke profile trains two seeds
    assert members.fine_tune_seeds("cpu", seed=3) == ["bert-128-seed4", "bert-128-seed5"]


def test_the_pool_choice_lists_its_pools_and_records_how_a_combiner_was_fitted():
    kept = {"mean": ensembles.Fitted({}, None, weights={"a": 0.5, "b": 0.5})}
    choice = members.PoolChoice("with", {"without": ["a"], "with": ["a", "b"]}, {"with": kept},
                                {"without": {"mean": 0.80}, "with": {"mean": 0.85}}, seconds={"with": {"mean": 1.26}})
    rows = choice.rows()
    assert [r["pool"] for r in rows] == ["without", "with"] and [r["chosen"] for r in rows] == ["", "yes"]
    assert rows[1]["its validation micro-F1"] == 0.85 and rows[1]["members"] == 2
    assert choice.kept is kept
    assert choice.record("mean") == {"weights": {"a": 0.5, "b": 0.5}, "combiner_seconds": 1.3, "pool": ["a", "b"],
                                     "pool_choice": {"without": 0.80, "with": 0.85}}


def test_save_seeds_saves_the_other_seeds_and_records_the_spread_on_the_member():
    from types import SimpleNamespace

    kept_rows = {"bigru-seed1": {"micro_f1": 0.70, "macro_f1": 0.30},
                 "bigru-seed2": {"micro_f1": 0.74, "macro_f1": 0.34}}

    class Run:
        seed, saved, updated = 0, [], {}

        def keep(self, dataset, model, probs, *, extra=None, **row):
            self.saved.append((model, extra, row))
            return SimpleNamespace(row=kept_rows[model] | row, decisions=np.full((2, 3), len(self.saved)))

        keep_seeds = setup.Run.keep_seeds

        def update(self, dataset, model, **extra):
            self.updated[(dataset, model)] = extra

    history = {"loss": [1.0, 0.5], "val_micro_f1": [0.6, 0.7]}
    runs = [SimpleNamespace(probs={"test": None}, history=history, train_seconds=1.0) for _ in range(2)]
    run, first = Run(), {"micro_f1": 0.72, "macro_f1": 0.32, "validation_micro_f1": 0.8}
    decided = members.save_seeds(run, {"reuters": None}, {("reuters", "member", "bigru"): first},
                                 {("reuters", "bigru"): runs})
    assert [m for m, _, _ in run.saved] == ["bigru-seed1", "bigru-seed2"]
    assert [e["seed"] for _, e, _ in run.saved] == [1, 2] and run.saved[0][2]["best epoch"] == 2
    recorded = run.updated[("reuters", "bigru")]
    assert recorded["seeds"] == [0, 1, 2] and set(recorded["seed_std"]) == {"micro_f1", "macro_f1"}
    assert np.isclose(recorded["seed_std"]["micro_f1"], np.std([0.72, 0.70, 0.74], ddof=1))
    assert [int(d[0, 0]) for d in decided[("reuters", "bigru")]] == [1, 2]
    assert members.save_seeds(run, {"sentfin": None}, {}, {("sentfin", "bigru"): []}) == {("sentfin", "bigru"): []}


def test_versus_record_keeps_the_comparison_and_its_adjusted_p():
    from types import SimpleNamespace

    import pandas as pd

    table = pd.DataFrame({"delta": [0.01, 0.02], "low": [-0.01, 0.0], "high": [0.03, 0.04]},
                         index=["micro_f1", "macro_f1"])
    judged = pd.DataFrame([{"dataset": "reuters", "comparison": "mean", "metric": "micro_f1", "p_holm": 0.2}])
    judged = judged.set_index(["dataset", "comparison", "metric"])
    record = members.versus_record(SimpleNamespace(table=table, dataset="reuters", name="mean"),
                                   {"reuters": "bert-128"}, judged)
    assert record == {"member": "bert-128", "micro_f1_diff": 0.01, "ci_low": -0.01, "ci_high": 0.03,
                      "macro_f1_diff": 0.02, "p_holm": 0.2}
    members.register("cpu", None, "not-a-member")  # nothing to read, no error


def test_a_member_missing_on_this_machine_is_trained_alone_and_matches_its_committed_scores(tmp_path):
    """A fresh clone has chapter 01's committed result but not its model: chapter 05's
    saved ensemble gets just that model, trained as chapter 01 trained it, whose
    validation scores are the committed ones, and the folder chapter 05 looks in."""
    from mlstc import data, results, saved
    from mlstc.data import synthetic
    from mlstc.evaluation import thresholds
    from mlstc.models import linear
    from mlstc.text import features

    ds = data.load(str(synthetic.write_headlines(tmp_path / "mine" / "headlines.csv", rows=120, seed=1)))
    parts = [ds.split(s) for s in ("train", "validation", "test")]
    _, matrices = features.tfidf(*[p.texts for p in parts])
    fitted = linear.fit("svm", matrices[0], parts[0].y, matrices[1], parts[1].y, seed=0)
    probs = {"validation": fitted.scores(matrices[1]), "test": fitted.scores(matrices[2])}
    cut = thresholds.tune_global(parts[1].y, probs["validation"])
    results.save(notebook="01_preprocessing", dataset=ds.key, model="svm-tf-idf", profile="smoke", seed=0,
                 metrics={"micro_f1": 0.5}, label_names=ds.label_names, probs=probs, thresholds=cut)
    rebuilt = {}
    folder = members.member_model("smoke", ds, "svm-tf-idf", rebuilt=rebuilt)
    assert folder.parent == results.run_dir("smoke", "01_preprocessing") / "models"
    assert rebuilt["svm-tf-idf"] < 1e-4  # the 16-bit stored scores' rounding, nothing more
    model = saved.load(folder)
    assert np.abs(model.probabilities(parts[1].texts) - probs["validation"]).max() < 1e-6
    assert np.allclose(model.thresholds, cut)
    with pytest.raises(FileNotFoundError, match="python -m mlstc run 02"):
        members.member_model("smoke", ds, "bilstm-attention")  # no committed result to rebuild from


def test_every_member_an_earlier_chapter_saves_has_a_rebuild():
    from mlstc.results import rebuild

    assert set(members.SAVED | members.HIERARCHY) - {"05_ensembles"} == set(rebuild.BUILDERS)


def test_a_record_without_its_chapters_settings_says_to_rerun_the_chapter():
    """A member is rebuilt from what its record keeps, never from a notebook's defaults."""
    from mlstc.results import rebuild

    with pytest.raises(KeyError, match="rerun that chapter once"):
        rebuild.settings({"model": "svm-MiniLM (frozen)", "notebook": "01_preprocessing", "extra": {}})
    assert rebuild.settings({"extra": {"settings": {"max_length": 9}}}) == {"max_length": 9}
