"""The verdict page and the environment page, laid out from the committed cpu results."""


from mlstc.book import environment, verdict_page
from mlstc.core import paths, profiles
from mlstc.results import claims


def test_the_verdict_page_has_a_row_per_claim_and_a_section_per_claim_with_evidence(committed):
    found = claims.assess("cpu")
    table = verdict_page.claims_table(found)
    assert table.count("<tr>") == len(found.claims) + 1  # the heading, then one per claim
    assert "`" not in table.split("</style>")[1]  # code spans become <code>
    sections = verdict_page.evidence_sections(found)
    assert sections.count("<details>") == found.evidence["claim"].nunique()
    summary = verdict_page.summary(found)
    assert f"bears on {int((found.claims['verdict'] != 'pending').sum())} of the article's" in summary
    findings = verdict_page.key_findings(found)
    assert 1 <= len(findings) <= 5 and summary.startswith("1. **") and all("[chapter " in f for f in findings)
    assert "<td>< " not in sections  # "< 0.001" is escaped
    aside = verdict_page.aside_table(found)
    assert (aside.count("<tr>") - 1 == len(found.aside.groupby(["chapter", "dataset", "experiment"]))) if len(
        found.aside) else aside == ""
    words = set(found.claims["verdict"])
    assert words <= set(claims.VERDICTS) and all(found.claims.loc[found.claims["experiments"] > 0, "counts"])
    rows = verdict_page.forest_rows(found)
    assert {"label", "delta", "low", "high", "verdict"} <= set(rows.columns)
    assert (rows["low"] <= rows["delta"]).all() and (rows["delta"] <= rows["high"]).all()


def test_the_environment_page_lists_profiles_and_every_saved_result(committed):
    assert list(environment.profiles_table().index) == list(profiles.PROFILES)
    saved = environment.saved_results("cpu")
    chapters = [p for p in (paths.project_root() / "results" / "cpu").iterdir() if any(p.glob("*__*.json"))]
    assert saved.count("<details>") == len(chapters) > 0
    assert environment.saved_results("nonexistent-profile") == ""


def test_the_environment_page_lists_the_recorded_reproductions(tmp_path, monkeypatch):
    from mlstc.book import verify

    monkeypatch.setenv("MLSTC_RESULTS_DIR", str(tmp_path))
    assert environment.reproduced("cpu").empty
    metrics = verify.compare([{"dataset": "reuters", "model": "svm", "metrics": {"micro_f1": 0.885}}],
                             [{"dataset": "reuters", "model": "svm", "metrics": {"micro_f1": 0.885}}])
    files = verify.compare_probabilities([{"dataset": "reuters", "model": "svm", "probs": {"sha256": "a"}}],
                                         [{"dataset": "reuters", "model": "svm", "probs": {"sha256": "b"}}])
    verify.record(verify.Verified("01_preprocessing", "cpu", metrics, files, 30.04))
    row = environment.reproduced("cpu").loc["01_preprocessing"]
    shown = ("metrics identical", "judged metrics agreeing", "probability files identical", "minutes")
    assert [row[k] for k in shown] == ["1 of 1", "1 of 1", "0 of 1", 30.0]
    assert row["what disagreed"] == ""
    assert environment.disagreed({"disagreeing": [{"dataset": "reuters", "model": "bilstm", "metric": "macro_f1",
                                                   "committed": 0.478, "new": 0.379, "tolerance": 0.0478}]}) == \
        "reuters bilstm macro_f1 0.478 -> 0.379 (tolerance 0.048)"
