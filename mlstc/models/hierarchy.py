"""Hierarchical multi-label models that never contradict their hierarchy
(introduced in chapter 04).

C-HMCNN (Giunchiglia & Lukasiewicz, NeurIPS 2020) makes predictions coherent by
construction: a parent's score is the maximum of its own and its descendants' scores
(the max constraint module, MCM), so under any single threshold a child is never
predicted without its parent; and it trains with MCLoss, a binary cross-entropy on the
MCM output in which a positive node only takes the maximum over its *positive*
descendants (so a wrongly confident negative child cannot be credited to the parent).

Both work here on logits: sigmoid is increasing, so the maximum of probabilities is the
sigmoid of the maximum of logits, and the loss can be computed in log space without
clipping.

- :class:`HierarchyMax`: the MCM as a Keras layer built from a hierarchy's
  descendant matrix (``R[i, j] = 1`` when node ``j`` is node ``i`` or below it).
- :class:`MCLoss`: the loss, on the model's pre-MCM logits.
- :func:`levelwise_logits`: one ``Dense`` head per level, each reading the shared text
  features *and* the previous level's probabilities.
- :func:`build`: the flat and hierarchical models on any shared encoder.
"""

from __future__ import annotations

import numpy as np

from mlstc.core import system
from mlstc.data.hierarchy import Hierarchy

system.import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

NEG = -1e9  # stands for a logit of minus infinity (probability 0)


def _matrix(descendants) -> np.ndarray:
    matrix = np.asarray(descendants, dtype="float32")
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not np.all(np.diag(matrix) == 1):
        raise ValueError("descendants must be a square 0/1 matrix with ones on the diagonal")
    return matrix


def max_over_descendants(logits, descendants, mask=None):
    """``out[b, i] = max_j logits[b, j]`` over ``j`` with ``descendants[i, j]`` (and
    ``mask[b, j]``, when given)."""
    allowed = ops.cast(ops.expand_dims(descendants, 0) > 0, "bool")  # (1, n, n)
    if mask is not None:
        allowed = ops.logical_and(allowed, ops.expand_dims(ops.cast(mask, "bool"), 1))
    expanded = ops.expand_dims(logits, 1)  # (b, 1, n)
    return ops.max(ops.where(allowed, expanded, ops.full_like(expanded, NEG)), axis=-1)


@keras.saving.register_keras_serializable(package="mlstc")
class HierarchyMax(keras.layers.Layer):
    """C-HMCNN's max constraint module on logits: every node's output is the largest
    logit among itself and its descendants, so parent >= child always."""

    def __init__(self, descendants, **kwargs):
        super().__init__(**kwargs)
        self.descendants = _matrix(descendants)

    def call(self, logits):
        return max_over_descendants(logits, ops.convert_to_tensor(self.descendants), None)

    def get_config(self):
        return super().get_config() | {"descendants": self.descendants.tolist()}


@keras.saving.register_keras_serializable(package="mlstc")
class MCLoss(keras.losses.Loss):
    """MCLoss (Giunchiglia & Lukasiewicz 2020) on the pre-MCM logits ``y_pred`` and
    ancestor-closed targets ``y_true``: binary cross-entropy of

    - for a positive node, the largest logit among its *positive* descendants (itself
      included);
    - for a negative node, the largest logit among all its descendants (the MCM output).
    """

    def __init__(self, descendants, name: str = "mc_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.descendants = _matrix(descendants)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        matrix = ops.convert_to_tensor(self.descendants)
        positive = max_over_descendants(y_pred, matrix, y_true > 0.5)
        anywhere = max_over_descendants(y_pred, matrix, None)
        logits = ops.where(y_true > 0.5, positive, anywhere)
        return ops.mean(ops.binary_crossentropy(y_true, logits, from_logits=True), axis=-1)

    def get_config(self):
        return super().get_config() | {"descendants": self.descendants.tolist()}


def levelwise_logits(features, tree: Hierarchy, name: str = "level"):
    """Logits over ``tree.nodes``: level ``k``'s head reads the features and the
    sigmoid of level ``k - 1``'s logits."""
    outputs, previous = [], None
    for k, level in enumerate(tree.levels, 1):
        x = features if previous is None else keras.layers.Concatenate(name=f"{name}{k}_input")(
            [features, keras.layers.Activation("sigmoid", name=f"{name}{k - 1}_probs")(previous)])
        previous = keras.layers.Dense(len(level), name=f"{name}{k}")(x)
        outputs.append(previous)
    return outputs[0] if len(outputs) == 1 else keras.layers.Concatenate(name="node_logits")(outputs)


KINDS = ("flat", "hierarchical")


def vector_encoder(dim: int, units: int = 256, dropout: float = 0.2):
    """``(inputs, features)`` of the shared encoder on fixed vectors (chapter 04's
    frozen MiniLM embeddings): one ReLU layer and dropout."""
    inputs = keras.Input(shape=(dim,), name="vector")
    return inputs, keras.layers.Dropout(dropout)(keras.layers.Dense(units, activation="relu", name="mlp")(inputs))


def build(inputs, features, tree: Hierarchy, kind: str, *, learning_rate: float = 2e-3):
    """``(train_model, predict_model)`` over ``tree.nodes`` on a shared encoder.

    ``flat``: one ``Dense`` layer over every node, binary cross-entropy; its predict
    model is the same model (make it coherent afterwards with :class:`HierarchyMax`).
    ``hierarchical``: :func:`levelwise_logits` trained with :class:`MCLoss`; its
    predict model adds :class:`HierarchyMax`, so its predictions are coherent.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    matrix = tree.descendant_matrix()
    if kind == "flat":
        logits = keras.layers.Dense(len(tree.nodes), name="logits")(features)
        model = keras.Model(inputs, logits, name="flat")
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        predictor = model
    else:
        logits = levelwise_logits(features, tree)
        model = keras.Model(inputs, logits, name="hierarchical")
        loss = MCLoss(matrix)
        predictor = keras.Model(inputs, HierarchyMax(matrix, name="coherent")(logits), name="hierarchical_coherent")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    return model, predictor


def make_coherent(logits, tree: Hierarchy) -> np.ndarray:
    """The MCM applied after the fact (to a flat model's logits), in NumPy."""
    matrix = tree.descendant_matrix() > 0
    logits = np.asarray(logits, dtype=np.float32)
    return np.where(matrix[None], logits[:, None, :], NEG).max(-1)
