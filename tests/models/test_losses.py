"""Every loss against a NumPy reference written from its paper's formula, on hand-made
cases: a label with no positives in the batch, an example with every label positive,
an example with none."""

import math

import numpy as np
import pytest

from mlstc.models import losses
from mlstc.models.training import keras
from mlstc.results import claims

Y = np.array([[1, 0, 0, 1], [1, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 0]], dtype="float32")  # label 3: one positive
Y[1] = [1, 1, 1, 1]  # an example with every label positive
Z = np.array([[2.0, -1.0, 0.5, -3.0], [0.3, 1.2, -0.7, 4.0], [-2.0, 0.1, 1.5, -0.2], [1.0, -2.5, 0.0, 2.2]],
             dtype="float32")
Y_TRAIN = np.zeros((50, 4), dtype="float32")
Y_TRAIN[:30, 0] = 1
Y_TRAIN[:10, 1] = 1
Y_TRAIN[:3, 2] = 1  # label 3 has no training positives: counts are clipped to 1


def sig(z):
    return 1 / (1 + math.exp(-z))


def softplus(z):
    return math.log1p(math.exp(z))


def tensor(a):
    return keras.ops.convert_to_tensor(np.asarray(a, dtype="float32"))


def value(loss, y=Y, z=Z):
    return float(loss(tensor(y), tensor(z)))


def per_example_mean(fn, y=Y, z=Z):
    return float(np.mean([np.mean([fn(y[i, j], z[i, j], j, y[i]) for j in range(y.shape[1])])
                          for i in range(len(y))]))


def test_bce_and_weighted_bce():
    bce = per_example_mean(lambda y, z, j, row: -(y * math.log(sig(z)) + (1 - y) * math.log(1 - sig(z))))
    assert value(losses.make("bce")) == pytest.approx(bce, rel=1e-5)
    n = np.clip(Y_TRAIN.sum(0), 1, 49)
    w = (50 - n) / n
    ref = per_example_mean(lambda y, z, j, row: -(w[j] * y * math.log(sig(z)) + (1 - y) * math.log(1 - sig(z))))
    assert value(losses.make("weighted-bce", Y_TRAIN)) == pytest.approx(ref, rel=1e-5)


def test_focal_is_lin_et_al():
    def focal(y, z, j, row):
        p_t = sig(z) if y else 1 - sig(z)
        alpha_t = 0.25 if y else 0.75
        return -alpha_t * (1 - p_t) ** 2 * math.log(p_t)

    assert value(losses.make("focal")) == pytest.approx(per_example_mean(focal), rel=1e-4)


def focal_family_reference(y, z, *, reweight=None, ntr=False, scale=1.0):
    """Wu et al. 2020 / Huang et al. 2021 written out element by element."""
    n = np.clip(Y_TRAIN.sum(0), 1, 49)
    total = []
    for i in range(len(y)):
        row = []
        repeat = sum(1 / n[k] for k in range(y.shape[1]) if y[i, k])
        for j in range(y.shape[1]):
            weight = 1.0
            if reweight == "cb":
                weight = (1 - 0.9) / (1 - 0.9 ** n[j])
            elif reweight == "rebalance":
                r = (1 / n[j]) / repeat if repeat else 1e12
                weight = 0.1 + sig(10 * (r - 0.9))
            zz, lam = float(z[i, j]), 1.0
            if ntr:
                zz = zz + 0.05 * math.log(n[j] / (50 - n[j]))
                lam = 1.0 if y[i, j] else 2.0
            # -log p_t of the (scaled) logit, then divided by lambda for negatives
            ce = softplus(-zz) if y[i, j] else softplus(lam * zz)
            p_t = math.exp(-ce)
            alpha_t = 0.5
            row.append(scale * weight / lam * alpha_t * (1 - p_t) ** 2 * ce)
        total.append(np.mean(row))
    return float(np.mean(total))


@pytest.mark.parametrize("name, options", [
    ("cb", dict(reweight="cb", scale=10.0)), ("r-fl", dict(reweight="rebalance")), ("ntr-fl", dict(ntr=True)),
    ("db", dict(reweight="rebalance", ntr=True)), ("cb-ntr", dict(reweight="cb", ntr=True, scale=10.0))])
def test_focal_family_matches_the_papers(name, options):
    assert value(losses.make(name, Y_TRAIN)) == pytest.approx(focal_family_reference(Y, Z, **options), rel=1e-4)


def test_rebalancing_weight_favours_the_rarer_label_of_an_example():
    loss = losses.make("r-fl", Y_TRAIN)
    w = np.asarray(loss.weights(tensor(Y)))
    assert w[0, 3] > w[0, 0]  # in example 0, label 3 (1 training doc) is rarer than label 0 (30)
    assert np.allclose(w[2], 1.1, atol=1e-3)  # no positives: every term weighted alpha + 1


