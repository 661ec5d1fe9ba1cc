"""The source article's claims, the evidence the chapters record for them, and the
verdict page built from it (introduced in chapter 01; the page is ``90_verdicts``).

A chapter records each comparison that bears on a claim as an *evidence row*
(:func:`evidence`), oriented so that ``better`` supports the claim. Rows are saved
with the chapter's results as ``claims.json`` and gathered by :func:`assess`, which
applies one rule to every claim:

- **one family, defined once**: a chapter's comparisons judged together
  (:func:`mlstc.book.verdicts.judge`) are one Holm family; each row keeps its family's
  adjusted p and the interval widened to match
  (:func:`mlstc.evaluation.stats.adjusted_interval`), and the verdict page shows the
  same ones, so a comparison reads the same in its chapter and on the page;
- **each claim on its own wording**: :func:`filed` keeps a row for a claim only when
  it compares what the claim names (its ``sides``: the claim's side against the
  other), turns a row that has the claim's side second, and sets aside, with the
  reason, a row that tests no claim's wording;
- an **experiment** (a comparison on one data set, scored in one or more metrics)
  *holds* when some metric is better and none is worse, *fails* when some metric is
  worse and none better, and is *mixed* when both;
- a claim is **supported** when some experiment holds and none fails or is mixed,
  **contradicted** when some fails and none holds or is mixed, **mixed** when both
  kinds are there, **no detectable effect** when every experiment is within noise,
  and **pending** when no experiment counts yet (its chapter has not run, or its
  comparisons wait for three training seeds or were set aside); the page shows the
  counts behind the word.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from mlstc.core import paths, storage
from mlstc.evaluation import stats
from mlstc.results import families

SCHEMA = "claims-1"
FILE = "claims.json"


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str
    text: str  # the article's words (or a faithful summary)
    chapters: tuple[str, ...]  # where the evidence comes from
    # what an experiment's name must say for it to test the claim (matched without regard
    # to case against "X vs Y" or "X minus Y"): a pattern X names, the claim's side, and
    # one Y names, what the claim sets it against
    sides: tuple[str, str]


CLAIMS = (
    Claim("accuracy", "accuracy (`metrics=['accuracy']`) is the metric to compile and watch", ("00_data",),
          sides=(r"label prior", r"predicting nothing")),
    Claim("ner", "named-entity (NER) features improve multi-label accuracy", ("01_preprocessing",),
          sides=(r"entit", r"^(?!.*entit)")),
    Claim("pos", "part-of-speech (POS) tags improve multi-label accuracy", ("01_preprocessing",),
          sides=(r"\bPOS\b", r"^(?!.*\bPOS\b)")),
    Claim("contextual", "contextual embeddings (BERT) beat word2vec/GloVe-style features",
          ("01_preprocessing", "03_bert", "05_ensembles"),
          sides=(r"MiniLM|BERT|contextual", r"word2vec|GloVe|static")),
    Claim("domain", "fine-tuning BERT on a domain corpus further boosts performance", ("07_domain_adaptation",),
          sides=(r"pretrain|adapt", r"original")),
    Claim("naive_bayes", "simple models like Naive Bayes are inadequate", ("01_preprocessing", "02_lstm", "03_bert"),
          sides=(r"^(?!.*(naive bayes|\bnb-))", r"naive bayes|\bnb-")),
    Claim("svm", "simple models like (linear) SVMs are inadequate", ("02_lstm", "03_bert"),
          sides=(r"^(?!.*svm)", r"svm")),
    Claim("rnn", "LSTM/GRU networks are better suited than simple models", ("02_lstm", "05_ensembles"),
          sides=(r"LSTM|GRU", r"svm|naive bayes|\bnb-")),
    Claim("attention", "attention mechanisms substantially improve the recurrent model", ("02_lstm",),
          sides=(r"attention", r"pooling")),
    Claim("hierarchical", "hierarchical models help with hierarchical labels", ("04_hierarchical",),
          sides=(r"C-HMCNN|hierarch", r"flat")),
    Claim("ensembles", "ensembles of different models improve accuracy", ("05_ensembles",),
          sides=(r"ensemble", r"single member")),
    Claim("cross_entropy", "standard cross-entropy loss is unsuitable for multi-label classification",
          ("06_losses",),
          sides=(r"^(?!.*softmax)", r"softmax")),
    Claim("dependencies", "the loss must account for label dependencies and correlations",
          ("06_losses", "05_ensembles"),
          sides=(r"zlpr|lsep|chain", r"BCE|binary relevance|independent")),
)
BY_ID = {c.id: c for c in CLAIMS}
SIDES = {c.id: c.sides for c in CLAIMS}
RECORDED = set(BY_ID) | {"linear"}  # "linear" is filed as naive_bayes or svm
SEPARATORS = (" vs ", " minus ")


def sides(experiment: str) -> tuple[str, str]:
    """The two systems an experiment's name compares, the claim's side first."""
    for separator in SEPARATORS:
        if separator in experiment:
            first, _, second = experiment.partition(separator)
            return first, second
    raise ValueError(f"an experiment's name says 'X vs Y' or 'X minus Y', not {experiment!r}")


def swapped(experiment: str) -> str:
    """``"head: A vs B (note)"`` as ``"head: B vs A (note)"``: a prefix up to the
    last ``": "`` and a parenthesised note stay in place."""
    first, second = sides(experiment)
    separator = next(s for s in SEPARATORS if s in experiment)
    prefix, _, a = first.rpartition(": ")
    b, bracket, note = second.partition(" (")
    return f"{prefix + ': ' if prefix else ''}{b}{separator}{a}{bracket}{note}"


def matches(claim: str, experiment: str) -> bool:
    """Whether ``experiment`` puts the claim's side first and its other side second."""
    mine, other = SIDES[claim]
    first, second = sides(experiment)
    return bool(re.search(mine, first, re.I)) and bool(re.search(other, second, re.I))


