"""Fine-tuning a BERT checkpoint for multi-label classification (chapter 03).

The backbone is KerasHub's ``BertBackbone`` loaded from a Hugging Face checkpoint
directory and the tokenizer ``transformers.AutoTokenizer`` from the same directory
(:mod:`mlstc.checkpoints`). On top sit mask-aware mean pooling, dropout and one
``Dense`` layer of *logits*, trained with ``BinaryCrossentropy(from_logits=True)``
and AdamW with a linear warm-up and linear decay. KerasHub's own
``BertTextClassifier`` is not used: its ``compile()`` defaults to a sparse
categorical loss and accuracy, which are wrong for multi-label targets.

Long documents are cut to ``max_length`` word pieces in one of three ways
(:func:`encode`): the head (BERT's default), head + tail (Sun et al. 2019), or
chunks whose logits are pooled per document (:func:`predict_logits`).
Batches are bucketed by length (:mod:`mlstc.batching`), so each is padded only to
its own longest text; :func:`train_throughput` measures what that saves.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlstc import batching, checkpoints, env
from mlstc.callbacks import MicroF1

env.import_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

STRATEGIES = ("head", "head_tail", "chunks")
INPUTS = ("token_ids", "segment_ids", "padding_mask")


# --- tokenization ----------------------------------------------------------------

@dataclass
class Encoded:
    """Word-piece ids per document (special tokens included) and, for chunks, the
    document each sequence belongs to."""

    ids: list[list[int]]
    doc: np.ndarray  # sequence -> document index
    n_docs: int
    full_lengths: np.ndarray  # word pieces per document before truncation (no specials)

    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.ids])


def encode(texts, tokenizer, max_length: int = 128, strategy: str = "head", *, head_fraction: float = 0.25,
           stride: int | None = None) -> Encoded:
    """Tokenize once, then cut each text to ``max_length`` word pieces
    (``[CLS]`` and ``[SEP]`` included).

    - ``head``: the first pieces, what ``tokenizer(..., truncation=True)`` does;
    - ``head_tail``: the first ``head_fraction`` of the budget and the last pieces;
    - ``chunks``: consecutive windows (overlapping by ``max_length - 2 - stride``
      pieces when ``stride`` is given), one sequence each.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown truncation strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if max_length < 8:
        raise ValueError("max_length must be at least 8 word pieces")
    texts = [str(t) for t in texts]
    pieces = tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    budget = max_length - 2
    head = max(1, int(round(budget * head_fraction)))
    step = stride or budget
    ids, doc = [], []
    for i, p in enumerate(pieces):
        if strategy == "head" or len(p) <= budget:
            windows = [p[:budget]]
        elif strategy == "head_tail":
            windows = [p[:head] + p[len(p) - (budget - head):]]
        else:
            windows = [p[s:s + budget] for s in range(0, max(len(p) - budget, 0) + step, step)]
            windows = [w for w in windows if w] or [p[:budget]]
        for w in windows:
            ids.append([cls, *w, sep])
            doc.append(i)
    return Encoded(ids, np.array(doc, dtype=np.int64), len(texts), np.array([len(p) for p in pieces]))


def inputs(sequences, max_length: int | None = None, pad_to: int | None = None) -> dict[str, np.ndarray]:
    """The backbone's inputs for a batch: padded to its longest sequence, or to
    ``pad_to`` (the fixed-length padding that bucketing replaces)."""
    if pad_to:
        ids = np.zeros((len(sequences), pad_to), dtype="int32")
        mask = np.zeros_like(ids, dtype=bool)
        for row, seq in enumerate(sequences):
            seq = seq[:pad_to]
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = True
    else:
        ids, mask = batching.pad(sequences, max_length=max_length)
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask.astype("int32")}


# --- model -----------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="mlstc")
class MaskedMeanPooling(keras.layers.Layer):
    """Mean of the token vectors over the padding mask: ``(b, t, d), (b, t) -> (b, d)``
    (the pooling all-MiniLM-L6-v2 was trained with)."""

    def call(self, sequence, padding_mask):
        mask = ops.cast(ops.expand_dims(padding_mask, -1), sequence.dtype)
        return ops.sum(sequence * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), ops.cast(1.0, sequence.dtype))


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


