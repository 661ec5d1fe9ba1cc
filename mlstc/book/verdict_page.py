"""The verdict page (chapter 90) in HTML: the summary of what the book found, one
row per claim of the article with its decisive effects, the full evidence behind a
collapsible section per claim, and the recipe table. The numbers come from
:func:`mlstc.results.claims.assess` and :func:`mlstc.results.recipes`; this module
only lays them out."""

from __future__ import annotations

import html
import re

import pandas as pd

from mlstc.results import claims

COLOURS = {"supported": "#1b7837", "not supported": "#b2182b", "depends": "#8c6d1f", "pending": "#6b6b6b"}
STYLE = ("<style>table.mlstc{width:100%;border-collapse:collapse;table-layout:fixed;font-size:0.9em}"
         "table.mlstc th,table.mlstc td{border-top:1px solid #ccc;padding:6px 8px;vertical-align:top;"
         "text-align:left;overflow-wrap:anywhere}table.mlstc thead th{border-bottom:2px solid #888}"
         "table.mlstc td div+div{margin-top:4px}table.mlstc.auto{table-layout:auto}"
         "table.mlstc.auto td{overflow-wrap:normal}</style>")
WORDS = {"supported": "**Supported**", "depends": "**Holds only in some settings**",
         "not supported": "**Not supported**", "pending": "**Not yet tested**"}


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def chapter_links(chapters) -> str:
    return " ".join(f'<a href="{c}.html">{html.escape(c[:2])}</a>' for c in chapters)


