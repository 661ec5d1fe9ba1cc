"""One repository URL: _config.yml, every Colab badge and every Colab clone line agree."""

import shutil
from pathlib import Path

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
    assert repository.point_at("https://github.com/someone/my-fork", "dev", copy) == 4
    assert repository.configured(copy) == ("https://github.com/someone/my-fork", "dev")
    assert repository.disagreements(copy) == []
    text = (copy / "book" / "00_data.ipynb").read_text()
    assert "colab.research.google.com/github/someone/my-fork/blob/dev/book/00_data.ipynb" in text
    assert "git clone --quiet --depth 1 https://github.com/someone/my-fork /content/mlstc" in text


def test_a_badge_that_disagrees_is_found(copy):
    path = copy / "notebooks" / "00_data.ipynb"
    url, branch = repository.configured(copy)
    path.write_text(path.read_text().replace(repository.badge_url(url, branch, "00_data.ipynb"),
                                             repository.badge_url("https://github.com/elsewhere/x", branch,
                                                                  "00_data.ipynb")))
    assert [p for p in repository.disagreements(copy) if "badge" in p] == [
        f"notebooks/00_data.ipynb: badge {repository.badge_url('https://github.com/elsewhere/x', branch, '00_data.ipynb')}"]
    with pytest.raises(ValueError, match="OWNER/NAME"):
        repository.point_at("git@github.com:x/y.git", root=copy)
