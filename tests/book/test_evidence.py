"""``python -m mlstc verify --evidence``: committed numbers computed again from the
committed probabilities, and a changed probability caught."""

import json
import shutil
from dataclasses import replace as dataclasses_replace
from pathlib import Path

import numpy as np
import pytest

from mlstc import results
from mlstc.book import verify
from mlstc.core import paths
from mlstc.results import evidence

COMMITTED = Path(__file__).resolve().parents[2] / "results" / "cpu" / "00_data"


@pytest.fixture()
def chapter00(data_dir):
    """A copy of chapter 00's committed cpu results, as results/cpu/00_data."""
    if not any(COMMITTED.glob("*.npz")):
        pytest.skip("chapter 00's probabilities are not committed")
    target = paths.results_dir("cpu") / "00_data"
    shutil.copytree(COMMITTED, target)
    return target


def _rewrite(npz: Path, change) -> None:
    """Rewrite one stored array of ``npz`` with ``change`` applied to its codes."""
    with np.load(npz) as arrays:
        codes = {name: arrays[name].copy() for name in arrays.files}
    change(codes)
    npz.write_bytes(results.store.npz_bytes(codes))


def test_the_committed_evidence_recomputes_to_the_last_digit(chapter00):
    found = evidence.check("cpu")
    kinds = {c["kind"] for c in found.checked}
    assert found.checked and {"probability file", "metric"} <= kinds
    assert found.ok, found.report()
    assert verify.evidence_check("cpu", pages=False) == 0


def test_one_changed_probability_fails_verify(chapter00):
    record_path = chapter00 / "reuters__prior.json"
    record = json.loads(record_path.read_text())
    npz = chapter00 / record["probs"]["file"]
    cuts = np.broadcast_to(np.asarray(record["extra"]["thresholds"]), (len(record["label_names"]),))

    def flip_one(codes):  # one test entry moved to the other side of its label's threshold
        test = codes["test"]
        rows, columns = np.nonzero(results.dequantize(test) < cuts)
        test[rows[0], columns[0]] = results.store.SCALE

    _rewrite(npz, flip_one)
    found = evidence.check("cpu")
    assert [c["where"] for c in found.failed] == ["00_data/reuters__prior"]
    assert found.failed[0]["kind"] == "probability file"  # the SHA-256 no longer matches
    assert verify.evidence_check("cpu", pages=False) == 1

    # the same change with the JSON's SHA-256 updated: the metrics no longer follow from the arrays
    record["probs"]["sha256"] = __import__("hashlib").sha256(npz.read_bytes()).hexdigest()
    record_path.write_text(json.dumps(record))
    found = evidence.check("cpu")
    metrics = [c for c in found.failed if c["kind"] == "metric"]
    assert metrics and {c["name"] for c in metrics} >= {"micro_f1"}
    assert all(c["where"] == "00_data/reuters__prior" for c in metrics)
    # and the comparison made with those decisions (prior vs predicting nothing), on Reuters only
    others = [c for c in found.failed if c["kind"] != "metric"]
    assert {c["kind"] for c in others} <= {"comparison"} and all(c["where"].startswith("00_data/reuters:")
                                                                  for c in others)


def test_a_missing_probability_file_fails_once_its_chapter_has_committed_evidence(chapter00):
    (chapter00 / "sentfin__prior.npz").unlink()
    found = evidence.check("cpu")
    assert [(c["where"], c["recomputed"]) for c in found.failed] == [("00_data/sentfin__prior", "missing")]


