"""A trained model in one directory, and the predictor that loads it
(introduced in chapter 02; BERT models in chapter 03).

:func:`save` writes ``model.keras`` (an uncompiled view: architecture and weights,
no optimizer state) and ``labels.json`` (label names, tuned thresholds and what the
model needs to read new text). A BERT model also keeps its tokenizer and how texts
were cut (``encoding``), so :class:`Predictor` encodes new texts exactly as in
training. ``python -m mlstc predict --model DIR`` uses it.

Two more kinds of directory (chapter 05), which :func:`load` tells apart:

- :func:`save_pipeline`: a scikit-learn or LightGBM model with its featurizer
  (:class:`mlstc.models.pipelines.TextPipeline`) in ``pipeline.joblib``, and a Keras
  head beside it where it has one;
- :func:`save_ensemble`: ``ensemble.json`` (members, label names, thresholds),
  ``combiner.joblib`` (the fitted combiner and each member's Platt scaling) and every
  member's own saved directory under ``members/``. It predicts new text as the
  ensemble predicted the test split.

Pickles are read with the package versions they were written with (the pinned
``requirements.txt``); load only directories you wrote or trust.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from mlstc.core import system
from mlstc.models import bert, training
from mlstc.models.registry import register_keras_classes
from mlstc.text import wordpieces

system.import_tensorflow()
import keras  # noqa: E402

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"
TOKENIZER_DIR = "tokenizer"
PIPELINE_FILE = "pipeline.joblib"
HEAD_FILE = "head.keras"
ENSEMBLE_FILE = "ensemble.json"
COMBINER_FILE = "combiner.joblib"
MEMBERS_DIR = "members"


def save(model_dir, model: keras.Model, label_names, thresholds, *, tokenizer=None, encoding: dict | None = None,
         **info) -> Path:
    """Write the model, its labels and thresholds (and, for a word-piece model, its
    ``tokenizer`` and ``encoding`` = ``{"max_length", "strategy"}``) to ``model_dir``."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    if (tokenizer is None) != (encoding is None):
        raise ValueError("a word-piece model needs both its tokenizer and its encoding")
    if tokenizer is not None:
        if (model_dir / TOKENIZER_DIR).exists():
            shutil.rmtree(model_dir / TOKENIZER_DIR)
        tokenizer.save_pretrained(model_dir / TOKENIZER_DIR)
        info["encoding"] = dict(encoding)
    keras.Model(model.inputs, model.outputs, name=model.name).save(model_dir / MODEL_FILE)  # not compiled
    _write_labels(model_dir, label_names, thresholds, "logits", info)
    return model_dir


def _thresholds(thresholds, label_names) -> list[float]:
    return np.broadcast_to(np.asarray(thresholds, dtype=float), (len(label_names),)).tolist()


def _write_labels(model_dir: Path, label_names, thresholds, outputs: str, info: dict) -> None:
    (model_dir / LABELS_FILE).write_text(json.dumps(
        {"label_names": list(label_names), "thresholds": _thresholds(thresholds, label_names), "outputs": outputs,
         "info": info}, indent=1, default=str) + "\n")


def _fresh(model_dir) -> Path:
    """An empty directory, or one this module wrote before (rewritten); never a user's folder."""
    model_dir = Path(model_dir)
    if model_dir.exists() and any(model_dir.iterdir()):
        if not any((model_dir / f).is_file() for f in (LABELS_FILE, ENSEMBLE_FILE)):
            raise FileExistsError(f"{model_dir} exists and is not a saved mlstc model; choose a new directory")
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    return model_dir


def save_pipeline(model_dir, pipeline, label_names, thresholds, **info) -> Path:
    """Write a :class:`mlstc.models.pipelines.TextPipeline` (featurizer and scorer),
    its labels and thresholds to ``model_dir``."""
    import joblib

    model_dir = _fresh(model_dir)
    if hasattr(pipeline.scorer, "save_model"):  # a Keras head travels beside the pickle
        pipeline.scorer.save_model(model_dir / HEAD_FILE)
    joblib.dump(pipeline, model_dir / PIPELINE_FILE)
    _write_labels(model_dir, label_names, thresholds, "probabilities", info)
    return model_dir


