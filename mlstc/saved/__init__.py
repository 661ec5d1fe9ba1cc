"""Saved models and the predictors that read them back, for ``python -m mlstc predict``
and for the chapters that reuse another chapter's model.

Three kinds of directory, one module each, all with ``labels.json`` or
``ensemble.json`` (label names, tuned thresholds, ``info``: data set, profile, seed):

- :mod:`~mlstc.saved.networks`: a Keras network (chapter 02's BiLSTM, chapter 03's
  fine-tuned BERT with its tokenizer);
- :mod:`~mlstc.saved.pipelines`: a scikit-learn or LightGBM model, or a Keras head,
  with the featurizer that turns text into its input (chapters 01, 04, 05);
- :mod:`~mlstc.saved.ensembles`: a fitted combiner with a copy of every member
  (chapter 05).

:func:`load` tells them apart and imports TensorFlow only for a network. A chapter
saves through :meth:`mlstc.book.setup.Run.save_model`, which records the data set,
profile and seed and names the folder (:func:`~mlstc.saved.base.folder_name`).
"""

from __future__ import annotations

from pathlib import Path

from mlstc.saved import base
from mlstc.saved.base import rank


def load(model_dir):
    """The saved model in ``model_dir`` (any kind this package writes), with
    ``label_names``, ``thresholds``, ``info``, ``probabilities(texts)`` and ``predict(texts)``."""
    from mlstc.saved import ensembles

    model_dir = Path(model_dir)
    if (model_dir / base.ENSEMBLE_FILE).is_file():
        return ensembles.EnsemblePredictor(model_dir)
    return ensembles.load_member(model_dir)


def save(model_dir, model, label_names, thresholds, **info) -> Path:
    """Save ``model`` in ``model_dir`` by its kind: a
    :class:`~mlstc.saved.pipelines.TextPipeline` as a pipeline, anything else as a Keras
    network (``info``: what to record, ``tokenizer`` and ``encoding`` for a word-piece
    model)."""
    from mlstc.saved import pipelines

    if isinstance(model, pipelines.TextPipeline):
        return pipelines.save(model_dir, model, label_names, thresholds, **info)
    from mlstc.saved import networks

    return networks.save(model_dir, model, label_names, thresholds, **info)


__all__ = ["load", "rank", "save"]