def test_a_comparison_of_two_saved_results_is_recomputed_and_a_changed_p_caught(tmp_path, monkeypatch, data_dir):
    """A claims row whose sides are saved results: its difference, interval and p (and
    Holm, its whole family being recomputable) come out again; a typed-in p does not."""
    from mlstc import data
    from mlstc.evaluation import stats
    from mlstc.results import claims

    ds = data.load("sentfin").head({"train": None, "validation": None, "test": None})
    y = ds.split("test").y
    rng = np.random.default_rng(0)
    folder = paths.results_dir("cpu") / "01_x"
    decisions = {}
    for name, noise in (("a", 0.3), ("b", 0.2)):
        probs = {split: np.clip(ds.split(split).y * 0.8 + rng.random(ds.split(split).y.shape) * noise, 0, 1)
                 for split in ("validation", "test")}
        path = results.save(notebook="01_x", dataset="sentfin", model=name, profile="cpu", seed=0, metrics={},
                            label_names=ds.label_names, probs=probs, thresholds=0.5, folder=folder)
        record = json.loads(path.read_text())
        record["extra"]["from_stored"] = False  # metrics not under test here
        path.write_text(json.dumps(record))
        decisions[name] = results.predictions_for("cpu", "01_x", ds, name)
    table = stats.compare(y, decisions["a"], decisions["b"], n_samples=50, seed=0)
    sources = {"labels": results.fingerprint(y), "n_samples": 50, "seed": 0, "options": {},
               "a": [results.store.source(decisions["a"])], "b": [results.store.source(decisions["b"])]}
    p_holm = stats.holm(table["p"].to_numpy())
    rows = [claims.evidence("ner", dataset="sentfin", experiment="b vs a", metric=m, delta=table.loc[m, "delta"],
                            low=table.loc[m, "low"], high=table.loc[m, "high"], p=table.loc[m, "p"],
                            p_holm=float(p_holm[i]), se=table.loc[m, "se"], sources=sources,
                            outcome=stats.outcome(table.loc[m, "low"], table.loc[m, "high"], p_holm[i]),
                            family={"id": "01_x/1", "index": i, "size": 2})
            for i, m in enumerate(table.index)]
    claims.write(folder, "01_x", rows)
    found = evidence.check("cpu")
    assert {c["kind"] for c in found.checked} >= {"comparison", "holm", "outcome"}
    assert found.ok, found.report()
    rows[0]["p"] = rows[0]["p"] * 0.9 + 1e-6
    claims.write(folder, "01_x", rows, replace_datasets=["sentfin"])
    found = evidence.check("cpu")
    assert [(c["kind"], c["name"]) for c in found.failed] == [("comparison", "p")]


def test_the_page_check_compares_every_text_a_page_shows_and_ignores_images():
    cell = {"cell_type": "code", "outputs": [
        {"output_type": "stream", "text": ["3 claims\n"]},
        {"output_type": "display_data", "data": {"text/html": ["<b>supported</b>"], "image/png": "AAAA"}}]}
    assert verify.shown_text({"cells": [cell, {"cell_type": "markdown"}]}) == [["3 claims\n", "<b>supported</b>"]]
    found = evidence.Evidence("cpu")
    found.add("page", "90_verdicts", "cell 1", "<b>supported</b>", "<b>contradicted</b>")
    assert not found.ok and "DIFFERENT page 90_verdicts" in found.report()


def test_a_family_whose_other_tests_bear_on_no_claim_is_adjusted_again_from_its_recorded_tests(data_dir):
    """One claims row in a family of two: the other test is recorded among the
    chapter's tests only, is computed again itself, and lets Holm be checked; a changed
    standard error of that test is caught."""
    from mlstc import data
    from mlstc.evaluation import stats
    from mlstc.results import claims, families

    ds = data.load("sentfin")
    y = ds.split("test").y
    rng = np.random.default_rng(1)
    folder = paths.results_dir("cpu") / "01_x"
    decisions = {}
    for name, noise in (("a", 0.7), ("b", 0.6)):  # errors on both sides, so differences move
        probs = {split: np.clip(ds.split(split).y * 0.8 + rng.random(ds.split(split).y.shape) * noise, 0, 1)
                 for split in ("validation", "test")}
        path = results.save(notebook="01_x", dataset="sentfin", model=name, profile="cpu", seed=0, metrics={},
                            label_names=ds.label_names, probs=probs, thresholds=0.5, folder=folder)
        record = json.loads(path.read_text())
        record["extra"]["from_stored"] = False
        path.write_text(json.dumps(record))
        decisions[name] = results.predictions_for("cpu", "01_x", ds, name)
    table = stats.compare(y, decisions["a"], decisions["b"], n_samples=50, seed=0)
    sources = {"labels": results.fingerprint(y), "n_samples": 50, "seed": 0, "options": {},
               "a": [results.store.source(decisions["a"])], "b": [results.store.source(decisions["b"])]}
    tests = stats.holm_family([(table.loc[m, "delta"], table.loc[m, "se"], table.loc[m, "df"]) for m in table.index])
    family = {"id": "01_x/1", "size": 2}
    m = table.index[0]
    row = claims.evidence("ner", dataset="sentfin", experiment="b vs a", metric=m, delta=table.loc[m, "delta"],
                          low=table.loc[m, "low"], high=table.loc[m, "high"], p=table.loc[m, "p"],
                          p_holm=tests[0]["p_holm"], se=table.loc[m, "se"], df=table.loc[m, "df"],
                          adjusted=(tests[0]["adj_low"], tests[0]["adj_high"]), sources=sources,
                          outcome=stats.outcome(table.loc[m, "low"], table.loc[m, "high"], tests[0]["p_holm"]),
                          family=family | {"index": 0})
    recorded = [families.record(dataset="sentfin", experiment="b vs a", metric=k, delta=table.loc[k, "delta"],
                                   se=table.loc[k, "se"], df=table.loc[k, "df"], sources=sources,
                                   family=family | {"index": i}) for i, k in enumerate(table.index)]
    claims.write(folder, "01_x", [row], tests=recorded)
    assert len(families.read(folder / claims.FILE)) == 2
    found = evidence.check("cpu")
    kinds = {c["kind"] for c in found.checked}
    assert {"family test", "holm", "outcome"} <= kinds and found.ok, found.report()
    recorded[1]["se"] *= 1.5
    claims.write(folder, "01_x", [row], tests=recorded, replace_datasets=["sentfin"])
    found = evidence.check("cpu")
    assert [(c["kind"], c["name"]) for c in found.failed] == [("family test", "se")]


