"""Fine-tuning a BERT checkpoint for multi-label classification (chapter 03).

The backbone is KerasHub's ``BertBackbone`` loaded from a Hugging Face checkpoint
directory (:func:`mlstc.text.checkpoints.backbone`), the tokenizer
``transformers.AutoTokenizer`` from the same directory, and texts are cut to
``max_length`` word pieces by :mod:`mlstc.text.wordpieces`. On top sit mask-aware
mean pooling, dropout and one ``Dense`` layer of *logits*, trained with a loss on
logits (binary cross-entropy by default) and AdamW with a linear warm-up and linear
decay, through the shared loop :func:`mlstc.models.training.fit`. KerasHub's own
``BertTextClassifier`` is not used: its ``compile()`` defaults to a sparse
categorical loss and accuracy, which are wrong for multi-label targets.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

import numpy as np

from mlstc.core import system
from mlstc.models import fitcache, training
from mlstc.models.layers import MaskedMeanPooling
from mlstc.text import batching, checkpoints, wordpieces
from mlstc.text.wordpieces import INPUTS, Encoded

system.import_backend()
import keras  # noqa: E402
from keras import ops  # noqa: E402

# Word-piece widths a batch is padded up to on a backend that compiles one program per
# input shape (JAX/XLA): a handful of shapes instead of one per batch length. TensorFlow
# pads each batch to its own longest sequence, as the committed runs did.
WIDTHS = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def width_of(lengths) -> int | None:
    """The width a batch of sequences of ``lengths`` is padded to: the longest on
    TensorFlow (``None``), the next of :data:`WIDTHS` on JAX."""
    return None if system.backend() == "tensorflow" else batching.bucket_width(int(np.max(lengths)), WIDTHS)


@keras.saving.register_keras_serializable(package="mlstc")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """0 -> ``peak`` linearly over ``warmup_steps``, then linearly to 0 at ``total_steps``."""

    def __init__(self, peak: float, total_steps: int, warmup_steps: int):
        self.peak, self.total_steps, self.warmup_steps = float(peak), int(total_steps), int(warmup_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = step / max(self.warmup_steps, 1)
        decay = (self.total_steps - step) / max(self.total_steps - self.warmup_steps, 1)
        return self.peak * ops.clip(ops.minimum(warm, decay), 0.0, 1.0)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build the models made inside ``with dtype_policy(name):`` under the Keras dtype
    policy ``name`` (``"mixed_bfloat16"``: bfloat16 computation, float32 weights); the
    global policy is restored on the way out."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # CPU flags (Linux /proc/cpuinfo) for native bfloat16 arithmetic


def _cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    try:
        text = Path(cpuinfo).read_text()
    except OSError:  # not Linux: no flags known, so no bfloat16
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


def fastest_precision(gpus: bool | None = None, cpu_flags: set[str] | None = None, backend: str | None = None) -> str:
    """The Keras dtype policy that trains fastest here at equal accuracy, per backend.
    On a GPU: ``mixed_bfloat16`` on JAX (Hopper computes bfloat16 natively and needs
    no loss scaling), ``mixed_float16`` on TensorFlow. On a CPU: with TensorFlow,
    ``mixed_bfloat16`` where the CPU computes bfloat16 natively (AVX512-BF16 or AMX: 1.5x
    on chapter 03's Reuters fine-tune on 2 cores, accuracy within the seed spread,
    ``benchmarks/bf16_accuracy.py``), ``float32`` elsewhere; with JAX, ``float32``
    (XLA's CPU bfloat16 is not measured here)."""
    backend = backend or system.backend()
    if gpus if gpus is not None else bool(system.gpus()):
        return "mixed_bfloat16" if backend == "jax" else "mixed_float16"
    if backend != "tensorflow":
        return "float32"
    flags = _cpu_flags() if cpu_flags is None else cpu_flags
    return "mixed_bfloat16" if flags & set(BF16_FLAGS) else "float32"


def use_precision(name: str = "auto") -> str:
    """Set the global Keras dtype policy to ``name`` (``"auto"``: :func:`fastest_precision`)
    for every model built afterwards; the policy's name."""
    name = fastest_precision() if name in ("", "auto") else name
    keras.mixed_precision.set_global_policy(name)
    return name


def classifier(checkpoint: str, num_labels: int, *, dropout: float = 0.1, prior=None) -> keras.Model:
    """Backbone -> masked mean pooling -> dropout -> ``num_labels`` logits (float32).

    ``prior`` (label frequencies in training) initialises the output biases to their
    log-odds, so training starts from the prior instead of from 0.5 for every label.
    """
    bert = checkpoints.backbone(checkpoint)
    x = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUTS}
    pooled = MaskedMeanPooling(name="pool")(bert(x)["sequence_output"], mask=x["padding_mask"])
    pooled = keras.layers.Dropout(dropout, name="dropout")(pooled)
    head = keras.layers.Dense(num_labels, dtype="float32", name="logits")
    logits = head(pooled)
    if prior is not None:
        p = np.clip(np.asarray(prior, dtype="float64"), 1e-4, 1 - 1e-4)
        head.bias.assign(np.log(p / (1 - p)).astype("float32"))
    return keras.Model(x, logits, name="bert_multilabel")


def compile(model: keras.Model, *, learning_rate: float, total_steps: int, warmup_fraction: float = 0.1,
            weight_decay: float = 0.01, loss=None, jit_compile="auto") -> keras.Model:
    """AdamW (no decay on biases and LayerNorm) with warm-up and linear decay, and
    ``loss`` on logits (default binary cross-entropy). Explicit, because KerasHub's
    classifiers default to a sparse categorical loss."""
    schedule = WarmupLinearDecay(learning_rate, total_steps, int(total_steps * warmup_fraction))
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=weight_decay, clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    model.compile(optimizer=optimizer, loss=loss or keras.losses.BinaryCrossentropy(from_logits=True),
                  jit_compile=jit_compile)
    return model


