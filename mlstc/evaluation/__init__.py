"""Scoring predictions: multi-label metrics (:mod:`~mlstc.evaluation.metrics`),
decision thresholds (:mod:`~mlstc.evaluation.thresholds`), intervals, paired
comparisons over seeds and verdicts (:mod:`~mlstc.evaluation.stats`), and the
hierarchy-aware metrics of chapter 04 (:mod:`~mlstc.evaluation.hierarchical`).

Pure NumPy/scikit-learn: nothing here imports a model.
"""
