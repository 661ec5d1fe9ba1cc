"""The verdict page builder on a hand-made results folder."""

import pytest

from mlstc.core import paths
from mlstc.results import claims


def row(claim, dataset, outcome, delta=0.02, low=0.01, high=0.03):
    return claims.evidence(claim, dataset=dataset, experiment="x vs y", metric="micro_f1", delta=delta, low=low,
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
    assert "+0.4 [-0.2, +1.0]" in table.loc[claims.BY_ID["attention"].text, "evidence"][0]


def test_rewriting_a_chapter_keeps_other_data_sets_rows(folder):
    claims.write(folder / "02_lstm", "02_lstm", [row("attention", "sentfin", "better")], replace_datasets=["sentfin"])
    rows = claims.read(folder / "02_lstm" / claims.FILE)
    assert sorted(r["dataset"] for r in rows) == ["reuters", "sentfin"]
    assert claims.verdicts("cpu").loc[claims.BY_ID["attention"].text, "verdict"].startswith("depends")


def test_unknown_claims_and_outcomes_are_refused():
    with pytest.raises(ValueError, match="unknown claim 'magic'"):
        row("magic", "reuters", "better")
    with pytest.raises(ValueError, match="outcome must be"):
        row("ner", "reuters", "great")
