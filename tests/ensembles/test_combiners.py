"""Combiners on synthetic probabilities where the right answer is known."""

import numpy as np
import pytest

from mlstc import ensembles


def fitted(name, members, y_val, **options):
    return ensembles.fit(name, members, y_val, np.asarray(y_val).mean(0), **options)


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    y = {s: (rng.random((n, 5)) < 0.3).astype(int) for s, n in (("validation", 300), ("test", 200))}
    perfect = {s: np.clip(0.9 * y[s] + 0.05, 0, 1) for s in y}
    noise = {s: rng.random(y[s].shape) for s in y}
    weak = {s: np.clip(0.2 * y[s] + 0.6 * rng.random(y[s].shape), 0, 1) for s in y}
    return y, {"perfect": perfect, "noise": noise, "weak": weak}


def test_a_perfect_member_gets_the_weight(case):
    y, members = case
    weights = fitted("weighted-mean", members, y["validation"]).weights
    assert weights["perfect"] > 0.9 and sum(weights.values()) == pytest.approx(1)
    selected = fitted("ensemble-selection", members, y["validation"], rounds=10)
    assert selected.weights["perfect"] == pytest.approx(1.0)
    assert np.array_equal(selected.probs["test"] >= 0.5, y["test"] == 1)


def test_mean_and_rank_mean_shapes_and_ranges(case):
    y, members = case
    for combined in (fitted(name, members, y["validation"]).probs for name in ("mean", "rank-mean")):
        assert combined["test"].shape == y["test"].shape and 0 <= combined["test"].min() <= combined["test"].max() <= 1


def test_calibration_maps_scores_to_frequencies(case):
    y, _ = case
    rng = np.random.default_rng(1)
    margin = {s: 4 * (y[s] - 0.5) + rng.normal(size=y[s].shape) for s in y}  # SVM-like decision values
    scores = {s: 1 / (1 + np.exp(-3 * m)) for s, m in margin.items()}  # over-confident scores
    calibrated = ensembles.calibrate(scores, y["validation"])
    high = calibrated["test"] > 0.9
    assert y["test"][high].mean() > 0.85  # "0.9" now means about 90%
    assert np.mean(np.abs(calibrated["test"] - y["test"])) < np.mean(np.abs(scores["test"] - y["test"])) + 0.05


@pytest.mark.slow
def test_stacking_is_out_of_fold_and_never_sees_test_labels(case):
    y, members = case
    stacked = fitted("stacking-logreg", members, y["validation"]).probs
    flipped = y["validation"].copy()
    flipped[7, 2] = 1 - flipped[7, 2]
    again = fitted("stacking-logreg", members, flipped).probs
    assert again["validation"][7, 2] == pytest.approx(stacked["validation"][7, 2])  # its own label never used for it
    order = np.random.default_rng(2).permutation(len(y["test"]))
    shuffled = {n: {"validation": m["validation"], "test": m["test"][order]} for n, m in members.items()}
    assert np.allclose(fitted("stacking-logreg", shuffled, y["validation"]).probs["test"], stacked["test"][order])
    assert ((stacked["test"] >= 0.5) == y["test"]).mean() > 0.95


@pytest.mark.parametrize("name", ["weighted-mean", "ensemble-selection"])
def test_weighted_combiners_score_validation_out_of_fold(case, name):
    """A document's validation probability comes from weights fitted without it (so
    the combiners can be compared on validation); test from the fit on all of it."""
    y, members = case
    rng = np.random.default_rng(3)
    members = {"weak": members["weak"], "noise": members["noise"],  # no perfect member: weights not saturated
               "fair": {s: np.clip(0.4 * y[s] + 0.6 * rng.random(y[s].shape), 0, 1) for s in y}}
    first = fitted(name, members, y["validation"], rounds=5)
    w = np.array([first.weights[n] for n in members])
    np.testing.assert_allclose(first.probs["test"],
                               np.tensordot(w, np.stack([m["test"] for m in members.values()]), 1), atol=1e-12)
    flipped = y["validation"].copy()
    flipped[7] = 1 - flipped[7]
    again = ensembles.fit(name, members, flipped, y["validation"].mean(0), rounds=5)
    np.testing.assert_allclose(again.probs["validation"][7], first.probs["validation"][7], rtol=0, atol=1e-12)
    if name == "weighted-mean":  # the flip moves the weights, so an in-sample row 7 would move too
        assert not np.allclose(again.probs["test"], first.probs["test"], rtol=0, atol=1e-9)