def save_ensemble(model_dir, members: dict, fitted, label_names, thresholds, *, calibration: dict | None = None,
                  **info) -> Path:
    """Write an ensemble to ``model_dir``: ``members`` maps each member the combiner
    uses to a saved model directory (copied in) or a
    :class:`mlstc.models.pipelines.TextPipeline` (saved in); ``fitted`` is the
    combiner (:class:`mlstc.models.ensembles.Combiner` or ``Fitted``), ``calibration``
    the Platt scaling of members whose scores were calibrated before mixing."""
    import joblib

    combiner = getattr(fitted, "combiner", fitted)
    missing = [n for n in combiner.members if n not in members]
    if missing:
        raise KeyError(f"the combiner uses {', '.join(missing)}, which were not given as members")
    model_dir = _fresh(model_dir)
    for name in combiner.members:
        target = model_dir / MEMBERS_DIR / name
        source = members[name]
        if isinstance(source, (str, Path)):
            _meta(Path(source))  # not a saved model: fails here, not at prediction time
            shutil.copytree(source, target)
        else:
            save_pipeline(target, source, label_names, 0.5)
    joblib.dump({"combiner": combiner, "calibration": dict(calibration or {})}, model_dir / COMBINER_FILE)
    (model_dir / ENSEMBLE_FILE).write_text(json.dumps(
        {"members": combiner.members, "combiner": type(combiner).__name__, "label_names": list(label_names),
         "thresholds": _thresholds(thresholds, label_names), "info": info}, indent=1, default=str) + "\n")
    return model_dir


def load(model_dir):
    """The saved model in ``model_dir`` (any kind :mod:`mlstc.models.saved` writes),
    with ``label_names``, ``thresholds``, ``probabilities(texts)`` and ``predict(texts)``."""
    model_dir = Path(model_dir)
    if (model_dir / ENSEMBLE_FILE).is_file():
        return EnsemblePredictor(model_dir)
    if (model_dir / PIPELINE_FILE).is_file():
        return PipelinePredictor(model_dir)
    return Predictor(model_dir)


class _Saved:
    label_names: list[str]
    thresholds: np.ndarray

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts, top_k: int = 3) -> list[list[tuple[str, float, bool]]]:
        """Per text, the ``top_k`` labels by score, and every label above its
        threshold: ``(label, score, above_threshold)``."""
        return rank(self.probabilities(texts), self.label_names, self.thresholds, top_k)


def _texts(texts) -> list[str]:
    texts = [str(t) for t in texts]
    if not texts or any(not t.strip() for t in texts):
        raise ValueError("give one or more non-empty texts")
    return texts


def _meta(model_dir: Path, name: str = LABELS_FILE) -> dict:
    if not (model_dir / name).is_file():
        raise FileNotFoundError(f"{model_dir} is not a saved mlstc model: {name} is missing. "
                                "Save one with mlstc.models.saved (the chapters do, under results/).")
    return json.loads((model_dir / name).read_text())


class PipelinePredictor(_Saved):
    """A model saved by :func:`save_pipeline`."""

    def __init__(self, model_dir):
        import joblib

        model_dir = Path(model_dir)
        meta = _meta(model_dir)
        self.label_names, self.info = meta["label_names"], meta.get("info", {})
        self.thresholds = np.asarray(meta["thresholds"], dtype=float)
        self.pipeline = joblib.load(model_dir / PIPELINE_FILE)
        if (model_dir / HEAD_FILE).is_file():
            self.pipeline.scorer.load_model(model_dir / HEAD_FILE)

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        return self.pipeline.probabilities(_texts(texts))


