"""Chapter 05's combiners by name, as chapter 06 reuses them."""

import numpy as np
import pytest

from mlstc.book import members


def test_every_combiner_name_runs_and_keeps_shapes():
    rng = np.random.default_rng(0)
    y_val = (rng.random((60, 3)) < 0.3).astype(int)
    pool = {name: {"validation": np.clip(y_val * 0.6 + rng.random((60, 3)) * 0.4, 0, 1),
                   "test": rng.random((20, 3))} for name in ("a", "b")}
    for name in members.COMBINERS:
        out = members.combine(name, pool, y_val, y_val, selection_rounds=3)
        assert out["validation"].shape == (60, 3) and out["test"].shape == (20, 3), name
    with pytest.raises(ValueError, match="unknown combiner"):
        members.combine("median", pool, y_val, y_val)


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
