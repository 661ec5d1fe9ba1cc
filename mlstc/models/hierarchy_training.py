"""A model over a label hierarchy trained on one shared encoder (chapter 04):
:func:`train` puts :func:`mlstc.models.hierarchy.build`'s flat or hierarchical
output on chapter 02's BiLSTM (raw text in) or on an MLP over frozen sentence vectors,
trains it with early stopping on validation micro-F1 (restored from the fit cache
when it has been trained before) and returns its validation and test logits over the
tree's nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlstc.models import hierarchy, lstm, training

ENCODERS = ("minilm-frozen", "bilstm")


@dataclass
class Trained:
    logits: dict  # {"validation": logits, "test": logits} over tree.nodes
    predictor: object  # the Keras model that predicts (coherent for the hierarchical kind)
    train_seconds: float  # of the run that trained it (an earlier one when restored from the fit cache)


def train(dataset, tree, encoder: str, kind: str, *, seed: int = 0, vectors=None, epochs: int = 40,
          batch_size: int = 32, patience: int = 5, learning_rate: float = 3e-3, max_tokens: int = 30000,
          max_length: int = 100) -> Trained:
    """Train one ``kind`` (:data:`mlstc.models.hierarchy.KINDS`) model over ``tree``
    (a :class:`mlstc.data.Hierarchy` over ``dataset``'s labels) on ``encoder``:
    ``"bilstm"`` (attention-pooled, 64 units, reading ``max_length`` words) or
    ``"minilm-frozen"`` (an MLP on ``vectors``, one row per text of ``dataset``)."""
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, not {encoder!r}")
    parts = {p: dataset.split(p) for p in ("train", "validation", "test")}
    y = {p: tree.augment(parts[p].y, dataset.label_names).astype("float32") for p in ("train", "validation")}
    training.keras.utils.set_random_seed(seed)
    if encoder == "bilstm":  # chapter 02's encoder on the text
        vectorizer = lstm.text_vectorizer(parts["train"].texts, max_tokens=max_tokens, max_length=max_length)
        inputs, features = lstm.text_encoder(vectorizer, units=64, pooling="attention")
        x, fit = {p: v.texts for p, v in parts.items()}, training.fit_texts
        predict = training.predict_text_logits
    else:  # an MLP on the frozen vectors
        if vectors is None:
            raise ValueError("the minilm-frozen encoder needs the data set's frozen vectors")
        inputs, features = hierarchy.vector_encoder(vectors.shape[1])
        x, fit = {p: vectors[v.indices] for p, v in parts.items()}, training.fit_arrays
        predict = lambda model, v: training.predict_arrays(model, v, 256)  # noqa: E731
    model, predictor = hierarchy.build(inputs, features, tree, kind, learning_rate=learning_rate)
    history = fit(model, x["train"], y["train"], x["validation"], y["validation"], epochs=epochs,
                  batch_size=batch_size, patience=patience, seed=seed, predict_model=predictor)
    return Trained({p: predict(predictor, x[p]) for p in ("validation", "test")}, predictor, history.train_seconds)
