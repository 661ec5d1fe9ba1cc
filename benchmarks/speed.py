"""Speed of the book's heavy steps, measured in one run on one machine (issue #14).

    python benchmarks/speed.py [--profile cpu] [--steps 20]

Measures: MiniLM fine-tune training throughput (real word pieces per second) with every
batch padded to 128, bucketed by length, bucketed with a token budget per batch (batch
size scaled by length), bucketed to a few fixed widths, the last also with XLA
(``jit_compile``), token-budget batches in mixed bfloat16, and padded and bucketed again with
TensorFlow's oneDNN optimisations
switched the other way (in a fresh process: the switch is read at import); inference
documents per second; BiLSTM seconds per epoch; spaCy words per second with one and two
processes; frozen-embedding documents per second. Prints a table and writes it to ``results/<profile>/benchmarks.json``,
which the book's environment page shows. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time

import pandas as pd

from mlstc import data
from mlstc.core import paths, storage, system
from mlstc.models import bert, lstm, training
from mlstc.text import checkpoints, embeddings, features, wordpieces

system.import_tensorflow()
import keras  # noqa: E402

WIDTHS = (32, 64, 96, 128)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps per setting")
    parser.add_argument("--docs", type=int, default=1000, help="documents for the spaCy and embedding timings")
    parser.add_argument("--training-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--note", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rows = []

    def add(what, setting, value, unit):
        rows.append({"what": what, "setting": setting, "value": round(float(value), 2), "unit": unit})
        print(f"{what:<34} {setting:<34} {value:>10.1f} {unit}", flush=True)

    reuters = data.load("reuters")
    train = reuters.split("train")
    tokenizer = checkpoints.tokenizer("")
    encoded = wordpieces.encode(train.texts, tokenizer, 128)
    settings = [("padded to 128, batch 32", {"padded": True}),
                ("bucketed, batch 32", {"padded": False}),
                ("bucketed, 4,096-token batches", {"padded": False, "max_tokens": 4096}),
                ("bucketed to widths 32/64/96/128", {"padded": False, "widths": WIDTHS}),
                ("bucketed to widths, XLA (jit_compile)", {"padded": False, "widths": WIDTHS, "jit_compile": True}),
                ("bucketed, 4,096-token batches, bfloat16", {"padded": False, "max_tokens": 4096,
                                                             "policy": "mixed_bfloat16"})]
    # (token-budget batches vary in size, so XLA would compile a new program for nearly every batch)
    if args.training_only:
        settings = settings[:2]
    base = inference_model = None
    for name, options in settings:
        options = dict(options)
        # mixed bfloat16: matrix products in bfloat16 (AVX512-BF16 / AMX CPUs, recent GPUs), weights in float32
        keras.mixed_precision.set_global_policy(options.pop("policy", "float32"))
        model = bert.compile(bert.classifier("", reuters.num_labels), learning_rate=1e-5, total_steps=1000,
                             jit_compile=options.pop("jit_compile", False))
        speed = bert.train_throughput(model, encoded, train.y, batch_size=32, max_length=128, steps=args.steps,
                                      **options)
        keras.mixed_precision.set_global_policy("float32")
        inference_model = model if inference_model is None else inference_model  # the first, float32 model
        base = base or speed["word_pieces_per_s"]
        add("MiniLM training, Reuters", name + args.note, speed["word_pieces_per_s"], "word pieces/s")
        add("MiniLM training, Reuters", f"{name}{args.note}: x padded", speed["word_pieces_per_s"] / base, "x")
    if args.training_only:
        print(json.dumps(rows))
        return
    # oneDNN is switched at TensorFlow's import: the same two settings in a fresh process without it
    other = "0" if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0" else "1"
    done = subprocess.run([sys.executable, __file__, "--training-only", "--steps", str(args.steps),
                           "--note", f" (oneDNN {'off' if other == '0' else 'on'})"],
                          env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS=other), capture_output=True, text=True)
    if done.returncode == 0:
        rows += json.loads(done.stdout.strip().splitlines()[-1])
    else:
        print(f"oneDNN comparison failed: {done.stderr[-500:]}")
    test = reuters.split("test")
    enc_test = wordpieces.encode(test.texts[:1000], tokenizer, 128)
    bert.predict_logits(inference_model, wordpieces.encode(test.texts[:64], tokenizer, 128))  # trace once
    started = time.perf_counter()
    bert.predict_logits(inference_model, enc_test, 64)
    add("MiniLM inference, Reuters", "bucketed, batch 64, 128 pieces", 1000 / (time.perf_counter() - started), "docs/s")

    vectorizer = lstm.text_vectorizer(train.texts, max_tokens=30000, max_length=300)
    model = lstm.lstm_classifier(vectorizer, reuters.num_labels)
    stream = iter(training.text_batches(train.texts, train.y, 32, seed=0))
    for _ in range(3):
        model.train_on_batch(*next(stream))
    started, docs = time.perf_counter(), 0
    for _ in range(args.steps * 3):
        x, y = next(stream)
        model.train_on_batch(x, y)
        docs += len(y)
    add("BiLSTM training, Reuters", "300 words, batch 32", len(train.texts) / (docs / (time.perf_counter() - started)),
        "s/epoch")

    sample = train.texts[: args.docs]
    nlp = features.load_spacy()
    for processes in (1, 2):
        run = features.annotate(sample, dataset="benchmark", nlp=nlp, n_process=processes, cache=False, progress=False)
        add("spaCy en_core_web_sm", f"{processes} process(es)", run.words_per_second, "words/s")
    started = time.perf_counter()
    embeddings.embed(sample, dataset="benchmark", cache=False, progress=False)
    add("frozen MiniLM embeddings", "256 pieces, batch 64", len(sample) / (time.perf_counter() - started), "docs/s")

    record = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "profile": args.profile,
              "machine": system.machine(), "versions": system.versions(), "rows": rows}
    path = storage.atomic_write_json(paths.results_dir(args.profile) / "benchmarks.json", record)
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
