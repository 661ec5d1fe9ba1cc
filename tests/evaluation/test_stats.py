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


def test_seeds_widen_the_interval_with_a_small_sample_t(labels):
    y, rng = labels
    runs_a = [np.where(rng.random(y.shape) < 0.20, 1 - y, y) for _ in range(3)]
    spread = [0.05, 0.15, 0.25]  # system b varies a lot from seed to seed
    runs_b = [np.where(rng.random(y.shape) < r, 1 - y, y) for r in spread]
    one = stats.compare(y, runs_a[0], runs_b[1], n_samples=500).loc["micro_f1"]
    many = stats.compare(y, runs_a, runs_b, n_samples=500).loc["micro_f1"]
    assert many["b_seeds"] == 3 and many["b_seed_std"] > 0.05
    assert (many["high"] - many["low"]) > 1.5 * (one["high"] - one["low"])  # training noise counted
    assert one["a_seeds"] == 1 and one["a_seed_std"] == 0 and one["df"] == np.inf
    # paired seeds: the seed part is the spread of the three per-seed differences, with 2
    # degrees of freedom, and the t quantile of the combined degrees of freedom (never
    # below 2, never 1.96 while the seed part matters) sets the interval
    per_seed = [stats.compare(y, a, b, n_samples=50).loc["micro_f1", "delta"] for a, b in zip(runs_a, runs_b)]
    assert many["se_seeds"] == pytest.approx(np.std(per_seed, ddof=1) / np.sqrt(3))
    assert many["se"] ** 2 == pytest.approx(many["se_documents"] ** 2 + many["se_seeds"] ** 2)
    assert 2 <= many["df"] < 100
    t = stats.quantile(0.05, many["df"])
    assert t > stats.Z95 and many["high"] == pytest.approx(many["delta"] + t * many["se"])
    assert many["p"] == pytest.approx(stats.p_value(many["delta"], many["se"], many["df"]))


def test_welch_degrees_of_freedom_for_unpaired_seeds():
    variance, df = stats.seed_variance([0.50, 0.52, 0.54], [0.60, 0.61], paired=False)
    parts = [np.var([0.50, 0.52, 0.54], ddof=1) / 3, np.var([0.60, 0.61], ddof=1) / 2]
    assert variance == pytest.approx(sum(parts))
    assert df == pytest.approx(sum(parts) ** 2 / (parts[0] ** 2 / 2 + parts[1] ** 2 / 1))
    assert stats.seed_variance([0.5], [0.6], paired=False) == (0.0, np.inf)


def test_an_underflowing_p_value_still_gets_its_holm_level():
    # a difference of 60 standard errors: p underflows to 0.0 as a float, yet Holm's
    # factor and the adjusted interval come from the log p-values
    log_p = [stats.log_p_value(0.6, 0.01), stats.log_p_value(0.02, 0.01), stats.log_p_value(0.0, 0.01)]
    assert stats.p_value(0.6, 0.01) == 0.0 and np.isfinite(log_p[0])
    adjusted = stats.holm_log(log_p)
    factor = stats.holm_factor(log_p[0], adjusted[0])
    assert factor == pytest.approx(3)  # the smallest of three: Holm multiplies it by 3
    low, high = stats.adjusted_interval(0.6, 0.01, factor)
    raw_low, raw_high = stats.adjusted_interval(0.6, 0.01)
    assert low < raw_low and high > raw_high  # wider than the unadjusted interval
    assert stats.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx(np.exp(stats.holm_log(np.log([0.01, 0.04, 0.03, 0.5]))))


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


def test_the_bootstrap_standard_error_matches_the_spread_over_fresh_test_sets():
    # the interval is the point +- 1.96 se by construction, so what can fail is se: it
    # must match how much the score moves from one test set to another of the same size
    def draw(seed, n=300):
        rng = np.random.default_rng(seed)
        y = (rng.random((n, 20)) < np.linspace(0.02, 0.4, 20)).astype(int)
        return y, np.where(rng.random(y.shape) < 0.06, 1 - y, y)

    spread = {m: np.std([stats.metrics.evaluate(*draw(s))[m] for s in range(1, 201)], ddof=1)
              for m in ("micro_f1", "macro_f1")}
    table = stats.bootstrap(*draw(0), n_samples=1000, seed=0)
    for metric, sd in spread.items():
        assert 0.75 < table.loc[metric, "se"] / sd < 1.33, (metric, table.loc[metric, "se"], sd)


