"""Chapter 04 on a user's own CSV whose labels have one level (no hierarchy)."""

import json

import pandas as pd
import pytest

from mlstc.book import runner


@pytest.mark.slow
def test_chapter_04_runs_on_a_csv_without_a_hierarchy_and_says_so(tmp_path, data_dir):
    folder = tmp_path / "mine"
    folder.mkdir()
    rows = [("Oil prices fall on supply glut", "oil"), ("Central bank raises rates", "rates|economy"),
            ("Acme beats earnings estimates", "earnings"), ("Bond yields climb", "rates")] * 30
    csv = folder / "flat_news.csv"
    pd.DataFrame(rows, columns=["text", "labels"]).to_csv(csv, index=False)
    out = runner.execute(runner.find("04"), "smoke", {"datasets": str(csv)}, output_dir=tmp_path / "book")
    text = "\n".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                     for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", []))
    assert "no label hierarchy" in text and "nothing to score" in text
    assert sorted(p.name for p in folder.iterdir()) == ["flat_news.csv"]  # nothing written beside it
