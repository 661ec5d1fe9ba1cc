"""A recurrent text classifier trained end to end on a data set (chapters 02 and 05):
:func:`train` builds :func:`mlstc.models.lstm.lstm_classifier` on the training
split's vocabulary, optionally starts its word embeddings from word2vec vectors,
trains it with early stopping on validation micro-F1
(:func:`mlstc.models.training.fit_texts`, which restores a run it has seen from the
fit cache) and scores the validation and test texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlstc.models import lstm, training


@dataclass
class Trained:
    model: object  # the Keras model: raw text in, logits out
    probs: dict  # {"validation": P, "test": P}
    history: dict  # per epoch: loss, val_micro_f1
    train_seconds: float  # of the run that trained it (an earlier one when restored from the fit cache)
    word2vec_coverage: float | None = None  # share of the vocabulary that started from a word2vec vector


def train(dataset, *, seed: int = 0, max_tokens: int = 30000, max_length: int = 300, epochs: int = 30,
          batch_size: int = 32, patience: int = 4, word2vec=None, **architecture) -> Trained:
    """Train a :func:`mlstc.models.lstm.lstm_classifier` (``architecture``: its
    options, e.g. ``units``, ``pooling``, ``cell``, ``learning_rate``) on ``dataset``
    with ``seed``; ``word2vec`` (gensim ``KeyedVectors``) starts its embeddings."""
    from mlstc.text import word2vec as w2v

    train_split, val, test = (dataset.split(s) for s in ("train", "validation", "test"))
    training.keras.utils.set_random_seed(seed)
    vectorizer = lstm.text_vectorizer(train_split.texts, max_tokens=max_tokens, max_length=max_length)
    coverage = None
    if word2vec is not None:
        matrix, coverage = w2v.embedding_matrix(vectorizer.get_vocabulary(), word2vec, seed=seed)
        architecture["embeddings"] = matrix
    model = lstm.lstm_classifier(vectorizer, dataset.num_labels, **architecture)
    history = training.fit_texts(model, train_split.texts, train_split.y, val.texts, val.y, epochs=epochs,
                                 batch_size=batch_size, patience=patience, seed=seed)
    probs = {"validation": training.predict_proba(model, val.texts), "test": training.predict_proba(model, test.texts)}
    return Trained(model, probs, history.history, history.train_seconds, coverage)
