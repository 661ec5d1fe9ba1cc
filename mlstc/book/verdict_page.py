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

COLOURS = {"supported": "#1b7837", "contradicted": "#b2182b", "mixed": "#8c6d1f", "no detectable effect": "#4a5a6a",
           "pending": "#6b6b6b"}
STYLE = ("<style>table.mlstc{width:100%;border-collapse:collapse;table-layout:fixed;font-size:0.9em}"
         "table.mlstc th,table.mlstc td{border-top:1px solid #ccc;padding:6px 8px;vertical-align:top;"
         "text-align:left;overflow-wrap:anywhere}table.mlstc thead th{border-bottom:2px solid #888}"
         "table.mlstc td div+div{margin-top:4px}table.mlstc.auto{table-layout:auto}"
         "table.mlstc.auto td,table.mlstc.auto th{overflow-wrap:normal}</style>")
WORDS = {"supported": "**Supported**", "contradicted": "**Contradicted**", "mixed": "**Mixed**",
         "no detectable effect": "**No detectable effect**", "pending": "**Not yet counted**"}


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def chapter_links(chapters) -> str:
    return " ".join(f'<a href="{c}.html">{html.escape(c[:2])}</a>' for c in chapters)


def claim_html(claim_id: str) -> str:
    """The claim's text, its `code` spans as <code>."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(claims.BY_ID[claim_id].text))


def key_findings(found: claims.Assessment, link=lambda chapter: f"{chapter}.ipynb", most: int = 5) -> list[str]:
    """The book's strongest findings, one Markdown line each: for every claim the
    evidence settled (supported or contradicted), its decisive effect in that direction
    with its Holm-adjusted interval and a link to its chapter, strongest first (the
    adjusted bound nearest zero furthest from it), at most ``most``."""
    rows = []
    for claim_id, r in found.claims.iterrows():
        if r["verdict"] not in ("supported", "contradicted"):
            continue
        mine = found.evidence[found.evidence["claim"] == claim_id]
        if r["verdict"] == "supported":
            e = mine.loc[mine["adj_low"].idxmax()]
            strength = e["adj_low"]
        else:
            e = mine.loc[mine["adj_high"].idxmin()]
            strength = -e["adj_high"]
        chapter = e["chapter"]
        rows.append((strength, f"**{claims.BY_ID[claim_id].text[:1].upper()}{claims.BY_ID[claim_id].text[1:]}**: "
                               f"{r['verdict']} ({r['counts']}). Decisive: {e['dataset']}, {e['experiment']}, "
                               f"{claims.effect(e)} points ([chapter {chapter[:2]}]({link(chapter)}))."))
    return [text for _, text in sorted(rows, key=lambda t: -t[0])[:most]]


def summary(found: claims.Assessment, link=lambda chapter: f"{chapter}.ipynb", every_claim: bool = True) -> str:
    """What the book found, in Markdown: the strongest findings (:func:`key_findings`),
    then how many claims were tested and the claims under each verdict with the counts
    behind it (without ``every_claim``, the number of claims per verdict only). ``link``
    turns a chapter into the address of its page."""
    table = found.claims
    counts = table["verdict"].value_counts()
    findings = "\n".join(f"{i}. {line}" for i, line in enumerate(key_findings(found, link), 1))
    if not every_claim:
        tally = ", ".join(f"{counts[v]} {v if v != 'pending' else 'not yet counted'}" for v in WORDS
                          if counts.get(v, 0))
        return findings + f"\n\nOf the article's {len(table)} claims: {tally}."

    def listed(verdict):
        mine = table[table["verdict"] == verdict]
        return "; ".join(claims.BY_ID[i].text + (f" ({r.counts})" if verdict != "pending" else "")
                         for i, r in mine.iterrows())

    tested = int((table["verdict"] != "pending").sum())
    head = (f"The counted evidence bears on {tested} of the article's {len(table)} claims, in "
            f"{len(found.experiments)} experiments ({len(found.evidence)} comparisons, each scored on held-out test "
            "documents, the systems chosen on validation). By verdict:")
    parts = [f"- {words} ({counts[v]}): {listed(v)}." for v, words in WORDS.items() if counts.get(v, 0)]
    return (findings + "\n\n" if findings else "") + head + "\n\n" + "\n".join(parts)


def summary_html(found: claims.Assessment) -> str:
    """:func:`summary` rendered as HTML, for pages that paste it from this one (the
    book's landing page: MyST-NB pastes HTML, not Markdown, across documents)."""
    from markdown_it import MarkdownIt

    return MarkdownIt().render(summary(found, link=lambda chapter: f"{chapter}.html"))


def legacy_chapters(found: claims.Assessment) -> str:
    """The chapters (by number) whose evidence predates the chapter-family intervals, or ``none``."""
    legacy = sorted(set(found.evidence.loc[found.evidence["adj_low recorded"].eq(False), "chapter"]))
    return ", ".join(c[:2] for c in legacy) or "none"


def claims_table(found: claims.Assessment) -> str:
    """One row per claim: the claim, its verdict and the counts behind it, its
    decisive effects with their Holm-adjusted intervals, the chapters."""
    decisive = found.decisive()
    body = []
    for claim_id, r in found.claims.iterrows():
        mine = decisive[decisive["claim"] == claim_id]
        effects = "".join(f"<div>{html.escape(e['dataset'])}, {html.escape(e['experiment'])}: "
                          f"<b>{html.escape(claims.effect(e))}</b> ({e['verdict']})</div>"
                          for _, e in mine.iterrows()) or (
            "<div>no counted evidence yet: its chapters have not run, or their comparisons wait for "
            "three training seeds or were set aside (below)</div>")
        counts = f"<br><small>{html.escape(r.counts)}</small>" if r.experiments else ""
        body.append(f"<tr><td>{claim_html(claim_id)}</td><td style='overflow-wrap:normal'>"
                    f"<b style='color:{COLOURS[r.verdict]}'>{html.escape(r.verdict)}</b>{counts}</td>"
                    f"<td>{effects}</td><td>{chapter_links(r.chapters)}</td></tr>")
    return (STYLE + "<table class='mlstc'><colgroup><col style='width:24%'><col style='width:19%'>"
            "<col style='width:50%'><col style='width:7%'></colgroup><thead><tr><th>the article says</th>"
            "<th style='overflow-wrap:normal'>verdict</th><th>decisive effects: data set, experiment, effect in points "
            "[Holm-adjusted interval]</th><th>ch.</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def forest_rows(found: claims.Assessment) -> pd.DataFrame:
    """The decisive effects as :func:`mlstc.book.plots.forest` draws them: a label,
    the effect and its Holm-adjusted interval."""
    decisive = found.decisive()
    def metric(m):
        return m.replace("_f1", "-F1").replace("binary_accuracy", "accuracy")

    return decisive.assign(
        label=[f"{claims.BY_ID[c].id.replace('_', ' ')}: {d}, {metric(m)}"
               for c, d, m in zip(decisive["claim"], decisive["dataset"], decisive["metric"])],
        low=decisive["adj_low"], high=decisive["adj_high"])


def evidence_sections(found: claims.Assessment) -> str:
    """Every comparison, one collapsible table per claim: chapter, data set,
    experiment, metric, effect with its 95% and adjusted intervals, adjusted p,
    verdict and seeds."""
    ev = found.evidence.copy()
    ev["effect"] = [f"{_points(d)} [{_points(lo)}, {_points(hi)}]"
                    for d, lo, hi in zip(ev["delta"], ev["low"], ev["high"])]
    ev["adjusted"] = [f"[{_points(lo)}, {_points(hi)}]" for lo, hi in zip(ev["adj_low"], ev["adj_high"])]
    ev["p_shown"] = [f"{p:.3f}" if p >= 0.001 else "< 0.001" for p in ev["p_adjusted"]]
    ev["metric"] = ev["metric"].str.replace("_f1", "-F1").str.replace("binary_accuracy", "binary accuracy")
    sections = []
    for claim_id in found.claims.index:
        mine = ev[ev["claim"] == claim_id]
        if not len(mine):
            continue
        rows = "".join(f"<tr><td>{r.chapter[:2]}</td><td>{html.escape(r.dataset)}</td>"
                       f"<td>{html.escape(r.experiment)}</td>"
                       f"<td>{r.metric}</td><td>{r.effect}</td><td>{r.adjusted}</td><td>{html.escape(r.p_shown)}</td>"
                       f"<td>{r.verdict}</td><td>{r.seeds}</td></tr>" for r in mine.itertuples())
        sections.append(f"<details><summary><b>{claim_html(claim_id)}</b>: {len(mine)} comparisons</summary>"
                        "<table class='mlstc'><colgroup><col style='width:4%'><col style='width:8%'>"
                        "<col style='width:32%'><col style='width:9%'><col style='width:15%'><col style='width:12%'>"
                        "<col style='width:7%'><col style='width:9%'><col style='width:6%'></colgroup><thead><tr>"
                        "<th>ch.</th><th>data</th><th>experiment</th><th>metric</th><th>effect [95%]</th>"
                        "<th>adjusted</th><th>adj. p</th><th>verdict</th><th>seeds a/b</th></tr></thead>"
                        f"<tbody>{rows}</tbody></table></details>")
    return STYLE + "".join(sections)


def aside_table(found: claims.Assessment) -> str:
    """The comparisons a chapter recorded that test no claim's wording, one row per
    experiment and data set, with the reason they are set aside."""
    aside = found.aside
    if not len(aside):
        return ""
    grouped = aside.groupby(["chapter", "dataset", "experiment", "why"], sort=False).size().reset_index()
    rows = "".join(f"<tr><td>{r.chapter[:2]}</td><td>{html.escape(r.dataset)}</td><td>{html.escape(r.experiment)}"
                   f"</td><td>{html.escape(r.why)}</td></tr>" for r in grouped.itertuples())
    return (STYLE + f"<details><summary><b>Set aside</b>: {len(grouped)} experiments that test no claim's "
            "wording</summary><table class='mlstc'><colgroup><col style='width:5%'><col style='width:10%'>"
            "<col style='width:40%'><col style='width:45%'></colgroup><thead><tr><th>ch.</th><th>data</th>"
            f"<th>experiment</th><th>why it is not evidence on a claim</th></tr></thead><tbody>{rows}</tbody>"
            "</table></details>")


def recipes_table(recipes: pd.DataFrame) -> str:
    """:func:`mlstc.results.recipes` as one compact table: data set, objective, system
    and chapter, validation scores, test micro-F1 with its interval, macro-F1, minutes."""
    shown = pd.DataFrame({
        "data set": recipes.index.get_level_values("dataset"),
        "objective": recipes.index.get_level_values("objective"),
        "system (chapter)": [f"{m} ({c[:2]})" for m, c in zip(recipes["model"], recipes["chapter"])],
        "validation micro / macro": [f"{a:.3f} / {b:.3f}" if b == b else f"{a:.3f} / " for a, b in
                                     zip(recipes["validation micro-F1"], recipes["validation macro-F1"])],
        "test micro-F1 [95%] or ± seed sd": [
            f"{v:.3f} [{lo:.3f}, {hi:.3f}]" if lo == lo else
            (f"{v:.3f} ± {sd:.3f} ({n} seeds)" if sd == sd else f"{v:.3f}")
            for v, lo, hi, sd, n in zip(recipes["test micro-F1"], recipes["micro low"].astype(float),
                                        recipes["micro high"].astype(float), recipes["micro seed sd"].astype(float),
                                        recipes["seeds"])],
        "test macro-F1": [f"{v:.3f}" for v in recipes["test macro-F1"]],
        "train min": ["" if v != v else ("< 0.1" if v < 0.05 else f"{v:.1f}") for v in recipes["train minutes"]],
    })
    return STYLE + shown.to_html(classes="mlstc auto", escape=True, index=False)  # columns as wide as their words
