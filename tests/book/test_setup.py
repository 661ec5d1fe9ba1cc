"""Staging, the run cache and prerequisites: a chapter's results reach results/ only
when it finishes, and what it needs from earlier chapters is produced before it trains."""

import hashlib
import json
import time

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlstc.book import prerequisites, runcache, runner
from mlstc.core import paths
from mlstc.data import synthetic


def fingerprint(folder):
    """Every file under ``folder`` with its SHA-256 (byte-for-byte comparison)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def chapter_like(path, body, datasets):
    """A notebook that sets itself up as chapter 00 would, then runs ``body``."""
    params = f'profile = ""\nseed = 0\ndata_dir = ""\ndatasets = "{datasets}"\ncheckpoint = ""'
    setup = ("from mlstc.book import setup\nrun = setup.setup('00_data', globals())\n"
             "corpora = run.load(datasets, data_dir)")
    nb = new_notebook(cells=[new_code_cell(params, metadata={"tags": ["parameters"]}), new_code_cell(setup),
                             new_code_cell(body)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


@pytest.fixture
def own_csv(tmp_path):
    return synthetic.write_headlines(tmp_path / "mine" / "headlines.csv", rows=120, seed=1)


@pytest.mark.slow
def test_a_run_that_fails_midway_leaves_results_byte_for_byte_unchanged(tmp_path, own_csv):
    results = paths.results_dir("smoke")
    results.mkdir(parents=True)
    (results / "00_data").mkdir()
    (results / "00_data" / "committed.json").write_text('{"micro_f1": 0.5}')
    before = fingerprint(paths.results_root())
    body = ("import numpy as np\nds = next(iter(corpora.values()))\n"
            "run.save(ds, 'half-done', {'micro_f1': 0.1})\nraise RuntimeError('stopped mid-way')")
    source = chapter_like(tmp_path / "00_data.ipynb", body, str(own_csv))
    with pytest.raises(RuntimeError, match="results/ is unchanged; partial results are in .*staging"):
        runner.execute(source, "smoke", output_dir=tmp_path / "book")
    assert fingerprint(paths.results_root()) == before
    staged = list((paths.staging_dir() / "smoke" / "00_data").glob("run-*/*half-done.json"))
    assert len(staged) == 1  # the partial output is kept where the message says


@pytest.mark.slow
def test_finish_moves_results_replaces_this_chapters_old_ones_and_fills_the_run_cache(tmp_path, own_csv):
    body = ("ds = next(iter(corpora.values()))\nimport numpy as np\n"
            "run.save(ds, 'prior', {'micro_f1': 0.3}, probs={'test': np.zeros((3, ds.num_labels))})\nrun.finish()")
    final = paths.results_dir("smoke") / "00_data"
    final.mkdir(parents=True)
    from mlstc import data

    key = data.load(str(own_csv)).key
    (final / f"{key}__stale.json").write_text("{}")
    (final / "reuters__kept.json").write_text("{}")
    runner.execute(chapter_like(tmp_path / "00_data.ipynb", body, str(own_csv)), "smoke", output_dir=tmp_path / "book")
    names = sorted(p.name for p in final.iterdir())
    assert names == sorted(["reuters__kept.json", f"{key}__prior.json", f"{key}__prior.npz"])
    assert key.startswith("headlines-") and len(key) == len("headlines-") + 8
    assert sorted(p.name for p in own_csv.parent.iterdir()) == ["headlines.csv"]  # nothing beside the file
    cached = list((paths.cache_dir() / "runs" / "smoke" / "00_data" / key).glob("*/*prior.json"))
    assert len(cached) == 1


def test_two_files_with_the_same_stem_never_share_an_entry(tmp_path):
    from mlstc import data

    a = synthetic.write_headlines(tmp_path / "a" / "news.csv", rows=60, seed=1)
    b = synthetic.write_headlines(tmp_path / "b" / "news.csv", rows=60, seed=2)
    ka, kb = data.load(str(a)).key, data.load(str(b)).key
    assert ka != kb and ka.startswith("news-") and kb.startswith("news-")
    assert data.load(f"politics={a}").key == "politics-" + ka.split("-")[1]


class FakeRun:
    def __init__(self, notebook="02_lstm", seed=0):
        from mlstc.core import profiles

        self.notebook, self.seed, self.profile, self.parameters = notebook, seed, profiles.resolve("smoke"), {}


def test_a_prerequisite_that_cannot_be_produced_fails_at_once_naming_it():
    started = time.perf_counter()
    with pytest.raises(ValueError, match="No notebook '42_missing'"):
        prerequisites.ensure(FakeRun(), "42_missing", ["svm-tf-idf"], {"reuters": "reuters"})
    with pytest.raises(RuntimeError, match="cycle"):
        prerequisites.ensure(FakeRun("00_data"), "00_data", ["prior"], {"reuters": "reuters"})
    assert time.perf_counter() - started < 5


@pytest.mark.slow
def test_missing_prerequisites_are_produced_by_the_runner_then_restored_from_the_cache(tmp_path, own_csv, capsys,
                                                                                      caplog):
    import logging

    from mlstc import data, results

    key = data.load(str(own_csv)).key
    prerequisites.ensure(FakeRun(), "00_data", ["prior"], {key: str(own_csv)})
    out = capsys.readouterr().out
    assert "running 00_data now" in out
    json_path = results.path("smoke", "00_data", key, "prior")
    assert results.load_probs(json_path)["test"].shape[1] == len(data.load(str(own_csv)).label_names)
    for leftover in json_path.parent.iterdir():
        leftover.unlink()  # an empty results folder again: the cache has it
    with caplog.at_level(logging.INFO, logger=prerequisites.__name__):
        prerequisites.ensure(FakeRun(), "00_data", ["prior"], {key: str(own_csv)})
    assert "restored from the run cache" in caplog.text
    assert "restored from the run cache" not in capsys.readouterr().out  # logged, not shown
    assert json_path.is_file()
    assert sorted(p.name for p in own_csv.parent.iterdir()) == ["headlines.csv"]


def test_the_run_key_changes_with_parameters_but_not_with_the_data_set_list():
    base = runcache.default_parameters("02_lstm")
    key = runcache.run_key("02_lstm", base)
    assert runcache.run_key("02_lstm", base | {"datasets": "x.csv", "profile": "cpu"}) == key
    assert runcache.run_key("02_lstm", base | {"learning_rate": 1e-2}) != key
    assert runcache.run_key("02_lstm", base | {"seed": 1}) != key


def test_a_chapters_run_key_follows_the_chapters_it_reads_and_the_code_it_runs():
    """The book's own graph: a fix to the ensembles leaves chapters 01-04 cached."""
    assert runcache.uses("02_lstm")[1] == ["01_preprocessing"]
    assert runcache.uses("05_ensembles")[1] == ["01_preprocessing", "02_lstm", "03_bert", "04_hierarchical"]
    assert runcache.uses("07_domain_adaptation")[1] == ["03_bert"]
    for chapter in ("01_preprocessing", "02_lstm", "03_bert", "04_hierarchical"):
        assert not {"mlstc.ensembles.combiners", "mlstc.book.members"} & set(runcache.uses(chapter)[0]), chapter
    assert "mlstc.ensembles.combiners" in runcache.uses("05_ensembles")[0]