@contextlib.contextmanager
def _unused_pooler_ignored():
    """The backbone's [CLS] pooler is not used (the head mean-pools), so it gets no
    gradient; Keras warns about that on every fit."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Gradients do not exist for variables \['pooled_dense")
        yield


def _batch(encoded: Encoded, idx) -> dict[str, np.ndarray]:
    """The backbone's inputs for the sequences ``idx`` of ``encoded`` (:func:`width_of`)."""
    sequences = [encoded.ids[i] for i in idx]
    return wordpieces.inputs(sequences, width=width_of([len(s) for s in sequences]))


def train_batches(encoded: Encoded, y, batch_size: int, *, seed: int = 0, **batch_options):
    """Endless length-bucketed training batches (one sequence per document)."""
    if not encoded.one_per_document():
        raise ValueError("train on one sequence per document (strategy 'head' or 'head_tail'); "
                         "chunks are for prediction")
    y = np.asarray(y, dtype="float32")
    signature = ({name: training.Spec((None, None), "int32") for name in INPUTS},
                 training.Spec((None, y.shape[1]), "float32"))
    return training.batch_stream(lambda idx: (_batch(encoded, idx), y[idx]), encoded.lengths(), batch_size,
                                 signature, seed=seed, **batch_options)


def predict_logits(model: keras.Model, encoded: Encoded, batch_size: int = 64, *, pool: str = "max",
                   fn=None) -> np.ndarray:
    """Logits per document in input order; chunks of a document pooled by ``max``
    (a label present anywhere in the story) or ``mean``."""
    fn = fn or training.forward(model)
    out = batching.predict_in_order(lambda idx: np.asarray(fn(_batch(encoded, idx))).astype("float32"),
                                    encoded.lengths(), batch_size)
    if encoded.one_per_document():
        return out
    if pool not in ("max", "mean"):
        raise ValueError("pool must be 'max' or 'mean'")
    docs = np.full((encoded.n_docs, out.shape[1]), -np.inf if pool == "max" else 0.0, dtype="float32")
    if pool == "max":
        np.maximum.at(docs, encoded.doc, out)
    else:
        np.add.at(docs, encoded.doc, out)
        docs /= np.bincount(encoded.doc, minlength=encoded.n_docs)[:, None]
    return docs


def fit(model: keras.Model, train: Encoded, y_train, val: Encoded, y_val, *, epochs: int, batch_size: int = 32,
        patience: int = 2, seed: int = 0, verbose: int = 0, **options) -> keras.callbacks.History:
    """:func:`mlstc.models.training.fit` on bucketed word-piece batches. Compile
    first (:func:`compile`) with ``total_steps = epochs * ceil(len(train) / batch_size)``."""
    fn = training.forward(model)
    # the batches and validation scores are made by this module's code: in the fit cache's key with the data
    made_by = fitcache.code_key([__name__])
    with _unused_pooler_ignored():
        return training.fit(model, train_batches(train, y_train, batch_size, seed=seed),
                            training.steps(train.n_docs, batch_size), lambda m: predict_logits(m, val, fn=fn),
                            y_val, epochs=epochs, patience=patience, seed=seed, verbose=verbose,
                            data=[train, np.asarray(y_train, dtype="float32"), val, batch_size, made_by], **options)


def train_throughput(model: keras.Model, encoded: Encoded, y, *, batch_size: int, max_length: int,
                     padded: bool, steps: int = 20, warmup_steps: int = 3, seed: int = 0, max_tokens: int | None = None,
                     widths=None) -> dict[str, float]:
    """Training speed on the same random batches, padded to ``max_length`` or each
    to its own longest sequence (rounded up to one of ``widths`` when given); with
    ``max_tokens`` the batches hold that many tokens instead of ``batch_size``
    documents. Word pieces counted are real ones (not padding). The model's weights
    change: use a throwaway copy."""
    rng = np.random.default_rng(seed)
    lengths = encoded.lengths()
    index_batches = batching.batches(lengths, batch_size, shuffle=True, seed=seed, max_tokens=max_tokens)
    chosen = [index_batches[i] for i in rng.choice(len(index_batches), warmup_steps + steps, replace=False)]
    y = np.asarray(y, dtype="float32")
    if widths:  # one untimed step per width first: XLA compiles each shape once, before the clock starts
        first_of = {}
        for idx in index_batches:
            first_of.setdefault((batching.bucket_width(lengths[idx].max(), widths), len(idx)), idx)
        with _unused_pooler_ignored():
            for (width, _), idx in first_of.items():
                model.train_on_batch(wordpieces.inputs([encoded.ids[i] for i in idx], width=width), y[idx])
    docs = pieces = processed = 0
    for k, idx in enumerate(chosen):
        width = max_length if padded else batching.bucket_width(lengths[idx].max(), widths) if widths else None
        batch = wordpieces.inputs([encoded.ids[i] for i in idx], width=width)
        if k == warmup_steps:
            start = time.perf_counter()
        with _unused_pooler_ignored():
            model.train_on_batch(batch, y[idx])
        if k >= warmup_steps:
            docs += len(idx)
            pieces += int(batch["padding_mask"].sum())
            processed += batch["token_ids"].size
    seconds = time.perf_counter() - start
    return {"docs_per_s": docs / seconds, "word_pieces_per_s": pieces / seconds,
            "padding_share": 1 - pieces / processed, "seconds": seconds, "steps": steps}
