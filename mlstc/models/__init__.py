"""Models and how they train.

- Networks (Keras 3): the shared layers (:mod:`~mlstc.models.layers`), the LSTM
  (:mod:`~mlstc.models.lstm`), BERT (:mod:`~mlstc.models.bert`), the hierarchical
  models (:mod:`~mlstc.models.hierarchy`), heads on fixed features
  (:mod:`~mlstc.models.heads`) and the multi-label losses (:mod:`~mlstc.models.losses`).
- Training: the one loop (:mod:`~mlstc.models.training`, with its callbacks in
  :mod:`~mlstc.models.callbacks`), the cache that restores a training it has seen
  (:mod:`~mlstc.models.fitcache`), devices (:mod:`~mlstc.models.distribute`), and the
  trainers chapters call (:mod:`~mlstc.models.recurrent`, :mod:`~mlstc.models.finetune`,
  :mod:`~mlstc.models.hierarchy_training`, :mod:`~mlstc.models.pretraining`,
  :mod:`~mlstc.models.finetune_studies`).
- Classical models: linear baselines and classifier chains (:mod:`~mlstc.models.linear`),
  gradient-boosted trees (:mod:`~mlstc.models.boosting`).

Models read data, text features and evaluation (for early stopping on validation F1);
ensembles, saved models and the book read models, never the other way round.
"""
