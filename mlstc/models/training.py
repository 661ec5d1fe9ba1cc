"""The one training loop of every neural model (introduced in chapter 02, used by
the LSTM, BERT and the later chapters), and the one way their outputs are computed.

:func:`run` is the loop: it restores a training :mod:`mlstc.models.fitcache` has seen,
or runs Keras' ``fit`` with the callbacks its caller plans (early stopping on
validation micro-F1 here, per-head stopping in :mod:`mlstc.models.heads`, a time
budget in :mod:`mlstc.models.pretraining`) and keeps the result.
:func:`fit` trains any Keras model on an endless stream of batches
(:func:`batch_stream`: batches of similar length, reshuffled every epoch with the
seed), scores validation micro-F1 after every epoch (:class:`MicroF1`), stops early
on it, restores the best weights and, given a path, keeps the best weights on disk.
Given what the batches are made of (``data``), it trains only once per content:
:mod:`mlstc.models.fitcache` restores the weights of an earlier run with the same
model, data and settings, and says so.
:func:`fit_texts` and :func:`predict_text_logits` are the raw-text flavour used by
models that take strings (the LSTM); :mod:`mlstc.models.bert` feeds word pieces
through the same two functions. Outputs come from :func:`forward` (a compiled call
of the model), in chunks (:func:`predict_arrays`) or on length-sorted batches of text
(:func:`predict_text_logits`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mlstc.core import system
from mlstc.evaluation import thresholds
from mlstc.models import fitcache
from mlstc.models.callbacks import KeepBest, MicroF1
from mlstc.text import batching

system.import_backend()
import keras  # noqa: E402


@dataclass(frozen=True)
class Spec:
    """One input of a batch: its shape (``None`` where it varies) and dtype name."""

    shape: tuple
    dtype: str


def _tensor_specs(signature):
    import tensorflow as tf

    if isinstance(signature, Spec):
        return tf.TensorSpec(signature.shape, signature.dtype)
    if isinstance(signature, dict):
        return {k: _tensor_specs(v) for k, v in signature.items()}
    return tuple(_tensor_specs(s) for s in signature)


def batch_stream(make_batch: Callable[[np.ndarray], tuple], lengths: Sequence[int], batch_size: int, signature, *,
                 seed: int = 0, **batch_options):
    """An endless stream of ``make_batch(index_batch)``: index batches from
    :func:`mlstc.text.batching.batches` (``shuffle=True``, ``seed + epoch``).
    ``signature`` (:class:`Spec` leaves in the batch's structure) makes it a
    ``tf.data.Dataset`` on TensorFlow; on another backend Keras' ``fit`` reads the
    Python generator itself (the same batches, in the same order)."""
    lengths = np.asarray(lengths)

    def generate():
        epoch = 0
        while True:
            for idx in batching.batches(lengths, batch_size, shuffle=True, seed=seed + epoch, **batch_options):
                yield make_batch(idx)
            epoch += 1

    if system.backend() != "tensorflow":
        return generate()
    import tensorflow as tf

    return tf.data.Dataset.from_generator(generate, output_signature=_tensor_specs(signature)).prefetch(2)


@dataclass
class Trained:
    """What :func:`run` did: the record of the training (the stored one when the fit
    cache restored it, the new one otherwise, with ``seconds``), its fit-cache key
    (``None`` when not cached), whether it was restored, and Keras' history (a new
    training only)."""

    record: dict
    key: str | None
    cached: bool
    history: keras.callbacks.History | None = None


def run(model: keras.Model, plan: Callable[[], dict], record: Callable[[keras.callbacks.History, float], dict], *,
        cache: tuple | None = None) -> Trained:
    """The one training loop of the package: every Keras model trains through here.

    With ``cache`` (``(data, settings, modules)``: what the batches are made of, the
    loop's settings, the modules that run), a training :mod:`mlstc.models.fitcache`
    has seen is restored, ``model`` holding its weights. Otherwise ``plan()`` returns
    the arguments of Keras' ``model.fit`` (``x``: the batches, ``steps_per_epoch``,
    ``epochs``, ``callbacks``: early stopping, per-head stopping, a time budget…);
    work that only a real training needs (measuring step time) goes there too. After
    the fit, ``record(history, seconds)`` says what the cache keeps (JSON), after any
    best weights are back in ``model``."""
    k = stored = None
    if cache is not None:
        k, stored = fitcache.lookup(model, *cache)
    if stored is not None:
        return Trained(stored, k, True)
    started = time.perf_counter()
    # KerasHub's pipeline models (BertMaskedLM) take only tf.data or grain datasets in their
    # own fit; off TensorFlow the batches are a Python generator, which Keras' fit reads
    fit = model.fit if system.backend() == "tensorflow" else functools.partial(keras.Model.fit, model)
    history = fit(**({"verbose": 0, "shuffle": False} | plan()))
    kept = record(history, time.perf_counter() - started)
    fitcache.keep(model, k, kept)
    return Trained(kept, k, False, history)


def fit(model: keras.Model, batches, steps_per_epoch: int, predict_val: Callable, y_val, *,
        epochs: int, patience: int = 3, seed: int = 0, verbose: int = 0, callbacks: Sequence = (),
        checkpoint: str | None = None, scores: Callable | None = None, data=None) -> keras.callbacks.History:
    """Train ``model`` (compiled, with logits out) for at most ``epochs``, stopping
    when validation micro-F1 (``predict_val(model)`` gives validation logits) has
    not improved for ``patience`` epochs; the best epoch's weights are restored and,
    with ``checkpoint`` (a ``.weights.h5`` path), also written to disk. ``scores``
    maps logits to scores in [0, 1] for that validation F1 (default: the sigmoid; a
    softmax-trained model passes :func:`mlstc.models.losses.scores`).

    ``data`` is everything ``batches`` and ``predict_val`` are made of (inputs, labels,
    batch size); given it, and no extra ``callbacks``, a run that
    :mod:`mlstc.models.fitcache` has seen is restored instead of trained. The history
    carries ``train_seconds`` (the stored run's, on a hit) and ``cached``."""
    keras.utils.set_random_seed(seed)
    extra = list(callbacks)
    cache = None
    if data is not None and not extra:
        settings = {"loop": "training.fit", "epochs": epochs, "patience": patience, "seed": seed,
                    "steps_per_epoch": steps_per_epoch, "scores": getattr(scores, "__qualname__", repr(scores))}
        cache = ([data, y_val], settings, [__name__, getattr(scores, "__module__", "")])

    def plan() -> dict:
        if checkpoint:
            extra.append(keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_micro_f1", mode="max",
                                                         save_best_only=True, save_weights_only=True))
        f1 = MicroF1(predict_val, y_val) if scores is None else MicroF1(lambda m: scores(predict_val(m)), y_val,
                                                                         from_logits=False)
        stop = KeepBest(patience, monitor="val_micro_f1")
        return {"x": batches, "steps_per_epoch": steps_per_epoch, "epochs": epochs, "verbose": verbose,
                "callbacks": [f1, stop, *extra]}

    trained = run(model, plan, lambda h, seconds: {"history": h.history, "epoch": h.epoch, "params": h.params,
                                                   "seconds": seconds}, cache=cache)
    history = trained.history
    if trained.cached:
        if checkpoint:
            model.save_weights(checkpoint)
        history = keras.callbacks.History()
        history.set_model(model)
        history.history, history.epoch, history.params = (trained.record[k] for k in ("history", "epoch", "params"))
    history.train_seconds, history.cached, history.cache_key = trained.record["seconds"], trained.cached, trained.key
    return history


