import numpy as np
import pytest

from mlstc.data import Hierarchy
from mlstc.models import hierarchy

TREE = Hierarchy.from_paths(["A", "A/x", "A/y", "A/x/1", "B"])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def reference_mcloss(z, y, r):
    """C-HMCNN's MCLoss as its paper and reference code write it, in probability space."""
    h = sigmoid(z)
    constrained = (r[None] * h[:, None, :]).max(-1)
    positive = (r[None] * (y * h)[:, None, :]).max(-1)
    out = (1 - y) * constrained + y * positive
    bce = -(y * np.log(out) + (1 - y) * np.log(1 - out))
    return bce.mean(-1)


def test_coherence_layer_puts_every_parent_at_or_above_its_descendants_and_passes_gradients():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    z = tf.Variable(rng.normal(size=(6, len(TREE.nodes))).astype("float32"))
    layer = hierarchy.HierarchyMax(TREE.descendant_matrix())
    with tf.GradientTape() as tape:
        out = layer(z)
        total = tf.reduce_sum(out)
    out = out.numpy()
    r = TREE.descendant_matrix()
    for i in range(len(TREE.nodes)):
        for j in np.flatnonzero(r[i]):
            assert np.all(out[:, i] >= out[:, j])
    grad = tape.gradient(total, z).numpy()
    assert np.isfinite(grad).all() and grad.sum() == pytest.approx(out.size)  # each output routes to one logit
    assert np.allclose(out, hierarchy.make_coherent(z.numpy(), TREE))


def test_mcloss_matches_the_numpy_reference_on_a_hand_made_case():
    r = TREE.descendant_matrix()
    nodes = TREE.nodes
    y = TREE.augment(np.array([[0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]), ["A", "A/x", "A/y", "A/x/1", "B"])
    y = np.asarray(y, dtype="float32")
    z = np.array([[-1.0, 2.0, 3.0, -2.0, 0.5], [1.5, -1.0, 0.2, 0.0, -3.0], [0.3, -0.4, 1.1, -2.0, 0.0]],
                 dtype="float32")[:, [["A", "A/x", "A/y", "A/x/1", "B"].index(n) for n in nodes]]
    got = np.asarray(hierarchy.MCLoss(r)(y, z, sample_weight=None).numpy())
    expected = reference_mcloss(z.astype("float64"), y, r).mean()
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_hierarchical_model_trains_and_predicts_coherently(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 8)).astype("float32")
    leaf = np.stack([x[:, 0] > 0.3, x[:, 1] > 0.3, x[:, 2] > 0.5], 1)
    labels = ["A", "A/x", "A/y", "A/x/1", "B"]
    y = TREE.augment(np.stack([leaf[:, 0] | leaf[:, 1], leaf[:, 0], leaf[:, 1], leaf[:, 0] & (x[:, 3] > 0),
                               leaf[:, 2]], 1).astype(int), labels)
    inputs = keras.Input((8,))
    model, predictor = hierarchy.build(inputs, keras.layers.Dense(16, activation="relu")(inputs), TREE,
                                       "hierarchical", learning_rate=0.02)
    model.fit(x, y.astype("float32"), epochs=20, verbose=0)
    out = predictor.predict(x, verbose=0)
    from mlstc.evaluation import hierarchical

    assert hierarchical.violation_rate(out > 0, TREE.parent_index()) == 0
    assert ((out > 0) == y).mean() > 0.8
    predictor.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert np.allclose(again.predict(x[:5], verbose=0), out[:5], atol=1e-5)
    with pytest.raises(ValueError, match="kind must be one of"):
        hierarchy.build(inputs, inputs, TREE, "tree")
