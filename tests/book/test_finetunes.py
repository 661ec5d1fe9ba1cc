import numpy as np
import pytest

from mlstc.book import finetunes


def _runs(seed):
    rng = np.random.default_rng(seed)
    y = {s: (rng.random((n, 6)) < [0.4, 0.3, 0.2, 0.1, 0.03, 0.02]).astype(int)
         for s, n in (("validation", 120), ("test", 150))}
    probs = {s: np.clip(0.5 * v + 0.6 * rng.random(v.shape), 0, 1) for s, v in y.items()}
    return y, probs


def test_scorer_gives_each_rule_its_test_scores_validation_scores_and_cross_fitted_choice():
    y, probs = _runs(0)
    train_counts = np.array([400, 200, 40, 20, 5, 2])
    scorer = finetunes.Scorer(y["validation"], y["test"], train_counts, n_samples=50)
    scored = scorer(probs)
    assert set(scored) == set(finetunes.RULES)
    per_label, one = scored["per_label"], scored["global"]
    assert len(set(one["cut"])) == 1 and len(set(per_label["cut"])) > 1
    for m in finetunes.COLUMNS + finetunes.VALIDATION:
        assert 0 <= one[m] <= 1 and 0 <= per_label[m] <= 1
    # per-label thresholds scored where they were tuned look better than cross-fitted
    assert per_label["validation_macro_f1"] > per_label["validation_macro_f1_crossfit"]
    assert np.array_equal(one["pred"], (probs["test"] >= one["cut"]).astype(np.int8))


def test_the_table_averages_seeds_per_rule_and_loss():
    y, _ = _runs(0)
    scorer = finetunes.Scorer(y["validation"], y["test"], np.ones(6), n_samples=20)
    study = finetunes.Study(scored={"bce": [scorer(_runs(1)[1]), scorer(_runs(2)[1])]})
    table = study.table({"reference": [scorer(_runs(3)[1])]})
    assert list(table.index) == [(r, n) for r in finetunes.RULES for n in ("bce", "reference")]
    assert table.loc[("global", "bce"), "seeds"] == 2
    both = [s["global"]["macro_f1"] for s in study.scored["bce"]]
    assert np.isclose(table.loc[("global", "bce"), "macro_f1"], np.mean(both))
    assert finetunes.Study().table().empty and finetunes.Study().minutes == 0
    assert finetunes.cuts("fixed", y["validation"], _runs(1)[1]["validation"]).tolist() == [0.5] * 6


def test_threshold_rules_have_one_name_in_code_and_one_on_a_page():
    from mlstc.book import shown
    from mlstc.evaluation import thresholds

    assert set(finetunes.SWEEP_RULES) == set(thresholds.STRATEGIES) == set(shown.RULES)
    assert [shown.rule(r) for r in finetunes.SWEEP_RULES] == ["0.5", "global", "per-label"]
    assert finetunes.comparison_name("db", "per_label") == "db vs BCE, per-label thresholds"


class _Run:
    def __init__(self):
        self.saved = []

    def compare(self, y, a, b):
        from mlstc.evaluation import stats

        return stats.compare(y, a, b, n_samples=20, seed=0)

    def save(self, ds, model, row, **options):
        self.saved.append((ds.key, model, row, options))


class _Split:
    def __init__(self, y):
        self.y = y


class _Corpus:
    key = "toy"

    def __init__(self, y):
        self._y = y

    def split(self, name):
        return _Split(self._y[name])


def _sweep():
    rng = np.random.default_rng(0)
    y = {s: (rng.random((n, 4)) < 0.3).astype(int) for s, n in (("train", 60), ("validation", 40), ("test", 50))}
    sweep = finetunes.Sweep(np.linspace(0.1, 0.9, 9))
    for s in (0, 1):
        for name in ("bce", "zlpr", "focal"):
            probs = {p: np.clip(0.5 * y[p] + 0.6 * rng.random(y[p].shape), 0, 1) for p in ("validation", "test")}
            sweep.record(("toy", "minilm", "linear", name, s), probs, y, epochs=3, seconds=1.0)
    return sweep, _Corpus(y)


def test_the_sweep_compares_each_loss_with_bce_and_records_only_the_coupled_ones_as_evidence():
    sweep, corpus = _sweep()
    family, keys = sweep.comparisons(_Run(), {"toy": corpus}, [("minilm", "linear")], ["bce", "zlpr", "focal"], [0, 1])
    assert [c.name for c in family] == ["minilm linear, global: zlpr vs BCE", "minilm linear, global: focal vs BCE",
                                        "minilm linear, per-label: zlpr vs BCE",
                                        "minilm linear, per-label: focal vs BCE"]
    assert [list(c.claims) for c in family] == [[], [], ["dependencies"], []]  # focal vs BCE: no claim's wording
    assert len(keys) == 2 * len(family)
    assert keys[-1] == {"setting": "minilm linear", "rule": "per_label", "loss": "focal"}


