"""Does mixed bfloat16 keep chapter 03's accuracy? (issue #14)

    python benchmarks/bf16_accuracy.py [--profile cpu] [--dataset reuters]

``benchmarks/speed.py`` measures how much faster MiniLM trains in mixed bfloat16. This
script fine-tunes chapter 03's model once more with chapter 03's saved settings and
seed, in mixed bfloat16, and compares it with chapter 03's float32 run on the test
split (paired bootstrap, thresholds tuned on validation the same way). Writes
``results/<profile>/bf16_accuracy.json``. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import datetime as dt

from mlstc import data, results
from mlstc.core import paths, profiles, storage, system
from mlstc.evaluation import metrics, stats, thresholds
from mlstc.models import finetune
from mlstc.text import checkpoints


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--dataset", default="reuters")
    parser.add_argument("--precision", default="mixed_bfloat16")
    args = parser.parse_args(argv)
    profile = profiles.resolve(args.profile)
    record = results.load(profile.name, "03_bert", args.dataset, "bert-128")  # chapter 03's float32 run
    ds = data.load(args.dataset, seed=record.get("seed", 0)).head(profile.max_docs, seed=record.get("seed", 0))
    settings = finetune.settings_of(record)
    checkpoint = record["extra"].get("checkpoint", "")
    out = finetune.finetune("" if checkpoint == checkpoints.DEFAULT else checkpoint, ds, **settings,
                            seed=record.get("seed", 0), precision=args.precision)
    base = results.load_probs(results.path(profile.name, "03_bert", args.dataset, "bert-128"))
    keep = [record["label_names"].index(label) for label in ds.label_names]
    y_val, y_test = ds.split("validation").y, ds.split("test").y
    preds = {}
    for name, probs in (("float32", {s: base[s][:, keep] for s in ("validation", "test")}), (args.precision, out.probs)):
        preds[name] = thresholds.predict(probs["test"], thresholds.tune_global(y_val, probs["validation"]))
    table = stats.compare(y_test, preds["float32"], preds[args.precision], n_samples=profile.bootstrap_samples)
    rows = {name: {m: metrics.evaluate(y_test, p)[m] for m in ("micro_f1", "macro_f1")} for name, p in preds.items()}
    rows["float32"]["train_seconds"] = record["metrics"].get("train seconds")
    rows[args.precision]["train_seconds"] = round(out.train_seconds, 1)
    diff = {m: {k: float(table.loc[m, k]) for k in ("delta", "low", "high", "p")} for m in ("micro_f1", "macro_f1")}
    for name, row in rows.items():
        print(f"{name:<16} micro-F1 {row['micro_f1']:.4f}  macro-F1 {row['macro_f1']:.4f}  "
              f"training {row['train_seconds']} s")
    for m, d in diff.items():
        print(f"{args.precision} - float32 {m}: {d['delta'] * 100:+.2f} points [{d['low'] * 100:+.2f}, "
              f"{d['high'] * 100:+.2f}]")
    record_out = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "profile": profile.name,
                  "dataset": args.dataset, "settings": settings, "machine": system.machine(),
                  "versions": system.versions(), "runs": rows, "difference": diff,
                  "history": {args.precision: out.history}}
    path = storage.atomic_write_json(paths.results_dir(profile.name) / "bf16_accuracy.json", record_out)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