def filed(claim: str, experiment: str) -> tuple[str | None, bool, str]:
    """Where an evidence row belongs: ``(claim, turned, why)``. ``claim`` is None for a
    row that tests no claim's wording (``why`` says why); ``turned`` says that the row
    has the claim's side second, so its sign must turn. Chapters record ``linear`` for
    "simple models like Naive Bayes or SVMs are inadequate", judged as two claims (the
    baseline decides). Softmax cross-entropy is the standard cross-entropy of the
    claim: a comparison with it is evidence on ``cross_entropy`` with softmax on the
    other side; a comparison of two multi-label losses is not. The contextual claim is
    about static embeddings: a comparison with tf-idf belongs to the simple-model claims."""
    words = experiment.lower()
    if claim == "linear":
        claim = "naive_bayes" if ("naive bayes" in words or "nb-" in words) else "svm"
    if "softmax" in words:
        return "cross_entropy", "softmax" in sides(experiment)[0].lower(), ""
    if claim == "cross_entropy":
        return None, False, ("two multi-label losses: the claim is about standard (softmax) cross-entropy, "
                             "and neither side is")
    if claim == "contextual" and not matches("contextual", experiment):
        return None, False, ("against tf-idf, not static (word2vec/GloVe-style) embeddings; the simple-model "
                             "claims take tf-idf comparisons")
    return claim, False, ""


def file_under(claim: str, experiment: str) -> str | None:
    """The claim an evidence row belongs to (:func:`filed`), or None."""
    return filed(claim, experiment)[0]


def turn(row: Mapping) -> dict:
    """An evidence row read from the other side: the sign of every difference and the
    outcome turn, the experiment's name swaps its sides."""
    out = dict(row)
    out["experiment"] = swapped(row["experiment"])
    out["delta"] = -row["delta"]
    out["low"], out["high"] = -row["high"], -row["low"]
    if row.get("adj_low") is not None:
        out["adj_low"], out["adj_high"] = -row["adj_high"], -row["adj_low"]
    out["outcome"] = {"better": "worse", "worse": "better"}.get(row["outcome"], row["outcome"])
    return out


