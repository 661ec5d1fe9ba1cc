"""Saving and gathering results (introduced in chapter 00).

Each chapter writes, per (dataset, model), a metrics JSON and, where it has them,
validation and test probabilities (``.npz``): ``<dataset>__<model>.json`` under
``results/<profile>/<chapter>/``. A running chapter writes into its staging folder
(``folder=``) and :mod:`mlstc.book.setup` moves the files into ``results/`` when the
chapter finishes. Every write is atomic, and the JSON records the SHA-256 of the
arrays it belongs to, so a later chapter never reads a half-written or mismatched
file as valid. :func:`table` gathers the JSON files into one pandas table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mlstc.core import paths, storage, system
from mlstc.evaluation import thresholds as threshold_rules
from mlstc.saved import base

SCHEMA = 1


def stem(dataset: str, model: str) -> str:
    """``<dataset>__<model>``, both made file-name safe."""
    return f"{storage.slug(dataset)}__{storage.slug(model)}"


def seed_name(model: str, seed: int) -> str:
    """The name a model trained again with another ``seed`` is saved under:
    ``bert-128-seed1`` for ``bert-128`` with seed 1 (chapter 03's extra fine-tunes)."""
    return f"{model}-seed{seed}"


def seed_names(model: str, seeds: int, seed: int = 0) -> list[str]:
    """Every name a run with ``seeds`` seeds from ``seed`` saves ``model`` under: the
    first seed's ``model``, then :func:`seed_name` of each other seed."""
    return [model, *(seed_name(model, seed + k) for k in range(1, seeds))]


def schedule(trained) -> dict:
    """What a result row records of a training: the epochs run, the epoch kept (the best
    validation micro-F1) and the training seconds (``trained``: anything with a Keras
    ``history`` dict and ``train_seconds``, e.g. a fine-tune; the stored run's seconds
    when the fit cache restored it)."""
    return {"epochs run": len(trained.history["loss"]),
            "best epoch": int(np.argmax(trained.history["val_micro_f1"])) + 1,
            "train seconds": round(trained.train_seconds, 1)}


def run_dir(profile: str, notebook: str) -> Path:
    return paths.results_dir(profile) / storage.slug(notebook)


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
    folder: Path | None = None,
) -> Path:
    """Write ``<dataset>__<model>.json`` (and ``.npz`` with ``probs`` by split) into
    ``folder`` (default ``results/<profile>/<notebook>/``); return the JSON path.
    ``dataset`` is the dataset's key (:attr:`mlstc.data.Dataset.key`)."""
    folder = Path(folder) if folder else run_dir(profile, notebook)
    name = stem(dataset, model)
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
        "peak_memory_mib": system.peak_memory_mib(),
        "versions": system.versions(),
        "machine": system.machine(),
        "extra": dict(extra or {}),
        "probs": None,
    }
    if probs:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{split: np.asarray(p, dtype=np.float32) for split, p in probs.items()})
        payload = buffer.getvalue()
        storage.atomic_write_bytes(folder / f"{name}.npz", payload)
        record["probs"] = {"file": f"{name}.npz", "sha256": hashlib.sha256(payload).hexdigest(),
                           "splits": sorted(probs)}
    return storage.atomic_write_json(folder / f"{name}.json", record)


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


def path(profile: str, notebook: str, dataset: str, model: str) -> Path:
    """The metrics JSON of one (chapter, dataset, model)."""
    return run_dir(profile, notebook) / f"{stem(dataset, model)}.json"


def load(profile: str, notebook: str, dataset: str, model: str) -> dict:
    """The metrics record of one (chapter, dataset, model), with a clear error when
    the chapter has not saved it."""
    json_path = path(profile, notebook, dataset, model)
    if not json_path.is_file():
        raise FileNotFoundError(f"{json_path} does not exist: run chapter {notebook} in the {profile} profile "
                                f"on {dataset} (`python -m mlstc run {notebook[:2]} --profile {profile}`).")
    return json.loads(json_path.read_text())


def _columns(record: dict, notebook: str, dataset, model: str) -> list[int]:
    return base.columns(record["label_names"], dataset.label_names,
                        f"{model} of {notebook} on {dataset.key} (rerun {notebook} on this data set)")


