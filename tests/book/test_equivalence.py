"""``mlstc fits-compare``: two smoke passes, under a commit and the working tree, compared."""

import json
import subprocess

import numpy as np
import pytest

from mlstc.book import equivalence
from mlstc.core import paths


def _fake_pass(tree, folder, chapters):
    """What a smoke pass leaves: one training, its weights and the fit log (code keyed by tree)."""
    entry = folder / "cache" / "fits" / "k"
    entry.mkdir(parents=True)
    np.savez(entry / "weights.npz", w0=np.arange(3.0))
    (entry / "record.json").write_text(json.dumps({"history": {"loss": [1.0]}, "seconds": 1.0}))
    code = "old" if tree != paths.project_root() else "new"
    entry = {"kind": "keras", "key": "k", "modules": [], "codes": [code], "hit": False}
    (folder / "fits.jsonl").write_text(json.dumps(entry) + "\n")
    assert (tree / "mlstc").is_dir() and list(chapters) == ["01"]
    return folder


def _worktrees():
    out = subprocess.run(["git", "-C", str(paths.project_root()), "worktree", "list"], capture_output=True, text=True)
    return len(out.stdout.splitlines())


def test_a_commit_and_the_working_tree_are_run_apart_and_compared(tmp_path, monkeypatch):
    monkeypatch.setattr(equivalence, "smoke_pass", _fake_pass)
    before = _worktrees()
    rows, keys = equivalence.compare("HEAD", ["01"], folder=tmp_path)
    assert rows[0]["identical"] and keys == {"new": "old"}
    assert _worktrees() == before and not (tmp_path / "base").exists()  # the checkout is gone


def test_an_unknown_commit_is_named():
    with pytest.raises(ValueError, match="cannot check out 'no-such-commit'"):
        equivalence.compare("no-such-commit", ["01"])
