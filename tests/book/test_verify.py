"""``python -m mlstc verify``: rerun a chapter and compare within founded tolerances."""

import json

import pandas as pd
import pytest

from mlstc.book import runner, verify
from mlstc.book.cli import main
from mlstc.core import paths


def record(dataset, model, metrics, tolerance=None):
    return {"dataset": dataset, "model": model, "metrics": metrics, "extra": {"tolerance": tolerance or {}}}


def test_compare_uses_the_saved_tolerance_and_skips_timings():
    committed = [record("reuters", "svm", {"micro_f1": 0.885, "macro_f1": 0.52, "train seconds": 10.0}),
                 record("reuters", "bilstm", {"micro_f1": 0.856, "macro_f1": 0.437, "hamming_loss": 0.010},
                        {"macro_f1": 0.05, "micro_f1": 0.01})]
    rerun = [record("reuters", "svm", {"micro_f1": 0.8852, "macro_f1": 0.51, "train seconds": 99.0}),
             record("reuters", "bilstm", {"micro_f1": 0.856, "macro_f1": 0.478, "hamming_loss": 0.013})]
    table = verify.compare(committed, rerun).set_index(["model", "metric"])
    assert "train seconds" not in table.index.get_level_values("metric")
    assert table.loc[("svm", "micro_f1"), "agrees"] and not table.loc[("svm", "macro_f1"), "agrees"]
    assert table.loc[("bilstm", "macro_f1"), "agrees"]  # 4 points of drift, within 3 seed deviations
    assert table.loc[("svm", "micro_f1"), "tolerance"] == verify.DEFAULT_TOLERANCE
    # a seeded model's metric without a measured seed spread is shown, not held to the deterministic tolerance
    assert not table.loc[("bilstm", "hamming_loss"), "judged"] and table.loc[("svm", "macro_f1"), "judged"]
    judged = table[table["judged"]]
    assert len(judged) == 4 and not judged["agrees"].all()


def test_a_recorded_seed_spread_founds_a_tolerance_of_three_standard_errors_of_what_is_recorded():
    seeded = {"dataset": "fiqa", "model": "flat-bilstm", "metrics": {"micro_f1": 0.8, "hamming_loss": 0.01},
              "extra": {"tolerance": {"micro_f1": 0.05}, "seed_std": {"micro_f1": 0.01, "hamming_loss": 0.002},
                        "seeds": [0, 1, 2]}}
    # the mean of three seeds moves by s / sqrt(3), not by a single run's s
    assert verify.tolerance(seeded, "micro_f1") == pytest.approx(3 * 0.01 / 3 ** 0.5)
    # and no tolerance exceeds a tenth of the value: 3 * 0.002 / sqrt(3) would be a third of it
    assert verify.tolerance(seeded, "hamming_loss") == pytest.approx(verify.MAX_FRACTION * 0.01)
    assert verify.tolerance(seeded, "validation_micro_f1") is None
    one_run = {"metrics": {"micro_f1": 0.8, "macro_f1": 0.1}, "extra": {"tolerance": {"micro_f1": 0.05,
                                                                                    "macro_f1": 0.5}}}
    assert verify.tolerance(one_run, "micro_f1") == 0.05  # three single-run deviations, saved by the chapter
    assert verify.tolerance(one_run, "macro_f1") == pytest.approx(0.01)  # capped at a tenth of 0.1
    head = {"extra": {"micro_f1_seed_std": 0.001, "seeds": [0, 1, 2]}}
    assert verify.tolerance(head, "micro_f1") == pytest.approx(0.003 / 3 ** 0.5)
    assert verify.tolerance(head, "macro_f1") is None
    assert verify.tolerance({"extra": {"thresholds": [0.5]}}, "macro_f1") == verify.DEFAULT_TOLERANCE


def test_a_metric_the_rerun_lost_disagrees_even_without_a_tolerance():
    committed = [record("reuters", "bilstm", {"micro_f1": 0.856, "hamming_loss": 0.010}, {"micro_f1": 0.01})]
    table = verify.compare(committed, []).set_index("metric")
    assert not table["agrees"].any()


