"""``python -m mlstc verify --evidence`` (introduced in chapter 00): every committed number that can be computed
from the committed probabilities is computed again, without training, and compared.

What it checks, for one profile's ``results/<profile>/``:

1. **Probability files.** Each ``.npz`` a metrics JSON names is present and has the
   SHA-256 the JSON recorded. A changed file fails; a missing one fails too once its
   chapter has committed probabilities (``absent`` lists the chapters that have not yet
   been rerun since the evidence went into git).
2. **Metrics.** A result saved from its stored arrays (``extra.from_stored``: a single
   run scored at its saved thresholds) has every metric and interval of its row
   computed again from those arrays and the data set's labels (or, for chapter 04, its
   hierarchy's nodes: :mod:`mlstc.results.rescore`), with the profile's bootstrap and
   the run's seed, and its validation scores too. A row of seed means that names its
   other seeds' results (``extra.seed_runs``) is the mean of all its seeds' rows
   computed so, and its seed standard deviations too.
3. **Comparisons, Holm and outcomes.** An evidence row in a chapter's ``claims.json``
   whose two sides are saved results (``sources``) has its difference, standard error,
   interval, degrees of freedom and p-value computed again
   (:func:`mlstc.evaluation.stats.compare`), on the label ``columns`` it names where it
   compared some columns of its results (a level of a hierarchy). A chapter also
   records every test of its Holm families, claims or not (``tests``: difference,
   standard error, degrees of freedom and sources); those are computed again too, and
   where every test of a family was recomputed, its adjusted p-values and intervals
   (:func:`mlstc.book.verdicts.adjusted`) and the outcome words from them.
4. **Pages drawn from the evidence** (:func:`mlstc.book.verify.evidence`): the verdict
   page (``90_verdicts``: every claim's verdict, its counts, intervals and the recipe
   table) is executed again from the committed results, and every text it shows or
   glues is compared with ``book/``'s copy.

A chapter's own glued numbers come from its run; ``python -m mlstc verify NN`` reruns
it and compares them.

Numbers that no stored array determines (seed means of runs whose other seeds were not
saved, a chapter's own tables) are counted as *not recomputable*, with the reason, never
as agreeing. A difference is reported with the committed and the recomputed value. It
reads the data sets (checked against their checksums) and takes about a minute on two
cores.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from mlstc import data
from mlstc.core import paths, profiles
from mlstc.evaluation import stats
from mlstc.results import claims, families, rescore
from mlstc.results import store as results

TOLERANCE = 1e-9  # the same arrays and code give the same floats; this allows for a BLAS's summation order
COMPARED = ("delta", "se", "low", "high", "p")


@dataclass
class Evidence:
    """What :func:`check` found: one row per number compared (``failed`` lists the
    differences), and what could not be recomputed, with why."""

    profile: str
    checked: list = field(default_factory=list)  # dicts: kind, where, name, committed, recomputed, agrees
    skipped: list = field(default_factory=list)  # dicts: kind, where, reason
    absent: set = field(default_factory=set)  # chapters whose probabilities are not committed yet

    def add(self, kind: str, where: str, name: str, committed, recomputed) -> None:
        agrees = _same(committed, recomputed)
        self.checked.append({"kind": kind, "where": where, "name": name, "committed": committed,
                             "recomputed": recomputed, "agrees": agrees})

    def skip(self, kind: str, where: str, reason: str) -> None:
        self.skipped.append({"kind": kind, "where": where, "reason": reason})

    @property
    def failed(self) -> list[dict]:
        return [c for c in self.checked if not c["agrees"]]

    @property
    def ok(self) -> bool:
        return bool(self.checked) and not self.failed

    def counts(self) -> pd.DataFrame:
        """Per kind: numbers compared, differences, not recomputable."""
        rows = defaultdict(lambda: {"compared": 0, "different": 0, "not recomputable": 0})
        for c in self.checked:
            rows[c["kind"]]["compared"] += 1
            rows[c["kind"]]["different"] += not c["agrees"]
        for s in self.skipped:
            rows[s["kind"]]["not recomputable"] += 1
        return pd.DataFrame(rows).T.rename_axis("kind")

    def report(self) -> str:
        lines = [f"verify --evidence ({self.profile}): {len(self.checked)} numbers compared, "
                 f"{len(self.failed)} different, {len(self.skipped)} not recomputable"]
        lines.append(self.counts().to_string())
        if self.absent:
            lines.append("chapters without committed probabilities yet (rerun them): " + ", ".join(sorted(self.absent)))
        reasons = pd.Series([f"{s['kind']}: {s['reason']}" for s in self.skipped]).value_counts()
        lines += [f"  not recomputable, {n}x: {reason}" for reason, n in reasons.items()]
        for c in self.failed[:50]:
            lines.append(f"DIFFERENT {c['kind']} {c['where']} {c['name']}: committed {_short(c['committed'])}, "
                         f"recomputed {_short(c['recomputed'])}")
        if len(self.failed) > 50:
            lines.append(f"... and {len(self.failed) - 50} more differences")
        return "\n".join(lines)


def _short(value, width: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width] + f"... ({len(text)} characters)"


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b  # degrees of freedom with no seed part
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


@cache
def _dataset(key: str, seed: int, profile: str, data_dir: str | None) -> data.Dataset:
    """The data set a result was scored on, as :meth:`mlstc.book.setup.Run.load` loads it."""
    ds = data.load(key, data_dir, seed=seed)
    return ds.head(profiles.resolve(profile).max_docs, seed=seed)


def _truth(record: dict, data_dir) -> rescore.Truth | None:
    """The labels over the result's columns (its data set's, or its hierarchy's nodes)."""
    if record["dataset"] not in data.LOADERS:
        return None
    ds = _dataset(record["dataset"], int(record["seed"]), record["profile"], data_dir)
    return rescore.truth(ds, record.get("label_names"))