def value_and_grad(f: Callable, x) -> tuple[float, np.ndarray]:
    """``f(x)`` (a scalar) and its gradient with respect to ``x`` (an array), on
    whichever backend Keras runs: a loss's gradient, shown or tested the same way."""
    x = np.asarray(x, dtype="float32")
    if system.backend() == "jax":
        import jax

        value, grad = jax.value_and_grad(f)(jax.numpy.asarray(x))
        return float(value), np.asarray(grad)
    import tensorflow as tf

    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        value = f(variable)
    return float(value), tape.gradient(value, variable).numpy()


def steps(n_docs: int, batch_size: int) -> int:
    return int(np.ceil(n_docs / batch_size))


def array_batches(x, y, batch_size: int, *, seed: int = 0, in_graph: bool = False, outputs: int = 0):
    """Endless shuffled ``(x, y)`` batches of fixed-size inputs (features, vectors);
    with ``outputs`` > 0, ``y`` repeated for a model of that many outputs.
    ``in_graph=True`` shuffles and batches inside ``tf.data`` on TensorFlow (no Python
    per step: about 5x faster for a small head; a different, equally seeded order of
    batches); other backends take the Python stream."""
    x, y = np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32")
    if in_graph and system.backend() == "tensorflow":
        import tensorflow as tf

        batches = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
                   .batch(batch_size).repeat().prefetch(2))
        return batches.map(lambda a, b: (a, tuple([b] * outputs))) if outputs else batches
    target = Spec((None, y.shape[1]), "float32")
    signature = (Spec((None, *x.shape[1:]), "float32"), tuple([target] * outputs) if outputs else target)
    return batch_stream(lambda idx: (x[idx], tuple([y[idx]] * outputs) if outputs else y[idx]),
                        np.zeros(len(x), dtype=int), batch_size, signature, seed=seed)