@pytest.mark.slow
def test_lightgbm_stacker_learns_from_pairs(case):
    y, members = case
    out = fitted("stacking-lightgbm", members, y["validation"]).probs
    assert out["test"].shape == y["test"].shape
    assert ((out["test"] >= 0.5) == y["test"]).mean() > 0.95


def test_rank_mean_keeps_each_labels_base_rate():
    """A rare and a common label: after rank-mean one global threshold must not
    predict both for the same share of documents (the quantile scale did)."""
    rng = np.random.default_rng(0)
    y = np.stack([rng.random(400) < 0.02, rng.random(400) < 0.5], 1).astype(int)
    members = {n: {s: np.clip(y * 0.7 + rng.random(y.shape) * 0.3, 0, 1) for s in ("validation", "test")}
               for n in ("a", "b")}
    combined = fitted("rank-mean", members, y).probs
    predicted = (combined["validation"] >= 0.5).mean(0)
    assert abs(predicted[0] - y[:, 0].mean()) < 0.03 and abs(predicted[1] - y[:, 1].mean()) < 0.1
    # monotone per label: the order of documents is the order of their mean quantile
    assert np.all(np.diff(combined["validation"][np.argsort(combined["validation"][:, 0]), 0]) >= 0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ensembles.NAMES)
def test_a_fitted_combiner_reproduces_its_test_probabilities_after_pickling(case, name):
    import pickle

    y, members = case
    out = fitted(name, members, y["validation"], rounds=5)
    again = pickle.loads(pickle.dumps(out.combiner))
    test = {n: m["test"] for n, m in members.items()}
    np.testing.assert_allclose(again.apply(test), out.probs["test"], rtol=0, atol=1e-12)
    assert set(again.members) <= set(members)
    if out.weights is not None:  # members without weight are not needed to predict
        assert set(again.members) == {n for n, w in out.weights.items() if w > 0}
        with pytest.raises(KeyError, match=again.members[0]):
            again.apply({n: p for n, p in test.items() if n != again.members[0]})


def test_platt_is_the_scaling_calibrate_gives_test_scores(case):
    y, members = case
    scores = {s: 1 / (1 + np.exp(-4 * (m - 0.5))) for s, m in members["weak"].items()}
    calibrated = ensembles.calibrate(scores, y["validation"])
    scaling = ensembles.platt(scores["validation"], y["validation"])
    np.testing.assert_allclose(scaling.apply(scores["test"]), calibrated["test"], atol=1e-12)


@pytest.mark.slow
def test_every_combiner_name_runs_and_keeps_shapes():
    rng = np.random.default_rng(0)
    y_val = (rng.random((60, 3)) < 0.3).astype(int)
    pool = {name: {"validation": np.clip(y_val * 0.6 + rng.random((60, 3)) * 0.4, 0, 1),
                   "test": rng.random((20, 3))} for name in ("a", "b")}
    assert ensembles.NAMES
    for name in ensembles.NAMES:
        out = fitted(name, pool, y_val, rounds=3).probs
        assert out["validation"].shape == (60, 3) and out["test"].shape == (20, 3), name
    with pytest.raises(ValueError, match="unknown combiner"):
        fitted("median", pool, y_val)


def test_the_registry_is_the_one_list_of_combiners():
    from mlstc.ensembles import combiners

    assert combiners.NAMES == tuple(combiners.COMBINERS) and len(combiners.NAMES) == 6
    with pytest.raises(ValueError, match="registered twice"):
        combiners.combiner("mean")(lambda *a, **k: None)
    with pytest.raises(ValueError, match="unknown combiner 'median'"):
        combiners.fit("median", {}, None, None)
