"""Models that read raw text through a fixed featurizer, for saving and for
:mod:`mlstc.models.saved` (introduced in chapter 05).

A chapter trains its scikit-learn and LightGBM models on feature matrices; to predict
new text a saved model needs the featurizer too. :class:`TextPipeline` is the pair,
with ``probabilities(texts)`` over the data set's labels:

- featurizers: a fitted scikit-learn vectorizer (tf-idf), or :class:`FrozenEmbeddings`
  (a checkpoint's mean-pooled embeddings, computed on the spot for new text);
- scorers: :class:`LinearScores` (chapter 01's one-vs-rest linear models),
  :class:`mlstc.models.boosting.PerLabelLightGBM`, :class:`mlstc.models.linear.ChainEnsemble`,
  or :class:`KerasHead` (a Keras model on the features, such as chapter 04's
  hierarchical model, saved beside the pickle; ``columns`` keeps the label columns of
  its outputs).

:func:`mlstc.models.saved.save_pipeline` writes one, :func:`mlstc.models.saved.load`
reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlstc.models import linear


@dataclass
class FrozenEmbeddings:
    """Mean-pooled, L2-normalised embeddings of ``checkpoint`` (:mod:`mlstc.text.embeddings`)."""

    checkpoint: str = ""
    max_length: int = 256

    def transform(self, texts) -> np.ndarray:
        from mlstc.text import embeddings

        return embeddings.embed(list(texts), dataset="new-text", checkpoint=self.checkpoint,
                                max_length=self.max_length, cache=False, progress=False)


@dataclass
class LinearScores:
    """Scores in [0, 1] of a fitted one-vs-rest linear model (:func:`mlstc.models.linear.scores`)."""

    estimator: object

    def probabilities(self, x) -> np.ndarray:
        return linear.scores(self.estimator, x)


@dataclass
class KerasHead:
    """A Keras model on the features; its logits through a sigmoid, the output
    ``columns`` kept (all when ``None``). The model itself is saved as a ``.keras``
    file beside the pickle (:func:`mlstc.models.saved.save_pipeline` does it)."""

    model: object = field(repr=False)
    columns: list[int] | None = None

    def probabilities(self, x) -> np.ndarray:
        from mlstc.models import training

        logits = np.asarray(self.model.predict(np.asarray(x), batch_size=256, verbose=0))
        probs = training.sigmoid(logits)
        return probs if self.columns is None else probs[:, self.columns]

    def __getstate__(self):  # the Keras model travels as a .keras file, not in the pickle
        return {"model": None, "columns": self.columns}

    def save_model(self, path: Path) -> None:
        import keras

        keras.Model(self.model.inputs, self.model.outputs, name=self.model.name).save(path)

    def load_model(self, path: Path) -> None:
        from mlstc.core import system
        from mlstc.models.registry import register_keras_classes

        system.import_tensorflow()
        import keras

        register_keras_classes()
        self.model = keras.saving.load_model(path, compile=False)


@dataclass
class TextPipeline:
    """``featurizer.transform(texts)`` then ``scorer.probabilities(features)``."""

    featurizer: object
    scorer: object

    def probabilities(self, texts) -> np.ndarray:
        return np.asarray(self.scorer.probabilities(self.featurizer.transform(list(texts))), dtype=np.float64)
