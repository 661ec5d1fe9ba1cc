"""Trained weights kept by everything that determines them, so that no training runs
twice (introduced in chapter 02; used by every neural model through
:func:`mlstc.models.training.fit`).

A training run is determined by

- the model: its architecture (every layer's configuration, auto-numbered layer names
  made canonical) and its weights *before* training, which carry the seed's
  initialisation and any pretrained checkpoint;
- how it is compiled: optimizer and learning-rate schedule, loss and its settings,
  dtype policy (in each layer's configuration), ``jit_compile``;
- the data it sees: training and validation inputs and labels, batch size;
- the loop's settings: epochs, patience, seed, steps per epoch, the validation score;
- the code the training can run: the modules of the package that the training loop
  and the model's layers and loss import, followed to the end
  (:func:`mlstc.core.code.closure`; a change to, say, the ensembles does not retrain
  a BiLSTM), and the versions of Keras, KerasHub, TensorFlow and NumPy.

:func:`key` hashes all of them. :func:`restore` loads the weights a run with the same
key left after training (the best epoch's, as the loop restores them) and its history,
and says so; :func:`store` keeps them. Anything else (another seed, one more epoch, a
changed line of a loss) is another key, so a stale entry is never read.

Models that are not Keras models (the linear grids, LightGBM, classifier chains)
are kept whole by :func:`estimator`: pickled with joblib and keyed the same way, by
their settings, the content of their data, the code they run and the versions of
the libraries that fit them.

Entries live in ``<cache>/fits/<key>/`` (see :func:`mlstc.core.paths.cache_dir`);
the least recently used go first when the folder passes ``$MLSTC_FIT_CACHE_GB``
(default ``$MLSTC_CACHE_GB``, else 10 GiB). ``MLSTC_FIT_CACHE=0`` trains every time
(the speed benchmarks do), as ``MLSTC_CACHE=0`` does for every cache
(:mod:`mlstc.core.folders`).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from mlstc.core import cache, code, folders, storage, system
from mlstc.models import fitcompare

if TYPE_CHECKING:
    import keras

T = TypeVar("T")


def _keras():
    """Keras, imported on first use: :func:`estimator` serves scikit-learn models
    without loading TensorFlow."""
    system.import_backend()
    import keras

    return keras

ENV = folders.SWITCH_ENVS["fits"]  # 0/off/false/no: trains every time
RESTORED = "fit cache: training skipped"  # how a restored training begins its line (the run log counts them)
SIZE_ENV = folders.SIZE_ENVS["fits"]
STORE = cache.Store("fits")  # <cache>/fits/<key>/: weights.npz or fitted.joblib, and record.json
VERSIONS = ("keras", "keras-hub", "tensorflow", "numpy")
FORMAT = 2  # how entries are keyed and stored; this module's own code is not in the keys, so a change here bumps it


def enabled() -> bool:
    """Whether trainings are restored and kept (:func:`mlstc.core.folders.enabled`)."""
    return STORE.enabled

_collected: list[float] | None = None  # training seconds of the runs restored since the last summary


def collect(on: bool = True) -> None:
    """Collect restored trainings for :func:`summary` (one line per notebook cell,
    :func:`mlstc.book.setup.setup` turns it on) instead of printing a line each."""
    global _collected
    _collected = [] if on else None


def take() -> tuple[int, float]:
    """How many trainings were restored since the last call, and their minutes when
    they were trained (what :mod:`mlstc.book.setup` adds up for a chapter's one line)."""
    if not _collected:
        return 0, 0.0
    count, minutes = len(_collected), sum(s for s in _collected if s == s) / 60
    _collected.clear()
    return count, minutes


def summary() -> str | None:
    """One line for the trainings restored since the last call, or ``None``."""
    count, minutes = take()
    if not count:
        return None
    return (f"fit cache: {count} training{'s' if count != 1 else ''} restored ({minutes:.1f} min when trained; "
            "MLSTC_FIT_CACHE=0 trains again)")


def _restored(line: str, seconds: float) -> None:
    if _collected is None:
        print(line)
    else:
        _collected.append(float(seconds))


def folder() -> Path:
    return STORE.folder


def code_key(modules) -> str:
    """The key of the package code that ``modules`` can run (this module left out:
    :data:`FORMAT` stands for it), or the older key it is equivalent to
    (:data:`mlstc.models.fitcompare.EQUIVALENT`)."""
    return fitcompare.resolve(code.key(modules, exempt=[__name__]))


def _looked_up(kind: str, k: str, modules, hit: bool) -> None:
    """Log the lookup (:func:`mlstc.models.fitcompare.log`); a miss is an error where
    every training must come from the cache."""
    fitcompare.log(kind, k, sorted(modules), hit)
    if not hit and fitcompare.required():
        raise RuntimeError(f"{kind} training {k} is not in the fit cache and {fitcompare.REQUIRE_ENV} is set: "
                           "this run would train (see README, Contributing)")


def _modules(model: keras.Model) -> set[str]:
    """The modules that define the model's layers and operations, and its loss."""
    loss = getattr(model, "loss", None)
    objects = [*_operations(model), *(loss if isinstance(loss, (list, tuple)) else [loss])]
    return {type(obj).__module__ for obj in objects if obj is not None}


def _update(digest, obj) -> None:
    """Feed ``obj`` (arrays, SciPy sparse matrices, texts, numbers, nested lists, dicts,
    dataclasses) to ``digest``."""
    if hasattr(obj, "indptr") and hasattr(obj, "indices"):  # a compressed sparse matrix: its parts
        digest.update(f"sp{type(obj).__name__}{obj.shape}(".encode())
        for part in (obj.data, obj.indices, obj.indptr):
            _update(digest, np.asarray(part))
        digest.update(b")")
    elif isinstance(obj, np.ndarray) or hasattr(obj, "numpy") and not isinstance(obj, type):
        arr = np.ascontiguousarray(np.asarray(obj))
        if arr.dtype == object:
            _update(digest, arr.tolist())
            return
        digest.update(f"a{arr.dtype.str}{arr.shape}".encode())
        digest.update(arr.tobytes())
    elif isinstance(obj, (list, tuple)):
        if obj and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in obj):
            _update(digest, np.asarray(obj, dtype=np.int64))
            return
        digest.update(f"l{len(obj)}(".encode())
        for item in obj:
            _update(digest, item)
        digest.update(b")")
    elif isinstance(obj, dict):
        digest.update(f"d{len(obj)}(".encode())
        for k in sorted(obj, key=str):
            _update(digest, str(k))
            _update(digest, obj[k])
        digest.update(b")")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        _update(digest, {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
    elif isinstance(obj, str):
        digest.update(b"s" + obj.encode("utf-8") + b"\0")
    else:
        digest.update(f"v{type(obj).__name__}:{obj!r}\0".encode())


def _layers(model: keras.Model) -> list:
    return list(model._flatten_layers(include_self=True, recursive=True))


def _operations(model: keras.Model) -> list:
    """Layers and the functional graphs' operations (``keras.ops`` calls have names too)."""
    out = []
    for layer in _layers(model):
        out.append(layer)
        out.extend(op for op in getattr(layer, "operations", []) if op not in out)
    return out


def _state(layer) -> list | None:
    """What a layer holds outside its weights: a lookup layer's vocabulary."""
    if hasattr(layer, "get_vocabulary"):
        try:
            return [str(v) for v in layer.get_vocabulary()]
        except Exception:
            return None
    return None


def _config(obj):
    try:
        return _keras().saving.serialize_keras_object(obj)
    except Exception:  # an object Keras cannot describe: its type is all the key can say
        return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _canonical(obj, names: dict):
    """``obj`` without ``name`` entries and with every reference to a layer by name
    replaced by the layer's position, so that the counters behind ``dense_7`` or
    ``adam_2`` (how many the session built before) are not part of the key."""
    if isinstance(obj, str):
        return names.get(obj, obj)
    if isinstance(obj, dict):  # names (of layers, optimizers, losses) are labels, and numbered per session
        return {k: _canonical(v, names) for k, v in obj.items() if k != "name"}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v, names) for v in obj]
    return obj


