"""Models that read raw text through a fixed featurizer, saved with it (introduced
in chapter 01; used by chapter 05's ensembles).

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

:func:`save` writes one (the pipeline in ``pipeline.joblib``, a Keras head beside it
as ``head.keras``), :class:`PipelinePredictor` reads it back. Neither imports
TensorFlow unless the pipeline has a Keras head or computes embeddings, so a chapter
that saves linear models does not load it. Pickles are read with the package versions
they were written with (the pinned ``requirements.txt``); load only directories you
wrote or trust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlstc.evaluation import thresholds
from mlstc.models import linear
from mlstc.saved import base

PIPELINE_FILE = "pipeline.joblib"
HEAD_FILE = "head.keras"


@dataclass
class FrozenEmbeddings:
    """Mean-pooled, L2-normalised embeddings of ``checkpoint`` (:mod:`mlstc.text.embeddings`)."""

    checkpoint: str = ""
    max_length: int = 256

    def transform(self, texts, batch_size: int = 64) -> np.ndarray:
        from mlstc.text import embeddings

        return embeddings.embed(list(texts), dataset="new-text", checkpoint=self.checkpoint,
                                max_length=self.max_length, batch_size=batch_size, cache=False, progress=False)


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
    file beside the pickle (:func:`save` does it)."""

    model: object = field(repr=False)
    columns: list[int] | None = None

    def probabilities(self, x, batch_size: int = 256) -> np.ndarray:
        from mlstc.models import training

        probs = thresholds.sigmoid(training.predict_arrays(self.model, x, batch_size))
        return probs if self.columns is None else probs[:, self.columns]

    def __getstate__(self):  # the Keras model travels as a .keras file, not in the pickle
        return {"model": None, "columns": self.columns}

    def save_model(self, path: Path) -> None:
        import keras

        keras.Model(self.model.inputs, self.model.outputs, name=self.model.name).save(path)

    def load_model(self, path: Path) -> None:
        from mlstc.core import system
        from mlstc.saved.registry import register_keras_classes

        system.import_tensorflow()
        import keras

        register_keras_classes()
        self.model = keras.saving.load_model(path, compile=False)


@dataclass
class TextPipeline:
    """``featurizer.transform(texts)`` then ``scorer.probabilities(features)``; the
    featurizer and scorer of this module (embeddings, a Keras head) take ``batch_size``
    too, scikit-learn's do not need it."""

    featurizer: object
    scorer: object

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        batched = {"batch_size": batch_size}
        features = self.featurizer.transform(list(texts), **(batched if isinstance(self.featurizer, FrozenEmbeddings)
                                                              else {}))
        probs = self.scorer.probabilities(features, **(batched if isinstance(self.scorer, KerasHead) else {}))
        return np.asarray(probs, dtype=np.float64)


def hierarchy_member(predictor, validation_logits, nodes, label_names, y_validation, *, checkpoint: str,
                     max_length: int) -> tuple[TextPipeline, float, np.ndarray]:
    """Chapter 04's hierarchical model on frozen embeddings as chapter 05's ensembles use
    it (chapter 04 saves it, :mod:`mlstc.results.rebuild` rebuilds it): new text in, the
    data set's own ``label_names`` out, the tree's group ``nodes`` dropped. The pipeline,
    one global threshold tuned on validation and the validation probabilities it was
    tuned on."""
    columns = base.columns(nodes, label_names, "the hierarchy's nodes")
    validation = thresholds.sigmoid(validation_logits)[:, columns]
    cut = thresholds.tune_global(y_validation, validation)
    pipeline = TextPipeline(FrozenEmbeddings(checkpoint, max_length), KerasHead(predictor, columns))
    return pipeline, cut, validation


def save(model_dir, pipeline: TextPipeline, label_names, thresholds, **info) -> Path:
    """Write ``pipeline`` (featurizer and scorer), its labels and thresholds to
    ``model_dir``; ``info`` records what made it (data set, profile, seed)."""
    import joblib

    model_dir = base.fresh(model_dir)
    if hasattr(pipeline.scorer, "save_model"):  # a Keras head travels beside the pickle
        pipeline.scorer.save_model(model_dir / HEAD_FILE)
    joblib.dump(pipeline, model_dir / PIPELINE_FILE)
    base.write_labels(model_dir, label_names, thresholds, "probabilities", info)
    return model_dir


class PipelinePredictor(base.Saved):
    """A model saved by :func:`save`."""

    def __init__(self, model_dir):
        import joblib

        model_dir = Path(model_dir)
        self._read(model_dir)
        self.pipeline = joblib.load(model_dir / PIPELINE_FILE)
        if (model_dir / HEAD_FILE).is_file():
            self.pipeline.scorer.load_model(model_dir / HEAD_FILE)

    def probabilities(self, texts, batch_size: int = 64) -> np.ndarray:
        return self.pipeline.probabilities(base.texts_of(texts), batch_size)
