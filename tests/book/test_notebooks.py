"""The notebooks keep the book's conventions, and book/ holds cpu runs of the current sources."""

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from mlstc.book import runner

ROOT = Path(__file__).resolve().parents[2]
SOURCES = runner.notebooks()
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def cells(path):
    return json.loads(path.read_text())["cells"]


def code_sources(path):
    return ["".join(c["source"]) for c in cells(path)
            if c["cell_type"] == "code" and "injected-parameters" not in c["metadata"].get("tags", [])]


def test_there_are_notebooks():
    assert [p.stem for p in SOURCES][:1] == ["00_data"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_is_clean_and_follows_the_house_layout(path):
    nb = cells(path)
    for cell in nb:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, "outputs belong in book/"
    title = "".join(nb[0]["source"])
    assert title.startswith(f"# {path.stem[:2]} ")
    # the Colab badge matches the configured repository, and there is none without one
    # (mlstc.book.repository checks the same for every badge and clone line)
    url = (CONFIG.get("repository") or {}).get("url") or ""
    if url:
        badge = f"{url}/blob/{CONFIG['repository']['branch']}/book/{path.name}"
        assert badge.replace("https://github.com/", "https://colab.research.google.com/github/") in title
    else:
        assert "colab-badge" not in title
    code = [c for c in nb if c["cell_type"] == "code"]
    assert code[0]["metadata"].get("tags") == ["parameters"]
    assigned = set()
    for node in ast.parse("".join(code[0]["source"])).body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), "parameters: literals only"
        assigned |= {t.id for t in node.targets}
    assert {"profile", "seed"} <= assigned
    colab, setup_cell = code[1], code[2]  # Colab's install (not shown in the book), then the set-up
    assert "google.colab" in "".join(colab["source"]) and colab["metadata"].get("tags") == ["remove-cell"]
    assert "setup.setup(" in "".join(setup_cell["source"])


CHAPTERS = [p for p in SOURCES if int(p.stem[:2]) < 90]  # 90 and up are reference pages


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_summary_and_exercises(path):
    text = "\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown")
    assert "## Summary" in text and "## Exercises" in text


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_book_holds_a_cpu_run_of_the_current_source(path):
    executed = ROOT / "book" / path.name
    assert executed.is_file(), f"run `python -m mlstc run {path.stem}` and commit book/{path.name}"
    meta = json.loads(executed.read_text())["metadata"]["papermill"]
    assert meta["parameters"]["profile"] == "cpu" and meta["exception"] is None
    assert not any(str(meta.get(k, "")).startswith("/") for k in ("input_path", "output_path")), \
        "papermill's paths are this machine's: runner.hide_paths writes them relative"
    assert code_sources(executed) == code_sources(path), f"book/{path.name} is stale: rerun it"
    for cell in cells(executed):
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        expected = runner.EXPECTED_ERROR_TAG in cell["metadata"].get("tags", [])
        assert bool(errors) == expected, "only cells tagged raises-exception may (and must) show an error"


def prose(path):
    """The chapter as a reader sees its text: each cell's kind, and a markdown cell's source."""
    return [(c["cell_type"], "".join(c["source"]) if c["cell_type"] == "markdown" else "")
            for c in cells(path) if "injected-parameters" not in c["metadata"].get("tags", [])]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_the_executed_copy_has_the_sources_prose_cell_for_cell(path):
    """One source per chapter: ``notebooks/`` is written, ``book/`` is its papermill run,
    and an edit to the prose of one that did not reach the other fails here."""
    source, executed = prose(path), prose(ROOT / "book" / path.name)
    assert [kind for kind, _ in executed] == [kind for kind, _ in source], f"book/{path.name}: other cells"
    different = [i for i, (a, b) in enumerate(zip(source, executed)) if a != b]
    assert not different, f"book/{path.name}: markdown cells {different} differ from notebooks/{path.name}"


