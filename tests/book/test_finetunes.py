import numpy as np

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
    per_label, one = scored["per-label"], scored["global"]
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
    assert finetunes.cuts("0.5", y["validation"], _runs(1)[1]["validation"]).tolist() == [0.5] * 6
