"""A guard for the fit cache: the code every training of the book runs, by its key.

The fit cache keys a training by the source of the modules it can run
(:func:`mlstc.models.fitcache.code_key`). Editing any of them, even a docstring, makes
every chapter that trains with them train again: hours on 2 cores. This test names the
change before a rerun starts it. ``mlstc/models/finetune.py`` is among them for the
fine-tunes with a loss other than BCE, which score through a function of that module.

If the change is meant (fixing a loss, a layer, the loop), update :data:`KEYS` to the
keys the failure prints, rerun the chapters that train (README, "Rerunning a changed
chapter") and say so in the commit. If it moves code without changing what it computes
(a loop merged, dead code removed), show that every training is the same byte for byte
(``python -m mlstc fits-compare BASE``, README) and add the code keys it prints to
:data:`mlstc.models.fitcompare.EQUIVALENT`, then update :data:`KEYS`. If the change is not
meant, move the code to a module no training imports (as ``finetune_studies.py`` is).
"""

from pathlib import Path

from mlstc.book import runlog
from mlstc.core import code

TRAINING = ["mlstc.models.training", "mlstc.models.heads", "mlstc.models.pretraining", "mlstc.models.bert",
            "mlstc.models.lstm", "mlstc.models.hierarchy", "mlstc.models.layers", "mlstc.models.losses",
            "mlstc.models.linear", "mlstc.models.boosting", "mlstc.models.callbacks"]
GROUPS = {"every training of the book": TRAINING,
          "the fine-tunes with a loss other than BCE (chapter 06)": TRAINING + ["mlstc.models.finetune"]}
# the chapters whose trainings each group keys (CONTRIBUTING.md, "What a change retrains")
CHAPTERS = {"every training of the book": ["01_preprocessing", "02_lstm", "03_bert", "04_hierarchical",
                                           "05_ensembles", "06_losses", "07_domain_adaptation"],
            "the fine-tunes with a loss other than BCE (chapter 06)": ["06_losses"]}
LOG = Path(__file__).resolve().parents[2] / "results" / "cpu" / "run_log.jsonl"
KEYS = {"every training of the book": "538ee71005bb9cb9",
        "the fine-tunes with a loss other than BCE (chapter 06)": "7846d64c4b1988c7"}


def retrained(groups) -> str:
    """The chapters whose trainings ``groups`` key, each with its last cold run's minutes."""
    cold = runlog.cache_times(LOG)["cold fit cache (min)"]
    chapters = sorted({c for g in groups for c in CHAPTERS[g]})
    minutes = [cold.get(c) for c in chapters]
    known = sum(m for m in minutes if m == m and m is not None)
    return ", ".join(f"{c} ({m} min cold)" if m == m and m is not None else f"{c} (not timed)"
                     for c, m in zip(chapters, minutes)) + f": about {known:.0f} min on 2 cores"


def test_every_group_names_the_chapters_it_retrains():
    assert set(CHAPTERS) == set(GROUPS) == set(KEYS)
    assert retrained(["the fine-tunes with a loss other than BCE (chapter 06)"]).startswith("06_losses (")


def test_the_code_the_trainings_run_is_the_code_their_cached_weights_came_from():
    found = {group: code.key(roots, exempt=["mlstc.models.fitcache"]) for group, roots in GROUPS.items()}
    changed = [group for group, k in found.items() if KEYS[group] != k]
    modules = code.closure(GROUPS[changed[-1]] if changed else [], exempt=["mlstc.models.fitcache"])
    assert not changed, (
        f"this change re-keys the fit cache for {' and '.join(changed)}, so these chapters train again: "
        f"{retrained(changed)}. The modules involved: {', '.join(modules)}. Meant? Set KEYS to {found} "
        "and rerun them (CONTRIBUTING.md). Not meant? Move the code out of those modules.")
