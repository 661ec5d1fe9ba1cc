"""The package's one early-stopping rule against Keras' own EarlyStopping."""

import numpy as np
import pytest

from mlstc.models import callbacks
from mlstc.models.training import keras

SEQUENCES = [
    [0.5, 0.6, 0.6, 0.55, 0.7, 0.69, 0.68, 0.67],  # a tie is not better
    [0.3, 0.2, 0.1, 0.4],
    [0.1, 0.2, 0.3, 0.4, 0.5],  # never stops: the last epoch is kept
    [0.9, 0.9, 0.9, 0.9],
]


def _walk(callback, scores):
    """Feed ``scores`` as the logged val_micro_f1 of a model whose weights record the epoch."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    stopped = None
    for epoch, score in enumerate(scores):
        model.set_weights([np.full((1, 1), float(epoch)), np.zeros(1)])
        callback.on_epoch_end(epoch, {"val_micro_f1": score})
        if model.stop_training:
            stopped = epoch
            break
    callback.on_train_end()
    return stopped, int(model.get_weights()[0][0, 0])


@pytest.mark.parametrize("patience", [1, 2, 3])
def test_keep_best_stops_and_restores_where_keras_early_stopping_does(patience):
    assert SEQUENCES
    for scores in SEQUENCES:
        theirs = keras.callbacks.EarlyStopping(monitor="val_micro_f1", mode="max", patience=patience,
                                               restore_best_weights=True)
        assert _walk(callbacks.KeepBest(patience), scores) == _walk(theirs, scores), (patience, scores)


def test_the_patience_rule_counts_epochs_without_a_better_score():
    rule = callbacks.Patience(2)
    assert [rule.better(s, e) for e, s in enumerate([0.5, 0.5, 0.7, 0.6])] == [True, False, True, False]
    assert rule.best == 0.7 and rule.best_epoch == 2 and not rule.exhausted
    rule.better(0.65, 4)
    assert rule.exhausted
