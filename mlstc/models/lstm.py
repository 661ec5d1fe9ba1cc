"""Recurrent text classifiers (introduced in chapter 02).

- :func:`article_example1` is the source article's Example 1 as written; it still runs
  under Keras 3 (``input_length`` is deprecated and ignored, with a warning).
- :func:`lstm_classifier` is the version a careful engineer would ship: raw text in
  (``TextVectorization`` inside the model, so the saved model needs no separate
  tokenizer), a bidirectional LSTM (or GRU), a pooling layer (attention, mean or
  max over the unpadded steps), dropout, and *logits* out, trained with
  ``BinaryCrossentropy(from_logits=True)``. Its word embeddings start random or from
  given vectors (word2vec, chapter 05).
- :func:`text_encoder` is the same network without its output layer, so that the
  hierarchical models of chapter 04 share it.

These models stay on TensorFlow while the transformer path (fine-tune, pretraining,
losses, layers, the training step) runs on JAX as well: ``TextVectorization`` is a
TensorFlow layer (strings are not JAX arrays), and a masked LSTM gains little from
JAX on a GPU (it cannot use cuDNN's kernels there). Chapters 01, 02, 04 and 05 build
them and call :meth:`mlstc.book.setup.Run.tensorflow`; 03, 06 and 07 call
:meth:`~mlstc.book.setup.Run.backend`.
"""

from __future__ import annotations

import numpy as np

from mlstc.core import system
from mlstc.models import layers
from mlstc.models.training import as_text_input

system.import_tensorflow()
import keras  # noqa: E402

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def article_example1(vocab_size: int, embedding_dim: int, max_length: int, num_labels: int) -> keras.Model:
    """Example 1 of the article, compiled as written: sigmoid outputs, binary
    cross-entropy and ``metrics=['accuracy']``, which Keras 3 resolves to categorical
    accuracy for this output (tf.keras 2 gave binary accuracy)."""
    model = keras.Sequential([
        keras.layers.Embedding(vocab_size, embedding_dim, input_length=max_length),
        keras.layers.LSTM(128),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(num_labels, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def text_vectorizer(train_texts, *, max_tokens: int = 30000, max_length: int = 400) -> keras.layers.TextVectorization:
    """Lower-cased word vocabulary adapted on the training texts only; outputs are
    padded to the longest text of each batch and cut at ``max_length``."""
    layer = keras.layers.TextVectorization(max_tokens=max_tokens, output_mode="int",
                                           output_sequence_length=None, name="vectorize")
    layer.adapt(as_text_input(train_texts)[:, 0], batch_size=256)
    layer.max_length = max_length
    return layer


@keras.saving.register_keras_serializable(package="mlstc")
class Truncate(keras.layers.Layer):
    """Keep the first ``length`` time steps."""

    def __init__(self, length: int, **kwargs):
        super().__init__(**kwargs)
        self.length = length

    def call(self, inputs):
        return inputs[:, : self.length]

    def get_config(self):
        return super().get_config() | {"length": self.length}


def text_encoder(
    vectorizer: keras.layers.TextVectorization,
    *,
    embedding_dim: int = 128,
    units: int = 64,
    attention_units: int = 64,
    dropout: float = 0.3,
    pooling: str = "attention",
    cell: str = "lstm",
    embeddings: np.ndarray | None = None,
    trainable_embeddings: bool = True,
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """``(text input, pooled vector)``: text -> ids -> embeddings -> bidirectional
    ``cell`` -> ``pooling`` -> dropout. ``embeddings`` (vocabulary x dim, row ``i``
    for the vectorizer's word ``i``) initialises the embedding layer."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}")
    texts = keras.Input(shape=(1,), dtype="string", name="text")
    ids = Truncate(getattr(vectorizer, "max_length", 400), name="truncate")(vectorizer(texts))
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype="float32")
        if embeddings.shape[0] != vectorizer.vocabulary_size():
            raise ValueError(f"embeddings have {embeddings.shape[0]} rows for a vocabulary of "
                             f"{vectorizer.vocabulary_size()} words")
        embedding_dim = embeddings.shape[1]
    embed = keras.layers.Embedding(vectorizer.vocabulary_size(), embedding_dim, mask_zero=True, name="embedding",
                                   trainable=trainable_embeddings,
                                   embeddings_initializer=keras.initializers.Constant(embeddings)
                                   if embeddings is not None else "uniform")
    x = embed(ids)
    x = keras.layers.Bidirectional(CELLS[cell](units, return_sequences=True), name="bilstm")(x)
    x = keras.layers.Dropout(dropout)(x)
    x = layers.pooling(pooling, attention_units)(x)
    return texts, keras.layers.Dropout(dropout)(x)


def lstm_classifier(
    vectorizer: keras.layers.TextVectorization,
    num_labels: int,
    *,
    learning_rate: float = 2e-3,
    loss=None,
    **encoder_options,
) -> keras.Model:
    """Text -> :func:`text_encoder` -> logits, compiled with Adam and ``loss``
    (default: binary cross-entropy on logits)."""
    texts, pooled = text_encoder(vectorizer, **encoder_options)
    logits = keras.layers.Dense(num_labels, name="logits")(pooled)
    cell = encoder_options.get("cell", "lstm")
    model = keras.Model(texts, logits, name=f"bi{cell}_{encoder_options.get('pooling', 'attention')}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=loss or keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def attention_weights(model: keras.Model, texts) -> tuple[list[list[str]], list[np.ndarray]]:
    """Per text, its words (as the model's vocabulary sees them, after truncation) and
    the attention weight the model gave each (they sum to one)."""
    vectorizer = model.get_layer("vectorize")
    vocabulary = vectorizer.get_vocabulary()
    ids = np.asarray(model.get_layer("truncate")(vectorizer(as_text_input(texts))))
    states = np.asarray(keras.Model(model.inputs, model.get_layer("bilstm").output)(as_text_input(texts)))
    layer = model.get_layer("attention")
    probe = layers.AttentionPooling(layer.units, return_weights=True)
    probe.build(states.shape)
    probe.set_weights(layer.get_weights())
    weights = np.asarray(probe(states, mask=ids != 0)[1])
    words = [[vocabulary[i] for i in row if i != 0] for row in ids]
    return words, [w[: len(ws)] for w, ws in zip(weights, words)]