def describe(model: keras.Model) -> dict:
    """The model's architecture and compile settings, layer names made canonical."""
    layers = _layers(model)
    names = {}
    for op in _operations(model):
        names.setdefault(op.name, f"<layer {len(names)}>")
    loss = getattr(model, "loss", None)
    losses = loss if isinstance(loss, (list, tuple)) else [loss]
    return _canonical({
        "layers": [[type(layer).__module__ + "." + type(layer).__qualname__, _config(layer), _state(layer)]
                   for layer in layers],
        "optimizer": _config(model.optimizer) if getattr(model, "optimizer", None) is not None else None,
        "loss": [_config(loss) for loss in losses],
        "jit_compile": getattr(model, "jit_compile", None),
        "steps_per_execution": getattr(model, "steps_per_execution", None),
    }, names)


def key(model: keras.Model, data, settings: dict, loop: Sequence[str] = ()) -> str:
    """The hash of everything that determines a training run of ``model`` (compiled,
    not yet trained) on ``data`` with ``settings`` by the code of the modules ``loop``
    (see the module docstring)."""
    digest = hashlib.sha256()
    modules = sorted(_modules(model) | set(loop))
    # the backend and its version where it is not TensorFlow (whose keys stay as they were)
    backend = system.backend_version()
    _update(digest, storage.to_json([FORMAT, describe(model), settings, code_key(modules),
                                     system.versions(VERSIONS), *([backend] if backend else [])]))
    for weights in model.get_weights():
        _update(digest, weights)
    _update(digest, data)
    return digest.hexdigest()[:24]


def _entry(k: str) -> Path:
    return folder() / k


