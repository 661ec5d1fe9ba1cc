"""Ensembles: combining the probabilities of several trained models (chapter 05).

:mod:`~mlstc.ensembles.combiners` holds the one entry, :func:`fit` ``(name, members,
...)``, the fitted combiner classes it returns, and the Platt scaling of SVM scores.
Ensembles read the probabilities models wrote; they train no network themselves (the
LightGBM stacker is the one model they fit).
"""

from mlstc.ensembles.combiners import NAMES, Combiner, Fitted, Platt, calibrate, fit, platt

__all__ = ["NAMES", "Combiner", "Fitted", "Platt", "calibrate", "fit", "platt"]
