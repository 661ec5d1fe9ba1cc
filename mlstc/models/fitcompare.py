"""Whether two runs of the same chapters trained the same weights: the evidence an
entry of :data:`mlstc.models.fitcache.EQUIVALENT` needs (README, "Contributing").

Run chapters 00-07 in the smoke profile under the old code and under the new, each with
its own cache folder (``MLSTC_CACHE_DIR=<run>/cache``) and fit log
(``MLSTC_FIT_LOG=<run>/fits.jsonl``); then ``python -m mlstc.models.fitcompare OLD NEW``
pairs their trainings in order and compares them byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def compare_runs(a: Path, b: Path) -> tuple[list[dict], dict[str, str]]:
    """Pair the trainings of two runs of the same chapters (each with its own cache
    folder ``<run>/cache`` and ``$MLSTC_FIT_LOG`` ``<run>/fits.jsonl``), in order, and
    compare what each stored: the weights (Keras) or the pickled model (estimators),
    byte for byte, and the histories. Returns a row per pair and the code keys of
    ``b`` with the key of ``a`` each pairs with: what :data:`mlstc.models.fitcache.EQUIVALENT` gets when every
    row is identical (README, "Changing code that trains")."""
    logs = [[json.loads(line) for line in (Path(run) / "fits.jsonl").read_text().splitlines()] for run in (a, b)]
    if [(x["kind"], x["hit"]) for x in logs[0]] != [(x["kind"], x["hit"]) for x in logs[1]]:
        raise ValueError(f"{a} and {b} did not run the same trainings in the same order; rerun both alike")
    rows, pairs = [], {}
    for x, y in zip(*logs):
        entries = [Path(run) / "cache" / "fits" / line["key"] for run, line in ((a, x), (b, y))]
        row = {"kind": x["kind"], "a": x["key"], "b": y["key"], **_same_entry(*entries)}
        rows.append(row)
        pairs.setdefault(y["code"], set()).add(x["code"])
    mapping = {new: old.pop() for new, old in pairs.items() if len(old) == 1 and new != next(iter(old))}
    ambiguous = [new for new, old in pairs.items() if len(old) > 1]
    if ambiguous:
        raise ValueError(f"code keys {ambiguous} pair with more than one earlier key")
    return rows, mapping


def _same_entry(first: Path, second: Path) -> dict:
    if (first / "weights.npz").is_file():
        with np.load(first / "weights.npz") as p, np.load(second / "weights.npz") as q:
            same = p.files == q.files and all(np.array_equal(p[f], q[f]) for f in p.files)
            largest = max((float(np.max(np.abs(p[f] - q[f]))) for f in p.files if p[f].shape == q[f].shape),
                          default=0.0)
        history = [json.loads((e / "record.json").read_text()) for e in (first, second)]
        kept = lambda r: {k: v for k, v in r.items() if k not in ("seconds", "stored_at", "model")}  # noqa: E731
        return {"identical": same and _json_equal(kept(history[0]), kept(history[1])), "largest_difference": largest}
    import joblib

    same = _same_object(joblib.load(first / "fitted.joblib"), joblib.load(second / "fitted.joblib"))
    return {"identical": same, "largest_difference": 0.0 if same else float("nan")}


def _same_object(x, y, depth: int = 0) -> bool:
    """Fitted estimators equal in every array and number they hold (their pickled
    state), times (any field with ``seconds`` in its name) left out."""
    if depth > 50:
        raise RecursionError("objects nested too deep to compare")
    if type(x) is not type(y):
        return False
    if isinstance(x, np.ndarray):
        return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")
    if isinstance(x, dict):
        keys = {k for k in x if "seconds" not in str(k)}
        return keys == {k for k in y if "seconds" not in str(k)} and all(_same_object(x[k], y[k], depth + 1)
                                                                          for k in keys)
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(_same_object(u, v, depth + 1) for u, v in zip(x, y))
    if isinstance(x, float):
        return x == y or (x != x and y != y)
    if isinstance(x, (str, bytes, int, bool, type(None), np.generic)):
        return x == y
    state = (x.__getstate__(), y.__getstate__())
    if state[0] is x or state[0] is None:  # nothing beyond identity to compare
        return repr(x) == repr(y)
    return _same_object(*state, depth + 1)


def _json_equal(x, y) -> bool:
    """Equal as JSON, NaN equal to NaN, times (``seconds``, ``train_seconds``) left out."""
    if isinstance(x, dict) and isinstance(y, dict):
        keys = set(x) - {"seconds", "train_seconds"}
        return keys == set(y) - {"seconds", "train_seconds"} and all(_json_equal(x[k], y[k]) for k in keys)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_json_equal(u, v) for u, v in zip(x, y))
    if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
        return True
    return x == y


if __name__ == "__main__":  # python -m mlstc.models.fitcompare RUN_A RUN_B
    import sys

    found, equivalent = compare_runs(Path(sys.argv[1]), Path(sys.argv[2]))
    for row in found:
        print(f"{row['kind']:<24} {row['a']} {row['b']} {'identical' if row['identical'] else 'DIFFERENT'} "
              f"{row['largest_difference']:.3g}")
    print(f"{sum(r['identical'] for r in found)} of {len(found)} identical; code keys: {equivalent}")