def _probability_files(found: Evidence, records: list[dict]) -> dict[str, dict]:
    """SHA-256 of every probability file; the stored arrays of those that agree."""
    arrays = {}
    committed = {r["notebook"] for r in records
                 if r.get("probs") and (Path(r["path"]).parent / r["probs"]["file"]).is_file()}
    for record in records:
        if not record.get("probs"):
            continue
        where = f"{record['notebook']}/{Path(record['path']).stem}"
        npz = Path(record["path"]).parent / record["probs"]["file"]
        if not npz.is_file():
            if record["notebook"] in committed:
                found.add("probability file", where, "present", "present", "missing")
            else:
                found.absent.add(record["notebook"])
            continue
        try:
            arrays[record["path"]] = results.load_probs(Path(record["path"]))
            found.add("probability file", where, "sha256", record["probs"]["sha256"], record["probs"]["sha256"])
        except ValueError:
            found.add("probability file", where, "sha256", record["probs"]["sha256"],
                      hashlib.sha256(npz.read_bytes()).hexdigest())
    for record in records:  # decisions saved beside a result (other seeds', other rules')
        if record.get("decisions"):
            _decision_file(found, record)
    return arrays


def _decision_file(found: Evidence, record: dict) -> None:
    where, entry = f"{record['notebook']}/{Path(record['path']).stem}", record["decisions"]
    npz = Path(record["path"]).parent / entry["file"]
    actual = hashlib.sha256(npz.read_bytes()).hexdigest() if npz.is_file() else "missing"
    found.add("decision file", where, "sha256", entry["sha256"], actual)


