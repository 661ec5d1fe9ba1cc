"""Keeping trained weights across a change that computes the same: the fit log, the
equivalence table and the byte-for-byte comparison of two runs."""

import json

import numpy as np
import pytest

from mlstc.core import code
from mlstc.models import fitcache, fitcompare


def test_the_log_names_each_training_its_code_and_whether_it_was_restored(tmp_path, monkeypatch):
    log = tmp_path / "fits.jsonl"
    monkeypatch.setenv(fitcompare.LOG_ENV, str(log))
    for _ in range(2):
        fitcache.estimator("toy", lambda: {"fitted": 1}, settings={"C": 1}, data=[np.arange(3)],
                           loop=["mlstc.models.linear"])
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(x["kind"], x["hit"]) for x in lines] == [("toy", False), ("toy", True)]
    assert lines[0]["codes"] == [code.key(["mlstc.models.linear"], exempt=["mlstc.models.fitcache"])]
    assert lines[1]["codes"] == lines[0]["codes"]  # each line: the keys its training hashed
    assert lines[0]["modules"] == ["mlstc.models.linear"]


def test_a_required_training_the_cache_lacks_is_an_error(monkeypatch):
    monkeypatch.setenv(fitcompare.REQUIRE_ENV, "1")
    with pytest.raises(RuntimeError, match="would train"):
        fitcache.estimator("toy", lambda: 1, settings={}, data=[np.arange(2)], loop=["mlstc.models.linear"])
    monkeypatch.delenv(fitcompare.REQUIRE_ENV)
    assert fitcache.estimator("toy", lambda: 1, settings={}, data=[np.arange(2)], loop=["mlstc.models.linear"]) == 1
    monkeypatch.setenv(fitcompare.REQUIRE_ENV, "1")  # now kept: restored, no error
    assert fitcache.estimator("toy", lambda: 2, settings={}, data=[np.arange(2)], loop=["mlstc.models.linear"]) == 1


def test_an_equivalent_code_key_stands_for_the_older_one(monkeypatch):
    new = code.key(["mlstc.models.linear"], exempt=["mlstc.models.fitcache"])
    monkeypatch.setattr(fitcompare, "EQUIVALENT", {new: "older", "older": "oldest"})
    assert fitcache.code_key(["mlstc.models.linear"]) == "oldest"
    monkeypatch.setattr(fitcompare, "EQUIVALENT", {new: "older", "older": new})
    with pytest.raises(ValueError, match="cycle"):
        fitcache.code_key(["mlstc.models.linear"])


def _run(folder, code, weights, history):
    """A fake run: one Keras training under ``code`` with ``weights`` and ``history``."""
    entry = folder / "cache" / "fits" / f"key-{code}"
    entry.mkdir(parents=True)
    np.savez(entry / "weights.npz", w0=weights)
    (entry / "record.json").write_text(json.dumps({"history": history, "seconds": 1.0, "stored_at": "t"}))
    (folder / "fits.jsonl").write_text(json.dumps({"kind": "keras", "key": entry.name, "modules": ["m"],
                                                   "codes": ["made-by-" + code, code], "hit": False}) + "\n")
    return folder


def test_identical_runs_pair_their_code_keys_and_different_weights_are_caught(tmp_path):
    w = np.arange(6, dtype="float32").reshape(2, 3)
    old = _run(tmp_path / "old", "aaa", w, {"loss": [1.0, float("nan")]})
    new = _run(tmp_path / "new", "bbb", w.copy(), {"loss": [1.0, float("nan")]})
    rows, mapping = fitcompare.compare_runs(old, new)
    assert rows[0]["identical"] and mapping == {"bbb": "aaa", "made-by-bbb": "made-by-aaa"}
    changed = _run(tmp_path / "changed", "ccc", w + np.float32(1e-3) * (w == 5), {"loss": [1.0, float("nan")]})
    rows, _ = fitcompare.compare_runs(old, changed)
    assert not rows[0]["identical"] and rows[0]["largest_difference"] > 0
    other_history = _run(tmp_path / "history", "ddd", w, {"loss": [0.9, float("nan")]})
    assert not fitcompare.compare_runs(old, other_history)[0][0]["identical"]


def test_runs_of_different_trainings_are_not_compared(tmp_path):
    old = _run(tmp_path / "old", "aaa", np.zeros(2), {})
    new = _run(tmp_path / "new", "bbb", np.zeros(2), {})
    (new / "fits.jsonl").write_text((new / "fits.jsonl").read_text() * 2)
    with pytest.raises(ValueError, match="same trainings"):
        fitcompare.compare_runs(old, new)
