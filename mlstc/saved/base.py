"""What every saved model directory shares: ``labels.json``, the folder name a chapter
gives it, the check that a directory is one, and ranking scores into labels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from mlstc.core import storage

LABELS_FILE = "labels.json"
ENSEMBLE_FILE = "ensemble.json"


def folder_name(dataset_key: str, name: str = "") -> str:
    """The directory a chapter saves a model in, under its ``models/``: the data set's
    key, then the model's name (none for a chapter's main model)."""
    return storage.slug(f"{dataset_key}-{name}" if name else dataset_key)


def columns(have, want, what: str = "the probabilities") -> list[int]:
    """The column of each label in ``want`` among the labels ``have`` (the one place a
    saved model's or run's label columns are put in another label order); an error
    naming ``what`` when one is missing."""
    have = list(have)
    missing = [label for label in want if label not in have]
    if missing:
        raise ValueError(f"{what} have no column for {', '.join(map(str, missing[:5]))}")
    return [have.index(label) for label in want]


def thresholds_for(thresholds, label_names) -> list[float]:
    """One threshold per label (a single number applies to all)."""
    return np.broadcast_to(np.asarray(thresholds, dtype=float), (len(label_names),)).tolist()


def write_labels(model_dir: Path, label_names, thresholds, outputs: str, info: dict) -> None:
    (model_dir / LABELS_FILE).write_text(json.dumps(
        {"label_names": list(label_names), "thresholds": thresholds_for(thresholds, label_names), "outputs": outputs,
         "info": info}, indent=1, default=str) + "\n")


def fresh(model_dir) -> Path:
    """An empty directory, or one a save wrote before (rewritten); never a user's folder."""
    model_dir = Path(model_dir)
    if model_dir.exists() and any(model_dir.iterdir()):
        if not any((model_dir / f).is_file() for f in (LABELS_FILE, ENSEMBLE_FILE)):
            raise FileExistsError(f"{model_dir} exists and is not a saved mlstc model; choose a new directory")
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    return model_dir


def meta(model_dir: Path, name: str = LABELS_FILE) -> dict:
    """The JSON file ``name`` of a saved model, or a clear error when it is not one."""
    if not (model_dir / name).is_file():
        raise FileNotFoundError(f"{model_dir} is not a saved mlstc model: {name} is missing. "
                                "Save one with mlstc.saved (the chapters do, under results/).")
    return json.loads((model_dir / name).read_text())


def texts_of(texts) -> list[str]:
    texts = [str(t) for t in texts]
    if not texts or any(not t.strip() for t in texts):
        raise ValueError("give one or more non-empty texts")
    return texts


class Saved:
    """What every loaded model offers: ``label_names``, ``thresholds``, ``info`` (what
    the run recorded), ``probabilities(texts, batch_size)`` and ``predict(texts)``."""

    label_names: list[str]
    thresholds: np.ndarray
    info: dict

    def _read(self, model_dir: Path, name: str = LABELS_FILE) -> dict:
        found = meta(model_dir, name)
        self.label_names, self.info = found["label_names"], found.get("info", {})
        self.thresholds = np.asarray(found["thresholds"], dtype=float)
        return found

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts, top_k: int = 3) -> list[list[tuple[str, float, bool]]]:
        """Per text, the ``top_k`` labels by score, and every label above its
        threshold: ``(label, score, above_threshold)``."""
        return rank(self.probabilities(texts), self.label_names, self.thresholds, top_k)


def rank(probs, label_names, thresholds, top_k: int = 3) -> list[list[tuple[str, float, bool]]]:
    """Per row of ``probs``: the ``top_k`` labels and every label at or above its
    threshold, as ``(label, score, above_threshold)``, best first."""
    out = []
    for row in np.asarray(probs):
        order = np.argsort(-row)
        keep = [j for j in order if row[j] >= thresholds[j] or j in order[:top_k]]
        out.append([(label_names[j], float(row[j]), bool(row[j] >= thresholds[j])) for j in keep])
    return out