def _metrics(found: Evidence, records: list[dict], arrays: dict, data_dir) -> None:
    by_name = {(r["notebook"], r["dataset"], r["model"]): r for r in records}
    for record in records:
        where = f"{record['notebook']}/{Path(record['path']).stem}"
        if record["path"] not in arrays:
            continue
        extra = record.get("extra") or {}
        if extra.get("seed_decisions") and record.get("decisions"):
            _decision_means(found, record, where, data_dir)
            continue
        if not extra.get("from_stored") and not extra.get("seed_runs"):
            found.skip("metric", where, "scores not of its one stored run (seed means of unsaved seeds, another "
                                        "decision rule, or saved before the evidence was committed)")
            continue
        labels = _truth(record, data_dir)
        if labels is None:
            found.skip("metric", where, "its data set is not one the package loads, or its labels differ")
            continue
        committed = record["metrics"]
        if extra.get("seed_runs"):
            runs = [record, *(by_name.get((record["notebook"], record["dataset"], n)) for n in extra["seed_runs"])]
            if any(r is None or r["path"] not in arrays for r in runs):
                found.skip("metric", where, "a seed's run is not saved with its probabilities")
                continue
            again, spread = rescore.seed_means([rescore.score(r, arrays[r["path"]], labels) for r in runs])
            for name, value in spread.items():
                if name in (extra.get("seed_std") or {}):
                    found.add("metric", where, f"seed_std {name}", extra["seed_std"][name], value)
        else:
            n_samples = profiles.resolve(record["profile"]).bootstrap_samples if "micro_f1_low" in committed else None
            again = rescore.score(record, arrays[record["path"]], labels, n_samples=n_samples)
        for name, value in again.items():
            if name in committed:
                found.add("metric", where, name, committed[name], value)


def _decision_means(found: Evidence, record: dict, where: str, data_dir) -> None:
    """A row of seed means over saved decisions (chapter 06's sweep): every mean and
    seed standard deviation it committed, computed again."""
    ds = _dataset(record["dataset"], int(record["seed"]), record["profile"], data_dir) \
        if record["dataset"] in data.LOADERS else None
    labels = rescore.truth(ds, record.get("label_names")) if ds is not None else None
    if labels is None or labels.tree is not None:
        found.skip("metric", where, "its data set is not one the package loads, or its labels differ")
        return
    try:
        saved = results.load_decisions(Path(record["path"]))
    except (FileNotFoundError, ValueError):  # counted as different by the file check
        found.skip("metric", where, "its decision file is missing or changed")
        return
    again, spread = rescore.decision_means(record["extra"]["seed_decisions"], saved, labels,
                                           ds.split("train").y.sum(0))
    for name, value in again.items():
        if name in record["metrics"]:
            found.add("metric", where, name, record["metrics"][name], value)
    for name, value in spread.items():
        if name in (record["extra"].get("seed_std") or {}):
            found.add("metric", where, f"seed_std {name}", record["extra"]["seed_std"][name], value)


def _sides(profile: str, sources: dict, side: str, ds: data.Dataset) -> list[np.ndarray] | None:
    """Each run's test decisions on one side of a comparison, over the data set's labels
    or, where the comparison took some ``columns`` of its results, over those."""
    picked = sources.get(side) or []
    if not picked or any(s is None for s in picked):
        return None
    try:
        if "columns" not in sources:
            return [results.decisions_for(profile, s["chapter"], ds, s["model"], s["decisions"]) if "decisions" in s
                    else results.predictions_for(profile, s["chapter"], ds, s["model"]) for s in picked]
        return [_own_columns(profile, s, ds)[:, sources["columns"]] for s in picked]
    except (FileNotFoundError, ValueError, IndexError, KeyError):
        return None


def _own_columns(profile: str, source: dict, ds: data.Dataset) -> np.ndarray:
    record = results.load(profile, source["chapter"], ds.key, source["model"])
    return rescore.decisions(record, results.load_probs(results.path(profile, source["chapter"], ds.key,
                                                                     source["model"])))


def _subset_truth(profile: str, sources: dict, ds: data.Dataset) -> np.ndarray | None:
    """The test labels a comparison on some columns of its results was made with."""
    first = sources["a"][0]
    labels = rescore.truth(ds, results.load(profile, first["chapter"], ds.key, first["model"]).get("label_names"))
    return None if labels is None else labels.y["test"][:, sources["columns"]]


