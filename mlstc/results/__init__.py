"""What the chapters measured: metrics JSON and probabilities per (chapter, dataset,
model) (:mod:`~mlstc.results.store`: ``mlstc.results.save``, ``load_probs``,
``table``) and the article's claims with their evidence and verdicts
(:mod:`~mlstc.results.claims`).

Results stand above the models: they record what models produced, and import none.
"""

from mlstc.results.recipes import recipes
from mlstc.results.store import (
                                 ENCODING,
                                 SCHEMA,
                                 decisions_for,
                                 dequantize,
                                 fingerprint,
                                 load,
                                 load_decisions,
                                 load_probs,
                                 path,
                                 predictions_for,
                                 probs_for,
                                 quantize,
                                 records,
                                 register,
                                 run_dir,
                                 save,
                                 schedule,
                                 seed_name,
                                 seed_names,
                                 source,
                                 stem,
                                 stored,
                                 table,
                                 threshold_predict,
)

__all__ = ["ENCODING", "SCHEMA", "decisions_for", "dequantize", "fingerprint", "load", "load_decisions", "load_probs",
           "path", "predictions_for", "probs_for", "quantize", "recipes", "records", "register", "run_dir", "save",
           "schedule", "seed_name", "seed_names", "source", "stem", "stored", "table", "threshold_predict"]
