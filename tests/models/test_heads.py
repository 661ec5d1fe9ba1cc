"""Heads on fixed features, trained with any loss through the shared loop."""

import numpy as np
import pytest

from mlstc.evaluation import metrics, thresholds
from mlstc.models import heads


def separable(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = np.stack([x[:, 0] > 0.5, x[:, 1] > 0, (x[:, 2] > 1.0) & (x[:, 0] > 0)], 1).astype("float32")
    return x, y


@pytest.mark.parametrize("loss, kind", [("bce", "linear"), ("db", "mlp"), ("softmax-ce", "linear")])
def test_a_head_learns_a_separable_task_with_any_loss(loss, kind):
    x, y = separable(600, 0)
    xv, yv = separable(200, 1)
    model, loss_object, history = heads.train(x, y, xv, yv, loss=loss, kind=kind, epochs=15, patience=15,
                                              batch_size=32, learning_rate=1e-2)
    probs = heads.predict_scores(model, loss_object, xv)
    assert probs.shape == yv.shape and np.all((probs >= 0) & (probs <= 1))
    if loss == "softmax-ce":
        assert np.allclose(probs.sum(1), 1, atol=1e-5)
    f1 = metrics.evaluate(yv, probs >= thresholds.tune_global(yv, probs))["micro_f1"]
    # a softmax must give every example one unit of score, even one with no label
    assert f1 > (0.6 if loss == "softmax-ce" else 0.75), f1
    assert len(history["val_micro_f1"]) == len(history["loss"])


def test_same_seed_same_head():
    x, y = separable(300, 0)
    xv, yv = separable(100, 1)
    runs = [heads.predict_scores(*heads.train(x, y, xv, yv, loss="asl", epochs=3, seed=7)[:2], xv) for _ in range(2)]
    assert np.allclose(runs[0], runs[1])


def test_unknown_head_kind():
    with pytest.raises(ValueError, match="linear, mlp"):
        heads.head(4, 2, "transformer")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_heads_trained_side_by_side_match_separate_runs(kind):
    x, y = separable(400, 0)
    xv, yv = separable(150, 1)
    names = ["bce", "zlpr", "softmax-ce"]
    options = dict(kind=kind, seed=3, epochs=6, patience=2, batch_size=32, learning_rate=1e-2)
    together = heads.train_many(x, y, xv, yv, losses=names, **options)
    for name, (model, loss_object, history) in zip(names, together):
        alone_model, alone_loss, alone = heads.train(x, y, xv, yv, loss=name, **options)
        # same start, same batches, own optimizer state: the same validation scores epoch by epoch,
        # the same stopping epoch and the same restored weights
        assert np.allclose(history["val_micro_f1"], alone["val_micro_f1"], atol=1e-6), name
        assert len(history["loss"]) == len(alone["loss"])
        assert np.allclose(heads.predict_scores(model, loss_object, xv),
                           heads.predict_scores(alone_model, alone_loss, xv), atol=1e-4), name


def test_train_many_needs_a_loss():
    x, y = separable(20, 0)
    with pytest.raises(ValueError, match="at least one loss"):
        heads.train_many(x, y, x, y, losses=[])
