"""Small classifier heads on fixed features, trained with any loss (chapter 06).

A *head* is what sits on top of a representation that is not trained: a ``linear``
layer of logits, or an ``mlp`` with one hidden layer (ReLU, dropout) before it. The
loss comparison of chapter 06 trains the same heads with every loss of
:mod:`mlstc.models.losses` on cached frozen-MiniLM embeddings and on tf-idf features
reduced by truncated SVD, through the one training loop of
:mod:`mlstc.models.training` (validation micro-F1 with a tuned threshold, early
stopping, best epoch restored); a sweep that :mod:`mlstc.models.fitcache` has seen
is restored instead of trained.
"""

from __future__ import annotations

import numpy as np

from mlstc.core import system
from mlstc.evaluation import thresholds
from mlstc.models import callbacks, training
from mlstc.models import losses as loss_functions

system.import_backend()
import keras  # noqa: E402

KINDS = ("linear", "mlp")


def head(input_dim: int, num_labels: int, kind: str = "linear", *, hidden: int = 512, dropout: float = 0.2,
         prior=None, name: str | None = None) -> keras.Model:
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
                       name=name or f"{kind}_head")


def train(x_train, y_train, x_val, y_val, *, loss: str = "bce", kind: str = "linear", seed: int = 0,
          epochs: int = 40, patience: int = 5, batch_size: int = 64, learning_rate: float = 1e-3,
          prior_bias: bool = True, **head_options) -> tuple[keras.Model, keras.losses.Loss, dict]:
    """Train a ``kind`` head with the loss called ``loss`` (label frequencies from
    ``y_train``); returns the model, the loss object and the training history."""
    y_train = np.asarray(y_train, dtype="float32")
    model, loss_object = _seeded_head(loss, np.shape(x_train)[1], y_train, kind, seed, prior_bias, **head_options)
    per_epoch = training.steps(len(y_train), batch_size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss_object, steps_per_execution=per_epoch)
    history = training.fit_arrays(model, x_train, y_train, x_val, y_val, epochs=epochs, batch_size=batch_size,
                                  patience=patience, seed=seed, in_graph=True,
                                  scores=lambda logits: loss_functions.scores(loss_object, logits))
    return model, loss_object, history.history


def _seeded_head(loss: str, input_dim: int, y_train, kind: str, seed: int, prior_bias: bool,
                 **head_options) -> tuple[keras.Model, keras.losses.Loss]:
    """A new head and its loss object, drawn from ``seed`` (what :func:`train` and each
    head of :func:`train_many` start from)."""
    keras.utils.set_random_seed(seed)
    loss_object = loss_functions.make(loss, y_train)
    # a softmax-trained head has no per-label prior: its logits are only defined up to a shift
    prior = y_train.mean(0) if prior_bias and getattr(loss_object, "activation", "sigmoid") == "sigmoid" else None
    return head(input_dim, y_train.shape[1], kind, prior=prior, **head_options), loss_object


def predict_scores(model: keras.Model, loss, x, batch_size: int = 1024) -> np.ndarray:
    """Scores in [0, 1] for ``x``: the loss's own link (sigmoid, or softmax)."""
    return loss_functions.scores(loss, training.predict_arrays(model, x, batch_size))


