"""The comparison-and-claim step: one Holm family, evidence per claim, verdict words."""

import numpy as np
import pandas as pd

from mlstc.book import verdicts


class _Run:
    def __init__(self):
        self.claims, self.recorded_families, self.notebook = [], [], "01_x"

    def claim(self, claim, dataset, experiment, table, metric="micro_f1", p_holm=None, family=None, adjusted=None):
        self.claims.append((claim, dataset, experiment, metric, p_holm, adjusted))
        self.recorded_families.append(family)


def _table(delta, se):
    rows = {}
    for metric in verdicts.METRICS:
        from mlstc.evaluation import stats

        rows[metric] = {"delta": delta, "se": se, "low": delta - 1.96 * se, "high": delta + 1.96 * se,
                        "p": stats.p_value(delta, se), "a_seeds": 1, "b_seeds": 3}
    return pd.DataFrame(rows).T


def test_judge_adjusts_the_family_records_claims_and_words_the_verdicts():
    run = _Run()
    family = [verdicts.Comparison("reuters", "big vs svm", _table(0.05, 0.01), {"contextual": "big vs svm"}),
              verdicts.Comparison("reuters", "tiny vs svm", _table(0.004, 0.002)),  # p about 0.046 alone
              verdicts.Comparison("sentfin", "worse vs svm", _table(-0.03, 0.01), {"linear": "w", "rnn": "w2"})]
    judged = verdicts.judge(run, family)
    assert len(judged) == 6 and list(judged["seeds"].unique()) == ["3/1"]
    tiny = judged[judged["comparison"] == "tiny vs svm"]
    assert (tiny["outcome"] == "within noise").all()  # significant alone, not after Holm over six
    assert np.all(tiny["p_holm"] > 0.05)
    assert verdicts.outcome_counts(judged) == "2 better, 2 worse, 2 within noise"
    assert [c[0] for c in run.claims] == ["contextual", "contextual", "linear", "rnn", "linear", "rnn"]
    assert all(c[4] is not None for c in run.claims)
    # one Holm family of six tests; a comparison bearing on two claims is one test in it
    assert {f["id"] for f in run.recorded_families} == {"01_x/1"} and {f["size"] for f in run.recorded_families} == {6}
    assert [f["index"] for f in run.recorded_families] == [0, 1, 4, 4, 5, 5]
    assert list(verdicts.shown(judged).columns) == ["seeds (each side)", "verdict"]
    assert verdicts.outcome_counts(judged.iloc[:0]) == "none"
    # the evidence keeps the interval its verdict shows: the chapter's and the page's are one
    low, high = run.claims[0][5]
    assert f"[{low * 100:+.1f}, {high * 100:+.1f}]" in judged.loc[0, "verdict"]
    assert low < 0.05 - 1.96 * 0.01  # wider than the unadjusted interval: Holm's level


def test_an_underflowing_p_value_keeps_an_adjusted_interval():
    # 60 standard errors: p is 0.0 as a float; the adjusted interval is still wider
    family = [verdicts.Comparison("reuters", "huge vs svm", _table(0.6, 0.01)),
              verdicts.Comparison("reuters", "small vs svm", _table(0.004, 0.01))]
    test = verdicts.adjusted([c.table for c in family])[0]
    assert test["p_holm"] == 0.0 and test["factor"] > 1
    assert test["adj_low"] < 0.6 - 1.96 * 0.01 and test["adj_high"] > 0.6 + 1.96 * 0.01


def test_against_reads_each_metric_against_its_bar_by_its_interval():
    row = {"micro_f1": 0.90, "micro_f1_low": 0.89, "micro_f1_high": 0.91,
           "macro_f1": 0.50, "macro_f1_low": 0.45, "macro_f1_high": 0.56, "tail_macro_f1": 0.20}
    found = verdicts.against(row, {"micro_f1": 0.88, "macro_f1": 0.55, "tail_macro_f1": 0.25})
    assert list(found["outcome"]) == ["reaches", "within noise of", "misses"]
    assert found.loc["tail_macro_f1", "low"] == found.loc["tail_macro_f1", "high"] == 0.20  # no interval: the score
    assert [verdicts.phrase(o) for o in found["outcome"]] == ["reaches", "is within noise of", "misses"]
    shown = verdicts.shown_against(found)
    assert list(shown.data.index) == ["micro-F1", "macro-F1", "tail macro-F1"]  # no snake_case on the page
    assert "0.550" in shown.to_html() and "0.55<" not in shown.to_html()


def test_a_neural_result_counts_for_the_verdicts_only_with_three_seeds():
    claims = {"rnn": "BiLSTM vs SVM"}
    assert verdicts.if_seeds(claims, 1) == {} and verdicts.if_seeds(claims, 2) == {}
    assert verdicts.if_seeds(claims, 3) == claims
    assert "kept out of the verdicts (1 seed;" in verdicts.seeds_phrase(1)
    assert verdicts.seeds_phrase(3).startswith("recorded as evidence")