def fit_arrays(model: keras.Model, x_train, y_train, x_val, y_val, *, epochs: int = 30, batch_size: int = 32,
               patience: int = 4, seed: int = 0, predict_model: keras.Model | None = None, in_graph: bool = False,
               **options) -> keras.callbacks.History:
    """:func:`fit` for a model of fixed-size inputs; validation is scored with
    ``predict_model`` (default: the model itself), which shares its layers. See
    :func:`array_batches` for ``in_graph``."""
    scorer = predict_model or model
    x_train, y_train = np.asarray(x_train, dtype="float32"), np.asarray(y_train, dtype="float32")  # converted once
    x_val = np.asarray(x_val, dtype="float32")
    fn, chunk = forward(scorer), 4096 if in_graph else 256  # in graph: one call per 4096 rows
    predict_val = lambda m: predict_arrays(fn, x_val, chunk)  # noqa: E731
    data = [x_train, y_train, x_val, batch_size, in_graph,
            fitcache.describe(predict_model) if predict_model is not None else None]
    return fit(model, array_batches(x_train, y_train, batch_size, seed=seed, in_graph=in_graph),
               steps(len(x_train), batch_size), predict_val, y_val,
               epochs=epochs, patience=patience, seed=seed, data=data, **options)


# --- models that read raw text (the LSTM's TextVectorization: TensorFlow only) -----

def word_lengths(texts) -> np.ndarray:
    return np.array([len(t.split()) for t in texts])


def as_text_input(texts):
    """Texts as the ``(n, 1)`` string tensor the text models take."""
    import tensorflow as tf

    return tf.constant([str(t) for t in texts])[:, None]


def text_batches(texts, y, batch_size: int, *, seed: int = 0):
    """Endless ``(texts (b, 1), y (b, L))`` batches of similar length."""
    texts = np.array([str(t) for t in texts], dtype=object)
    y = np.asarray(y, dtype="float32")
    signature = (Spec((None, 1), "string"), Spec((None, y.shape[1]), "float32"))
    return batch_stream(lambda idx: (texts[idx][:, None], y[idx]), word_lengths(texts), batch_size, signature,
                        seed=seed)


def forward(model: keras.Model):
    """A compiled inference function that accepts batches of any length: a
    ``tf.function`` on TensorFlow; on JAX, Keras' jitted ``predict_on_batch``
    (compiled once per input shape: bucket the widths)."""
    if system.backend() != "tensorflow":
        return model.predict_on_batch
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False), reduce_retracing=True)


def predict_arrays(model, x, batch_size: int = 1024, *, axis: int = 0) -> np.ndarray:
    """Outputs of ``model`` (a Keras model, or its :func:`forward` function made once
    for repeated calls) on fixed-size inputs ``x``, in chunks of ``batch_size`` rows, in
    order. A model of several outputs gives them stacked: ``axis=1`` joins the chunks."""
    fn = forward(model) if isinstance(model, keras.Model) else model
    x = np.asarray(x, dtype="float32")
    return np.concatenate([np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)], axis=axis)


def predict_text_logits(model: keras.Model, texts, batch_size: int = 128, fn=None) -> np.ndarray:
    """Model outputs for ``texts`` in their order, computed on length-sorted batches."""
    texts = [str(t) for t in texts]
    fn = fn or forward(model)
    return batching.predict_in_order(lambda idx: np.asarray(fn(as_text_input([texts[i] for i in idx]))),
                                     word_lengths(texts), batch_size)


def fit_texts(model: keras.Model, train_texts, y_train, val_texts, y_val, *, epochs: int = 10, batch_size: int = 32,
              patience: int = 3, seed: int = 0, verbose: int = 0, predict_model: keras.Model | None = None,
              **options) -> keras.callbacks.History:
    """:func:`fit` for a model that takes raw strings; validation is scored with
    ``predict_model`` (default: the model itself), which shares its layers."""
    fn = forward(predict_model or model)
    data = [[str(t) for t in train_texts], np.asarray(y_train, dtype="float32"), [str(t) for t in val_texts],
            batch_size, fitcache.describe(predict_model) if predict_model is not None else None]
    return fit(model, text_batches(train_texts, y_train, batch_size, seed=seed), steps(len(train_texts), batch_size),
               lambda m: predict_text_logits(m, val_texts, fn=fn), y_val, epochs=epochs, patience=patience,
               seed=seed, verbose=verbose, data=data, **options)


def predict_proba(model: keras.Model, texts, batch_size: int = 128) -> np.ndarray:
    """Sigmoid of :func:`predict_text_logits`: label probabilities in input order."""
    return thresholds.sigmoid(predict_text_logits(model, texts, batch_size))
