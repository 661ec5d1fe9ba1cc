"""Small classifier heads on fixed features, trained with any loss (chapter 06).

A *head* is what sits on top of a representation that is not trained: a ``linear``
layer of logits, or an ``mlp`` with one hidden layer (ReLU, dropout) before it. The
loss comparison of chapter 06 trains the same heads with every loss of
:mod:`mlstc.models.losses` on cached frozen-MiniLM embeddings and on tf-idf features
reduced by truncated SVD, through the one training loop of
:mod:`mlstc.models.training` (validation micro-F1 with a tuned threshold, early
stopping, best epoch restored).
"""

from __future__ import annotations

import numpy as np

from mlstc.core import system
from mlstc.models import losses as loss_functions
from mlstc.models import training

system.import_tensorflow()
import keras  # noqa: E402

KINDS = ("linear", "mlp")


def head(input_dim: int, num_labels: int, kind: str = "linear", *, hidden: int = 512, dropout: float = 0.2,
         prior=None) -> keras.Model:
    """A head of logits; with ``prior`` (training label frequencies) the output bias
    starts at their log-odds, so that training does not begin by unlearning 0.5."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    inputs = keras.Input((input_dim,), name="features")
    x = inputs
    if kind == "mlp":
        x = keras.layers.Dense(hidden, activation="relu", name="hidden")(x)
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    bias = "zeros"
    if prior is not None:
        p = np.clip(np.asarray(prior, dtype="float64"), 1e-4, 1 - 1e-4)
        bias = keras.initializers.Constant(np.log(p / (1 - p)))
    return keras.Model(inputs, keras.layers.Dense(num_labels, bias_initializer=bias, name="logits")(x),
                       name=f"{kind}_head")


def train(x_train, y_train, x_val, y_val, *, loss: str = "bce", kind: str = "linear", seed: int = 0,
          epochs: int = 40, patience: int = 5, batch_size: int = 64, learning_rate: float = 1e-3,
          prior_bias: bool = True, **head_options) -> tuple[keras.Model, keras.losses.Loss, dict]:
    """Train a ``kind`` head with the loss called ``loss`` (label frequencies from
    ``y_train``); returns the model, the loss object and the training history."""
    keras.utils.set_random_seed(seed)
    y_train = np.asarray(y_train, dtype="float32")
    loss_object = loss_functions.make(loss, y_train)
    # a softmax-trained head has no per-label prior: its logits are only defined up to a shift
    prior = y_train.mean(0) if prior_bias and getattr(loss_object, "activation", "sigmoid") == "sigmoid" else None
    model = head(np.shape(x_train)[1], y_train.shape[1], kind, prior=prior, **head_options)
    per_epoch = training.steps(len(y_train), batch_size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss_object, steps_per_execution=per_epoch)
    history = training.fit_arrays(model, x_train, y_train, x_val, y_val, epochs=epochs, batch_size=batch_size,
                                  patience=patience, seed=seed, in_graph=True,
                                  scores=lambda logits: loss_functions.scores(loss_object, logits))
    return model, loss_object, history.history


def predict_scores(model: keras.Model, loss, x, batch_size: int = 1024) -> np.ndarray:
    """Scores in [0, 1] for ``x``: the loss's own link (sigmoid, or softmax)."""
    return loss_functions.scores(loss, training.predict_arrays(training.forward(model), x, batch_size))