def restore(model: keras.Model, k: str) -> dict | None:
    """Load the weights stored under ``k`` into ``model``; the stored record
    (``history``, ``seconds``, ``stored_at``…) with ``cached: True``, or ``None``
    when there is no such entry."""
    entry = _entry(k)
    if not (entry / "weights.npz").is_file() or not (entry / "record.json").is_file():
        return None
    with np.load(entry / "weights.npz") as stored:
        weights = [stored[f"w{i}"] for i in range(len(stored.files))]
    if [w.shape for w in weights] != [tuple(w.shape) for w in model.weights]:
        return None  # cannot happen for an equal key; never load what does not fit
    model.set_weights(weights)
    record = json.loads((entry / "record.json").read_text())
    STORE.mark_used(entry)  # kept longest
    seconds = record.get("seconds", float("nan"))
    _restored(f"{RESTORED}, {model.name} restored from a run of {record.get('stored_at', '?')[:16]} "
              f"that trained {seconds / 60:.1f} min (key {k}; MLSTC_FIT_CACHE=0 trains again)", seconds)
    return record | {"cached": True, "key": k}


def store(model: keras.Model, k: str, record: dict) -> Path:
    """Keep ``model``'s weights (after training) and ``record`` (JSON: history,
    seconds…) under ``k``; then trim the cache to its size limit."""

    def write(tmp: Path) -> None:
        np.savez(tmp / "weights.npz", **{f"w{i}": w for i, w in enumerate(model.get_weights())})
        storage.atomic_write_json(tmp / "record.json", record | {"stored_at": _now(), "model": model.name})

    return _publish(_entry(k), write)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _publish(entry: Path, write: Callable[[Path], None]) -> Path:
    """Write the entry whole (:meth:`mlstc.core.cache.Store.put_folder`), then trim the cache."""
    STORE.put_folder(entry.name, write)
    return entry


def lookup(model: keras.Model, data, settings: dict, loop: Sequence[str]) -> tuple[str | None, dict | None]:
    """What a training loop calls before training, ``loop`` naming its module (and
    any other module it runs, such as its scoring function's): the key (``None`` when
    the cache is switched off) and, on a hit, the stored record, ``model`` holding the
    stored weights and the generators reseeded as after training (:func:`reseed`)."""
    if not enabled():
        return None, None
    k = key(model, data, settings, loop)
    record = restore(model, k)
    _looked_up("keras", k, _modules(model) | set(loop), record is not None)
    if record is not None:
        reseed(k)
    return k, record


def keep(model: keras.Model, k: str | None, record: dict) -> None:
    """What a training loop calls after training on a miss: store and reseed (nothing
    when ``k`` is ``None``)."""
    if k is not None:
        store(model, k, record)
        reseed(k)


def reseed(k: str) -> None:
    """Seed every generator from the key once a run has trained or been restored, so
    that what follows draws the same numbers either way."""
    _keras().utils.set_random_seed(int(k[:8], 16) % 2**31)


def size_limit() -> int:
    return folders.size_limit("fits")


def prune(limit: int | None = None) -> list[Path]:
    """Remove the least recently used entries until the cache holds at most
    ``limit`` bytes (default :func:`size_limit`); the removed entries."""
    return STORE.prune(limit)


def estimator(kind: str, fit: Callable[[], T], *, settings: dict, data, loop: Sequence[str],
              versions: Sequence[str] = ("scikit-learn", "numpy"), detail: Callable[[T], str] | None = None) -> T:
    """``fit()``'s result, or the one a call with the same key stored before.

    For models that are not Keras models (scikit-learn estimators, LightGBM, the
    objects that hold them): the key hashes ``kind``, ``settings`` (JSON), ``data``
    (arrays, sparse matrices, nested lists and dicts of them, by content), the code
    the modules ``loop`` can run (:func:`code_key`: the module that fits, usually)
    and the installed ``versions`` of those libraries. The result is pickled with joblib in
    ``<cache>/fits/<kind>-<key>/`` beside the time ``fit()`` took; a restored one is
    announced with that time and ``detail(result)``, if given.
    """
    if not enabled():
        return fit()
    import joblib

    digest = hashlib.sha256()
    _update(digest, storage.to_json([FORMAT, kind, settings, code_key(loop), system.versions(versions)]))
    _update(digest, data)
    entry = folder() / f"{storage.slug(kind)}-{digest.hexdigest()[:24]}"
    hit = (entry / "fitted.joblib").is_file() and (entry / "record.json").is_file()
    _looked_up(kind, entry.name, loop, hit)
    if hit:
        fitted = joblib.load(entry / "fitted.joblib")
        record = json.loads((entry / "record.json").read_text())
        STORE.mark_used(entry)  # kept longest
        more = f"; {detail(fitted)}" if detail else ""
        _restored(f"{RESTORED}, {kind} restored from a fit of {record.get('stored_at', '?')[:16]} that took "
                  f"{record.get('seconds', float('nan')) / 60:.1f} min{more} (key {entry.name}; "
                  "MLSTC_FIT_CACHE=0 fits again)", record.get("seconds", float("nan")))
        return fitted
    started = time.perf_counter()
    fitted = fit()
    seconds = time.perf_counter() - started

    def write(tmp: Path) -> None:
        buffer = io.BytesIO()
        joblib.dump(fitted, buffer)
        storage.atomic_write_bytes(tmp / "fitted.joblib", buffer.getvalue())
        storage.atomic_write_json(tmp / "record.json", {"kind": kind, "seconds": seconds, "stored_at": _now()})

    _publish(entry, write)
    return fitted
