"""Chapter 03's BERT fine-tune as one call, for the chapters that repeat it with one
thing changed (chapter 06: the loss; chapter 07: the checkpoint).

:func:`settings_of` reads the settings chapter 03 saved with its run; :func:`finetune`
trains the same model the same way (same seed, word-piece length, truncation,
warm-up and linear decay, batch size, epochs, early stopping on validation micro-F1),
and tunes thresholds on validation the same way, so the only difference between two
runs is the one the caller made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlstc.core import system
from mlstc.evaluation import thresholds
from mlstc.models import bert, training
from mlstc.models import losses as loss_functions
from mlstc.text import checkpoints, wordpieces

system.import_backend()
import keras  # noqa: E402

SETTINGS = ("max_length", "truncation", "learning_rate", "batch_size", "epochs", "precision")
DEFAULTS = {"precision": "float32"}  # what chapter 03 trained in before it recorded it


def settings_of(record: dict) -> dict:
    """The fine-tune settings of a saved chapter-03 result (``results.load(...)``),
    its Keras dtype policy (``precision``) included, so that a chapter that repeats
    the fine-tune computes in the same arithmetic."""
    extra = DEFAULTS | record.get("extra", {})
    missing = [k for k in SETTINGS if k not in extra]
    if missing:
        raise KeyError(f"the saved run of {record.get('model')} on {record.get('dataset')} lacks {', '.join(missing)}; "
                       "rerun chapter 03, which saves them")
    return {k: extra[k] for k in SETTINGS}


@dataclass
class Finetuned:
    model: keras.Model
    probs: dict  # {"validation": P, "test": P}
    cuts: np.ndarray  # one global threshold tuned on validation (chapter 03's rule)
    per_label_cuts: np.ndarray
    history: dict
    train_seconds: float  # of the run that trained it (an earlier one when restored from the fit cache)
    cached: bool = False


def finetune(checkpoint: str, dataset, *, max_length: int, truncation: str, learning_rate: float, batch_size: int,
             epochs: int, patience: int = 2, warmup_fraction: float = 0.1, weight_decay: float = 0.01,
             dropout: float = 0.1, seed: int = 0, predict_batch_size: int = 64, loss: str | None = None,
             precision: str = "float32") -> Finetuned:
    """Fine-tune ``checkpoint`` on ``dataset`` (a :class:`mlstc.data.Dataset`) as
    chapter 03 does; validation and test probabilities, thresholds and history.
    ``loss`` names a loss of :mod:`mlstc.models.losses` (label frequencies from the
    training split); ``None`` is chapter 03's binary cross-entropy. Scores are the
    loss's own link (the softmax for ``softmax-ce``), in training's early stopping too.
    ``precision`` is a Keras dtype policy for the model: ``"mixed_bfloat16"`` computes
    in bfloat16 with float32 weights (faster on CPUs with AVX512-BF16 or AMX; see
    ``benchmarks/speed.py``); the global policy is restored afterwards."""
    with bert.dtype_policy(precision):
        tokenizer = checkpoints.tokenizer(checkpoint)
        parts = {s: dataset.split(s) for s in ("train", "validation", "test")}
        encoded = {s: wordpieces.encode(p.texts, tokenizer, max_length, truncation) for s, p in parts.items()}
        keras.utils.set_random_seed(seed)
        loss_object = None if loss is None else loss_functions.make(loss, parts["train"].y)
        link = (lambda logits: loss_functions.scores(loss_object, logits)) if loss_object is not None else None
        # a softmax-trained model has no per-label prior: its logits are only defined up to a shift
        softmax = getattr(loss_object, "activation", "sigmoid") == "softmax"
        model = bert.classifier(checkpoint, dataset.num_labels, dropout=dropout,
                                prior=None if softmax else parts["train"].y.mean(0))
        total_steps = epochs * training.steps(len(parts["train"].texts), batch_size)
        bert.compile(model, learning_rate=learning_rate, total_steps=total_steps, warmup_fraction=warmup_fraction,
                     weight_decay=weight_decay, loss=loss_object)
        history = bert.fit(model, encoded["train"], parts["train"].y, encoded["validation"], parts["validation"].y,
                           epochs=epochs, batch_size=batch_size, patience=patience, seed=seed, scores=link)
        fn = training.forward(model)
        link = link or thresholds.sigmoid
        probs = {s: link(bert.predict_logits(model, encoded[s], predict_batch_size, fn=fn))
                 for s in ("validation", "test")}
        by_rule = thresholds.compare(parts["validation"].y, probs["validation"], parts["test"].y, probs["test"])
        return Finetuned(model, probs, by_rule["global"][0], by_rule["per_label"][0], history.history,
                         history.train_seconds, history.cached)
