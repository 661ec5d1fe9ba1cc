import numpy as np
import pytest

from mlstc.evaluation import metrics, selection, thresholds


def _rare_labels(seed=0, docs=200):
    """Ten frequent labels the scores separate, and thirty rare ones (about two
    documents each) whose scores are noise."""
    rng = np.random.default_rng(seed)
    rates = np.r_[np.full(10, 0.3), np.full(30, 0.01)]
    y = (rng.random((docs, len(rates))) < rates).astype(int)
    frequent = 0.4 * rng.random(y.shape) + 0.6 * y
    probs = np.where(np.arange(len(rates)) < 10, frequent, rng.random(y.shape))
    return y, probs


def test_cross_fitting_removes_the_optimism_of_per_label_thresholds_on_noise():
    y, probs = _rare_labels()
    in_sample = metrics.evaluate(y, thresholds.predict(probs, thresholds.fit(y, probs, "per_label")))["macro_f1"]
    honest = selection.crossfit(y, probs, "per_label")["macro_f1"]
    # the thirty noise labels look well predicted when their thresholds are tuned on the documents scored
    assert in_sample - honest > 0.01
    # on fresh documents from the same source, the in-sample score is the one that is wrong
    y_new, probs_new = _rare_labels(seed=1)
    fresh = metrics.evaluate(y_new, thresholds.predict(probs_new, thresholds.fit(y, probs, "per_label")))["macro_f1"]
    assert abs(honest - fresh) < abs(in_sample - fresh)


def test_one_global_threshold_is_barely_optimistic():
    y, probs = _rare_labels()
    in_sample = metrics.evaluate(y, thresholds.predict(probs, thresholds.fit(y, probs, "global")))["macro_f1"]
    assert abs(in_sample - selection.crossfit(y, probs, "global")["macro_f1"]) < 0.01


def test_every_document_is_predicted_by_thresholds_tuned_without_it():
    y, probs = _rare_labels(docs=100)
    pred = selection.out_of_fold(y, probs, "global", folds=4)
    assert pred.shape == y.shape and set(np.unique(pred)) <= {0, 1}
    with pytest.raises(ValueError, match="cannot be split into 5 folds"):
        selection.out_of_fold(y[:3], probs[:3], "global")
    with pytest.raises(ValueError, match="differ in shape"):
        selection.out_of_fold(y, probs[:, :5], "global")