def _recompute(row: dict, profile: str, data_dir, computed: dict):
    """The comparison table of an evidence row or family test, computed again from the
    committed probabilities its ``sources`` name (one computation per comparison, both
    metrics), or the reason it cannot be."""
    sources = row.get("sources")
    if not sources:
        return "recorded before comparisons named their inputs"
    if row["dataset"] not in data.LOADERS:
        return "its data set is not one the package loads"
    key = json.dumps([row["chapter"], row["dataset"], sources], sort_keys=True, default=str)
    if key not in computed:
        ds = _dataset(row["dataset"], int(sources["seed"]), profile, data_dir)
        a, b = _sides(profile, sources, "a", ds), _sides(profile, sources, "b", ds)
        y_test = ds.split("test").y if "columns" not in sources else (
            _subset_truth(profile, sources, ds) if a is not None else None)
        if a is None or b is None or y_test is None or results.fingerprint(y_test) != sources["labels"]:
            computed[key] = ("a side is not a saved result with committed probabilities "
                          "(runs of other seeds, a column subset or an unsaved system)")
        else:
            computed[key] = stats.compare(y_test, a, b, n_samples=sources["n_samples"], seed=sources["seed"],
                                       **sources.get("options", {}))
    return computed[key]


def _check(found: Evidence, kind: str, row: dict, names, profile: str, data_dir, computed: dict):
    """Compute one evidence row or family test again and compare ``names`` (and its
    degrees of freedom where recorded: None is infinite, no seed part); ``(where,
    table)``, the table ``None`` where it cannot be computed (counted, with why)."""
    where = f"{row['chapter']}/{row['dataset']}: {row['experiment']} ({row['metric']})"
    table = _recompute(row, profile, data_dir, computed)
    if isinstance(table, str):
        found.skip(kind, where, table)
        return where, None
    again = table.loc[row["metric"]]
    for name in names:
        if row.get(name) is not None:
            found.add(kind, where, name, row[name], float(again[name]))
    if "df" in row:  # recorded since the t rule
        found.add(kind, where, "df", math.inf if row["df"] is None else row["df"], float(again["df"]))
    return where, table


def _comparisons(found: Evidence, profile: str, data_dir) -> None:
    by_family: dict[str, dict[int, float]] = defaultdict(dict)
    rows, computed = [], {}
    files = sorted(paths.results_dir(profile).glob(f"*/{claims.FILE}"))
    for path in files:
        for row in claims.read(path):
            where, table = _check(found, "comparison", row, COMPARED, profile, data_dir, computed)
            if table is not None and row.get("family"):
                by_family[row["family"]["id"]][row["family"]["index"]] = table.loc[[row["metric"]]]
                rows.append((where, row, row["family"], table.loc[row["metric"]]))
    for path in files:  # every test of the families (recorded since chapters keep them), claims or not
        for test in families.read(path):
            family = test["family"]
            if family["index"] in by_family[family["id"]]:
                continue  # an evidence row above
            _, table = _check(found, "family test", test, ("delta", "se"), profile, data_dir, computed)
            if table is not None:
                by_family[family["id"]][family["index"]] = table.loc[[test["metric"]]]
    for where, row, family, again in rows:
        recomputed = by_family[family["id"]]
        if len(recomputed) < family["size"]:
            found.skip("holm", where, "not every test of its Holm family is recomputable")
            continue
        tables = [recomputed[i] for i in range(family["size"])]
        test = _family_test(tables, family["index"])
        found.add("holm", where, "p_holm", row["p_holm"], test["p_holm"])
        if row.get("adj_low") is not None:
            found.add("holm", where, "adj_low", row["adj_low"], test["adj_low"])
            found.add("holm", where, "adj_high", row["adj_high"], test["adj_high"])
        found.add("outcome", where, "outcome", row["outcome"],
                  stats.outcome(float(again["low"]), float(again["high"]), test["p_holm"]))


def _family_test(tables, index: int) -> dict:
    """Holm's adjustment of one recomputed family (one single-metric table per test,
    in the family's order), as the chapter made it
    (:func:`mlstc.evaluation.stats.holm_family`): the ``index``-th test."""
    rows = [t.iloc[0] for t in tables]
    return stats.holm_family([(float(r["delta"]), float(r["se"]), float(r["df"])) for r in rows])[index]


def check(profile: str = "cpu", data_dir: str | None = None) -> Evidence:
    """Compute every recomputable committed number of ``results/<profile>/`` again
    (the pages drawn from them: :mod:`mlstc.book.verify`)."""
    found = Evidence(profile)
    records = results.records(profile)
    arrays = _probability_files(found, records)
    _metrics(found, records, arrays, data_dir)
    _comparisons(found, profile, data_dir)
    return found
