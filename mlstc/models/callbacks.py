"""Keras callbacks for multi-label training (introduced in chapter 02).

Keras's own ``accuracy`` on a multi-label output is not a multi-label metric.
:class:`MicroF1` computes validation micro-F1 at the end of every epoch and writes it
into the logs as ``val_micro_f1``, so that :class:`KeepBest` (early stopping by the one
:class:`Patience` rule of the package) and ``ModelCheckpoint`` can monitor it.
"""

from __future__ import annotations

import numpy as np

from mlstc.core import system
from mlstc.evaluation import thresholds

system.import_backend()
import keras  # noqa: E402


class MicroF1(keras.callbacks.Callback):
    """Validation micro-F1 each epoch.

    ``predict`` maps the model to validation outputs (logits when ``from_logits``).
    With ``tune=True`` the score uses the best global threshold on validation, the
    way the model will be used; otherwise 0.5.
    """

    def __init__(self, predict, y_val, *, from_logits: bool = True, tune: bool = True,
                 name: str = "val_micro_f1", verbose: bool = False):
        super().__init__()
        self.predict_fn, self.y_val = predict, np.asarray(y_val)
        self.from_logits, self.tune = from_logits, tune
        self.name, self.verbose = name, verbose
        self.history: list[float] = []

    def probabilities(self) -> np.ndarray:
        out = np.asarray(self.predict_fn(self.model), dtype=np.float64)
        return thresholds.sigmoid(out) if self.from_logits else out

    def on_epoch_end(self, epoch, logs=None):
        probs = self.probabilities()
        cut, score = thresholds.best_global(self.y_val, probs, grid=thresholds.DEFAULT_GRID if self.tune else [0.5])
        self.history.append(score)
        if logs is not None:
            logs[self.name] = score
        if self.verbose:
            print(f" - {self.name}: {score:.4f} (threshold {cut:.2f})")


class Patience:
    """The early-stopping rule of every training of the package: a score counts as
    better only when strictly higher than the best so far (the first one always
    does), and ``patience`` epochs in a row without a better one end the training.
    Keras' ``EarlyStopping`` with ``mode="max"``, ``min_delta=0`` and no baseline, as
    a plain object, so that :class:`KeepBest` keeps one for a model and
    :func:`mlstc.models.heads.train_many` one per head of a joint model."""

    def __init__(self, patience: int):
        self.patience, self.best, self.best_epoch, self.waited = patience, None, 0, 0

    def better(self, score: float, epoch: int) -> bool:
        """Record ``score`` of ``epoch``; whether it is the best so far."""
        if self.best is None or score > self.best:
            self.best, self.best_epoch, self.waited = score, epoch, 0
            return True
        self.waited += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.waited >= self.patience


class KeepBest(keras.callbacks.Callback):
    """Early stopping on the logged ``monitor`` (higher is better; written by
    :class:`MicroF1`) by the :class:`Patience` rule, with the best epoch's weights
    restored when training ends, whether it stopped early or ran every epoch."""

    def __init__(self, patience: int, monitor: str = "val_micro_f1"):
        super().__init__()
        self.patience, self.monitor = patience, monitor
        self.rule, self.best_weights = Patience(patience), None

    def on_train_begin(self, logs=None):
        self.rule, self.best_weights = Patience(self.patience), None

    def on_epoch_end(self, epoch, logs=None):
        score = (logs or {}).get(self.monitor)
        if score is None:
            return
        if self.rule.better(score, epoch):
            self.best_weights = self.model.get_weights()
        elif self.rule.exhausted and epoch > 0:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
