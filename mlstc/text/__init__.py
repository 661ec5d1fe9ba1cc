"""From text to model input: BERT checkpoints and their tokenizers
(:mod:`~mlstc.text.checkpoints`), word pieces and truncation
(:mod:`~mlstc.text.wordpieces`), length-bucketed batches (:mod:`~mlstc.text.batching`),
spaCy features and tf-idf (:mod:`~mlstc.text.features`), frozen embeddings
(:mod:`~mlstc.text.embeddings`).

Reads data; imports no model.
"""
