"""The verdict page's recipes (:func:`recipes`): per data set and objective, the
system chosen on validation among every saved result."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlstc.results.store import records, seeded_from

OBJECTIVES = ("best micro-F1", "best macro-F1", "cheapest within 1 point")
WITHIN = 0.01  # "within 1 point" of the best validation micro-F1


def recipes(profile: str, datasets: list[str] | None = None, objectives=OBJECTIVES) -> pd.DataFrame:
    """Per dataset and objective, the system chosen on *validation* among every saved
    result that records validation scores over the data set's own labels (not, say, a
    hierarchy's extra group nodes, which would make the scores incomparable):

    - ``best micro-F1``: the best validation micro-F1;
    - ``best macro-F1``: the best validation macro-F1;
    - ``cheapest within 1 point``: the least training time among the systems within
      one point of the best validation micro-F1 (only systems with a recorded cost).

    Each row has its test scores, what it was ``chosen by`` and its cost, the training
    seconds its chapter recorded for it (for an ensemble, chapters 05 and 06 record its
    members' and its combiner's). A system that records none gets no cost, not the
    chapter's wall time when it was saved, which depends on what the run restored."""
    rows = _candidates(records(profile), datasets)
    columns = ["dataset", "objective", "chosen by", "chapter", "model"]
    if not rows:
        return pd.DataFrame(columns=columns).set_index(["dataset", "objective"])
    frame = pd.DataFrame(rows)
    picked = []
    for dataset, mine in frame.groupby("dataset"):
        for objective in objectives:
            if objective == "best micro-F1":
                chosen, by = mine["validation micro-F1"].idxmax(), "validation micro_f1"
            elif objective == "best macro-F1":
                if mine["validation macro-F1"].isna().all():
                    continue
                chosen, by = mine["validation macro-F1"].idxmax(), "validation macro_f1"
            elif objective == "cheapest within 1 point":
                near = mine[(mine["validation micro-F1"] >= mine["validation micro-F1"].max() - WITHIN)
                            & mine["train minutes"].notna()]
                if not len(near):
                    continue
                chosen, by = near["train minutes"].idxmin(), "train minutes, validation micro_f1 within 1 point"
            else:
                raise ValueError(f"unknown objective {objective!r}; the objectives are {', '.join(OBJECTIVES)}")
            picked.append(mine.loc[chosen].to_dict() | {"objective": objective, "chosen by": by})
    out = pd.DataFrame(picked)
    return out[columns + [c for c in out.columns if c not in columns]].set_index(["dataset", "objective"])


def _candidates(found: list[dict], datasets) -> list[dict]:
    """One row per system a recipe can be: a result with validation scores over its
    data set's usual labels, not another seed of a system saved under its own name."""
    saved = {(r["notebook"], r["dataset"], r["model"]) for r in found}
    # another seed of a system saved under its own name is not a system of its own
    found = [r for r in found if not seeded_from(r["model"]) or (r["notebook"], r["dataset"],
                                                                  seeded_from(r["model"])) not in saved]
    usual = {}
    for record in found:  # the label set most results of a data set are scored on
        usual.setdefault(record["dataset"], []).append(tuple(record.get("label_names") or ()))
    usual = {d: max(set(v), key=v.count) for d, v in usual.items()}
    rows = []
    for record in found:
        if tuple(record.get("label_names") or ()) != usual[record["dataset"]]:
            continue
        m = record["metrics"]
        if "validation_micro_f1" not in m or (datasets and record["dataset"] not in datasets):
            continue
        rows.append({"dataset": record["dataset"], "chapter": record["notebook"], "model": record["model"],
                     "validation micro-F1": m["validation_micro_f1"],
                     "validation macro-F1": m.get("validation_macro_f1", np.nan), "test micro-F1": m.get("micro_f1"),
                     "micro low": m.get("micro_f1_low"), "micro high": m.get("micro_f1_high"),
                     "test macro-F1": m.get("macro_f1"),
                     "seeds": len((record.get("extra") or {}).get("seeds") or [0]),
                     "micro seed sd": ((record.get("extra") or {}).get("seed_std") or {}).get("micro_f1", np.nan),
                     "train minutes": m["train seconds"] / 60 if m.get("train seconds") is not None else np.nan})
    return rows
