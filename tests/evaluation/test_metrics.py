import numpy as np
import pytest
from sklearn import metrics as skm

from mlstc.evaluation import metrics, stats


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
    table = stats.bootstrap(y, pred, n_samples=300, seed=1)
    for name, row in table.iterrows():
        assert row["low"] <= row["value"] <= row["high"], name
        assert row["high"] - row["low"] > 0
    assert table.equals(stats.bootstrap(y, pred, n_samples=300, seed=1))


def test_bootstrap_resample_matches_direct_computation(sample):
    # The count-weight formulation equals computing F1 on the explicitly resampled rows.
    y, pred, _ = sample
    rng = np.random.default_rng(5)
    weights = rng.multinomial(len(y), np.full(len(y), 1 / len(y)))
    rows = np.repeat(np.arange(len(y)), weights)
    tp = weights @ (y & pred)
    fp = weights @ ((1 - y) & pred)
    fn = weights @ (y & (1 - pred))
    assert metrics.micro_f1_from_counts(tp, fp, fn) == pytest.approx(
        skm.f1_score(y[rows], pred[rows], average="micro"))
    occurring = np.flatnonzero(y[rows].sum(0) + pred[rows].sum(0))
    assert metrics.macro_f1_from_counts(tp, fp, fn) == pytest.approx(
        skm.f1_score(y[rows], pred[rows], average="macro", labels=occurring, zero_division=0))


def test_per_label_report(sample):
    y, pred, _ = sample
    report = metrics.per_label(y, pred, list("abcdefgh"))
    assert report["support"].is_monotonic_decreasing
    assert report.loc["a", "f1"] == pytest.approx(skm.f1_score(y[:, 0], pred[:, 0]))


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="shape"):
        metrics.evaluate(np.zeros((3, 2)), np.zeros((3, 3)))


def test_macro_f1_skips_labels_nobody_mentions_and_counts_false_alarms():
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    assert metrics.evaluate(y, y)["macro_f1"] == 1.0  # label 3: no truth, no prediction, no F1
    pred = y.copy()
    pred[0, 2] = 1  # a false alarm on label 3 is an F1 of 0 for it
    assert metrics.evaluate(y, pred)["macro_f1"] == pytest.approx((1 + 1 + 0) / 3)
    assert metrics.evaluate(np.zeros((2, 2)), np.zeros((2, 2)))["macro_f1"] == 0.0


def test_macro_interval_on_many_rare_labels_holds_the_point_near_its_middle():
    # 60 labels with one to three test documents each; 15% of documents get no label
    # and 5% get a neighbouring label instead. Scoring a label that a resample leaves
    # out (no truth, no prediction) as F1 = 0 put the whole interval below the point.
    rng = np.random.default_rng(3)
    n, labels = 400, 60
    y = np.zeros((n, labels), dtype=int)
    for j in range(labels):
        y[rng.choice(n, size=1 + j % 3, replace=False), j] = 1
    pred = y.copy()
    pred[rng.random(n) < 0.15] = 0
    for i in np.flatnonzero(rng.random(n) < 0.05):
        pred[i] = np.roll(pred[i], 1)
    row = stats.bootstrap(y, pred, n_samples=1000, seed=0).loc["macro_f1"]
    assert row["low"] < row["value"] < row["high"]
    middle = (row["low"] + row["high"]) / 2
    assert abs(row["value"] - middle) < 0.25 * (row["high"] - row["low"])
    tp, fp, fn = metrics.counts(y, pred, stats.resample_weights(n, 1000, 0))
    assert np.quantile(metrics.f1_from_counts(tp, fp, fn).mean(1), 0.975) < row["value"]  # the old treatment


def test_frequency_groups_and_group_macro_f1():
    from mlstc.evaluation import metrics as m

    groups = m.frequency_groups([100, 35, 34, 9, 8, 0])
    assert groups["head"].tolist() == [0, 1] and groups["medium"].tolist() == [2, 3]
    assert groups["tail"].tolist() == [4, 5]
    y = np.array([[1, 1, 0, 0, 1, 0], [1, 0, 1, 0, 0, 0]])
    pred = np.array([[1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]])
    scores = m.group_macro_f1(y, pred, [100, 35, 34, 9, 8, 0])
    assert scores["head_macro_f1"] == 1.0
    assert scores["medium_macro_f1"] == 0.0  # label 2 missed; label 3 has no F1 and is left out
    assert scores["tail_macro_f1"] == 0.0
