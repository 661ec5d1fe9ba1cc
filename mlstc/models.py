"""Neural models and their saved form (introduced in chapter 02).

- :func:`article_example1` is the source article's Example 1 as written; it still runs
  under Keras 3 (``input_length`` is deprecated and ignored, with a warning).
- :func:`lstm_classifier` is the version a careful engineer would ship: raw text in
  (``TextVectorization`` inside the model, so the saved model needs no separate
  tokenizer), a bidirectional LSTM, :class:`mlstc.layers.AttentionPooling`, dropout,
  and *logits* out, trained with ``BinaryCrossentropy(from_logits=True)``.
- :func:`save` / :class:`Predictor` keep a model together with its label names and
  tuned thresholds in one directory; ``python -m mlstc predict`` uses them. BERT
  models (:func:`mlstc.bert.save`) also keep their tokenizer and truncation there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mlstc import env
from mlstc.layers import AttentionPooling

env.import_tensorflow()
import keras  # noqa: E402

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"


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


def lstm_classifier(
    vectorizer: keras.layers.TextVectorization,
    num_labels: int,
    *,
    embedding_dim: int = 128,
    units: int = 64,
    attention_units: int = 64,
    dropout: float = 0.3,
    learning_rate: float = 2e-3,
) -> keras.Model:
    """Text -> ids -> embeddings -> BiLSTM -> attention pooling -> logits."""
    texts = keras.Input(shape=(1,), dtype="string", name="text")
    ids = Truncate(getattr(vectorizer, "max_length", 400), name="truncate")(vectorizer(texts))
    x = keras.layers.Embedding(vectorizer.vocabulary_size(), embedding_dim, mask_zero=True, name="embedding")(ids)
    x = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    x = keras.layers.Dropout(dropout)(x)
    x = AttentionPooling(attention_units, name="attention")(x)
    x = keras.layers.Dropout(dropout)(x)
    logits = keras.layers.Dense(num_labels, name="logits")(x)
    model = keras.Model(texts, logits, name="bilstm_attention")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def as_text_input(texts):
    """Texts as the ``(n, 1)`` string tensor the text models take (Keras does not
    accept NumPy string arrays)."""
    import tensorflow as tf

    return tf.constant([str(t) for t in texts])[:, None]


def attention_weights(model: keras.Model, texts) -> tuple[list[list[str]], list[np.ndarray]]:
    """Per text, its words (as the model's vocabulary sees them, after truncation) and
    the attention weight the model gave each (they sum to one)."""
    vectorizer = model.get_layer("vectorize")
    vocabulary = vectorizer.get_vocabulary()
    ids = np.asarray(model.get_layer("truncate")(vectorizer(as_text_input(texts))))
    states = np.asarray(keras.Model(model.inputs, model.get_layer("bilstm").output)(as_text_input(texts)))
    layer = model.get_layer("attention")
    probe = AttentionPooling(layer.units, return_weights=True)
    probe.build(states.shape)
    probe.set_weights(layer.get_weights())
    weights = np.asarray(probe(states, mask=ids != 0)[1])
    words = [[vocabulary[i] for i in row if i != 0] for row in ids]
    return words, [w[: len(ws)] for w, ws in zip(weights, words)]


def save(model_dir, model: keras.Model, label_names, thresholds, **info) -> Path:
    """Write ``model.keras`` and ``labels.json`` (label names, thresholds, ``info``)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=float), (len(label_names),))
    model.save(model_dir / MODEL_FILE)
    (model_dir / LABELS_FILE).write_text(json.dumps(
        {"label_names": list(label_names), "thresholds": thresholds.tolist(), "outputs": "logits", "info": info},
        indent=1) + "\n")
    return model_dir


class Predictor:
    """A saved model with its labels and thresholds: ``Predictor(dir).predict(texts)``."""

    def __init__(self, model_dir):
        model_dir = Path(model_dir)
        missing = [f for f in (MODEL_FILE, LABELS_FILE) if not (model_dir / f).is_file()]
        if missing:
            raise FileNotFoundError(f"{model_dir} is not a saved mlstc model: {', '.join(missing)} missing. "
                                    "Save one with mlstc.models.save() (the chapters do, under results/).")
        meta = json.loads((model_dir / LABELS_FILE).read_text())
        self.label_names = meta["label_names"]
        self.thresholds = np.asarray(meta["thresholds"], dtype=float)
        self.info = meta.get("info", {})
        self.encoding = self.info.get("encoding")  # word-piece models (chapter 03) keep their tokenizer
        if self.encoding:
            import keras_hub  # noqa: F401  (registers BertBackbone for loading)

            from mlstc import bert

            tokenizer_dir = model_dir / bert.TOKENIZER_DIR
            if not tokenizer_dir.is_dir():
                raise FileNotFoundError(f"{model_dir}: {bert.TOKENIZER_DIR}/ is missing; save the model with "
                                        "mlstc.bert.save(), which writes the tokenizer beside it.")
            import transformers

            self.tokenizer = transformers.AutoTokenizer.from_pretrained(tokenizer_dir)
        self.model = keras.saving.load_model(model_dir / MODEL_FILE)
        outputs = self.model.output_shape[-1]
        if outputs != len(self.label_names) or len(self.thresholds) != outputs:
            raise ValueError(f"{model_dir}: the model has {outputs} outputs but {LABELS_FILE} lists "
                             f"{len(self.label_names)} labels and {len(self.thresholds)} thresholds; "
                             "they were saved from different runs. Save them again together.")

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts or any(not t.strip() for t in texts):
            raise ValueError("give one or more non-empty texts")
        if self.encoding:
            from mlstc import bert

            encoded = bert.encode(texts, self.tokenizer, self.encoding["max_length"], self.encoding["strategy"])
            logits = bert.predict_logits(self.model, encoded, batch_size)
        else:
            logits = self.model.predict(as_text_input(texts), batch_size=batch_size, verbose=0)
        return 1 / (1 + np.exp(-np.asarray(logits, dtype=np.float64)))

    def predict(self, texts, top_k: int = 3) -> list[list[tuple[str, float, bool]]]:
        """Per text, the ``top_k`` labels by score, and every label above its
        threshold: ``(label, score, above_threshold)``."""
        probs = self.probabilities(texts)
        out = []
        for row in probs:
            order = np.argsort(-row)
            keep = [j for j in order if row[j] >= self.thresholds[j] or j in order[:top_k]]
            out.append([(self.label_names[j], float(row[j]), bool(row[j] >= self.thresholds[j])) for j in keep])
        return out