def claim_html(claim_id: str) -> str:
    """The claim's text, its `code` spans as <code>."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(claims.BY_ID[claim_id].text))


def summary(found: claims.Assessment) -> str:
    """What the book found, in Markdown: how many claims were tested, then the claims
    under each verdict."""
    table = found.claims
    counts = table["verdict"].value_counts()

    def listed(verdict):
        mine = table[table["verdict"] == verdict]
        return "; ".join(f"{claims.BY_ID[i].text} ({r.hold} of {r.experiments} experiments hold)"
                         if verdict == "depends" else claims.BY_ID[i].text for i, r in mine.iterrows())

    tested = int((table["verdict"] != "pending").sum())
    head = (f"The chapters tested {tested} of the article's {len(table)} claims in {len(found.experiments)} "
            f"experiments ({len(found.evidence)} comparisons, each scored on held-out test documents, the systems "
            "chosen on validation).")
    parts = [f"- {words} ({counts[v]}): {listed(v)}." for v, words in WORDS.items() if counts.get(v, 0)]
    return head + "\n\n" + "\n".join(parts)


def claims_table(found: claims.Assessment) -> str:
    """One row per claim: the claim, its verdict (and how many experiments hold), its
    decisive effects with their Holm-adjusted intervals, the chapters."""
    decisive = found.decisive()
    body = []
    for claim_id, r in found.claims.iterrows():
        mine = decisive[decisive["claim"] == claim_id]
        effects = "".join(f"<div>{html.escape(e['dataset'])}, {html.escape(e['experiment'])}: "
                          f"<b>{html.escape(claims.effect(e))}</b> ({e['verdict']})</div>"
                          for _, e in mine.iterrows()) or "<div>pending: its chapter has not run</div>"
        holds = f"<br><small>{r.hold} of {r.experiments} experiments hold</small>" if r.experiments else ""
        body.append(f"<tr><td>{claim_html(claim_id)}</td><td><b style='color:{COLOURS[r.verdict]}'>"
                    f"{html.escape(r.verdict)}</b>{holds}</td><td>{effects}</td><td>{chapter_links(r.chapters)}</td></tr>")
    return (STYLE + "<table class='mlstc'><colgroup><col style='width:26%'><col style='width:17%'>"
            "<col style='width:50%'><col style='width:7%'></colgroup><thead><tr><th>the article says</th>"
            "<th>verdict</th><th>decisive effects: data set, experiment, effect in points [Holm-adjusted "
            "interval]</th><th>ch.</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def forest_rows(found: claims.Assessment) -> pd.DataFrame:
    """The decisive effects as :func:`mlstc.book.plots.forest` draws them: a label,
    the effect and its Holm-adjusted interval."""
    decisive = found.decisive()
    metric = lambda m: m.replace("_f1", "-F1").replace("binary_accuracy", "accuracy")
    return decisive.assign(
        label=[f"{claims.BY_ID[c].id.replace('_', ' ')}: {d}, {metric(m)}"
               for c, d, m in zip(decisive["claim"], decisive["dataset"], decisive["metric"])],
        low=decisive["adj_low"], high=decisive["adj_high"])


def evidence_sections(found: claims.Assessment) -> str:
    """Every comparison, one collapsible table per claim: chapter, data set,
    experiment, metric, effect with its 95% and adjusted intervals, adjusted p,
    verdict and seeds."""
    ev = found.evidence.copy()
    ev["effect"] = [f"{_points(d)} [{_points(lo)}, {_points(hi)}]" for d, lo, hi in zip(ev["delta"], ev["low"], ev["high"])]
    ev["adjusted"] = [f"[{_points(lo)}, {_points(hi)}]" for lo, hi in zip(ev["adj_low"], ev["adj_high"])]
    ev["p_shown"] = [f"{p:.3f}" if p >= 0.001 else "< 0.001" for p in ev["p_adjusted"]]
    ev["metric"] = ev["metric"].str.replace("_f1", "-F1").str.replace("binary_accuracy", "binary accuracy")
    sections = []
    for claim_id in found.claims.index:
        mine = ev[ev["claim"] == claim_id]
        if not len(mine):
            continue
        rows = "".join(f"<tr><td>{r.chapter[:2]}</td><td>{html.escape(r.dataset)}</td><td>{html.escape(r.experiment)}</td>"
                       f"<td>{r.metric}</td><td>{r.effect}</td><td>{r.adjusted}</td><td>{r.p_shown}</td>"
                       f"<td>{r.verdict}</td><td>{r.seeds}</td></tr>" for r in mine.itertuples())
        sections.append(f"<details><summary><b>{claim_html(claim_id)}</b>: {len(mine)} comparisons</summary>"
                        "<table class='mlstc'><colgroup><col style='width:4%'><col style='width:8%'>"
                        "<col style='width:32%'><col style='width:9%'><col style='width:15%'><col style='width:12%'>"
                        "<col style='width:7%'><col style='width:9%'><col style='width:6%'></colgroup><thead><tr>"
                        "<th>ch.</th><th>data</th><th>experiment</th><th>metric</th><th>effect [95%]</th>"
                        "<th>adjusted</th><th>adj. p</th><th>verdict</th><th>seeds a/b</th></tr></thead>"
                        f"<tbody>{rows}</tbody></table></details>")
    return STYLE + "".join(sections)


def recipes_table(recipes: pd.DataFrame) -> str:
    """:func:`mlstc.results.recipes` as one compact table: data set, objective, system
    and chapter, validation scores, test micro-F1 with its interval, macro-F1, minutes."""
    shown = pd.DataFrame({
        "data set": recipes.index.get_level_values("dataset"),
        "objective": recipes.index.get_level_values("objective"),
        "system (chapter)": [f"{m} ({c[:2]})" for m, c in zip(recipes["model"], recipes["chapter"])],
        "validation micro / macro": [f"{a:.3f} / {b:.3f}" if b == b else f"{a:.3f} / " for a, b in
                                     zip(recipes["validation micro-F1"], recipes["validation macro-F1"])],
        "test micro-F1 [95%]": [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if lo == lo else f"{v:.3f}"
                                for v, lo, hi in zip(recipes["test micro-F1"], recipes["micro low"].astype(float),
                                                     recipes["micro high"].astype(float))],
        "test macro-F1": [f"{v:.3f}" for v in recipes["test macro-F1"]],
        "train min": ["" if v != v else f"{v:.1f}" for v in recipes["train minutes"]],
    })
    return STYLE + shown.to_html(classes="mlstc auto", escape=True, index=False)  # columns as wide as their words
