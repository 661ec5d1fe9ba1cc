"""Chapter 04's member as chapter 05 uses it, built by one function for both chapters."""

import numpy as np

from mlstc.evaluation import thresholds
from mlstc.saved import pipelines


def test_a_hierarchy_member_keeps_the_data_sets_labels_and_tunes_one_threshold_on_them():
    rng = np.random.default_rng(0)
    nodes, labels = ["group", "b", "a"], ["a", "b"]  # a group node first, the labels in another order
    logits = rng.normal(size=(40, 3))
    y = (rng.random((40, 2)) < 0.4).astype(int)
    pipeline, cut, validation = pipelines.hierarchy_member("a model", logits, nodes, labels, y,
                                                           checkpoint="ckpt", max_length=64)
    assert pipeline.scorer.columns == [2, 1] and pipeline.scorer.model == "a model"
    assert (pipeline.featurizer.checkpoint, pipeline.featurizer.max_length) == ("ckpt", 64)
    assert np.allclose(validation, thresholds.sigmoid(logits)[:, [2, 1]])
    assert cut == thresholds.tune_global(y, validation)
