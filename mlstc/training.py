"""Training text models on length-bucketed batches (introduced in chapter 02).

:func:`fit` trains a raw-text Keras model (such as :func:`mlstc.models.lstm_classifier`)
on batches of similar length (:mod:`mlstc.batching`), reshuffled every epoch with the
seed, with validation micro-F1 computed by :class:`mlstc.callbacks.MicroF1`, early
stopping on it and the best weights restored. :func:`predict_logits` runs a model over
length-sorted batches and returns the outputs in the input order.
"""

from __future__ import annotations

import numpy as np

from mlstc import batching, env
from mlstc.callbacks import MicroF1

env.import_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def word_lengths(texts) -> np.ndarray:
    return np.array([len(t.split()) for t in texts])


def text_batches(texts, y, batch_size: int, *, seed: int = 0) -> tf.data.Dataset:
    """An endless dataset of ``(texts (b, 1), y (b, L))`` batches of similar length,
    the batch order reshuffled every epoch (``seed``, epoch)."""
    texts = list(texts)
    y = np.asarray(y, dtype="float32")
    lengths = word_lengths(texts)

    def generate():
        epoch = 0
        while True:
            for idx in batching.batches(lengths, batch_size, shuffle=True, seed=seed + epoch):
                yield np.array([texts[i] for i in idx], dtype=object)[:, None], y[idx]
            epoch += 1

    signature = (tf.TensorSpec((None, 1), tf.string), tf.TensorSpec((None, y.shape[1]), tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)


def predict_logits(model: keras.Model, texts, batch_size: int = 128) -> np.ndarray:
    """Model outputs for ``texts`` in their order, computed on length-sorted batches."""
    texts = list(texts)
    forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return batching.predict_in_order(
        lambda idx: np.asarray(forward(tf.constant([texts[i] for i in idx])[:, None])),
        word_lengths(texts), batch_size)


def fit(model: keras.Model, train_texts, y_train, val_texts, y_val, *, epochs: int = 10, batch_size: int = 32,
        patience: int = 3, seed: int = 0, verbose: int = 2, callbacks=()) -> keras.callbacks.History:
    """Train with early stopping on validation micro-F1 (best weights restored)."""
    keras.utils.set_random_seed(seed)
    f1 = MicroF1(None, y_val, predict=lambda m: predict_logits(m, val_texts), verbose=False)
    stop = keras.callbacks.EarlyStopping(monitor="val_micro_f1", mode="max", patience=patience,
                                         restore_best_weights=True, verbose=0)
    steps = int(np.ceil(len(train_texts) / batch_size))
    return model.fit(text_batches(train_texts, y_train, batch_size, seed=seed), steps_per_epoch=steps,
                     epochs=epochs, verbose=verbose, shuffle=False, callbacks=[f1, stop, *callbacks])


def predict_proba(model: keras.Model, texts, batch_size: int = 128) -> np.ndarray:
    """Sigmoid of :func:`predict_logits`: label probabilities in the input order."""
    return 1 / (1 + np.exp(-predict_logits(model, texts, batch_size).astype(np.float64)))