class EnsemblePredictor(_Saved):
    """An ensemble saved by :func:`save_ensemble`: every member's probabilities
    (Platt-scaled where the ensemble calibrated them), combined."""

    def __init__(self, model_dir):
        import joblib

        model_dir = Path(model_dir)
        meta = _meta(model_dir, ENSEMBLE_FILE)
        self.label_names, self.info = meta["label_names"], meta.get("info", {})
        self.thresholds = np.asarray(meta["thresholds"], dtype=float)
        fitted = joblib.load(model_dir / COMBINER_FILE)
        self.combiner, self.calibration = fitted["combiner"], fitted["calibration"]
        self.members = {name: load(model_dir / MEMBERS_DIR / name) for name in meta["members"]}
        for name, member in self.members.items():
            absent = sorted(set(self.label_names) - set(member.label_names))
            if absent:
                raise ValueError(f"{model_dir}: member {name} has no column for {', '.join(absent[:5])}")

    def member_probabilities(self, texts, batch_size: int = 64) -> dict[str, np.ndarray]:
        texts = _texts(texts)
        out = {}
        for name, member in self.members.items():
            probs = member.probabilities(texts, batch_size)
            probs = probs[:, [member.label_names.index(label) for label in self.label_names]]
            out[name] = self.calibration[name].apply(probs) if name in self.calibration else probs
        return out

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        return self.combiner.apply(self.member_probabilities(texts, batch_size))


class Predictor(_Saved):
    """A saved model with its labels and thresholds: ``Predictor(dir).predict(texts)``."""

    def __init__(self, model_dir):
        model_dir = Path(model_dir)
        missing = [f for f in (MODEL_FILE, LABELS_FILE) if not (model_dir / f).is_file()]
        if missing:
            raise FileNotFoundError(f"{model_dir} is not a saved mlstc model: {', '.join(missing)} missing. "
                                    "Save one with mlstc.models.saved.save() (the chapters do, under results/).")
        meta = json.loads((model_dir / LABELS_FILE).read_text())
        self.label_names = meta["label_names"]
        self.thresholds = np.asarray(meta["thresholds"], dtype=float)
        self.info = meta.get("info", {})
        self.encoding = self.info.get("encoding")
        if self.encoding:
            import keras_hub  # noqa: F401  (registers BertBackbone for loading)
            import transformers

            tokenizer_dir = model_dir / TOKENIZER_DIR
            if not tokenizer_dir.is_dir():
                raise FileNotFoundError(f"{model_dir}: {TOKENIZER_DIR}/ is missing; save the model with "
                                        "mlstc.models.saved.save(..., tokenizer=...), which writes it beside it.")
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
        register_keras_classes()
        self.model = keras.saving.load_model(model_dir / MODEL_FILE, compile=False)
        outputs = self.model.output_shape[-1]
        if outputs != len(self.label_names) or len(self.thresholds) != outputs:
            raise ValueError(f"{model_dir}: the model has {outputs} outputs but {LABELS_FILE} lists "
                             f"{len(self.label_names)} labels and {len(self.thresholds)} thresholds; "
                             "they were saved from different runs. Save them again together.")

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        texts = _texts(texts)
        if self.encoding:
            encoded = wordpieces.encode(texts, self.tokenizer, self.encoding["max_length"], self.encoding["strategy"])
            logits = bert.predict_logits(self.model, encoded, batch_size)
        else:
            logits = training.predict_text_logits(self.model, texts, batch_size)
        return training.sigmoid(logits)


def rank(probs, label_names, thresholds, top_k: int = 3) -> list[list[tuple[str, float, bool]]]:
    """Per row of ``probs``: the ``top_k`` labels and every label at or above its
    threshold, as ``(label, score, above_threshold)``, best first."""
    out = []
    for row in np.asarray(probs):
        order = np.argsort(-row)
        keep = [j for j in order if row[j] >= thresholds[j] or j in order[:top_k]]
        out.append([(label_names[j], float(row[j]), bool(row[j] >= thresholds[j])) for j in keep])
    return out
