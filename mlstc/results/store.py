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
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mlstc.core import cpu, paths, storage, system
from mlstc.evaluation import metrics
from mlstc.evaluation import thresholds as threshold_rules
from mlstc.saved import base

SCHEMA = 1

# Probabilities are committed as 16-bit fixed point, k / SCALE: most entries are near
# zero and compress well, so every chapter's evidence fits in git. A chapter scores
# what is stored (:func:`stored`), so the JSON and the arrays agree to the last digit.
SCALE = 65535
ENCODING = "uint16/65535"


def _columns_thresholds(thresholds, width: int) -> np.ndarray | None:
    if thresholds is None:
        return None
    return np.broadcast_to(np.asarray(thresholds, dtype=float), (width,))


def quantize(p, thresholds=None) -> np.ndarray:
    """``p`` (probabilities in [0, 1]) as 16-bit codes ``round(p * SCALE)``. With
    ``thresholds`` (one per column, or one for all) a code that would move an entry
    across its column's threshold is moved to the nearest code on the entry's own
    side, so ``stored(p) >= t`` is exactly ``p >= t``: the decisions a result was
    scored with survive storage. Raises for values outside [0, 1] (logits, ranks)."""
    p = np.asarray(p, dtype=np.float64)
    if p.size and (not np.isfinite(p).all() or p.min() < -1e-6 or p.max() > 1 + 1e-6):
        raise ValueError(f"only probabilities in [0, 1] can be stored as {ENCODING} "
                         f"(got values in [{np.nanmin(p):.3g}, {np.nanmax(p):.3g}])")
    codes = np.rint(np.clip(p, 0.0, 1.0) * SCALE).astype(np.int64)
    cuts = _columns_thresholds(thresholds, p.shape[-1]) if p.ndim == 2 else None
    if cuts is not None:
        cuts = np.broadcast_to(cuts, p.shape)
        above, values = p >= cuts, dequantize(codes)
        wrong = above != (values >= cuts)
        if wrong.any():  # the first code at or above the cut, from a guess one step below it
            first = np.ceil(cuts[wrong] * SCALE).astype(np.int64) - 1
            for _ in range(3):
                first += dequantize(np.clip(first, 0, SCALE)) < cuts[wrong]
            codes[wrong] = np.where(above[wrong], first, first - 1)
            codes = np.clip(codes, 0, SCALE)
        if not np.array_equal(dequantize(codes) >= cuts, above):
            raise ValueError("a probability could not be stored on its side of its threshold")
    return codes.astype(np.uint16)


def dequantize(codes) -> np.ndarray:
    """The float32 probabilities 16-bit ``codes`` stand for (what every reader gets)."""
    return np.asarray(codes).astype(np.float32) / np.float32(SCALE)


def stored_or_float32(p, thresholds=None) -> np.ndarray:
    """:func:`stored` for probabilities; float32 for other scores (what :func:`save` keeps)."""
    try:
        return stored(p, thresholds)
    except ValueError:  # not probabilities: stored as float32, as given
        return np.asarray(p, dtype=np.float32)


RANKING = ("lrap", "keras3_accuracy", "precision@1", "precision@3")


def from_stored(row: dict, y_test, test_probs, thresholds) -> tuple[dict, bool]:
    """``row`` with its point metrics checked against the stored test probabilities at
    the saved ``thresholds``, and whether every one of them is what those arrays give
    (``extra.from_stored``, which ``verify --evidence`` recomputes). Storage keeps every
    decision, so the threshold metrics agree for a single run's row; ranking metrics
    (which ties in 16 bits can move in a late digit) are taken from the stored arrays.
    A row of seed means or of another decision rule is left as the chapter gave it."""
    again = metrics.evaluate(y_test, threshold_predict(test_probs, thresholds), test_probs)
    decided = [k for k in again if k in row and k not in RANKING]
    if not decided or any(row[k] != again[k] for k in decided):
        return row, False
    return row | {k: again[k] for k in RANKING if k in row}, True