def test_the_sweep_saves_one_result_per_loss_with_seed_means():
    sweep, corpus = _sweep()
    run = _Run()
    sweep.save(run, {"toy": corpus})
    assert [m for _, m, _, _ in run.saved] == ["head-bce", "head-zlpr", "head-focal"]
    _, _, row, options = run.saved[0]
    table = sweep.table
    globals_ = table[(table.loss == "bce") & (table.rule == "global")]
    assert row["micro_f1"] == pytest.approx(globals_.micro_f1.mean())
    assert options["extra"]["seeds"] == [0, 1] and len(options["thresholds"]) == 4
    assert options["thresholds"] is sweep.cuts[("toy", "minilm", "linear", "bce", 0, "global")]  # as scored
    # every seed's decisions under both tuned rules, validation and test, saved beside it
    assert sorted(options["decisions"]) == sorted(f"{split}-{rule}-seed{s}" for split in ("test", "validation")
                                                  for rule in finetunes.RULES for s in (0, 1))
    assert options["decisions"]["test-per_label-seed1"] is sweep.preds[("toy", "minilm", "linear", "bce", 1,
                                                                         "per_label")]
    assert options["extra"]["seed_decisions"] == {"seeds": [0, 1], "rules": list(finetunes.RULES)}
    assert finetunes.sweep_name("tf-idf", "mlp", "db") == "mlp-tf-idf-db"


def test_glued_numbers_say_not_run_where_a_loss_was_not_fine_tuned():
    import pandas as pd

    table = pd.DataFrame([{"rule": r, "loss": "bce", "macro_f1": 0.41, "tail_macro_f1": 0.0, "micro_f1": 0.89}
                          for r in finetunes.RULES]).set_index(["rule", "loss"])
    judged = pd.DataFrame([{"comparison": "db vs BCE, global thresholds", "metric": "macro_f1", "verdict": "better"}])
    glued = finetunes.glued(table, judged)
    assert glued["ft_bce_macro_global"] == "0.410" and glued["ft_db_macro_pl"] == "not run"
    assert glued["ft_db_vs_bce_global"] == "better" and glued["ft_cb_ntr_vs_bce_pl"] == "not run"
    assert finetunes.glued(pd.DataFrame(), pd.DataFrame())["ft_bce_micro_global"] == "not run"


def test_mean_std_keeps_three_decimals_and_names_columns_in_words():
    import pandas as pd

    from mlstc.book import finetunes

    frame = pd.DataFrame({"loss": ["bce"] * 3, "rule": ["global"] * 3, "tail_macro_f1": [0.0, 0.16, 0.48],
                          "micro_f1": [0.85, 0.85, 0.85]})
    shown = finetunes.mean_std(frame, ["tail_macro_f1", "micro_f1"])
    assert list(shown.columns) == ["tail macro-F1", "micro-F1"]
    assert shown.iloc[0].tolist() == ["0.213 ± 0.244", "0.850 ± 0.000"]


def test_still_rising_names_the_runs_that_kept_their_last_epoch():
    study = finetunes.Study(lines=[{"loss": "db", "seed": 0, "epochs run": 8, "best epoch": 8},
                                   {"loss": "bce", "seed": 0, "epochs run": 8, "best epoch": 3},
                                   {"loss": "db", "seed": 1, "epochs run": 5, "best epoch": 5}])
    assert study.still_rising() == ["db, seed 0", "db, seed 1"]
    assert study.schedule_note().startswith("2 of 3 runs kept their last epoch (db, seed 0; db, seed 1)")
    assert finetunes.Study().still_rising() == [] and finetunes.Study().schedule_note().startswith("none of the 0")


def test_describe_names_the_schedule_seeds_and_losses():
    settings = {"max_length": 128, "truncation": "head", "learning_rate": 1e-4, "batch_size": 32,
                "precision": "mixed_bfloat16", "epochs": 8}
    line = finetunes.describe(settings, seeds=1, losses=["bce", "db"])
    assert "max_length 128" in line and "8 epochs, every one run" in line and line.endswith("losses: bce, db")


def test_seed_std_is_the_spread_of_single_runs_per_shared_metric():
    rows = [{"micro_f1": 0.70, "macro_f1": 0.3}, {"micro_f1": 0.74, "macro_f1": 0.5, "hamming_loss": 0.1}]
    spread = finetunes.seed_std(rows)
    assert set(spread) == {"micro_f1", "macro_f1"} and np.isclose(spread["micro_f1"], np.std([0.70, 0.74], ddof=1))
    assert finetunes.seed_std(rows[:1]) == {}