def train_many(x_train, y_train, x_val, y_val, *, losses, kind: str = "linear", seed: int = 0, epochs: int = 40,
               patience: int = 5, batch_size: int = 64, learning_rate: float = 1e-3, prior_bias: bool = True,
               **head_options) -> list[tuple[keras.Model, keras.losses.Loss, dict]]:
    """:func:`train` for several losses at once: one head per loss, side by side in one
    model that sees the same batches, so a sweep pays Keras' per-fit cost once instead
    of once per loss.

    Each head has its own weights, its own loss and (Adam being per-weight) its own
    optimizer state, so its training is that of :func:`train` with the same seed: the
    gradient of the summed loss with respect to a head's weights is the gradient of
    its own loss. Each head starts from the weights :func:`train` would give it, is
    early-stopped on its own validation micro-F1 (tuned global threshold) with its own
    ``patience``, and gets its best epoch back; training ends when every head has
    stopped. What differs from separate runs is only the random draws of dropout.
    Returns ``(model, loss, history)`` per loss, in order, as :func:`train` does; each
    history's ``train_seconds`` is the joint run's training time (the stored run's when
    the fit cache restored it, see :mod:`mlstc.models.fitcache`)."""
    losses = list(losses)
    if not losses:
        raise ValueError("train_many needs at least one loss")
    x_train, y_train = np.asarray(x_train, dtype="float32"), np.asarray(y_train, dtype="float32")
    y_val = np.asarray(y_val)
    x_val = np.asarray(x_val, dtype="float32")
    objects, models = [], []
    for name in losses:  # each head starts where train(loss=name, seed=seed) starts
        model, loss_object = _seeded_head(name, np.shape(x_train)[1], y_train, kind, seed, prior_bias,
                                          name=f"head_{len(models)}", **head_options)
        objects.append(loss_object)
        models.append(model)
    inputs = keras.Input((np.shape(x_train)[1],), name="features")
    joint = keras.Model(inputs, [m(inputs) for m in models], name=f"{kind}_heads")
    per_epoch = training.steps(len(y_train), batch_size)
    keras.utils.set_random_seed(seed)
    joint.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=objects, steps_per_execution=per_epoch)
    n = len(models)
    batches = training.array_batches(x_train, y_train, batch_size, seed=seed, in_graph=True, outputs=n)
    callback = _PerHeadStopping(joint, models, objects, x_val, y_val, patience)

    def record(_, seconds: float) -> dict:  # each head's best epoch back, and its history
        histories = []
        for i, model in enumerate(models):
            model.set_weights(callback.best_weights[i])
            stop = callback.stopped_at[i] if callback.stopped_at[i] is not None else len(callback.losses)
            key = "loss" if n == 1 else f"{model.name}_loss"  # Keras logs each output's loss by its name
            histories.append({"loss": [logs.get(key, np.nan) for logs in callback.losses[:stop]],
                              "val_micro_f1": callback.scores[i][:stop], "train_seconds": seconds})
        return {"histories": histories, "seconds": seconds}

    trained = training.run(
        joint, lambda: {"x": batches, "steps_per_epoch": per_epoch, "epochs": epochs, "callbacks": [callback]},
        record, cache=([x_train, y_train, x_val, y_val, batch_size],
                       {"loop": "heads.train_many", "epochs": epochs, "patience": patience, "seed": seed}, [__name__]))
    return [(model, loss_object, history | {"train_seconds": trained.record["seconds"]})
            for model, loss_object, history in zip(models, objects, trained.record["histories"])]


class _PerHeadStopping(keras.callbacks.Callback):
    """Early stopping and best-weight keeping for each head of :func:`train_many`:
    one :class:`mlstc.models.callbacks.Patience` per head, the rule that
    :class:`~mlstc.models.callbacks.KeepBest` applies to one model."""

    def __init__(self, joint, models, objects, x_val, y_val, patience):
        super().__init__()
        self.models, self.objects, self.x_val, self.y_val = models, objects, x_val, y_val
        self.forward = training.forward(joint)  # every head's validation logits in one call
        self.scores = [[] for _ in models]
        self.rules = [callbacks.Patience(patience) for _ in models]
        self.best_weights = [m.get_weights() for m in models]
        self.stopped_at: list[int | None] = [None] * len(models)
        self.losses: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append({k: float(v) for k, v in (logs or {}).items()})
        logits = training.predict_arrays(self.forward, self.x_val, 4096, axis=1)  # (heads, documents, labels)
        for i, (model, loss_object) in enumerate(zip(self.models, self.objects)):
            if self.stopped_at[i] is not None:
                continue
            probs = loss_functions.scores(loss_object, logits[i])
            score = thresholds.best_global(self.y_val, probs)[1]
            self.scores[i].append(score)
            if self.rules[i].better(score, epoch):
                self.best_weights[i] = model.get_weights()
            elif self.rules[i].exhausted:
                self.stopped_at[i] = epoch + 1
        if all(s is not None for s in self.stopped_at):
            self.model.stop_training = True