def test_asymmetric_loss():
    def asl(y, z, j, row):
        p = sig(z)
        if y:
            return -math.log(p)  # gamma_pos 0
        pm = max(p - 0.05, 0.0)
        return -(pm ** 4) * math.log(1 - pm)

    assert value(losses.make("asl")) == pytest.approx(per_example_mean(asl), rel=1e-4)


def test_zlpr_lsep_softmax_ce():
    zlpr, lsep, softmax = [], [], []
    for y, z in zip(Y, Z):
        pos, neg = z[y == 1], z[y == 0]
        zlpr.append(math.log(1 + np.exp(neg).sum()) + math.log(1 + np.exp(-pos).sum()))
        lsep.append(math.log(1 + sum(math.exp(v - u) for u in pos for v in neg)))
        log_softmax = z - math.log(np.exp(z).sum())
        softmax.append(-(y / y.sum() * log_softmax).sum() if y.sum() else 0.0)
    assert value(losses.make("zlpr")) == pytest.approx(np.mean(zlpr), rel=1e-5)
    assert value(losses.make("lsep")) == pytest.approx(np.mean(lsep), rel=1e-5)
    assert value(losses.make("softmax-ce")) == pytest.approx(np.mean(softmax), rel=1e-5)


def test_sigmoid_f1_is_one_minus_mean_soft_f1_over_labels():
    s = 1 / (1 + np.exp(-Z.astype("float64")))
    tp, fp, fn = (s * Y).sum(0), (s * (1 - Y)).sum(0), ((1 - s) * Y).sum(0)
    assert value(losses.make("sigmoid-f1")) == pytest.approx(1 - np.mean(2 * tp / (2 * tp + fn + fp)), rel=1e-5)


def test_zlpr_threshold_zero_and_scores():
    zlpr = losses.make("zlpr")
    assert np.allclose(losses.scores(zlpr, [[0.0, 2.0]]), [[0.5, 1 / (1 + math.exp(-2))]])
    probs = losses.scores(losses.make("softmax-ce"), Z)
    assert np.allclose(probs.sum(1), 1)


@pytest.mark.parametrize("name", losses.NAMES)
def test_finite_gradients_and_one_value_per_example(name, value_and_grad):
    loss = losses.make(name, Y_TRAIN)
    extreme = np.concatenate([Z, np.array([[40.0, -40.0, 40.0, -40.0]], dtype="float32")])
    y = np.concatenate([Y, np.array([[0, 1, 1, 0]], dtype="float32")])
    per_example = loss.call(tensor(y), tensor(extreme))
    total, grad = value_and_grad(lambda z: keras.ops.mean(loss.call(tensor(y), z)), extreme)
    assert tuple(per_example.shape) == (len(y),)
    assert np.isfinite(total) and np.all(np.isfinite(grad)) and grad.shape == extreme.shape
    assert total >= 0


def test_a_better_ranking_gets_a_lower_loss():
    good = np.where(Y == 1, 3.0, -3.0).astype("float32")
    bad = -good
    assert losses.NAMES
    for name in losses.NAMES:
        loss = losses.make(name, Y_TRAIN)
        assert value(loss, z=good) < value(loss, z=bad), name


@pytest.mark.parametrize("name", losses.NAMES)
def test_a_model_compiled_with_the_loss_saves_and_loads(tmp_path, name):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(4)(inputs))
    model.compile(optimizer="adam", loss=losses.make(name, Y_TRAIN))
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    before = model.evaluate(x, Y, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.evaluate(x, Y, verbose=0) == pytest.approx(before, rel=1e-5)


def test_the_registry_builds_every_loss_in_the_table_order():
    assert losses.NAMES[:3] == ("bce", "weighted-bce", "focal") and losses.NAMES[-1] == "softmax-ce"
    assert len(losses.NAMES) == 13
    assert {n: losses.REGISTRY[n].claim for n in losses.COUPLED} == {
        "zlpr": "dependencies", "lsep": "dependencies", "softmax-ce": "cross_entropy"}
    assert {losses.REGISTRY[n].claim for n in losses.COUPLED} <= set(claims.BY_ID)
    for name in losses.NAMES:
        assert f"``{name}``" in losses.__doc__, f"{name} is missing from the module's table"
    with pytest.raises(ValueError, match="registered twice"):
        losses.register("bce")(lambda: None)


def test_frequency_losses_need_the_training_targets():
    with pytest.raises(ValueError, match="training targets"):
        losses.make("db")
    with pytest.raises(ValueError, match="unknown loss"):
        losses.make("hinge")