def use_mixed_precision() -> bool:
    """``mixed_float16`` when TensorFlow sees a GPU (faster there), float32 on CPU
    (where float16 is slower). Returns whether it was switched on."""
    on = bool(env.gpus())
    keras.mixed_precision.set_global_policy("mixed_float16" if on else "float32")
    return on


def backbone(checkpoint: str = ""):
    """A fresh KerasHub ``BertBackbone`` with the checkpoint's weights."""
    import keras_hub

    return keras_hub.models.BertBackbone.from_preset(checkpoints.resolve(checkpoint))


def classifier(checkpoint: str, num_labels: int, *, dropout: float = 0.1, prior=None) -> keras.Model:
    """Backbone -> masked mean pooling -> dropout -> ``num_labels`` logits (float32).

    ``prior`` (label frequencies in training) initialises the output biases to their
    log-odds, so training starts from the prior instead of from 0.5 for every label.
    """
    bert = backbone(checkpoint)
    x = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUTS}
    pooled = MaskedMeanPooling(name="pool")(bert(x)["sequence_output"], x["padding_mask"])
    pooled = keras.layers.Dropout(dropout, name="dropout")(pooled)
    head = keras.layers.Dense(num_labels, dtype="float32", name="logits")
    logits = head(pooled)
    if prior is not None:
        p = np.clip(np.asarray(prior, dtype="float64"), 1e-4, 1 - 1e-4)
        head.bias.assign(np.log(p / (1 - p)).astype("float32"))
    return keras.Model(x, logits, name="bert_multilabel")


