import numpy as np
import pytest

from mlstc.evaluation import metrics, thresholds


def test_per_label_thresholds_find_each_labels_separating_point():
    rng = np.random.default_rng(0)
    y = (rng.random((400, 3)) < 0.3).astype(int)
    # label j is perfectly separated at cut c_j: positives score above it, negatives below
    cuts = np.array([0.2, 0.5, 0.8])
    probs = np.where(y == 1, cuts + 0.05 + 0.1 * rng.random(y.shape), cuts - 0.05 - 0.1 * rng.random(y.shape))
    tuned = thresholds.tune_per_label(y, probs)
    pred = thresholds.predict(probs, tuned)
    assert np.array_equal(pred, y)
    assert np.all(np.abs(tuned - cuts) <= 0.06)
    assert not np.array_equal(thresholds.predict(probs, 0.5), y)


def test_labels_without_positives_fall_back_to_the_global_threshold():
    y = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    probs = np.array([[0.9, 0.1], [0.2, 0.7], [0.8, 0.3], [0.1, 0.2]])
    tuned = thresholds.fit(y, probs, "per_label")
    assert tuned[1] == thresholds.tune_global(y, probs)


def test_global_threshold_maximises_micro_f1():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    probs = np.array([[0.35, 0.1], [0.2, 0.4], [0.6, 0.45], [0.3, 0.05]])
    t = thresholds.tune_global(y, probs)
    assert 0.31 <= t <= 0.35
    assert thresholds.fit(y, probs, "fixed").tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="Unknown threshold strategy"):
        thresholds.fit(y, probs, "best")


def test_at_least_one_label():
    probs = np.array([[0.1, 0.3], [0.9, 0.2]])
    assert thresholds.predict(probs, 0.5, at_least_one=True).tolist() == [[0, 1], [1, 0]]


def test_compare_tunes_each_strategy_on_validation_and_scores_test():
    rng = np.random.default_rng(0)
    y = (rng.random((200, 3)) < [0.5, 0.2, 0.05]).astype(int)
    probs = np.clip(y * 0.3 + rng.random((200, 3)) * 0.6, 0, 1)
    out = thresholds.compare(y[:100], probs[:100], y[100:], probs[100:])
    assert list(out) == ["fixed", "global", "per_label"]
    assert out["fixed"][0].tolist() == [0.5] * 3
    assert np.array_equal(out["per_label"][0], thresholds.tune_per_label(y[:100], probs[:100]))
    expected = metrics.evaluate(y[100:], probs[100:] >= out["global"][0])["micro_f1"]
    assert out["global"][1]["micro_f1"] == expected


def counts(y, probs, t):
    """(true positives, false positives, false negatives) per label of ``probs >= t``."""
    pred, y = probs >= t, y.astype(bool)
    return (pred & y).sum(0), (pred & ~y).sum(0), (~pred & y).sum(0)


def _brute_force_curves(y, probs, grid):
    """F1 per (threshold, label) by comparing every score with every threshold."""
    return np.stack([metrics.f1_from_counts(*counts(y, probs, t)) for t in grid])


@pytest.mark.parametrize("seed", range(6))
def test_binned_threshold_search_equals_the_threshold_loop(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((50, 7)) < [0.0, 0.05, 0.2, 0.5, 0.9, 1.0, 0.3]).astype(int)  # a label with no positive, one all
    probs = np.round(rng.random(y.shape), 2)  # scores equal to grid values: ties at the threshold count as >=
    grid = thresholds.DEFAULT_GRID if seed % 2 else np.array([0.5, 0.1, 0.9, 0.3, 0.05, 0.3])  # unsorted, repeated
    per_label = _brute_force_curves(y, probs, grid)
    micro = np.array([metrics.f1_from_counts(*(c.sum() for c in counts(y, probs, t))) for t in grid])
    assert np.allclose(thresholds.global_curve(y, probs, grid), micro, atol=0, rtol=1e-15)
    assert thresholds.tune_global(y, probs, grid) == grid[int(np.argmax(micro))]
    best = grid[np.argmax(per_label, axis=0)]
    expected = np.where(y.sum(0) > 0, best, thresholds.tune_global(y, probs, grid))
    assert np.array_equal(thresholds.tune_per_label(y, probs, grid), expected)
    t, f1 = thresholds.best_global(y, probs, grid)
    assert f1 == pytest.approx(metrics.evaluate(y, probs >= t)["micro_f1"], abs=1e-12)
