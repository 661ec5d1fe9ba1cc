"""The tables of the environment page (chapter 99): the run profiles, the speed
benchmarks, the GPU measurements, the reruns that reproduced the committed results and
every saved result, read from ``results/``."""

from __future__ import annotations

import json

import pandas as pd

from mlstc import results
from mlstc.book import shown
from mlstc.core import paths, profiles


def profiles_table() -> pd.DataFrame:
    """One row per run profile: its caps, bootstrap samples, epochs, seeds, timeout."""
    return pd.DataFrame([{"profile": p.name, "description": p.description,
                          **{f"max {split} docs": cap or "all" for split, cap in p.max_docs.items()},
                          "bootstrap samples": p.bootstrap_samples, "max epochs": p.max_epochs, "seeds": p.seeds,
                          "notebook timeout (min)": p.notebook_timeout_s // 60}
                         for p in profiles.PROFILES.values()]).set_index("profile")


def run_log_table(profile: str):
    """The profile's run log as the page shows it (:func:`mlstc.book.runlog.cache_times`):
    minutes to one decimal, blanks where nothing was logged; a sentence where no run is."""
    from mlstc.book import runlog

    log = paths.results_dir(profile) / "run_log.jsonl"
    logged = runlog.cache_times(log)
    if not len(logged):
        return f"No runs logged in {log.name} for the {profile} profile yet."
    minutes = [c for c in logged.columns if c.endswith("(min)")]
    return logged.style.format("{:.1f}", subset=minutes, na_rep="").format(
        na_rep="", subset=[c for c in logged.columns if c not in minutes])


def benchmarks(profile: str):
    """``(where and when it was measured, the table)`` of ``benchmarks/speed.py`` for
    ``profile``, or ``None`` where it has not run."""
    bench = paths.results_dir(profile) / "benchmarks.json"
    if not bench.is_file():
        return None
    record = json.loads(bench.read_text())
    machine = record["machine"]
    where = (f"measured {record['created']} on {machine['cpu_count']} CPU cores, {machine.get('memory_gib', '?')} GiB; "
             f"GPUs: {machine.get('gpus')}")
    return where, pd.DataFrame(record["rows"]).set_index(["what", "setting"])


PRECISIONS = {"mixed_bfloat16": "bfloat16 (mixed)", "mixed_float16": "float16 (mixed)"}  # a Keras policy in words


def gpu_runs():
    """``(one line per run: file, date, devices, versions; the training rows of every
    run)`` of ``benchmarks/gpu_jax.py``, or ``None`` where none has run."""
    found = sorted((paths.results_root() / "gpu").glob("gpu_jax*.json"))
    if not found:
        return None
    lines, rows = [], []
    for path in found:
        record = json.loads(path.read_text())
        machine = record["machine"]
        lines.append(f"{path.name}: {machine['date']}, {', '.join(machine['devices'])}, JAX {machine['jax']}, "
                     f"Keras {machine['keras']}")
        rows += [{"run": path.stem.removeprefix("gpu_jax_"), **r, "precision": PRECISIONS.get(r["precision"],
                                                                                          r["precision"])}
                 for r in record["rows"] if not r["batches"].startswith("inference")]
    return lines, pd.DataFrame(rows).set_index(["architecture", "precision", "batches", "run"]).sort_index()



def reproduced(profile: str) -> pd.DataFrame:
    """One row per chapter that ``python -m mlstc verify --record`` reran in
    ``profile`` (``results/<profile>/reproduced.json``): when, on what, from which
    commit; how many metrics came out identical, how many had a founded tolerance
    (*judged*) and agreed within it; how many probability files were byte for byte the
    same. Empty where none was recorded."""
    path = paths.results_dir(profile) / "reproduced.json"
    if not path.is_file():
        return pd.DataFrame()
    rows = []
    for chapter, line in json.loads(path.read_text()).items():
        machine = line["machine"]
        rows.append({"chapter": chapter, "date": line["date"], "code (commit)": line["commit"] or "",
                     "CPU": f"{machine['cpu']}, {machine['cpu_count']} cores",
                     "minutes": line["minutes"], "trainings restored": line["trainings restored"],
                     "metrics identical": f"{line['metrics identical']} of {line['metrics']}",
                     "judged metrics agreeing": f"{line['metrics agreeing']} of {line['metrics judged']}",
                     "probability files identical": f"{line['probability files identical']} of "
                                                    f"{line['probability files']}",
                     "what disagreed": disagreed(line)})
    return pd.DataFrame(rows).set_index("chapter")


def disagreed(line: dict) -> str:
    """The metrics a recorded rerun found outside their tolerance, with both values:
    ``reuters bilstm-attention macro_f1 0.478 -> 0.379 (tolerance 0.048)``; "" for
    none, and for a record kept before the values were."""
    return "; ".join(f"{d['dataset']} {d['model']} {d['metric']} {d['committed']:.3f} -> {d['new']:.3f} "
                     f"(tolerance {d['tolerance']:.3f})" if d.get("new") is not None else
                     f"{d['dataset']} {d['model']} {d['metric']} missing in the rerun"
                     for d in line.get("disagreeing", []))


def saved_results(profile: str) -> str:
    """Every saved result of ``profile`` as HTML: one collapsible table per chapter
    (micro-F1, macro-F1, subset accuracy); empty where there is none."""
    saved = results.table(profile, ["micro_f1", "macro_f1", "subset_accuracy"])
    if not len(saved):
        return ""
    saved = saved.rename(columns=shown.metric)
    return "".join(f"<details><summary><b>{chapter}</b>: {len(rows)} results</summary>"
                   f"{rows.droplevel(['profile', 'notebook']).style.format('{:.3f}', na_rep='').to_html()}</details>"
                   for chapter, rows in saved.groupby(level="notebook", sort=True))