def test_compare_probabilities_by_the_recorded_sha256():
    committed = [record("reuters", "svm", {}) | {"probs": {"sha256": "a"}},
                 record("reuters", "nb", {}) | {"probs": {"sha256": "b"}},
                 record("reuters", "prior", {})]  # no probabilities: nothing to compare
    rerun = [record("reuters", "svm", {}) | {"probs": {"sha256": "a"}},
             record("reuters", "nb", {}) | {"probs": {"sha256": "c"}}]
    table = verify.compare_probabilities(committed, rerun).set_index("model")["identical"]
    assert table.to_dict() == {"svm": True, "nb": False}
    assert not verify.compare_probabilities(committed, [])["identical"].any()  # a model the rerun lost


def test_the_record_keeps_the_values_that_disagree_not_only_their_count():
    metrics = verify.compare([record("reuters", "bilstm", {"micro_f1": 0.856, "macro_f1": 0.478},
                                     {"micro_f1": 0.02, "macro_f1": 0.075})],
                             [record("reuters", "bilstm", {"micro_f1": 0.851, "macro_f1": 0.379})])
    files = pd.DataFrame(columns=["dataset", "model", "identical"])
    line = verify.Verified("02_lstm", "cpu", metrics, files, 28.4).summary()
    assert line["metrics agreeing"] == 1 and line["disagreeing"] == [
        {"dataset": "reuters", "model": "bilstm", "metric": "macro_f1", "committed": 0.478, "new": 0.379,
         "tolerance": 0.0478}]  # 0.075 saved, capped at a tenth of the committed value


def test_record_keeps_one_summary_per_chapter(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path))
    metrics = verify.compare([record("reuters", "svm", {"micro_f1": 0.885, "macro_f1": 0.52})],
                             [record("reuters", "svm", {"micro_f1": 0.885, "macro_f1": 0.5205})])
    files = pd.DataFrame({"dataset": ["reuters"], "model": ["svm"], "identical": [False]})
    found = verify.Verified("01_preprocessing", "cpu", metrics, files, 12.34, restored=3, commit="abc1234")
    path = verify.record(found)
    verify.record(verify.Verified("04_hierarchical", "cpu", metrics.iloc[:0], files.iloc[:0], 1.0))
    kept = json.loads(path.read_text())
    assert list(kept) == ["01_preprocessing", "04_hierarchical"]
    line = kept["01_preprocessing"]
    counts = ("metrics", "metrics judged", "metrics agreeing", "metrics identical")
    assert [line[k] for k in counts] == [2, 2, 2, 1]
    assert (line["probability files"], line["probability files identical"], line["minutes"]) == (1, 0, 12.3)
    assert (line["trainings restored"], line["commit"]) == (3, "abc1234") and line["machine"]["cpu"]
    assert found.different_files == ["reuters/svm"] and line["disagreeing"] == []
    assert found.agree and not verify.Verified("04_hierarchical", "cpu", metrics.iloc[:0], files, 1.0).agree


@pytest.mark.slow
def test_verify_reports_a_hand_altered_result_and_exits_1(data_dir, capsys):
    parameters = verify.committed_run(runner.find("00"))
    parameters.pop("profile", None)
    runner.execute(runner.find("00"), "smoke", parameters, output_dir=paths.cache_dir() / "book")
    altered = paths.results_dir("smoke") / "00_data" / "sentfin__prior.json"
    content = json.loads(altered.read_text())
    content["metrics"]["micro_f1"] += 0.05
    altered.write_text(json.dumps(content))
    capsys.readouterr()
    assert main(["verify", "00", "--profile", "smoke"]) == 1
    out = capsys.readouterr().out
    assert "1 disagree" in out and "sentfin" in out
    line = next(line for line in out.splitlines() if "sentfin" in line and " micro_f1 " in line and "prior" in line)
    assert "False" in line