def test_macro_interval_uses_the_full_label_set():
    y, pred = _frequent_and_missed()
    row = stats.bootstrap(y, pred, n_samples=1000, seed=0).loc["macro_f1"]
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
        low, high = stats.adjusted_interval(row["delta"], row["se"], p_adjusted / row["p"])
        assert (low > 0) == (p_adjusted < 0.05)
        assert stats.outcome(low, high, p_adjusted) == ("better" if p_adjusted < 0.05 else "within noise")


def test_an_interval_that_excludes_zero_never_reads_within_noise():
    # chapter 05's SEntFiN weighted mean: +0.9 [+0.3, +1.5] with Holm p = 0.056
    se = stats.se_from_interval(0.003, 0.015)
    low, high = stats.adjusted_interval(0.009, se, 0.056 / stats.p_value(0.009, se))
    text = stats.verdict(0.009, low, high, p_adjusted=0.056)
    assert text.startswith("within noise")
    shown_low, shown_high = text.split("[")[1].split("]")[0].split(", ")
    assert shown_low.startswith("-") and shown_high.startswith("+")  # it spans zero, if only just
    with pytest.raises(ValueError, match="adjusted interval"):
        stats.verdict(0.009, 0.003, 0.015, p_adjusted=0.056)  # the unadjusted interval with an adjusted p
    assert stats.verdict(0.009, 0.003, 0.015, p_adjusted=0.01).startswith("better")


def test_paired_systems_share_one_label_set():
    y, pred = _frequent_and_missed()
    same = stats.compare(y, pred, pred, n_samples=200).loc["macro_f1"]
    assert same["delta"] == 0 and same["se"] == 0 and same["p"] == 1.0
    # a label no test document has: a false alarm on it costs macro-F1, over one label
    # set of every label for both sides (scored 1 where a side never predicts it)
    y = np.hstack([y, np.zeros((len(y), 1), int)])
    quiet, alarm = np.hstack([pred, np.zeros((len(y), 1), int)]), np.hstack([pred, np.zeros((len(y), 1), int)])
    alarm[0, -1] = 1
    row = stats.compare(y, quiet, alarm, n_samples=200).loc["macro_f1"]
    assert row["delta"] == pytest.approx(-1 / y.shape[1])
    assert row["a"] == pytest.approx((stats.metrics.evaluate(y, quiet)["macro_f1"] * 50 + 1) / 51)


def test_intervals_with_three_seeds_cover_a_known_difference_about_95_percent_of_the_time():
    # system a flips each (document, label) cell with probability 0.10; system b with
    # 0.08 plus a per-seed training effect (sd 0.012): the true difference in expected
    # micro-F1 is known, and 95% intervals from fresh test sets and seeds must cover it
    # about 95% of the time (a z interval that ignored the seed part would not)
    prior, labels, n = 0.3, 10, 400

    def expected_f1(rate):
        tp, fp, fn = prior * (1 - rate), (1 - prior) * rate, prior * rate
        return 2 * tp / (2 * tp + fp + fn)

    effects = np.random.default_rng(99).normal(0, 0.012, 200_000)
    true = np.mean(expected_f1(np.clip(0.08 + effects, 0, 1))) - expected_f1(0.10)
    hits, draws = 0, 300
    for k in range(draws):
        rng = np.random.default_rng(k)
        y = (rng.random((n, labels)) < prior).astype(int)
        a = np.where(rng.random(y.shape) < 0.10, 1 - y, y)
        b = [np.where(rng.random(y.shape) < r, 1 - y, y) for r in np.clip(0.08 + rng.normal(0, 0.012, 3), 0, 1)]
        row = stats.compare(y, a, b, n_samples=200, seed=k).loc["micro_f1"]
        hits += row["low"] <= true <= row["high"]
    assert 0.90 <= hits / draws <= 0.99, hits / draws
