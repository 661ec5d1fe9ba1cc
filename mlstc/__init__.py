"""mlstc: the reusable code behind the book *Multi-label text classification on
financial news*.

The subpackages follow the one-way flow of the book, and no import runs back up it::

    core -> data -> text -> evaluation -> models -> results -> book

``core`` (paths, profiles, the machine, safe files), ``data`` (loaders, hierarchies),
``text`` (word pieces, spaCy features, embeddings, batching), ``evaluation``
(metrics, thresholds, intervals), ``models`` (Keras layers, one training loop, LSTM,
BERT, linear baselines, saved models), ``results`` (metrics JSON, claims and
verdicts) and ``book`` (notebook set-up, prerequisites, papermill, the CLI).
Notebooks import modules (``from mlstc.evaluation import metrics``); each docstring
says which chapter introduces the thing it defines.
"""

__version__ = "0.2.0"