def evidence(claim: str, *, dataset: str, experiment: str, metric: str, delta: float, low: float, high: float,
             outcome: str, p: float | None = None, p_holm: float | None = None, se: float | None = None,
             seeds: str = "1", note: str = "", sources: Mapping | None = None, family: Mapping | None = None,
             df: float | None = None, adjusted: Sequence[float] | None = None) -> dict:
    """One evidence row; ``outcome`` is ``better`` (supports the claim), ``worse``
    or ``within noise`` (see :func:`mlstc.evaluation.stats.outcome`); ``low`` and
    ``high`` bound the 95% interval, ``se`` is the bootstrap standard error of
    ``delta`` (rows recorded before it was kept have none). ``sources`` names the saved
    results each side's predictions are, and ``family`` the Holm family (``id``, the
    test's ``index`` in it and its ``size``): what ``verify --evidence`` recomputes from.
    ``df`` is the degrees of freedom of the difference's t distribution (absent or
    infinite: normal), ``adjusted`` the interval matching ``p_holm`` in its family."""
    if claim not in RECORDED:
        raise ValueError(f"unknown claim {claim!r}; the claims are {', '.join(BY_ID)}")
    if outcome not in stats.OUTCOMES:
        raise ValueError(f"outcome must be better, worse or within noise, not {outcome!r}")
    return {"claim": claim, "dataset": dataset, "experiment": experiment, "metric": metric,
            "delta": float(delta), "low": float(low), "high": float(high), "se": None if se is None else float(se),
            "p": p, "p_holm": p_holm, "outcome": outcome, "seeds": seeds, "note": note,
            **({"df": None if not math.isfinite(df) else float(df)} if df is not None else {}),
            **({"adj_low": float(adjusted[0]), "adj_high": float(adjusted[1])} if adjusted is not None else {}),
            **({"sources": dict(sources)} if sources else {}), **({"family": dict(family)} if family else {})}


def write(folder: Path, chapter: str, rows: Sequence[Mapping], *, tests: Sequence[Mapping] = (),
          replace_datasets: Sequence[str] = ()) -> Path:
    """Write ``claims.json`` into ``folder``: the evidence ``rows`` and every test of
    the chapter's Holm families (:func:`mlstc.results.families.record`), keeping those of an earlier file
    whose dataset is not in ``replace_datasets``."""
    path = Path(folder) / FILE
    replaced = set(replace_datasets)
    earlier = (read(path), families.read(path)) if path.is_file() else ([], [])
    kept, kept_tests = ([r for r in part if r["dataset"] not in replaced] for part in earlier)
    return storage.atomic_write_json(path, {"schema": SCHEMA, "chapter": chapter,
                                            "rows": kept + [dict(r) for r in rows],
                                            "tests": kept_tests + [dict(t) for t in tests]})


def read(path: Path) -> list[dict]:
    """The rows of one ``claims.json`` as recorded, each with its chapter."""
    record = json.loads(Path(path).read_text())
    if record.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a claims file ({SCHEMA})")
    return [r | {"chapter": record["chapter"]} for r in record["rows"]]


COLUMNS = ["claim", "chapter", "dataset", "experiment", "metric", "delta", "low", "high", "se", "df", "p", "p_holm",
           "adj_low", "adj_high", "outcome", "seeds", "note"]


NEURAL = r"LSTM|GRU|MiniLM|BERT|fine-tun|pretrain"
MIN_SEEDS = 3  # a neural result is evidence for a claim only with this many training seeds
# what names a neural training in an experiment (not frozen MiniLM features, nor a fine-tune only named as a
# chapter 05 member, whose seeds that chapter weighs itself)
TRAINED = r"LSTM|GRU|fine-tun|pretrain"


def one_seed(row: Mapping) -> str:
    """Why a row that compares neural trainings has too few seeds to count, or ``""``.
    A chapter keeps a comparison out when a neural side has fewer than three seeds
    (:func:`mlstc.book.verdicts.if_seeds`); the page checks again. A row recorded
    before the chapters did so (it has no adjusted interval of its own) is set aside
    when either side has fewer; any later row when no side has three (a one-seed
    neural comparison a chapter recorded anyway)."""
    seeds = row.get("seeds")
    counts = [int(n) for n in str(seeds if isinstance(seeds, str) else "1").split("/")]
    if pd.isna(row.get("adj_low")):
        return ("a neural training with fewer than three seeds, recorded before the chapters kept such results "
                "out of the verdicts") if re.search(NEURAL, row["experiment"], re.I) and min(counts) < MIN_SEEDS else ""
    if re.search(TRAINED, row["experiment"], re.I) and max(counts) < MIN_SEEDS:
        return "neural trainings with fewer than three seeds on both sides"
    return ""