def compile(model: keras.Model, *, learning_rate: float, total_steps: int, warmup_fraction: float = 0.1,
            weight_decay: float = 0.01) -> keras.Model:
    """AdamW (no decay on biases and LayerNorm) with warm-up and linear decay, and
    binary cross-entropy on logits. Explicit, because KerasHub's classifiers default
    to a sparse categorical loss."""
    schedule = WarmupLinearDecay(learning_rate, total_steps, int(total_steps * warmup_fraction))
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=weight_decay, clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    model.compile(optimizer=optimizer, loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


# --- training and prediction -----------------------------------------------------

@contextlib.contextmanager
def _unused_pooler_ignored():
    """The backbone's [CLS] pooler is not used (the head mean-pools), so it gets no
    gradient; Keras warns about that on every fit."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Gradients do not exist for variables \['pooled_dense")
        yield


def train_batches(encoded: Encoded, y, batch_size: int, *, seed: int = 0) -> tf.data.Dataset:
    """Endless bucketed training batches, reshuffled each epoch (``seed`` + epoch).
    Needs one sequence per document (``head`` or ``head_tail``)."""
    if len(encoded.ids) != encoded.n_docs:
        raise ValueError("train on one sequence per document (strategy 'head' or 'head_tail'); "
                         "chunks are for prediction")
    y = np.asarray(y, dtype="float32")
    lengths = encoded.lengths()

    def generate():
        epoch = 0
        while True:
            for idx in batching.batches(lengths, batch_size, shuffle=True, seed=seed + epoch):
                yield inputs([encoded.ids[i] for i in idx]), y[idx]
            epoch += 1

    spec = {name: tf.TensorSpec((None, None), tf.int32) for name in INPUTS}
    signature = (spec, tf.TensorSpec((None, y.shape[1]), tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)


def forward(model: keras.Model):
    """A compiled inference function that accepts batches of any length."""
    return tf.function(lambda x: model(x, training=False), reduce_retracing=True)


def predict_logits(model: keras.Model, encoded: Encoded, batch_size: int = 64, *, pool: str = "max",
                   fn=None) -> np.ndarray:
    """Logits per document in input order; chunks of a document pooled by ``max``
    (a label present anywhere in the story) or ``mean``."""
    fn = fn or forward(model)
    out = batching.predict_in_order(
        lambda idx: np.asarray(fn(inputs([encoded.ids[i] for i in idx]))).astype("float32"),
        encoded.lengths(), batch_size)
    if len(out) == encoded.n_docs:
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


def sigmoid(logits) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(logits, dtype=np.float64)))


def fit(model: keras.Model, train: Encoded, y_train, val: Encoded, y_val, *, epochs: int, batch_size: int = 32,
        patience: int = 2, seed: int = 0, verbose: int = 2, callbacks=()) -> keras.callbacks.History:
    """Train on bucketed batches with early stopping on validation micro-F1 (best
    weights restored). Compile first (:func:`compile`) with ``total_steps`` equal to
    ``epochs * ceil(len(train) / batch_size)``."""
    keras.utils.set_random_seed(seed)
    fn = forward(model)
    f1 = MicroF1(None, y_val, predict=lambda m: predict_logits(m, val, fn=fn), verbose=False)
    stop = keras.callbacks.EarlyStopping(monitor="val_micro_f1", mode="max", patience=patience,
                                         restore_best_weights=True, verbose=0)
    steps = int(np.ceil(train.n_docs / batch_size))
    with _unused_pooler_ignored():
        return model.fit(train_batches(train, y_train, batch_size, seed=seed), steps_per_epoch=steps, epochs=epochs,
                         verbose=verbose, shuffle=False, callbacks=[f1, stop, *callbacks])


def train_throughput(model: keras.Model, encoded: Encoded, y, *, batch_size: int, max_length: int,
                     padded: bool, steps: int = 20, warmup_steps: int = 3, seed: int = 0) -> dict[str, float]:
    """Training speed on the same random batches, padded to ``max_length`` or each
    to its own longest sequence. Word pieces counted are real ones (not padding).
    The model's weights change: use a throwaway copy."""
    rng = np.random.default_rng(seed)
    lengths = encoded.lengths()
    index_batches = batching.batches(lengths, batch_size, shuffle=True, seed=seed)
    chosen = [index_batches[i] for i in rng.choice(len(index_batches), warmup_steps + steps, replace=False)]
    y = np.asarray(y, dtype="float32")
    docs = pieces = processed = 0
    for k, idx in enumerate(chosen):
        batch = inputs([encoded.ids[i] for i in idx], pad_to=max_length if padded else None)
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


# --- saving ----------------------------------------------------------------------

TOKENIZER_DIR = "tokenizer"


def save(model_dir, model: keras.Model, label_names, thresholds, tokenizer, *, max_length: int, strategy: str,
         **info) -> Path:
    """:func:`mlstc.models.save` plus the tokenizer and how texts were cut, so that
    :class:`mlstc.models.Predictor` encodes new texts exactly as in training."""
    from mlstc import models

    model_dir = Path(model_dir)
    if (model_dir / TOKENIZER_DIR).exists():
        shutil.rmtree(model_dir / TOKENIZER_DIR)
    tokenizer.save_pretrained(model_dir / TOKENIZER_DIR)
    # architecture and weights only: the AdamW state of a compiled model would triple the file
    inference = keras.Model(model.inputs, model.outputs, name=model.name)  # same layers, not compiled
    return models.save(model_dir, inference, label_names, thresholds,
                       encoding={"max_length": max_length, "strategy": strategy}, **info)


def load_encoding(model_dir) -> dict | None:
    """The saved ``encoding`` of a BERT model directory (``None`` for raw-text models)."""
    meta = json.loads((Path(model_dir) / "labels.json").read_text())
    return meta.get("info", {}).get("encoding")


def cut_texts(texts, tokenizer, max_length: int, strategy: str = "head", *, head_fraction: float = 0.25) -> list[str]:
    """The texts as ``encode(..., strategy)`` would let a model see them, as text (cut
    at word-piece offsets), so that any model, even tf-idf, can be trained on exactly
    what a ``max_length`` BERT reads."""
    if strategy not in ("head", "head_tail"):
        raise ValueError("cut_texts supports 'head' and 'head_tail'")
    budget = max_length - 2
    head = max(1, int(round(budget * head_fraction)))
    texts = [str(t) for t in texts]
    offsets = tokenizer(texts, add_special_tokens=False, truncation=False, return_offsets_mapping=True)["offset_mapping"]
    out = []
    for text, off in zip(texts, offsets):
        if len(off) <= budget:
            out.append(text)
        elif strategy == "head":
            out.append(text[: off[budget - 1][1]])
        else:
            out.append(text[: off[head - 1][1]] + " " + text[off[len(off) - (budget - head)][0]:])
    return out