def threshold_predict(probs, thresholds) -> np.ndarray:
    """The decisions a result was scored with: ``probs >= thresholds`` per column."""
    return threshold_rules.predict(probs, np.broadcast_to(np.asarray(thresholds, dtype=float), (np.shape(probs)[-1],)))


# Which saved result a prediction matrix is, so that a comparison can name the stored
# arrays it was computed from and ``verify --evidence`` can compute it again.
_SOURCES: dict[str, dict] = {}


def fingerprint(matrix) -> str:
    """SHA-256 of a binary matrix (labels or decisions), shape included."""
    a = (np.asarray(matrix) > 0).astype(np.int8)
    return hashlib.sha256(repr(a.shape).encode() + a.tobytes()).hexdigest()[:24]


def register(decisions, notebook: str, dataset: str, model: str, name: str | None = None) -> None:
    """Note that ``decisions`` are the test predictions of a saved result (or, with
    ``name``, one of the decision matrices saved beside it). Where two results have
    the same decisions (chapter 04's flat model and its coherent copy can), the first
    one noted keeps them: either gives the same numbers again."""
    _SOURCES.setdefault(fingerprint(decisions), {"chapter": notebook, "dataset": dataset, "model": model,
                                                 **({"decisions": name} if name else {})})


def source(decisions) -> dict | None:
    """The saved result whose test predictions ``decisions`` are, if this process
    saved or read it (:func:`register`); ``None`` otherwise."""
    found = _SOURCES.get(fingerprint(decisions))
    return dict(found) if found else None


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` of ``arrays`` whose bytes depend on the arrays alone
    (``numpy.savez_compressed`` stamps each member with the current time), so that an
    unchanged result is an unchanged file in git and its SHA-256 can be compared."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def stored(p, thresholds=None) -> np.ndarray:
    """Exactly what :func:`load_probs` will return for ``p`` once saved: score this."""
    return dequantize(quantize(p, thresholds))


def stem(dataset: str, model: str) -> str:
    """``<dataset>__<model>``, both made file-name safe."""
    return f"{storage.slug(dataset)}__{storage.slug(model)}"


def seed_name(model: str, seed: int) -> str:
    """The name a model trained again with another ``seed`` is saved under:
    ``bert-128-seed1`` for ``bert-128`` with seed 1 (chapter 03's extra fine-tunes)."""
    return f"{model}-seed{seed}"


def seeded_from(model: str) -> str:
    """The model ``model`` is another seed of (:func:`seed_name`), or ``""``."""
    base, found, seed = model.rpartition("-seed")
    return base if found and seed.isdigit() else ""


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
    thresholds=None,
    decisions: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write ``<dataset>__<model>.json`` (and ``.npz`` with ``probs`` by split) into
    ``folder`` (default ``results/<profile>/<notebook>/``); return the JSON path.
    ``dataset`` is the dataset's key (:attr:`mlstc.data.Dataset.key`). Probabilities
    are stored as 16-bit codes (:func:`quantize`, keeping each entry on its side of
    ``thresholds``); arrays that are not probabilities are kept as float32.
    ``decisions`` (name -> binary matrix, e.g. other seeds' test decisions under a
    rule) are kept bit-packed in ``<dataset>__<model>.decisions.npz``."""
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
        "machine": system.machine() | {"cpu_model": cpu.model()},
        "extra": dict(extra or {}),
        "probs": None,
    }
    if thresholds is not None and "thresholds" not in record["extra"]:
        record["extra"]["thresholds"] = np.asarray(thresholds, dtype=float)
    if probs:
        if thresholds is None:
            thresholds = (extra or {}).get("thresholds")
        try:
            arrays, encoding = {split: quantize(p, thresholds) for split, p in probs.items()}, ENCODING
        except ValueError:
            arrays, encoding = {split: np.asarray(p, dtype=np.float32) for split, p in probs.items()}, "float32"
        payload = npz_bytes(arrays)
        storage.atomic_write_bytes(folder / f"{name}.npz", payload)
        record["probs"] = {"file": f"{name}.npz", "sha256": hashlib.sha256(payload).hexdigest(),
                           "splits": sorted(probs), "encoding": encoding}
    if decisions:
        record["decisions"] = _save_decisions(folder / f"{name}.decisions.npz", decisions)
    return storage.atomic_write_json(folder / f"{name}.json", record)


def _save_decisions(target: Path, decisions: Mapping[str, np.ndarray]) -> dict:
    widths = {np.shape(m)[-1] for m in decisions.values()}
    if len(widths) != 1:
        raise ValueError(f"decision matrices of one result have one width (got {sorted(widths)})")
    payload = npz_bytes({k: np.packbits(np.asarray(m) > 0, axis=-1) for k, m in decisions.items()})
    storage.atomic_write_bytes(target, payload)
    return {"file": target.name, "sha256": hashlib.sha256(payload).hexdigest(), "names": sorted(decisions),
            "columns": widths.pop(), "encoding": "packbits"}


def _verified_arrays(json_path: Path, part: str, what: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The record of a metrics JSON and the arrays of the file its ``part`` (``probs``
    or ``decisions``) names, checked against the SHA-256 the record holds."""
    json_path = Path(json_path)
    record = json.loads(json_path.read_text())
    if not record.get(part):
        raise FileNotFoundError(f"{json_path} was saved without {what}.")
    npz = json_path.parent / record[part]["file"]
    if not npz.is_file():
        raise FileNotFoundError(f"{npz} is missing (this result was committed before its {what} were): "
                                f"rerun {record['notebook']} in the {record['profile']} profile to recreate it.")
    payload = npz.read_bytes()
    if hashlib.sha256(payload).hexdigest() != record[part]["sha256"]:
        raise ValueError(f"{npz} does not match {json_path.name} (another run wrote it): rerun {record['notebook']}.")
    with np.load(io.BytesIO(payload)) as arrays:
        return record, {name: arrays[name] for name in arrays.files}


def _unpacked(record: dict, packed) -> np.ndarray:
    return np.unpackbits(packed, axis=-1, count=record["decisions"]["columns"]).astype(np.int8)


def load_decisions(json_path: Path) -> dict[str, np.ndarray]:
    """The decision matrices saved beside a metrics JSON (:func:`save`'s
    ``decisions``), as int8 0/1, checked against its SHA-256."""
    record, packed = _verified_arrays(json_path, "decisions", "decisions")
    return {k: _unpacked(record, v) for k, v in packed.items()}


def load_probs(json_path: Path) -> dict[str, np.ndarray]:
    """The probabilities saved beside a metrics JSON, checked against its SHA-256."""
    _, arrays = _verified_arrays(json_path, "probs", "probabilities")
    return {split: dequantize(a) if a.dtype == np.uint16 else a for split, a in arrays.items()}


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
    decisions = threshold_rules.predict(probs[:, columns], cuts[columns])
    if split == "test" and columns == list(range(len(columns))):
        register(decisions, notebook, dataset.key, model)
    return decisions


def decisions_for(profile: str, notebook: str, dataset, model: str, name: str) -> np.ndarray:
    """One decision matrix saved beside a result (:func:`load_decisions`), columns in
    the dataset's label order like :func:`predictions_for`."""
    record, packed = _verified_arrays(path(profile, notebook, dataset.key, model), "decisions", "decisions")
    columns = _columns(record, notebook, dataset, model)  # one matrix unpacked, the record read once
    if name not in packed:
        raise KeyError(f"{model} of {notebook} on {dataset.key} saved no decisions named {name!r}")
    return _unpacked(record, packed[name])[:, columns]
