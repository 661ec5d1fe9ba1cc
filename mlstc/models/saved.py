"""A trained model in one directory, and the predictor that loads it
(introduced in chapter 02; BERT models in chapter 03).

:func:`save` writes ``model.keras`` (an uncompiled view: architecture and weights,
no optimizer state) and ``labels.json`` (label names, tuned thresholds and what the
model needs to read new text). A BERT model also keeps its tokenizer and how texts
were cut (``encoding``), so :class:`Predictor` encodes new texts exactly as in
training. ``python -m mlstc predict --model DIR`` uses it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from mlstc.core import system
from mlstc.models import bert, training
from mlstc.text import wordpieces

system.import_tensorflow()
import keras  # noqa: E402

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"
TOKENIZER_DIR = "tokenizer"


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
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=float), (len(label_names),))
    keras.Model(model.inputs, model.outputs, name=model.name).save(model_dir / MODEL_FILE)  # not compiled
    (model_dir / LABELS_FILE).write_text(json.dumps(
        {"label_names": list(label_names), "thresholds": thresholds.tolist(), "outputs": "logits", "info": info},
        indent=1) + "\n")
    return model_dir


class Predictor:
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
        self.model = keras.saving.load_model(model_dir / MODEL_FILE, compile=False)
        outputs = self.model.output_shape[-1]
        if outputs != len(self.label_names) or len(self.thresholds) != outputs:
            raise ValueError(f"{model_dir}: the model has {outputs} outputs but {LABELS_FILE} lists "
                             f"{len(self.label_names)} labels and {len(self.thresholds)} thresholds; "
                             "they were saved from different runs. Save them again together.")

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts or any(not t.strip() for t in texts):
            raise ValueError("give one or more non-empty texts")
        if self.encoding:
            encoded = wordpieces.encode(texts, self.tokenizer, self.encoding["max_length"], self.encoding["strategy"])
            logits = bert.predict_logits(self.model, encoded, batch_size)
        else:
            logits = training.predict_text_logits(self.model, texts, batch_size)
        return training.sigmoid(logits)

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
