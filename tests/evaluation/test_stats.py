import numpy as np
import pytest

from mlstc.evaluation import stats


@pytest.fixture
def labels():
    rng = np.random.default_rng(1)
    return (rng.random((400, 4)) < 0.3).astype(int), rng


def test_paired_difference_has_a_sign_an_interval_and_a_p_value(labels):
    y, rng = labels
    noisy = np.where(rng.random(y.shape) < 0.2, 1 - y, y)
    table = stats.compare(y, noisy, y, n_samples=300)
    row = table.loc["micro_f1"]
    assert row["delta"] > 0 and row["low"] > 0 and row["p"] < 0.01 and row["b"] == 1.0
    assert stats.outcome(row["low"], row["high"]) == "better"
    same = stats.compare(y, noisy, noisy, n_samples=100).loc["macro_f1"]
    assert same["delta"] == 0 and stats.outcome(same["low"], same["high"]) == "within noise"


def test_seeds_widen_the_interval_and_are_drawn_together(labels):
    y, rng = labels
    runs_a = [np.where(rng.random(y.shape) < 0.20, 1 - y, y) for _ in range(3)]
    spread = [0.05, 0.15, 0.25]  # system b varies a lot from seed to seed
    runs_b = [np.where(rng.random(y.shape) < r, 1 - y, y) for r in spread]
    one = stats.compare(y, runs_a[0], runs_b[1], n_samples=500).loc["micro_f1"]
    many = stats.compare(y, runs_a, runs_b, n_samples=500).loc["micro_f1"]
    assert many["b_seeds"] == 3 and many["b_seed_std"] > 0.05
    assert (many["high"] - many["low"]) > 1.5 * (one["high"] - one["low"])  # training noise counted
    assert one["a_seeds"] == 1 and one["a_seed_std"] == 0


def test_holm_adjusts_in_step_down_order():
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.5])
    assert adjusted.tolist() == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert stats.outcome(0.01, 0.05, p_adjusted=0.09) == "within noise"  # survives alone, not in the family


def test_verdict_words_and_reaching_a_bar():
    assert stats.verdict(0.02, 0.01, 0.03).startswith("better: +2.0 points")
    assert stats.verdict(-0.05, -0.08, -0.02, p_adjusted=0.01).startswith("worse")
    assert stats.reaches(0.875, 0.897, 0.88) == "within noise of"  # the point is above, the interval spans
    assert stats.reaches(0.881, 0.89, 0.88) == "reaches"
    assert stats.reaches(0.84, 0.87, 0.88) == "misses"


def _frequent_and_missed(seed=0):
    # 20 frequent labels predicted well, 30 labels with one test document each, all missed
    rng = np.random.default_rng(seed)
    n = 300
    y = np.zeros((n, 50), dtype=int)
    y[:, :20] = rng.random((n, 20)) < 0.3
    for j in range(20, 50):
        y[rng.integers(n), j] = 1
    pred = y.copy()
    pred[:, :20] = np.where(rng.random((n, 20)) < 0.03, 1 - y[:, :20], y[:, :20])
    pred[:, 20:] = 0
    return y, pred


def test_macro_interval_uses_the_full_label_set_and_is_centred():
    y, pred = _frequent_and_missed()
    row = stats.bootstrap(y, pred, n_samples=1000, seed=0).loc["macro_f1"]
    third = (row["high"] - row["low"]) / 3
    assert row["low"] + third <= row["value"] <= row["high"] - third
    # averaging over the labels each resample happens to contain puts the point below
    # the whole distribution: resamples drop the missed one-document labels
    from mlstc.evaluation import metrics

    tp, fp, fn = metrics.counts(y, pred, stats.resample_weights(len(y), 1000, 0))
    assert np.quantile(metrics.macro_f1_from_counts(tp, fp, fn), 0.025) > row["value"]


def test_p_values_resolve_large_families_and_match_adjusted_intervals():
    y, pred = _frequent_and_missed()
    worse = pred.copy()
    worse[:, :20] = np.where(np.random.default_rng(5).random((len(y), 20)) < 0.08, 1 - y[:, :20], y[:, :20])
    row = stats.compare(y, worse, pred, n_samples=500).loc["micro_f1"]
    assert 0 < row["p"] < 0.05 / 384  # never exactly 0, small enough for a family of 384
    assert row["low"] == pytest.approx(row["delta"] - stats.Z95 * row["se"])
    p_family = stats.holm([row["p"]] + [0.5] * 383)[0]
    assert p_family < 0.05
    for p_adjusted in (0.001, 0.049, 0.051, 0.3):
        low, high = stats.adjusted_interval(row["delta"], row["se"], row["p"], p_adjusted)
        assert (low > 0) == (p_adjusted < 0.05)
        assert stats.outcome(low, high, p_adjusted) == ("better" if p_adjusted < 0.05 else "within noise")


def test_an_interval_that_excludes_zero_never_reads_within_noise():
    # chapter 05's SEntFiN weighted mean: +0.9 [+0.3, +1.5] with Holm p = 0.056
    text = stats.verdict(0.009, 0.003, 0.015, p_adjusted=0.056)
    assert text.startswith("within noise")
    low, high = text.split("[")[1].split("]")[0].split(", ")
    assert low.startswith("-") and high.startswith("+")  # it spans zero, if only just
    assert stats.verdict(0.009, 0.003, 0.015, p_adjusted=0.01).startswith("better")


def test_paired_systems_share_one_label_set():
    y, pred = _frequent_and_missed()
    same = stats.compare(y, pred, pred, n_samples=200).loc["macro_f1"]
    assert same["delta"] == 0 and same["se"] == 0 and same["p"] == 1.0
