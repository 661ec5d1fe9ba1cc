"""The verdict page builder on a hand-made results folder."""

import pytest

from mlstc.core import paths
from mlstc.results import claims


def row(claim, dataset, outcome, delta=0.02, low=0.01, high=0.03, metric="micro_f1", experiment="x vs y"):
    return claims.evidence(claim, dataset=dataset, experiment=experiment, metric=metric, delta=delta, low=low,
                           high=high, outcome=outcome)


@pytest.fixture
def folder():
    root = paths.results_dir("cpu")
    claims.write(root / "01_preprocessing", "01_preprocessing", [
        row("ner", "reuters", "better"), row("ner", "sentfin", "better"),
        row("pos", "reuters", "within noise", 0.001, -0.01, 0.012), row("pos", "sentfin", "worse", -0.02, -0.03, -0.01),
        row("contextual", "reuters", "better"), row("contextual", "sentfin", "within noise", 0.0, -0.01, 0.01)])
    claims.write(root / "02_lstm", "02_lstm", [row("attention", "reuters", "within noise", 0.004, -0.002, 0.01)])
    return root


def test_verdicts_from_evidence(folder):
    table = claims.verdicts("cpu")
    verdict = {c.id: table.loc[c.text, "verdict"] for c in claims.CLAIMS}
    assert verdict["ner"] == "supported"
    assert verdict["pos"] == "not supported"
    assert verdict["attention"] == "not supported"  # a tie is not a win
    assert verdict["contextual"].startswith("depends (holds for reuters")
    assert verdict["hierarchical"] == "pending" and verdict["domain"] == "pending"  # chapters not run
    assert table.loc[claims.BY_ID["hierarchical"].text, "evidence"] == ["pending: run 04_hierarchical"]
    assert "+0.4 [-0.2, +1.0] micro-F1" in table.loc[claims.BY_ID["attention"].text, "evidence"][0]


def test_rewriting_a_chapter_keeps_other_data_sets_rows(folder):
    claims.write(folder / "02_lstm", "02_lstm", [row("attention", "sentfin", "better")], replace_datasets=["sentfin"])
    rows = claims.read(folder / "02_lstm" / claims.FILE)
    assert sorted(r["dataset"] for r in rows) == ["reuters", "sentfin"]
    assert claims.verdicts("cpu").loc[claims.BY_ID["attention"].text, "verdict"].startswith("depends")


def test_an_experiment_holds_only_where_no_metric_is_worse():
    root = paths.results_dir("cpu")
    experiment = "fine-tuned MiniLM vs BiLSTM"
    claims.write(root / "03_bert", "03_bert", [
        row("contextual", "reuters", "better", 0.013, 0.005, 0.021, experiment=experiment),
        row("contextual", "reuters", "worse", -0.07, -0.10, -0.04, metric="macro_f1", experiment=experiment)])
    result = claims.assess("cpu")
    assert result.experiments["outcome"].tolist() == ["mixed"]
    assert result.claims.loc["contextual", "verdict"] == "not supported"


def test_one_family_per_claim_and_intervals_that_match_the_adjusted_p():
    root = paths.results_dir("cpu")
    # alone, +1.0 [+0.1, +1.9] would be better; among 20 comparisons of one claim it is not
    rows = [row("ensembles", "sentfin", "better", 0.010, 0.001, 0.019, experiment="weighted mean vs best member")]
    rows += [row("ensembles", "reuters", "within noise", 0.0, -0.01, 0.01, experiment=f"e{i}") for i in range(19)]
    claims.write(root / "05_ensembles", "05_ensembles", rows)
    evidence = claims.assess("cpu").evidence
    first = evidence.iloc[0]
    assert first["p"] < 0.05 and first["p_adjusted"] > 0.05 and first["verdict"] == "within noise"
    assert first["adj_low"] < 0 < first["adj_high"]
    assert ((evidence["adj_low"] > 0) | (evidence["adj_high"] < 0)).eq(evidence["verdict"] != "within noise").all()
    assert evidence["se from interval"].all()  # these rows carry no standard error of their own


def test_naive_bayes_and_svms_are_judged_apart_and_softmax_ce_is_a_cross_entropy():
    assert claims.file_under("linear", "tuned linear SVM vs Naive Bayes on tf-idf") == "naive_bayes"
    assert claims.file_under("linear", "BiLSTM + attention vs nb-tf-idf (chapter 01)") == "naive_bayes"
    assert claims.file_under("linear", "fine-tuned MiniLM vs svm-tf-idf (chapter 01)") == "svm"
    assert claims.file_under("dependencies", "minilm linear head: softmax-ce vs BCE") == "cross_entropy"
    assert claims.file_under("dependencies", "minilm linear head: zlpr vs BCE") == "dependencies"
    assert row("linear", "reuters", "better", experiment="svm vs Naive Bayes")["claim"] == "naive_bayes"


def test_unknown_claims_and_outcomes_are_refused():
    with pytest.raises(ValueError, match="unknown claim 'magic'"):
        row("magic", "reuters", "better")
    with pytest.raises(ValueError, match="outcome must be"):
        row("ner", "reuters", "great")