def test_seed_means_over_a_hierarchys_nodes_and_a_comparison_of_some_columns_are_recomputed(data_dir):
    """Chapter 04's way: results over every node of a hierarchy, a row of seed means
    naming its other seeds' results, and a comparison on one level's columns whose
    sides are named by their whole results."""
    from mlstc import data
    from mlstc.evaluation import hierarchical, stats
    from mlstc.results import claims

    ds = data.load("fiqa")
    tree = data.Hierarchy.from_mapping(ds.hierarchy, ds.label_names, source="test")
    nodes, y = list(tree.nodes), {s: tree.augment(ds.split(s).y, ds.label_names) for s in ("validation", "test")}
    rng, folder, preds = np.random.default_rng(0), paths.results_dir("cpu") / "04_x", {}
    for name, noise in (("flat", 0.5), ("deep", 0.4)):
        runs = [{s: np.clip(y[s] * 0.7 + rng.random(y[s].shape) * noise, 0, 1) for s in y} for _ in range(2)]
        found = hierarchical.score_seeds(tree, y["validation"], y["test"], runs, stored=results.store.stored_or_float32)
        for s, model in enumerate((name, f"{name}-seed1")):
            results.register(found.preds[s], "04_x", "fiqa", model)
        results.save(notebook="04_x", dataset="fiqa", model=f"{name}-seed1", profile="cpu", seed=0,
                     metrics=found.rows[1], label_names=nodes, probs=found.probs[1],
                     thresholds=np.full(len(nodes), found.cuts[1]), extra={"from_stored": True}, folder=folder)
        results.save(notebook="04_x", dataset="fiqa", model=name, profile="cpu", seed=0, metrics=found.mean,
                     label_names=nodes, probs=found.probs[0], thresholds=np.full(len(nodes), found.cuts[0]),
                     extra={"seeds": [0, 1], "seed_runs": [f"{name}-seed1"], "seed_std": found.spread},
                     folder=folder)
        preds[name] = found.preds
    columns = hierarchical.subsets(tree, ds.label_names)["level 2"]
    table = stats.compare(y["test"][:, columns], [p[:, columns] for p in preds["flat"]],
                          [p[:, columns] for p in preds["deep"]], n_samples=50, seed=0)
    sources = {"labels": results.fingerprint(y["test"][:, columns]), "n_samples": 50, "seed": 0, "options": {},
               "a": [results.store.source(p) for p in preds["flat"]],
               "b": [results.store.source(p) for p in preds["deep"]], "columns": columns}
    p_holm = stats.holm(table["p"].to_numpy())
    rows = [claims.evidence("hierarchical", dataset="fiqa", experiment="deep vs flat, level 2", metric=m,
                            delta=table.loc[m, "delta"], low=table.loc[m, "low"], high=table.loc[m, "high"],
                            p=table.loc[m, "p"], p_holm=float(p_holm[i]), se=table.loc[m, "se"], df=table.loc[m, "df"],
                            sources=sources,
                            outcome=stats.outcome(table.loc[m, "low"], table.loc[m, "high"], p_holm[i]),
                            family={"id": "04_x/1", "index": i, "size": 2})
            for i, m in enumerate(table.index)]
    claims.write(folder, "04_x", rows)
    found = evidence.check("cpu")
    checked = {(c["kind"], c["where"], c["name"]) for c in found.checked}
    assert found.ok, found.report()
    assert {("metric", "04_x/fiqa__deep", "hierarchical_f1"), ("metric", "04_x/fiqa__deep", "seed_std micro_f1"),
            ("comparison", "04_x/fiqa: deep vs flat, level 2 (macro_f1)", "p")} <= checked
    assert not [s for s in found.skipped if s["where"].startswith("04_x")], found.skipped

    path = folder / "fiqa__flat.json"
    record = json.loads(path.read_text())
    record["metrics"]["micro_f1"] += 1e-4  # a seed mean that its seeds' arrays do not give
    path.write_text(json.dumps(record))
    assert [(c["where"], c["name"]) for c in evidence.check("cpu").failed] == [("04_x/fiqa__flat", "micro_f1")]


