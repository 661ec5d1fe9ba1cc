"""Does mixed bfloat16 keep chapter 03's accuracy? (issue #14)

    python benchmarks/bf16_accuracy.py [--profile cpu] [--dataset reuters] [--seeds 0,1,2]

``benchmarks/speed.py`` measures how much faster MiniLM trains in mixed bfloat16. This
script fine-tunes chapter 03's model with chapter 03's saved settings in float32 and
in mixed bfloat16 for each seed (chapter 03's own run is the float32 run of its
seed), and compares the two on the test split: thresholds tuned on validation the same
way, a paired bootstrap over test documents and seeds (seed ``k`` of one precision is
drawn with seed ``k`` of the other), and each precision's seed spread, which is the
yardstick for "the same accuracy". Each run's probabilities are kept in the cache
(``<cache>/bf16_accuracy/``), so an interrupted run resumes where it stopped. Writes
``results/<profile>/bf16_accuracy.json``. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

import numpy as np

from mlstc import data, results
from mlstc.core import paths, profiles, storage, system
from mlstc.evaluation import metrics, stats, thresholds
from mlstc.models import finetune
from mlstc.text import checkpoints

FLOAT32 = "float32"


def run_once(profile, ds, record, precision: str, seed: int) -> dict:
    """Validation and test probabilities of one fine-tune, from chapter 03's saved run,
    the cache, or a new run."""
    settings = finetune.settings_of(record)
    if precision == settings.pop("precision") and seed == record.get("seed", 0):
        probs = results.load_probs(results.path(profile.name, "03_bert", ds.key, "bert-128"))
        keep = [record["label_names"].index(label) for label in ds.label_names]
        return {"probs": {s: probs[s][:, keep] for s in ("validation", "test")},
                "train_seconds": record["metrics"].get("train seconds"), "source": "chapter 03"}
    folder = paths.cache_dir() / "bf16_accuracy"
    stem = f"{ds.key}-{profile.name}-{precision}-seed{seed}"
    if (folder / f"{stem}.json").is_file():
        meta = json.loads((folder / f"{stem}.json").read_text())
        if meta["settings"] == settings:
            saved = np.load(folder / f"{stem}.npz")
            return {"probs": {s: saved[s] for s in ("validation", "test")}, "train_seconds": meta["train_seconds"],
                    "source": "cache", "history": meta["history"]}
    checkpoint = record["extra"].get("checkpoint", "")
    out = finetune.finetune("" if checkpoint == checkpoints.DEFAULT else checkpoint, ds, **settings, seed=seed,
                            precision=precision)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / f"{stem}.npz", **out.probs)
    storage.atomic_write_json(folder / f"{stem}.json", {"settings": settings, "train_seconds": out.train_seconds,
                                                         "history": out.history})
    print(f"{precision} seed {seed}: {out.train_seconds:.1f} s of training", flush=True)
    return {"probs": out.probs, "train_seconds": round(out.train_seconds, 1), "source": "this run",
            "history": out.history}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--dataset", default="reuters")
    parser.add_argument("--precision", default="mixed_bfloat16")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds")
    args = parser.parse_args(argv)
    profile = profiles.resolve(args.profile)
    record = results.load(profile.name, "03_bert", args.dataset, "bert-128")  # chapter 03's float32 run
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    ds = data.load(args.dataset, seed=record.get("seed", 0)).head(profile.max_docs, seed=record.get("seed", 0))
    y_val, y_test = ds.split("validation").y, ds.split("test").y
    runs = {(p, s): run_once(profile, ds, record, p, s) for s in seeds for p in (args.precision, FLOAT32)}
    preds, rows = {}, {}
    for (precision, seed), r in runs.items():
        pred = thresholds.predict(r["probs"]["test"], thresholds.tune_global(y_val, r["probs"]["validation"]))
        preds[(precision, seed)] = pred
        rows[f"{precision} seed {seed}"] = {**{m: metrics.evaluate(y_test, pred)[m] for m in ("micro_f1", "macro_f1")},
                                            "train_seconds": r["train_seconds"], "source": r["source"]}
    table = stats.compare(y_test, [preds[(FLOAT32, s)] for s in seeds], [preds[(args.precision, s)] for s in seeds],
                          n_samples=profile.bootstrap_samples)
    diff = {m: {k: float(table.loc[m, k]) for k in ("a", "b", "delta", "low", "high", "p", "a_seed_std", "b_seed_std")}
            for m in ("micro_f1", "macro_f1")}
    for name, row in rows.items():
        print(f"{name:<24} micro-F1 {row['micro_f1']:.4f}  macro-F1 {row['macro_f1']:.4f}  "
              f"training {row['train_seconds']} s ({row['source']})")
    for m, d in diff.items():
        print(f"{args.precision} - float32 {m} over {len(seeds)} seeds: {d['delta'] * 100:+.2f} points "
              f"[{d['low'] * 100:+.2f}, {d['high'] * 100:+.2f}]; seed std float32 {d['a_seed_std'] * 100:.2f}, "
              f"{args.precision} {d['b_seed_std'] * 100:.2f}")
    record_out = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "profile": profile.name,
                  "dataset": args.dataset, "seeds": seeds, "settings": finetune.settings_of(record),
                  "machine": system.machine(), "versions": system.versions(), "runs": rows, "difference": diff,
                  "history": {f"{p} seed {s}": r.get("history") for (p, s), r in runs.items() if r.get("history")}}
    path = storage.atomic_write_json(paths.results_dir(profile.name) / "bf16_accuracy.json", record_out)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