def test_each_run_stages_in_its_own_folder_and_ended_runs_folders_are_cleared():
    import os
    import subprocess

    base = paths.staging_dir() / "smoke" / "02_lstm"
    ended = subprocess.Popen(["true"])
    ended.wait()
    (base / f"run-{ended.pid}").mkdir(parents=True)  # a process that has finished
    (base / f"run-{os.getppid()}").mkdir()  # another run still going (the parent process is alive)
    (base / f"run-{os.getppid()}" / "reuters__bilstm.json").write_text("{}")

    mine = runcache.fresh_staging("smoke", "02_lstm")
    assert mine == base / f"run-{os.getpid()}" and mine.is_dir() and not any(mine.iterdir())
    assert not (base / f"run-{ended.pid}").exists()
    assert (base / f"run-{os.getppid()}" / "reuters__bilstm.json").is_file()


def test_the_run_cache_keeps_a_data_sets_saved_models_with_its_results(tmp_path):
    import types

    from mlstc.core import profiles

    final = tmp_path / "final"
    for folder, dataset in (("reuters-bigru", "reuters"), ("reuters", "reuters"), ("fiqa-sentiment", "fiqa")):
        (final / "models" / folder).mkdir(parents=True)
        (final / "models" / folder / "labels.json").write_text(json.dumps({"info": {"dataset": dataset}}))
    (final / "models" / "reuters" / "model.keras").write_bytes(b"weights")
    (final / "reuters__bigru.json").write_text("{}")
    run = types.SimpleNamespace(notebook="00_data", parameters={"seed": 0}, specs={"reuters": "reuters"},
                                profile=profiles.resolve("smoke"))
    runcache.store(run, final)
    into = tmp_path / "restored"
    assert runcache.restore("smoke", "00_data", "reuters", {"seed": 0}, ["reuters__bigru.json"], into)
    assert sorted(p.name for p in (into / "models").iterdir()) == ["reuters", "reuters-bigru"]  # not fiqa's
    assert (into / "models" / "reuters" / "model.keras").read_bytes() == b"weights"
    assert (into / "reuters__bigru.json").is_file()