def file(rows: Sequence[Mapping]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows filed under the claims whose wording they test (:func:`filed`),
    turned where the claim's side was second, and the rows set aside with ``why``
    (those, and neural rows with too few seeds: :func:`one_seed`)."""
    kept, aside = [], []
    for row in rows:
        if why := one_seed(row):
            aside.append(dict(row) | {"why": why})
            continue
        claim, turned, why = filed(row["claim"], row["experiment"])
        if claim is None:
            aside.append(dict(row) | {"why": why})
            continue
        kept.append((turn(row) if turned else dict(row)) | {"claim": claim})
    return pd.DataFrame(kept, columns=COLUMNS), pd.DataFrame(aside, columns=COLUMNS + ["why"])


def gather(profile: str) -> pd.DataFrame:
    """Every evidence row recorded under ``results/<profile>/``, as recorded."""
    rows = [r for path in sorted(paths.results_dir(profile).glob(f"*/{FILE}")) for r in read(path)]
    return pd.DataFrame(rows, columns=COLUMNS)


def adjust(rows: pd.DataFrame, alpha: float = stats.ALPHA) -> pd.DataFrame:
    """The rows with the page's rule applied: ``se`` (the recorded one, else read
    from the 95% interval: ``se from interval``), ``p`` from ``delta / se`` (Student's t
    where the row records degrees of freedom), ``p_adjusted`` (the chapter family's
    Holm p; a row recorded without one is a family of its own), the matching
    ``adj_low``/``adj_high`` (as recorded; computed the chapter's way for rows recorded
    before they were kept) and ``verdict`` (better, worse or within noise)."""
    out = rows.copy()
    recorded = pd.to_numeric(out["se"], errors="coerce")
    out["se from interval"] = recorded.isna()
    out["se"] = recorded.where(~recorded.isna(), [stats.se_from_interval(lo, hi)
                                                 for lo, hi in zip(out["low"], out["high"])])
    out["df"] = pd.to_numeric(out["df"], errors="coerce").fillna(math.inf)
    out["p"] = [stats.p_value(d, e, f) for d, e, f in zip(out["delta"], out["se"], out["df"])]
    holm = pd.to_numeric(out["p_holm"], errors="coerce")
    out["p_adjusted"] = holm.where(~holm.isna(), out["p"])
    computed = [stats.adjusted_interval(d, e, q / p if p > 0 else 1.0, f, alpha)
                for d, e, p, q, f in zip(out["delta"], out["se"], out["p"], out["p_adjusted"], out["df"])]
    kept = ~pd.to_numeric(out["adj_low"], errors="coerce").isna()
    out["adj_low recorded"] = kept  # rows recorded before the chapter kept its adjusted interval: False
    out["adj_low"] = [float(lo) if k else c[0] for lo, k, c in zip(out["adj_low"], kept, computed)]
    out["adj_high"] = [float(hi) if k else c[1] for hi, k, c in zip(out["adj_high"], kept, computed)]
    out["verdict"] = [stats.outcome(lo, hi, q, alpha) for lo, hi, q in zip(out["adj_low"], out["adj_high"],
                                                                        out["p_adjusted"])]
    return out


def experiment_outcome(verdicts: Sequence[str]) -> str:
    """``holds`` when some metric is better and none worse, ``fails`` when some
    is worse and none better, ``mixed`` when both, else ``within noise``."""
    better, worse = "better" in verdicts, "worse" in verdicts
    if better and not worse:
        return "holds"
    if worse and not better:
        return "fails"
    return "mixed" if better else "within noise"


VERDICTS = ("supported", "contradicted", "mixed", "no detectable effect", "pending")
OUTCOMES = ("holds", "fails", "mixed", "within noise")


def overall(outcomes: Sequence[str]) -> str:
    """The claim's word from its experiments' outcomes (module docstring): one of
    :data:`VERDICTS`."""
    outcomes = list(outcomes)
    if not outcomes:
        return "pending"
    holds, fails = "holds" in outcomes, "fails" in outcomes
    if "mixed" in outcomes or (holds and fails):
        return "mixed"
    if holds:
        return "supported"
    return "contradicted" if fails else "no detectable effect"


def counted(outcomes: Sequence[str]) -> str:
    """The counts behind a verdict, e.g. ``"2 hold, 1 within noise"``."""
    outcomes = list(outcomes)
    words = {"holds": ("holds", "hold"), "fails": ("fails", "fail"), "mixed": ("mixed", "mixed"),
             "within noise": ("within noise", "within noise")}
    parts = [f"{n} {words[o][0] if n == 1 else words[o][1]}" for o in OUTCOMES if (n := outcomes.count(o))]
    return ", ".join(parts) or "no experiment yet"


def points(value: float) -> str:
    return f"{value * 100:+.1f}"


def effect(row) -> str:
    """``+1.2 [+0.3, +2.1] micro-F1 points`` with the adjusted interval."""
    metric = str(row["metric"]).replace("_f1", "-F1").replace("binary_accuracy", "binary accuracy")
    return f"{points(row['delta'])} [{points(row['adj_low'])}, {points(row['adj_high'])}] {metric}"


def decisive(evidence: pd.DataFrame) -> pd.DataFrame:
    """Per claim, at most two evidence rows: the strongest for the claim (the
    highest adjusted lower bound) and the strongest against it (the lowest adjusted
    upper bound), when they differ."""
    picked = []
    for _, rows in evidence.groupby("claim", sort=False):
        best, worst = rows["adj_low"].idxmax(), rows["adj_high"].idxmin()
        picked += [best] if best == worst else [best, worst]
    return evidence.loc[picked]


@dataclasses.dataclass
class Assessment:
    """The verdict page's content: ``claims`` (one row per claim), ``experiments``
    (one row per comparison and data set), ``evidence`` (every row filed under a
    claim, adjusted) and ``aside`` (the rows that test no claim's wording, with why)."""

    claims: pd.DataFrame
    experiments: pd.DataFrame
    evidence: pd.DataFrame
    aside: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    def decisive(self) -> pd.DataFrame:
        """:func:`decisive` of this assessment's evidence."""
        return decisive(self.evidence)


def assess(profile: str, alpha: float = stats.ALPHA) -> Assessment:
    """Apply the page's rule (module docstring) to every recorded row."""
    kept, aside = file(gather(profile).to_dict("records"))
    evidence = adjust(kept, alpha)
    keys = ["claim", "chapter", "dataset", "experiment"]
    experiments = pd.DataFrame(columns=keys + ["outcome"])
    if len(evidence):
        experiments = (evidence.groupby(keys, sort=False)["verdict"].agg(lambda v: experiment_outcome(list(v)))
                       .rename("outcome").reset_index())
    strongest = decisive(evidence)
    out = []
    for claim in CLAIMS:
        mine = experiments[experiments["claim"] == claim.id]
        holds = sorted({f"{r.dataset}: {r.experiment}" for r in mine.itertuples() if r.outcome == "holds"})
        shown = strongest[strongest["claim"] == claim.id]
        rows = evidence[evidence["claim"] == claim.id]
        out.append({"id": claim.id, "claim": claim.text, "verdict": overall(mine["outcome"]),
                    "counts": counted(mine["outcome"]), "experiments": len(mine), "hold": len(holds),
                    "fail": int((mine["outcome"] == "fails").sum()), "holds for": holds, "comparisons": len(rows),
                    "decisive": [f"{r['dataset']}, {r['experiment']}: {effect(r)}" for _, r in shown.iterrows()],
                    "chapters": sorted(set(rows["chapter"])) or list(claim.chapters)})
    return Assessment(pd.DataFrame(out).set_index("id"), experiments, evidence, aside)


def verdicts(profile: str) -> pd.DataFrame:
    """One row per claim (indexed by its text): its verdict with the counts behind
    it, its decisive evidence and its chapters (see :func:`assess`)."""
    table = assess(profile).claims
    table["verdict"] = [f"{v} ({c})" if v != "pending" else v for v, c in zip(table["verdict"], table["counts"])]
    table["evidence"] = [d or [f"pending: run {', '.join(BY_ID[i].chapters)}"] for i, d in
                         zip(table.index, table["decisive"])]
    return table.set_index("claim")[["verdict", "evidence", "chapters"]]
