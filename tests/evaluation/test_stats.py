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
    assert stats.reaches(0.885, 0.875, 0.897, 0.88) == "within noise of"  # the point is above, the interval spans
    assert stats.reaches(0.885, 0.881, 0.89, 0.88) == "reaches"
    assert stats.reaches(0.85, 0.84, 0.87, 0.88) == "misses"