def test_saved_results_for_other_documents_count_as_missing(capsys):
    from mlstc import results

    probs = {"validation": np.zeros((5, 2)), "test": np.zeros((4, 2))}
    results.save(notebook="00_data", dataset="tiny-rows", model="prior", profile="smoke", seed=0,
                 metrics={"micro_f1": 0.0}, label_names=["a", "b"], probs=probs)
    assert prerequisites.missing("smoke", "00_data", ["prior"], ["tiny-rows"],
                                 {"tiny-rows": {"validation": 5, "test": 4}}) == []
    # the same names, saved when the profile cut the data set to other sizes: made again, and said so
    assert prerequisites.missing("smoke", "00_data", ["prior"], ["tiny-rows"],
                                 {"tiny-rows": {"validation": 6, "test": 4}}) == ["tiny-rows"]
    assert "validation: 5 rows, this run has 6" in capsys.readouterr().out


def test_a_cached_run_for_other_documents_is_not_restored(capsys):
    from mlstc import results

    parameters = runcache.default_parameters("00_data") | {"seed": 0}
    cached = runcache.entry("smoke", "00_data", "tiny-cached", runcache.run_key("00_data", parameters))
    results.save(notebook="00_data", dataset="tiny-cached", model="prior", profile="smoke", seed=0,
                 metrics={"micro_f1": 0.0}, label_names=["a", "b"], folder=cached,
                 probs={"validation": np.zeros((5, 2)), "test": np.zeros((4, 2))})
    assert not prerequisites.restore_cached("smoke", "00_data", ["prior"], "tiny-cached",
                                            sizes={"validation": 6, "test": 4})
    assert "validation: 5 rows, this run has 6" in capsys.readouterr().out
    assert prerequisites.restore_cached("smoke", "00_data", ["prior"], "tiny-cached",
                                        sizes={"validation": 5, "test": 4})


def test_the_run_cache_keeps_the_latest_runs_of_a_data_set_only(tmp_path):
    import types

    from mlstc.core import profiles

    final = tmp_path / "final"
    final.mkdir()
    (final / "pruned__prior.json").write_text("{}")
    keys = []
    for seed in range(runcache.KEEP + 2):
        run = types.SimpleNamespace(notebook="00_data", parameters={"seed": seed}, specs={"pruned": "pruned"},
                                    profile=profiles.resolve("smoke"))
        runcache.store(run, final)
        keys.append(runcache.run_key("00_data", {"seed": seed}))
    kept = sorted(p.name for p in runcache.entry("smoke", "00_data", "pruned", keys[0]).parent.iterdir())
    assert kept == sorted(keys[-runcache.KEEP:])
    assert runcache.restore("smoke", "00_data", "pruned", {"seed": runcache.KEEP + 1}, ["pruned__prior.json"],
                            tmp_path / "restored")


