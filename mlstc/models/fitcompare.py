"""Keeping trained weights through a change that computes the same (used by
:mod:`mlstc.models.fitcache`, which keys a training by the code it runs).

A change that moves code without changing what it computes (a loop merged, dead code
removed) re-keys every training: hours of retraining on 2 cores. To keep the weights:

1. run chapters 00-07 in the smoke profile under the old code and under the new, each
   with its own cache folder (``MLSTC_CACHE_DIR=<run>/cache``) and fit log
   (``MLSTC_FIT_LOG=<run>/fits.jsonl``: one line per training, with every code key it
   hashed);
2. :func:`compare_runs` pairs their trainings in order and compares what each stored,
   byte for byte;
3. where every one is identical, add the code keys it pairs to :data:`EQUIVALENT`.

``python -m mlstc fits-compare BASE`` does the first two for a git commit ``BASE`` and
prints the keys for the third (:mod:`mlstc.book.equivalence`).

``MLSTC_FIT_REQUIRE=1`` makes a training the cache lacks an error, so that a rerun meant
to restore every training fails at once instead of training for hours.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

# A new code key -> the older one whose trainings it reproduces bit for bit.
EQUIVALENT: dict[str, str] = {
    # 2026-12-06: one training loop, one prediction path, one sigmoid, dead code removed.
    # 81 of 81 smoke trainings identical (54 Keras, 27 scikit-learn and LightGBM), a 12-step
    # masked-LM pretraining identical, chapter 03's cpu fine-tune (seed 0) retrained identical.
    # The last pair: the code key a BERT training hashes with its data (mlstc.models.bert's).
    "f9a6d92706230b7c": "cc34520fac16240f", "f4e4e6d1ecffef0e": "56e891c2f4fc5e1a",
    "a2b27981fb997371": "0a52ea87e785ac34", "47df79253222a6d2": "d98ad86c2ba2384e",
    "59f1153495e70c53": "925f24aef9662920", "d2c8d70b72ebb067": "ef7e034f70adefe0",
    "7ca990685396ed43": "f75bbd38a3517b8f", "ff93b9d3a3560a3d": "e283cd223b580772",
    "31a7e4ac0c075751": "e530ed5332b2593c", "6670a5b052a83611": "2cbd38d022e51b6f",
    "cebf70de839464b5": "c2cfc7898ffe9b11",
    # 2026-12-08: losses registered where defined, one early-stopping rule (callbacks.Patience),
    # table.load/reuters.load/pretrain split into steps, one hash helper, and the transformer
    # path made backend-agnostic (its TensorFlow keys unchanged): 82 of 82 smoke trainings
    # identical (`fits-compare` of next/48-jax against main fb3f5fc).
    "3bb15d2d6f86efed": "561d276aebcca97e", "33b9d501551b1c34": "55388fa789d337f1",
    "9228bc3272139b20": "12c3b07bd73b9b11", "ff8b8684c338032e": "4d21c7c3f19dbc34",
    "eae2e08e4c1a5dfe": "cfeb031e4ea6026a", "b932eee983a77557": "9b88c941309dda0b",
    "140e6fd78f0d85c4": "d5d29acffbad73be", "9b41674f364beb62": "0d0ccecf48cf20bb",
    "d919ecd09a5882d7": "78f7bdabc1f22ecd",
}
LOG_ENV = "MLSTC_FIT_LOG"  # a JSON-lines file: one line per training looked up
REQUIRE_ENV = "MLSTC_FIT_REQUIRE"  # 1: a training the fit cache lacks is an error
_codes: list[str] = []  # the code keys resolved since the log's last line (a model's own ones too)


def resolve(k: str) -> str:
    """The code key ``k`` stands for: the oldest key it is :data:`EQUIVALENT` to, else itself."""
    if os.environ.get(LOG_ENV):
        _codes.append(k)
    seen = {k}
    while k in EQUIVALENT:
        k = EQUIVALENT[k]
        if k in seen:
            raise ValueError(f"fitcompare.EQUIVALENT has a cycle through {k}")
        seen.add(k)
    return k


def log(kind: str, key: str, modules: list[str], hit: bool) -> None:
    """One line in ``$MLSTC_FIT_LOG``, if set: the training's kind and key, its modules,
    every code key its key hashed (in order; the last is its modules'), and whether it
    was restored."""
    path = os.environ.get(LOG_ENV)
    if path:
        line = {"kind": kind, "key": key, "modules": modules, "codes": list(_codes), "hit": hit}
        _codes.clear()
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def required() -> bool:
    """Whether every training must come from the cache (``$MLSTC_FIT_REQUIRE``)."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "on", "true", "yes")


def compare_runs(a: Path, b: Path) -> tuple[list[dict], dict[str, str]]:
    """Pair the trainings of two runs of the same chapters (each with its own cache
    folder ``<run>/cache`` and ``$MLSTC_FIT_LOG`` ``<run>/fits.jsonl``), in order, and
    compare what each stored: the weights (Keras) or the pickled model (estimators),
    byte for byte, and the histories. Returns a row per pair and the code keys of
    ``b`` with the key of ``a`` each pairs with: what :data:`EQUIVALENT` gets when every
    row is identical (README, "Contributing")."""
    logs = [[json.loads(line) for line in (Path(run) / "fits.jsonl").read_text().splitlines()] for run in (a, b)]
    if [(x["kind"], x["hit"]) for x in logs[0]] != [(x["kind"], x["hit"]) for x in logs[1]]:
        raise ValueError(f"{a} and {b} did not run the same trainings in the same order; rerun both alike")
    rows, pairs = [], {}
    for x, y in zip(*logs):
        entries = [Path(run) / "cache" / "fits" / line["key"] for run, line in ((a, x), (b, y))]
        row = {"kind": x["kind"], "a": x["key"], "b": y["key"], **_same_entry(*entries)}
        rows.append(row)
        if len(x["codes"]) != len(y["codes"]):
            raise ValueError(f"{x['key']} and {y['key']} hash a different number of code keys; not the same training")
        for old, new in zip(x["codes"], y["codes"]):
            pairs.setdefault(new, set()).add(old)
    ambiguous = [new for new, old in pairs.items() if len(old) > 1]
    if ambiguous:
        raise ValueError(f"code keys {ambiguous} pair with more than one earlier key")
    return rows, {new: old for new, (old,) in pairs.items() if old != new}


def _same_entry(first: Path, second: Path) -> dict:
    if (first / "weights.npz").is_file():
        with np.load(first / "weights.npz") as p, np.load(second / "weights.npz") as q:
            p, q = dict(p), dict(q)
        largest = max((float(np.max(np.abs(p[f] - q[f]))) for f in p if f in q and p[f].shape == q[f].shape),
                      default=0.0)
        kept = [{k: v for k, v in json.loads((e / "record.json").read_text()).items()
                 if k not in ("stored_at", "model")}
                for e in (first, second)]  # and times: _same_object leaves out every "seconds"
        return {"identical": _same_object(p, q) and _same_object(*kept), "largest_difference": largest}
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
