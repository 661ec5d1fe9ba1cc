"""One repository URL: _config.yml, every Colab badge and every Colab clone line agree."""

import shutil
from pathlib import Path

import nbformat
import pytest

from mlstc.book import repository

ROOT = Path(__file__).resolve().parents[2]


def test_every_badge_and_clone_line_uses_the_configured_repository():
    assert repository.disagreements(ROOT) == []


@pytest.fixture
def copy(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path)
    for folder in repository.FOLDERS:
        (tmp_path / folder).mkdir()
        for name in ("00_data.ipynb", "90_verdicts.ipynb"):
            shutil.copy(ROOT / folder / name, tmp_path / folder)
    return tmp_path


def test_pointing_at_a_fork_rewrites_config_badges_and_clone_lines(copy):
    repository.point_at(None, root=copy)
    assert repository.point_at("https://github.com/someone/my-fork", "dev", copy) == 4
    assert repository.configured(copy) == ("https://github.com/someone/my-fork", "dev")
    assert repository.disagreements(copy) == []
    text = (copy / "book" / "00_data.ipynb").read_text()
    assert text.count("colab.research.google.com/github/someone/my-fork/blob/dev/book/00_data.ipynb") == 1
    assert "git clone --quiet --depth 1 https://github.com/someone/my-fork /content/mlstc" in text
    config = (copy / "_config.yml").read_text()
    assert "use_repository_button: true" in config and "colab_url: https://colab.research.google.com" in config


def test_without_a_repository_there_is_no_button_badge_or_clone(copy):
    repository.point_at("https://github.com/someone/my-fork", root=copy)
    assert repository.point_at(None, root=copy) == 4
    assert repository.configured(copy) == ("", "main") and repository.disagreements(copy) == []
    for folder in repository.FOLDERS:
        text = (copy / folder / "00_data.ipynb").read_text()
        assert "colab-badge" not in text and "git clone" not in text and "no public repository yet" in text
        assert nbformat.reads(text, 4).cells[0].source.startswith("# 00")  # the title stays first
    config = (copy / "_config.yml").read_text()
    assert "use_repository_button: false" in config and "use_issues_button: false" in config
    assert 'colab_url: ""' in config and 'binderhub_url: ""' in config


def test_a_badge_that_disagrees_is_found(copy):
    repository.point_at("https://github.com/someone/my-fork", root=copy)
    path = copy / "notebooks" / "00_data.ipynb"
    url, branch = repository.configured(copy)
    path.write_text(path.read_text().replace(repository.badge_url(url, branch, "00_data.ipynb"),
                                             repository.badge_url("https://github.com/elsewhere/x", branch,
                                                                  "00_data.ipynb")))
    assert [p for p in repository.disagreements(copy) if "badge" in p] == [
        "notebooks/00_data.ipynb: badge "
        f"{repository.badge_url('https://github.com/elsewhere/x', branch, '00_data.ipynb')}"]
    with pytest.raises(ValueError, match="OWNER/NAME"):
        repository.point_at("git@github.com:x/y.git", root=copy)


@pytest.mark.slow
@pytest.mark.parametrize("url", [None, "https://github.com/someone/my-fork"])
def test_the_built_book_links_a_repository_only_when_one_is_set(tmp_path, url):
    import subprocess
    import sys

    shutil.copy(ROOT / "_config.yml", tmp_path)
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book")
    shutil.copytree(ROOT / "_static", tmp_path / "_static")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "intro.md").write_text("# A page\n\nText.\n")
    for folder in repository.FOLDERS:
        (tmp_path / folder).mkdir(exist_ok=True)
    repository.point_at(url, root=tmp_path)
    builder = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run([str(builder), "build", str(tmp_path), "--quiet"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    page = (tmp_path / "_build" / "html" / "intro.html").read_text(encoding="utf-8")
    if url:
        assert "github.com/someone/my-fork" in page and "issues" in page
    else:
        assert "github.com" not in page and "colab.research.google.com" not in page and "mybinder" not in page