def test_a_saved_model_records_what_the_run_cache_needs_and_loads_back(tmp_path, own_csv, monkeypatch):
    """``run.save_model`` names the folder as chapter 05 looks for it and records the data
    set, profile and seed, without which the run cache would not keep the model."""
    from mlstc import data, saved
    from mlstc.book import members
    from mlstc.book.setup import Run
    from mlstc.core import profiles
    from mlstc.models import linear
    from mlstc.saved import pipelines
    from mlstc.text import features

    ds = data.load(str(own_csv))
    train = ds.split("train")
    vectorizer, (x_train,) = features.tfidf(train.texts)
    pipeline = pipelines.TextPipeline(vectorizer, pipelines.LinearScores(linear.make("svm", {"C": 1.0}).fit(x_train,
                                                                                                           train.y)))
    run = Run("01_preprocessing", profiles.resolve("smoke"), 3, {}, tmp_path / "staging")
    folder = run.save_model(ds, pipeline, 0.4, "svm-tf-idf", chosen_on_validation={"C": 1.0})
    assert folder == tmp_path / "staging" / "models" / f"{ds.key}-svm-tf-idf"
    info = saved.load(folder).info
    assert (info["dataset"], info["profile"], info["seed"]) == (ds.key, "smoke", 3) and info["chosen_on_validation"]
    assert runcache.models_of(tmp_path / "staging", ds.key) == [folder]
    assert run.save_model(ds, pipeline, 0.4, "svm-tf-idf", seed=7).name == folder.name  # rewritten, not beside it
    assert saved.load(folder).info["seed"] == 7
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path / "results"))  # where chapter 05 looks for it
    finished = tmp_path / "results" / "smoke" / "01_preprocessing" / "models"
    finished.mkdir(parents=True)
    folder.rename(finished / folder.name)
    assert members.member_model("smoke", ds, "svm-tf-idf") == finished / folder.name


def test_run_scores_and_compares_with_the_profiles_bootstrap_and_the_runs_seed(tmp_path):
    import pandas as pd

    from mlstc.book.setup import Run
    from mlstc.core import profiles
    from mlstc.evaluation import stats

    run = Run("00_data", profiles.resolve("smoke"), 3, {}, tmp_path)
    rng = np.random.default_rng(0)
    y, a, b = ((rng.random((60, 4)) < 0.3).astype(int) for _ in range(3))
    n = run.profile.bootstrap_samples
    assert run.score(y, a) == stats.table_row(y, a, n_samples=n, seed=3)
    pd.testing.assert_frame_equal(run.compare(y, a, b), stats.compare(y, a, b, n_samples=n, seed=3))


def test_a_comparison_on_some_columns_names_the_whole_results_and_the_columns(tmp_path):
    import pandas as pd

    from mlstc import results
    from mlstc.book.setup import Run
    from mlstc.core import profiles
    from mlstc.evaluation import stats

    run = Run("04_x", profiles.resolve("smoke"), 3, {}, tmp_path)
    rng = np.random.default_rng(1)
    y, a, b = ((rng.random((60, 5)) < 0.3).astype(int) for _ in range(3))
    results.register(a, "04_x", "toy", "flat")
    results.register(b, "04_x", "toy", "deep")
    columns, n = [1, 3, 4], run.profile.bootstrap_samples
    table = run.compare(y, a, b, columns=columns)
    pd.testing.assert_frame_equal(table, stats.compare(y[:, columns], a[:, columns], b[:, columns], n_samples=n,
                                                       seed=3))
    sources = table.attrs["sources"]
    assert sources["columns"] == columns and sources["labels"] == results.fingerprint(y[:, columns])
    assert [s["model"] for s in sources["a"] + sources["b"]] == ["flat", "deep"]
    assert "columns" not in run.compare(y, a, b).attrs["sources"]


def test_the_other_seeds_of_a_system_are_saved_each_from_its_own_arrays(tmp_path, own_csv):
    from mlstc import data, results
    from mlstc.book.setup import Run
    from mlstc.core import profiles
    from mlstc.evaluation import metrics

    ds = data.load(str(own_csv))
    run = Run("04_x", profiles.resolve("smoke"), 0, {}, tmp_path)
    rng = np.random.default_rng(0)
    probs = [{s: rng.random(ds.split(s).y.shape) for s in ("validation", "test")} for _ in range(3)]
    rows = [metrics.evaluate(ds.split("test").y, p["test"] >= 0.5, p["test"]) for p in probs]
    names = run.save_other_seeds(ds, "flat", [0, 4, 5], rows, probs, [0.5] * 3)
    assert names == ["flat-seed4", "flat-seed5"]
    saved = [json.loads((run.staging / f"{ds.key}__{n}.json").read_text()) for n in names]
    assert [r["extra"]["seed"] for r in saved] == [4, 5] and all(r["extra"]["from_stored"] for r in saved)
    assert saved[1]["metrics"]["micro_f1"] == rows[2]["micro_f1"]
    assert results.store.source(probs[1]["test"] >= 0.5)["model"] == "flat-seed4"
