"""The benchmark scripts' own logic (they train nothing here)."""

import importlib.util

from mlstc.core import paths


def load(name):
    spec = importlib.util.spec_from_file_location(name, paths.project_root() / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_finetune_schedule_judges_targets_by_the_interval_as_chapter_06_does():
    schedule = load("finetune_schedule")
    run = {"micro_f1": 0.893, "micro_f1_low": 0.882, "micro_f1_high": 0.904,
           "macro_f1": 0.582, "macro_f1_low": 0.557, "macro_f1_high": 0.607, "tail_macro_f1": 0.297}
    judged = schedule.target_status(run)
    assert judged["targets"] == {"tail_macro_f1": "reaches", "macro_f1": "reaches", "micro_f1": "within noise of"}
    assert judged["points_meet_targets"] and not judged["meets_targets"]
    clear = run | {"micro_f1_low": 0.886}
    assert schedule.target_status(clear)["meets_targets"]
    assert schedule.target_status(clear | {"tail_macro_f1": 0.2})["targets"]["tail_macro_f1"] == "misses"