def probs_for(profile: str, notebook: str, dataset, model: str) -> dict[str, np.ndarray]:
    """The saved validation and test probabilities of one (chapter, model) on
    ``dataset`` (anything with ``key`` and ``label_names``), their columns in the
    dataset's label order: the one place a later chapter realigns a saved run's labels."""
    record = load(profile, notebook, dataset.key, model)
    columns = _columns(record, notebook, dataset, model)
    probs = load_probs(path(profile, notebook, dataset.key, model))
    return {split: probs[split][:, columns] for split in ("validation", "test") if split in probs}


def predictions_for(profile: str, notebook: str, dataset, model: str, split: str = "test") -> np.ndarray:
    """A saved run's predictions on ``split`` at the thresholds it chose on validation
    (``extra.thresholds``), columns in the dataset's label order like :func:`probs_for`."""
    record = load(profile, notebook, dataset.key, model)
    columns = _columns(record, notebook, dataset, model)
    cuts = np.broadcast_to(np.asarray(record["extra"]["thresholds"], dtype=float), (len(record["label_names"]),))
    probs = load_probs(path(profile, notebook, dataset.key, model))[split]
    return threshold_rules.predict(probs[:, columns], cuts[columns])


OBJECTIVES = ("best micro-F1", "best macro-F1", "cheapest within 1 point")
WITHIN = 0.01  # "within 1 point" of the best validation micro-F1


def recipes(profile: str, datasets: list[str] | None = None, objectives=OBJECTIVES) -> pd.DataFrame:
    """Per dataset and objective, the system chosen on *validation* among every saved
    result that records validation scores over the data set's own labels (not, say, a
    hierarchy's extra group nodes, which would make the scores incomparable):

    - ``best micro-F1``: the best validation micro-F1;
    - ``best macro-F1``: the best validation macro-F1;
    - ``cheapest within 1 point``: the least training time among the systems within
      one point of the best validation micro-F1 (only systems with a recorded cost).

    Each row has its test scores, what it was ``chosen by`` and its cost, the training
    seconds its chapter recorded for it (for an ensemble, chapters 05 and 06 record its
    members' and its combiner's). A system that records none gets no cost, not the
    chapter's wall time when it was saved, which depends on what the run restored."""
    found = records(profile)
    usual = {}
    for record in found:  # the label set most results of a data set are scored on
        usual.setdefault(record["dataset"], []).append(tuple(record.get("label_names") or ()))
    usual = {d: max(set(v), key=v.count) for d, v in usual.items()}
    rows = []
    for record in found:
        if tuple(record.get("label_names") or ()) != usual[record["dataset"]]:
            continue
        m = record["metrics"]
        if "validation_micro_f1" not in m or (datasets and record["dataset"] not in datasets):
            continue
        rows.append({"dataset": record["dataset"], "chapter": record["notebook"], "model": record["model"],
                     "validation micro-F1": m["validation_micro_f1"],
                     "validation macro-F1": m.get("validation_macro_f1", np.nan), "test micro-F1": m.get("micro_f1"),
                     "micro low": m.get("micro_f1_low"), "micro high": m.get("micro_f1_high"),
                     "test macro-F1": m.get("macro_f1"),
                     "train minutes": m["train seconds"] / 60 if m.get("train seconds") is not None else np.nan})
    columns = ["dataset", "objective", "chosen by", "chapter", "model"]
    if not rows:
        return pd.DataFrame(columns=columns).set_index(["dataset", "objective"])
    frame = pd.DataFrame(rows)
    picked = []
    for dataset, mine in frame.groupby("dataset"):
        for objective in objectives:
            if objective == "best micro-F1":
                chosen, by = mine["validation micro-F1"].idxmax(), "validation micro_f1"
            elif objective == "best macro-F1":
                if mine["validation macro-F1"].isna().all():
                    continue
                chosen, by = mine["validation macro-F1"].idxmax(), "validation macro_f1"
            elif objective == "cheapest within 1 point":
                near = mine[(mine["validation micro-F1"] >= mine["validation micro-F1"].max() - WITHIN)
                            & mine["train minutes"].notna()]
                if not len(near):
                    continue
                chosen, by = near["train minutes"].idxmin(), "train minutes, validation micro_f1 within 1 point"
            else:
                raise ValueError(f"unknown objective {objective!r}; the objectives are {', '.join(OBJECTIVES)}")
            picked.append(mine.loc[chosen].to_dict() | {"objective": objective, "chosen by": by})
    out = pd.DataFrame(picked)
    return out[columns + [c for c in out.columns if c not in columns]].set_index(["dataset", "objective"])
