"""The nbval session's own checks (the project's ``conftest.py``): it fails when a
notebook wrote next to the user's file, and it leaves no temporary folder behind (a
full disk once failed CI: every pass had left about 2 GB in the temporary folder)."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


def _hooks():
    spec = importlib.util.spec_from_file_location("project_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _session(tmp_path, beside=()):
    own = tmp_path / "own"
    own.mkdir()
    csv = own / "headlines.csv"
    csv.write_text("text,labels\n")
    for name in beside:
        (own / name).write_text("")
    results = tmp_path / "results"
    (results / "00_data").mkdir(parents=True)
    (results / "00_data" / "r.json").write_text("{}")
    config = SimpleNamespace(_mlstc_own_data=csv, _mlstc_results=results)
    return SimpleNamespace(config=config, exitstatus=0), own, results


def test_the_session_removes_its_temporary_folders(tmp_path):
    session, own, results = _session(tmp_path)
    _hooks().pytest_sessionfinish(session, 0)
    assert session.exitstatus == 0
    assert not own.exists() and not results.exists()


def test_a_file_written_beside_the_users_csv_fails_the_session(tmp_path, capsys):
    session, own, results = _session(tmp_path, beside=["cache.npz"])
    _hooks().pytest_sessionfinish(session, 0)
    assert session.exitstatus == 1
    assert "cache.npz" in capsys.readouterr().out
    assert not own.exists() and not results.exists()
