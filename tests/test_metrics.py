import numpy as np
import pytest
from sklearn import metrics as skm

from mlstc import metrics


@pytest.fixture
def sample():
    rng = np.random.default_rng(0)
    y = (rng.random((300, 8)) < 0.2).astype(int)
    scores = np.clip(y * 0.4 + rng.random((300, 8)) * 0.7, 0, 1)
    return y, (scores > 0.5).astype(int), scores


def test_evaluate_agrees_with_scikit_learn(sample):
    y, pred, scores = sample
    got = metrics.evaluate(y, pred, scores)
    for average in ("micro", "macro", "weighted", "samples"):
        assert got[f"{average}_f1"] == pytest.approx(skm.f1_score(y, pred, average=average, zero_division=0))
        assert got[f"{average}_precision"] == pytest.approx(
            skm.precision_score(y, pred, average=average, zero_division=0))
    assert got["subset_accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred))
    assert got["binary_accuracy"] == pytest.approx(1 - got["hamming_loss"])
    has = y.sum(1) > 0
    assert got["lrap"] == pytest.approx(skm.label_ranking_average_precision_score(y[has], scores[has]))


def test_precision_at_k_by_hand():
    y = np.array([[1, 0, 1, 0], [0, 0, 0, 1]])
    scores = np.array([[0.9, 0.8, 0.1, 0.0], [0.1, 0.2, 0.3, 0.4]])
    assert metrics.precision_at_k(y, scores, 1) == pytest.approx((1 + 1) / 2)
    assert metrics.precision_at_k(y, scores, 2) == pytest.approx((1 / 2 + 1 / 2) / 2)


def test_empty_prediction_has_high_binary_accuracy_and_zero_f1():
    y = np.zeros((100, 90), dtype=int)
    y[np.arange(100), np.arange(100) % 90] = 1
    got = metrics.evaluate(y, np.zeros_like(y))
    assert got["binary_accuracy"] == pytest.approx(1 - 1 / 90)
    assert got["micro_f1"] == 0 and got["subset_accuracy"] == 0


def test_bootstrap_interval_brackets_the_point_and_is_reproducible(sample):
    y, pred, _ = sample
    table = metrics.bootstrap(y, pred, n_samples=300, seed=1)
    for name, row in table.iterrows():
        assert row["low"] <= row["value"] <= row["high"], name
        assert row["high"] - row["low"] > 0
    assert table.equals(metrics.bootstrap(y, pred, n_samples=300, seed=1))


def test_bootstrap_resample_matches_direct_computation(sample):
    # The count-weight formulation equals computing F1 on the explicitly resampled rows.
    y, pred, _ = sample
    rng = np.random.default_rng(5)
    weights = rng.multinomial(len(y), np.full(len(y), 1 / len(y)))
    rows = np.repeat(np.arange(len(y)), weights)
    tp = weights @ (y & pred)
    fp = weights @ ((1 - y) & pred)
    fn = weights @ (y & (1 - pred))
    assert metrics._f1_from_counts(tp.sum(), fp.sum(), fn.sum()) == pytest.approx(
        skm.f1_score(y[rows], pred[rows], average="micro"))
    assert metrics._f1_from_counts(tp, fp, fn).mean() == pytest.approx(
        skm.f1_score(y[rows], pred[rows], average="macro", zero_division=0))


def test_per_label_report(sample):
    y, pred, _ = sample
    report = metrics.per_label(y, pred, list("abcdefgh"))
    assert report["support"].is_monotonic_decreasing
    assert report.loc["a", "f1"] == pytest.approx(skm.f1_score(y[:, 0], pred[:, 0]))


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="shape"):
        metrics.evaluate(np.zeros((3, 2)), np.zeros((3, 3)))
