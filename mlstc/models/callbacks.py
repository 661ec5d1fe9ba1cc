"""Keras callbacks for multi-label training (introduced in chapter 02).

Keras's own ``accuracy`` on a multi-label output is not a multi-label metric.
:class:`MicroF1` computes validation micro-F1 at the end of every epoch and writes it
into the logs as ``val_micro_f1``, so that ``EarlyStopping`` and ``ModelCheckpoint``
can monitor it (``mode="max"``).
"""

from __future__ import annotations

import numpy as np

from mlstc.core import system
from mlstc.evaluation import thresholds

system.import_tensorflow()
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
