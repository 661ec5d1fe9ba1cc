"""Fine-tune throughput of MiniLM and bert-base on a GPU, with Keras 3 on JAX.

    python benchmarks/gpu_jax.py prepare [--out .gpu]   # here: Reuters word pieces, with mlstc
    PYTHONPATH=. KERAS_BACKEND=jax python benchmarks/gpu_jax.py measure [--pieces .gpu/reuters_wordpieces.npz]

Why a separate script: the book's models run on Keras 3's TensorFlow backend, and the
GPU machines this project is sometimes lent have JAX but no TensorFlow, whose GPU wheel
is far larger than what can be carried there. ``measure`` therefore needs only numpy,
Keras, KerasHub and ``mlstc.text``'s NumPy batching (no TensorFlow), and builds the same architecture as
:func:`mlstc.models.bert.classifier` (backbone, masked mean pooling, 90 logits) from the
checkpoints' configurations with random weights: the cost of a training step does not
depend on the weights' values, so these are speed figures, not accuracy figures.

``prepare`` tokenizes Reuters' training documents with the default checkpoint's
tokenizer (cut at 128 word pieces, as chapter 03 does) and saves the word-piece ids, so
that the timed batches have the real length distribution. ``measure`` times training
steps (AdamW, binary cross-entropy on logits) with every batch padded to 128, and
bucketed by length to the widths 32/64/96/128 (each width compiled once before the clock
starts), each in float32 and in mixed bfloat16, plus inference; it prints a table and
writes JSON (``--json``). The two committed runs (``results/gpu/``) drew their batches
with an inline copy of the same pooling, since replaced by :mod:`mlstc.text.batching`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from mlstc.text import batching, wordpieces

WIDTHS = (32, 64, 96, 128)
ARCHITECTURES = {  # the configurations of the two checkpoints (config.json of each)
    "MiniLM-L6 (all-MiniLM-L6-v2)": dict(num_layers=6, num_heads=12, hidden_dim=384, intermediate_dim=1536),
    "bert-base-uncased": dict(num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072),
}


def prepare(out: Path) -> None:
    from mlstc import data
    from mlstc.text import checkpoints, wordpieces

    train = data.load("reuters").split("train")
    encoded = wordpieces.encode(train.texts, checkpoints.tokenizer(""), 128)
    out.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(s) for s in encoded.ids])
    flat = np.concatenate([np.asarray(s, dtype=np.int32) for s in encoded.ids])
    np.savez_compressed(out / "reuters_wordpieces.npz", flat=flat, lengths=lengths, y=train.y.astype(np.uint8))
    print(f"{len(lengths):,} documents, {lengths.sum():,} word pieces -> {out / 'reuters_wordpieces.npz'}")


def _batches(lengths, batch_size: int, seed: int) -> list[np.ndarray]:
    """Chapter 03's shuffled length-sorted batches, full ones only (one shape per width)."""
    return [idx for idx in batching.batches(lengths, batch_size, shuffle=True, seed=seed) if len(idx) == batch_size]


def measure(pieces: Path, steps: int, batch_size: int) -> list[dict]:
    import keras
    import keras_hub

    saved = np.load(pieces)
    lengths, y = saved["lengths"], saved["y"].astype("float32")
    seqs = np.split(saved["flat"], np.cumsum(lengths)[:-1])
    def inputs(idx, width):
        return wordpieces.inputs([seqs[i] for i in idx], width=width)

    rows = []
    for arch, config in ARCHITECTURES.items():
        for policy in ("float32", "mixed_bfloat16"):
            keras.mixed_precision.set_global_policy(policy)
            keras.utils.set_random_seed(0)
            backbone = keras_hub.models.BertBackbone(vocabulary_size=30522, max_sequence_length=512, **config)
            x = {k: keras.Input(shape=(None,), dtype="int32", name=k)
                 for k in ("token_ids", "segment_ids", "padding_mask")}
            hidden = backbone(x)["sequence_output"]
            mask = keras.ops.cast(keras.ops.expand_dims(x["padding_mask"], -1), hidden.dtype)
            pooled = keras.ops.sum(hidden * mask, 1) / keras.ops.maximum(keras.ops.sum(mask, 1), 1)
            logits = keras.layers.Dense(y.shape[1], dtype="float32")(keras.layers.Dropout(0.1)(pooled))
            model = keras.Model(x, logits)
            model.compile(keras.optimizers.AdamW(2e-5, clipnorm=1.0),
                          keras.losses.BinaryCrossentropy(from_logits=True))
            for name, bucketed in (("padded to 128, batch 32", False), ("bucketed to 32/64/96/128, batch 32", True)):
                batches = _batches(lengths, batch_size, seed=len(rows))
                def width_of(idx):
                    return batching.bucket_width(lengths[idx].max(), WIDTHS) if bucketed else 128
                first = {}
                for idx in batches:
                    first.setdefault(width_of(idx), idx)
                started = time.perf_counter()
                for width, idx in first.items():  # compile each shape before the clock starts
                    model.train_on_batch(inputs(idx, width), y[idx])
                compile_s = time.perf_counter() - started
                prepared = [(inputs(idx, width_of(idx)), y[idx]) for idx in batches[:steps]]
                real = sum(int(b["padding_mask"].sum()) for b, _ in prepared)
                started = time.perf_counter()
                for batch, target in prepared:
                    loss = model.train_on_batch(batch, target)
                float(np.asarray(loss))  # wait for the device
                seconds = time.perf_counter() - started
                epoch_s = seconds / len(prepared) * (len(lengths) / batch_size)
                rows.append({"architecture": arch, "precision": policy, "batches": name,
                             "word pieces/s": real / seconds, "docs/s": len(prepared) * batch_size / seconds,
                             "epoch s (Reuters train)": epoch_s, "compile s": compile_s, "steps": len(prepared)})
                print(json.dumps(rows[-1]), flush=True)
            test = [inputs(idx, width_of(idx)) for idx in _batches(lengths, 64, seed=len(rows))[:steps]]
            for batch in {b["token_ids"].shape[1]: b for b in test}.values():
                model.predict_on_batch(batch)  # compile every shape first (the 2026-11-27 run timed compilations)
            started = time.perf_counter()
            for batch in test:
                out = model.predict_on_batch(batch)
            np.asarray(out)
            rows.append({"architecture": arch, "precision": policy, "batches": "inference, bucketed, batch 64",
                         "docs/s": len(test) * 64 / (time.perf_counter() - started)})
            print(json.dumps(rows[-1]), flush=True)
    keras.mixed_precision.set_global_policy("float32")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("prepare", "measure"))
    parser.add_argument("--out", type=Path, default=Path(".gpu"))
    parser.add_argument("--pieces", type=Path, default=Path(".gpu/reuters_wordpieces.npz"))
    parser.add_argument("--steps", type=int, default=100, help="timed training steps per setting")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json", type=Path, help="write the rows and the machine here")
    parser.add_argument("--only", default="", help="time only the architectures whose name contains this")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        return prepare(args.out)
    import jax
    import keras

    for name in [n for n in ARCHITECTURES if args.only not in n]:
        del ARCHITECTURES[name]
    rows = measure(args.pieces, args.steps, args.batch_size)
    machine = {"devices": [f"{d} ({d.device_kind})" for d in jax.devices()], "jax": jax.__version__,
               "keras": keras.__version__,
               "backend": keras.backend.backend(), "python": platform.python_version(),
               "date": time.strftime("%Y-%m-%d")}
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    import pandas as pd

    print(machine)
    print(pd.DataFrame(rows).set_index(["architecture", "precision", "batches"]).round(1).to_string())


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "jax")
    main()
