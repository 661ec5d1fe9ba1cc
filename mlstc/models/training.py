"""The one training loop of every neural model (introduced in chapter 02, used by
the LSTM, BERT and the later chapters).

:func:`fit` trains any Keras model on an endless stream of batches
(:func:`batch_stream`: batches of similar length, reshuffled every epoch with the
seed), scores validation micro-F1 after every epoch (:class:`MicroF1`), stops early
on it, restores the best weights and, given a path, keeps the best weights on disk.
Given what the batches are made of (``data``), it trains only once per content:
:mod:`mlstc.models.fitcache` restores the weights of an earlier run with the same
model, data and settings, and says so.
:func:`fit_texts` and :func:`predict_text_logits` are the raw-text flavour used by
models that take strings (the LSTM); :mod:`mlstc.models.bert` feeds word pieces
through the same two functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from mlstc.core import system
from mlstc.models import fitcache
from mlstc.models.callbacks import MicroF1
from mlstc.text import batching

system.import_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def sigmoid(logits) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(logits, dtype=np.float64)))


def batch_stream(make_batch: Callable[[np.ndarray], tuple], lengths: Sequence[int], batch_size: int, signature, *,
                 seed: int = 0, **batch_options) -> tf.data.Dataset:
    """An endless ``tf.data.Dataset`` of ``make_batch(index_batch)``: index batches
    from :func:`mlstc.text.batching.batches` (``shuffle=True``, ``seed + epoch``)."""
    lengths = np.asarray(lengths)

    def generate():
        epoch = 0
        while True:
            for idx in batching.batches(lengths, batch_size, shuffle=True, seed=seed + epoch, **batch_options):
                yield make_batch(idx)
            epoch += 1

    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)


def fit(model: keras.Model, batches: tf.data.Dataset, steps_per_epoch: int, predict_val: Callable, y_val, *,
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
    k = None
    if data is not None and not extra:
        settings = {"loop": "training.fit", "epochs": epochs, "patience": patience, "seed": seed,
                    "steps_per_epoch": steps_per_epoch, "scores": getattr(scores, "__qualname__", repr(scores))}
        k, record = fitcache.lookup(model, [data, y_val], settings,
                                    loop=[__name__, getattr(scores, "__module__", "")])
        if record is not None:
            if checkpoint:
                model.save_weights(checkpoint)
            history = keras.callbacks.History()
            history.set_model(model)
            history.history, history.epoch, history.params = record["history"], record["epoch"], record["params"]
            history.train_seconds, history.cached, history.cache_key = record["seconds"], True, k
            return history
    if checkpoint:
        extra.append(keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_micro_f1", mode="max",
                                                     save_best_only=True, save_weights_only=True))
    f1 = MicroF1(predict_val, y_val) if scores is None else MicroF1(lambda m: scores(predict_val(m)), y_val,
                                                                     from_logits=False)
    stop = keras.callbacks.EarlyStopping(monitor="val_micro_f1", mode="max", patience=patience,
                                         restore_best_weights=True, verbose=0)
    started = time.perf_counter()
    history = model.fit(batches, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose, shuffle=False,
                        callbacks=[f1, stop, *extra])
    seconds = time.perf_counter() - started
    fitcache.keep(model, k, {"history": history.history, "epoch": history.epoch, "params": history.params,
                             "seconds": seconds})
    history.train_seconds, history.cached, history.cache_key = seconds, False, k
    return history


def steps(n_docs: int, batch_size: int) -> int:
    return int(np.ceil(n_docs / batch_size))


def array_batches(x, y, batch_size: int, *, seed: int = 0, in_graph: bool = False) -> tf.data.Dataset:
    """Endless shuffled ``(x, y)`` batches of fixed-size inputs (features, vectors).
    ``in_graph=True`` shuffles and batches inside ``tf.data`` (no Python per step: about
    5x faster for a small head; a different, equally seeded order of batches)."""
    x, y = np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32")
    if in_graph:
        return (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
                .batch(batch_size).repeat().prefetch(2))
    signature = (tf.TensorSpec((None, *x.shape[1:]), tf.float32), tf.TensorSpec((None, y.shape[1]), tf.float32))
    return batch_stream(lambda idx: (x[idx], y[idx]), np.zeros(len(x), dtype=int), batch_size, signature, seed=seed)


def fit_arrays(model: keras.Model, x_train, y_train, x_val, y_val, *, epochs: int = 30, batch_size: int = 32,
               patience: int = 4, seed: int = 0, predict_model: keras.Model | None = None, in_graph: bool = False,
               **options) -> keras.callbacks.History:
    """:func:`fit` for a model of fixed-size inputs; validation is scored with
    ``predict_model`` (default: the model itself), which shares its layers. See
    :func:`array_batches` for ``in_graph``."""
    scorer = predict_model or model
    x_train, y_train = np.asarray(x_train, dtype="float32"), np.asarray(y_train, dtype="float32")  # converted once
    x_val = np.asarray(x_val, dtype="float32")
    if in_graph:  # one compiled call per 4096 rows instead of Keras' predict loop
        fn = forward(scorer)
        predict_val = lambda m: predict_arrays(fn, x_val, 4096)  # noqa: E731
    else:
        predict_val = lambda m: scorer.predict(x_val, batch_size=256, verbose=0)
    data = [x_train, y_train, x_val, batch_size, in_graph,
            fitcache.describe(predict_model) if predict_model is not None else None]
    return fit(model, array_batches(x_train, y_train, batch_size, seed=seed, in_graph=in_graph),
               steps(len(x_train), batch_size), predict_val, y_val,
               epochs=epochs, patience=patience, seed=seed, data=data, **options)


# --- models that read raw text ---------------------------------------------------

def word_lengths(texts) -> np.ndarray:
    return np.array([len(t.split()) for t in texts])


def as_text_input(texts) -> tf.Tensor:
    """Texts as the ``(n, 1)`` string tensor the text models take."""
    return tf.constant([str(t) for t in texts])[:, None]


def text_batches(texts, y, batch_size: int, *, seed: int = 0) -> tf.data.Dataset:
    """Endless ``(texts (b, 1), y (b, L))`` batches of similar length."""
    texts = np.array([str(t) for t in texts], dtype=object)
    y = np.asarray(y, dtype="float32")
    signature = (tf.TensorSpec((None, 1), tf.string), tf.TensorSpec((None, y.shape[1]), tf.float32))
    return batch_stream(lambda idx: (texts[idx][:, None], y[idx]), word_lengths(texts), batch_size, signature,
                        seed=seed)


def forward(model: keras.Model):
    """A compiled inference function that accepts batches of any length."""
    return tf.function(lambda x: model(x, training=False), reduce_retracing=True)


def predict_arrays(fn, x, batch_size: int = 1024) -> np.ndarray:
    """Outputs of ``fn`` (a :func:`forward` function) on fixed-size inputs ``x``, in
    chunks of ``batch_size`` rows, in order."""
    x = np.asarray(x, dtype="float32")
    return np.concatenate([np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)])


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
    return sigmoid(predict_text_logits(model, texts, batch_size))
