"""A generated labelled CSV in the format a reader brings (used by CI and tests).

:func:`write_headlines` writes ``text,labels`` rows of template headlines whose labels
are sentiment/topic paths (``positive/earnings``) plus one flat label (``rates``),
with some two-clause headlines that carry two branches. It is not data: it exists so
that every chapter can be run on "your own file" in CI, hierarchy included.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Holdings", "Stark Industries", "Wayne Enterprises",
             "Hooli", "Vandelay Imports", "Soylent", "Tyrell Group", "Cyberdyne", "Aperture Labs"]
CLAUSES = {
    "positive/earnings": ["{c} beats profit forecasts", "{c} quarterly earnings jump {n} percent",
                          "{c} raises full-year guidance"],
    "positive/deals": ["{c} wins takeover approval", "{c} agrees merger worth {n} million",
                       "{c} signs supply deal with {d}"],
    "negative/earnings": ["{c} swings to a quarterly loss", "{c} profit falls {n} percent",
                          "{c} cuts its outlook after weak sales"],
    "negative/market": ["{c} shares slump as markets tumble", "{c} stock slides on sector selloff",
                        "investors dump {c} amid market rout"],
    "neutral/appointments": ["{c} names new chief financial officer", "{c} appoints {d} veteran as chairman",
                             "{c} board elects new director"],
    "rates": ["central bank holds interest rates at {n} percent", "bond yields rise as rate hike looms",
              "{c} says higher interest rates weigh on borrowing"],
}


def headlines(rows: int = 360, seed: int = 0) -> list[tuple[str, list[str]]]:
    """``rows`` generated ``(headline, labels)`` pairs; a quarter carry two labels."""
    rng = np.random.default_rng(seed)
    labels = list(CLAUSES)
    out = []
    for i in range(rows):
        chosen = list(rng.choice(labels, size=2 if i % 4 == 0 else 1, replace=False))
        parts = []
        for label in chosen:
            template = CLAUSES[label][rng.integers(len(CLAUSES[label]))]
            parts.append(template.format(c=rng.choice(COMPANIES), d=rng.choice(COMPANIES), n=rng.integers(2, 90)))
        out.append(("; ".join(parts), sorted(chosen)))
    return out


def write_headlines(path, rows: int = 360, seed: int = 0) -> Path:
    """Write :func:`headlines` as a CSV with columns ``text`` and ``labels`` (joined
    by ``|``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "labels"])
        for text, labels in headlines(rows, seed):
            writer.writerow([text, "|".join(labels)])
    return path