def test_committed_results_come_from_each_chapters_last_logged_run():
    """A chapter's run replaces its whole results folder, so every result in it was
    written by the chapter's last run in the log; an older file is a leftover that no
    current run writes (one once became the verdict page's recipe)."""
    results_dir = ROOT / "results" / "cpu"
    last = {}
    for line in (results_dir / "run_log.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("profile") == "cpu" and entry.get("started"):
            last[entry["notebook"]] = max(last.get(entry["notebook"], ""), entry["started"])
    stale = []
    for chapter, started in last.items():
        for path in sorted((results_dir / chapter).glob("*.json")):
            created = str(json.loads(path.read_text()).get("created", ""))[:19]  # UTC, as papermill's start
            if created and created < started:
                stale.append(f"{path.relative_to(ROOT)} ({created}, before the run of {started})")
    assert not stale, "results no current run wrote; rerun the chapter or remove them: " + "; ".join(stale)


def test_toc_lists_every_chapter():
    toc = (ROOT / "_toc.yml").read_text()
    assert SOURCES
    for path in SOURCES:
        assert f"file: book/{path.stem}" in toc


def test_cli_finds_notebooks_and_explains_unknown_names(capsys):
    assert runner.find("00") == runner.find("00_data") == runner.find("00_data.ipynb")
    from mlstc.book.cli import main

    assert main(["run", "42_nothing"]) == 1
    assert re.search(r"No notebook '42_nothing'.*00_data", capsys.readouterr().err)


MARKUP = [r"```.*?```", r"\{glue:[a-z]+\}`[^`]*`", r"`[^`]*`", r"\$[^$]*\$", r"\]\([^)]*\)", r"https?://\S+",
          r"\d+\.\d+\.\d+", r"\b(?:SEntFiN|Python|Keras|spaCy|TensorFlow|transformers|Jupyter Book) \d+\.\d+"]
# code, glued values, math, link targets, version numbers


def typed_decimals(markdown: str) -> list[str]:
    """Numbers with a decimal point written in prose, outside code, glue and links."""
    for pattern in MARKUP:
        markdown = re.sub(pattern, " ", markdown, flags=re.S)
    return re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", markdown)


def test_the_prose_check_catches_a_typed_number_and_spares_glue_and_citations():
    assert typed_decimals("micro-F1 was 88.5 and {glue:text}`x:.3f` and `0.5` and v3.8.0") == ["88.5"]
    assert typed_decimals("[link](https://x.org/1.2) ```\na = 0.3\n```") == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_numbers_in_prose_are_glued_or_published(path):
    from mlstc.results import published

    allowed = {published.points(name) for name in published.FIGURES}
    text = "\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown")
    typed = [n for n in typed_decimals(text) if n not in allowed]
    assert not typed, f"{path.name}: numbers typed in prose instead of glued from the run: {typed}"


def control_characters(text: str) -> list[str]:
    """Tabs, backspaces and form feeds in prose: what a LaTeX command becomes when its
    backslash is read as a JSON escape (``\\times`` -> tab + ``imes``)."""
    return [repr(text[max(0, m.start() - 20):m.end() + 10]) for m in re.finditer("[\t\b\f\r]", text)]


def test_the_escape_check_catches_a_mangled_latex_command():
    assert control_characters(json.loads(r'"$2 \\times 1.96$"')) == []  # the backslash doubled in the JSON
    assert len(control_characters(json.loads(r'"$2 \times 1.96$"'))) == 1  # \t read as a tab


NOTEBOOKS_AND_EXECUTED = SOURCES + sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS_AND_EXECUTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_markdown_has_no_mangled_escapes(path):
    text = "\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown")
    assert not control_characters(text), f"{path.name}: a LaTeX command lost its backslash: {control_characters(text)}"


def lines_of_code(path) -> int:
    """Lines of code cells that are neither blank nor comments only."""
    return sum(1 for cell in cells(path) if cell["cell_type"] == "code"
               for line in "".join(cell["source"]).splitlines() if line.strip() and not line.strip().startswith("#"))


def test_notebooks_hold_at_most_1400_lines_of_code():
    """The notebooks narrate; tables, figures and bookkeeping live in ``mlstc.book``
    (#33). Over the budget? Move what a reader need not see into the package."""
    counts = {path.stem: lines_of_code(path) for path in SOURCES}
    assert sum(counts.values()) <= 1400, counts


def test_notebooks_stay_narrative_with_few_long_code_cells():
    """Logic belongs in the package: at most ten code cells of more than 25 lines
    across the book (the article's own code, shown as written, among them)."""
    long = [(path.stem, cell.get("id")) for path in SOURCES for cell in cells(path)
            if cell["cell_type"] == "code" and len("".join(cell["source"]).splitlines()) > 25]
    assert len(long) <= 10, long