def test_a_sweeps_seed_means_and_comparisons_are_recomputed_from_its_saved_decisions(data_dir):
    """Chapter 06's sweep: one result per head with the first seed's probabilities and
    every seed's decisions under both tuned rules beside them, saved before the heads
    are compared; verify recomputes the seed means and every comparison from them, and
    catches one changed decision."""
    from collections import Counter

    from mlstc import data
    from mlstc.book import finetunes, setup, verdicts
    from mlstc.core import profiles
    from mlstc.results import claims

    ds = data.load("sentfin")
    folder = paths.results_dir("cpu") / "06_x"
    folder.mkdir(parents=True)
    run = setup.Run(notebook="06_x", profile=profiles.resolve("smoke"), seed=0, parameters={}, staging=folder)
    run.profile = dataclasses_replace(run.profile, name="cpu")  # cpu's folder, smoke's bootstrap size
    y = {s: ds.split(s).y for s in ("train", "validation", "test")}
    rng, sweep = np.random.default_rng(2), finetunes.Sweep(finetunes.GRID)
    for s in (0, 1):
        for name, noise in (("bce", 0.7), ("zlpr", 0.6)):
            probs = {p: np.clip(y[p] * 0.3 + rng.random(y[p].shape) * noise, 0, 1) for p in ("validation", "test")}
            sweep.record((ds.key, "minilm", "linear", name, s), probs, y, epochs=1, seconds=1.0)
    sweep.save(run, {ds.key: ds})
    family, _ = sweep.comparisons(run, {ds.key: ds}, [("minilm", "linear")], ["bce", "zlpr"], [0, 1])
    verdicts.judge(run, family)
    claims.write(folder, "06_x", run.evidence, tests=run.tests)
    found = evidence.check("cpu")
    assert found.ok and not found.skipped, found.report()
    kinds = Counter(c["kind"] for c in found.checked)
    # two claims rows (per-label, micro and macro) and two other tests of their family (global)
    assert kinds["decision file"] == 2 and kinds["holm"] == 2 * 3 and kinds["outcome"] == 2
    assert {c["where"].split(": ", 1)[1] for c in found.checked if c["kind"] == "family test"} == {
        "minilm linear, global: zlpr vs BCE (micro_f1)", "minilm linear, global: zlpr vs BCE (macro_f1)"}
    assert {c["name"] for c in found.checked if c["kind"] == "metric"} >= {"macro_f1 per_label", "seed_std micro_f1"}

    record_path = folder / "sentfin__head-zlpr.json"
    record = json.loads(record_path.read_text())
    npz = folder / record["decisions"]["file"]
    with np.load(npz) as arrays:
        packed = {name: arrays[name].copy() for name in arrays.files}
    packed["test-per_label-seed1"][0, 0] ^= 0x80  # one document's first label flipped
    npz.write_bytes(results.store.npz_bytes(packed))
    found = evidence.check("cpu")
    assert [(c["kind"], c["where"]) for c in found.failed] == [("decision file", "06_x/sentfin__head-zlpr")]
    record["decisions"]["sha256"] = __import__("hashlib").sha256(npz.read_bytes()).hexdigest()
    record_path.write_text(json.dumps(record))
    found = evidence.check("cpu")
    failed = {(c["kind"], c["name"]) for c in found.failed}
    assert ("metric", "micro_f1 per_label") in failed and ("comparison", "delta") in failed, found.report()
    assert ("metric", "micro_f1") not in failed  # the global rule's decisions are unchanged
