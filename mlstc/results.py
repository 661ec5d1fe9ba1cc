"""Saving and gathering results (introduced in chapter 00).

Each notebook run writes, per (dataset, model), a metrics JSON and, where it has
them, validation and test probabilities (``.npz``) under
``results/<profile>/<notebook>/``. Every write is atomic (a temporary file in the
same folder, flushed, then renamed), and the JSON records the SHA-256 of the arrays
it belongs to, so a later chapter never reads a half-written or mismatched file as
valid. :func:`table` gathers the JSON files into one pandas table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mlstc import env, paths

SCHEMA = 1


def atomic_write_bytes(path: Path, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` so that readers see the old file or the new one,
    never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: Path, obj) -> Path:
    return atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True, default=_jsonable) + "\n").encode())


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def run_dir(profile: str, notebook: str) -> Path:
    return paths.results_dir(profile) / _slug(notebook)


def save(
    *,
    notebook: str,
    dataset: str,
    model: str,
    profile: str,
    seed: int,
    metrics: Mapping[str, float | Mapping],
    label_names: list[str] | None = None,
    probs: Mapping[str, np.ndarray] | None = None,
    wall_time_s: float | None = None,
    extra: Mapping | None = None,
) -> Path:
    """Write ``<dataset>__<model>.json`` (and ``.npz`` with ``probs`` by split);
    return the JSON path."""
    folder = run_dir(profile, notebook)
    stem = f"{_slug(dataset)}__{_slug(model)}"
    record = {
        "schema": SCHEMA,
        "notebook": notebook,
        "dataset": dataset,
        "model": model,
        "profile": profile,
        "seed": seed,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "metrics": dict(metrics),
        "label_names": list(label_names) if label_names is not None else None,
        "wall_time_s": wall_time_s,
        "peak_memory_mib": env.peak_memory_mib(),
        "versions": env.versions(),
        "machine": env.machine(),
        "extra": dict(extra or {}),
        "probs": None,
    }
    if probs:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{split: np.asarray(p, dtype=np.float32) for split, p in probs.items()})
        payload = buffer.getvalue()
        atomic_write_bytes(folder / f"{stem}.npz", payload)
        record["probs"] = {"file": f"{stem}.npz", "sha256": hashlib.sha256(payload).hexdigest(),
                           "splits": sorted(probs)}
    return atomic_write_json(folder / f"{stem}.json", record)


def load_probs(json_path: Path) -> dict[str, np.ndarray]:
    """The probabilities saved beside a metrics JSON, checked against its SHA-256."""
    json_path = Path(json_path)
    record = json.loads(json_path.read_text())
    if not record.get("probs"):
        raise FileNotFoundError(f"{json_path} was saved without probabilities.")
    npz = json_path.parent / record["probs"]["file"]
    if not npz.is_file():
        raise FileNotFoundError(f"{npz} is missing (arrays are not in git): rerun {record['notebook']} "
                                f"in the {record['profile']} profile to recreate it.")
    payload = npz.read_bytes()
    if hashlib.sha256(payload).hexdigest() != record["probs"]["sha256"]:
        raise ValueError(f"{npz} does not match {json_path.name} (another run wrote it): rerun {record['notebook']}.")
    with np.load(io.BytesIO(payload)) as arrays:
        return {split: arrays[split] for split in arrays.files}


def records(profile: str | None = None) -> list[dict]:
    """Every metrics JSON under ``results/`` (one profile, or all)."""
    root = paths.results_dir(profile or "")
    found = []
    for path in sorted(root.rglob("*.json")):
        record = json.loads(path.read_text())
        if isinstance(record, dict) and record.get("schema") == SCHEMA:  # not a saved model's labels.json
            found.append(record | {"path": str(path)})
    return found


def table(profile: str | None = None, metrics: list[str] | None = None) -> pd.DataFrame:
    """One row per (profile, notebook, dataset, model) with the chosen metrics."""
    rows = []
    for record in records(profile):
        flat = {k: v for k, v in record["metrics"].items() if isinstance(v, (int, float))}
        if metrics:
            flat = {k: flat.get(k) for k in metrics}
        rows.append({"profile": record["profile"], "notebook": record["notebook"], "dataset": record["dataset"],
                     "model": record["model"], **flat, "wall_time_s": record.get("wall_time_s")})
    if not rows:
        return pd.DataFrame(columns=["profile", "notebook", "dataset", "model"])
    return pd.DataFrame(rows).set_index(["profile", "notebook", "dataset", "model"]).sort_index()
