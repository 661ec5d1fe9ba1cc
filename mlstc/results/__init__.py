"""What the chapters measured: metrics JSON and probabilities per (chapter, dataset,
model) (:mod:`~mlstc.results.store`: ``mlstc.results.save``, ``load_probs``,
``table``) and the article's claims with their evidence and verdicts
(:mod:`~mlstc.results.claims`).

Results stand above the models: they record what models produced, and import none.
"""

from mlstc.results.store import (SCHEMA, load, load_probs, path, predictions_for, probs_for, recipes, records, run_dir,
                                 save, schedule, seed_name, seed_names, stem, table)

__all__ = ["SCHEMA", "load", "load_probs", "path", "predictions_for", "probs_for", "recipes", "records", "run_dir", "save",
           "schedule", "seed_name", "seed_names", "stem", "table"]
