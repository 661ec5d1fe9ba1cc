"""Models: the shared Keras pieces (:mod:`~mlstc.models.layers`,
:mod:`~mlstc.models.training`), the LSTM (:mod:`~mlstc.models.lstm`), BERT
fine-tuning (:mod:`~mlstc.models.bert`), linear baselines
(:mod:`~mlstc.models.linear`) and the saved form that ``python -m mlstc predict``
loads (:mod:`~mlstc.models.saved`).

Models read data, text features and evaluation (for early stopping on validation
F1); nothing below imports from here.
"""
