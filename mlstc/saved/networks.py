"""A trained Keras network in one directory, and the predictor that loads it
(introduced in chapter 02; BERT models in chapter 03).

:func:`save` writes ``model.keras`` (an uncompiled view: architecture and weights,
no optimizer state) and ``labels.json`` (label names, tuned thresholds and what the
model needs to read new text). A BERT model also keeps its tokenizer and how texts
were cut (``encoding``), so :class:`Predictor` encodes new texts exactly as in
training. This is the one module of :mod:`mlstc.saved` that imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlstc.core import system
from mlstc.evaluation import thresholds
from mlstc.models import bert, training
from mlstc.saved import base
from mlstc.saved.registry import register_keras_classes
from mlstc.text import wordpieces

system.import_tensorflow()
import keras  # noqa: E402

MODEL_FILE = "model.keras"
TOKENIZER_DIR = "tokenizer"


def save(model_dir, model: keras.Model, label_names, thresholds, *, tokenizer=None, encoding: dict | None = None,
         **info) -> Path:
    """Write the model, its labels and thresholds (and, for a word-piece model, its
    ``tokenizer`` and ``encoding`` = ``{"max_length", "strategy"}``) to ``model_dir``."""
    if (tokenizer is None) != (encoding is None):
        raise ValueError("a word-piece model needs both its tokenizer and its encoding")
    model_dir = base.fresh(model_dir)
    if tokenizer is not None:
        tokenizer.save_pretrained(model_dir / TOKENIZER_DIR)
        info["encoding"] = dict(encoding)
    keras.Model(model.inputs, model.outputs, name=model.name).save(model_dir / MODEL_FILE)  # not compiled
    base.write_labels(model_dir, label_names, thresholds, "logits", info)
    return model_dir


class Predictor(base.Saved):
    """A saved network with its labels and thresholds: ``Predictor(dir).predict(texts)``."""

    def __init__(self, model_dir):
        model_dir = Path(model_dir)
        missing = [f for f in (MODEL_FILE, base.LABELS_FILE) if not (model_dir / f).is_file()]
        if missing:
            raise FileNotFoundError(f"{model_dir} is not a saved mlstc model: {', '.join(missing)} missing. "
                                    "Save one with mlstc.saved.networks.save() (the chapters do, under results/).")
        self._read(model_dir)
        self.encoding = self.info.get("encoding")
        if self.encoding:
            import keras_hub  # noqa: F401  (registers BertBackbone for loading)
            import transformers

            tokenizer_dir = model_dir / TOKENIZER_DIR
            if not tokenizer_dir.is_dir():
                raise FileNotFoundError(f"{model_dir}: {TOKENIZER_DIR}/ is missing; save the model with "
                                        "mlstc.saved.networks.save(..., tokenizer=...), which writes it beside it.")
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
        register_keras_classes()
        self.model = keras.saving.load_model(model_dir / MODEL_FILE, compile=False)
        outputs = self.model.output_shape[-1]
        if outputs != len(self.label_names) or len(self.thresholds) != outputs:
            raise ValueError(f"{model_dir}: the model has {outputs} outputs but {base.LABELS_FILE} lists "
                             f"{len(self.label_names)} labels and {len(self.thresholds)} thresholds; "
                             "they were saved from different runs. Save them again together.")

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        texts = base.texts_of(texts)
        if self.encoding:
            encoded = wordpieces.encode(texts, self.tokenizer, self.encoding["max_length"], self.encoding["strategy"])
            logits = bert.predict_logits(self.model, encoded, batch_size)
        else:
            logits = training.predict_text_logits(self.model, texts, batch_size)
        return thresholds.sigmoid(logits)
