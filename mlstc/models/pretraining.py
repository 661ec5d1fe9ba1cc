"""Domain-adaptive pretraining: continued masked-language-model training of a BERT
checkpoint on unlabelled in-domain text (for chapter 07).

Gururangan et al. (ACL 2020, "Don't Stop Pretraining") continue BERT's own objective
on the target domain's text before fine-tuning. Here:

- :func:`sequences` cuts every training text into windows of ``max_length`` word
  pieces (nothing is thrown away: a long story gives several windows);
- :func:`masked_batches` streams length-bucketed batches with a fresh 80/10/10 mask
  per batch (:mod:`mlstc.text.masking`, dynamic masking as in RoBERTa);
- :func:`masked_lm` puts KerasHub's ``BertMaskedLM`` (its masked-LM head tied to the
  backbone's token embeddings) on the checkpoint's ``BertBackbone``;
- :func:`pretrain` trains it with AdamW, warm-up and linear decay, for a number of
  steps or a time budget, and records the training and held-out MLM loss (the same
  pretraining again is restored by :mod:`mlstc.models.fitcache`, not rerun);
- :func:`save_checkpoint` writes the adapted backbone (KerasHub preset) with the
  checkpoint's tokenizer into one directory, which :mod:`mlstc.text.checkpoints`,
  :func:`mlstc.models.bert.classifier` and chapter 03's ``checkpoint`` parameter load
  like any other checkpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlstc.core import system
from mlstc.models import bert, training
from mlstc.text import batching, checkpoints, masking, wordpieces
from mlstc.text.wordpieces import Encoded

system.import_backend()
import keras  # noqa: E402

PROVENANCE_FILE = "mlstc_pretraining.json"


def sequences(texts, tokenizer, max_length: int = 128) -> Encoded:
    """Every text as windows of at most ``max_length`` word pieces (specials included)."""
    texts = [t for t in texts if str(t).strip()]
    if not texts:
        raise ValueError("no text to pretrain on: every text given is empty")
    return wordpieces.encode(texts, tokenizer, max_length, "chunks")


def special_ids(tokenizer) -> list[int]:
    return sorted(set(tokenizer.all_special_ids))


def _masked(encoded: Encoded, idx, tokenizer, rng, rate: float, max_predictions: int):
    x = bert._batch(encoded, idx)
    m = masking.mask(x["token_ids"], x["padding_mask"], mask_id=tokenizer.mask_token_id,
                     vocab_size=len(tokenizer), special_ids=special_ids(tokenizer), rate=rate,
                     max_predictions=max_predictions, rng=rng)
    return ({"token_ids": m.token_ids.astype("int32"), "segment_ids": x["segment_ids"],
             "padding_mask": x["padding_mask"], "mask_positions": m.positions}, m.labels, m.weights)


def masked_batches(encoded: Encoded, tokenizer, batch_size: int, *, rate: float = 0.15, max_predictions: int = 20,
                   seed: int = 0):
    """An endless stream of ``(inputs, labels, weights)`` for ``BertMaskedLM``:
    shuffled batches of similar length, each with a new mask (dynamic masking)."""
    rng = np.random.default_rng(seed)
    spec = {name: training.Spec((None, None), "int32") for name in (*wordpieces.INPUTS, "mask_positions")}
    signature = (spec, training.Spec((None, None), "int32"), training.Spec((None, None), "float32"))
    return training.batch_stream(lambda idx: _masked(encoded, idx, tokenizer, rng, rate, max_predictions),
                                 encoded.lengths(), batch_size, signature, seed=seed)


def fixed_masked(encoded: Encoded, tokenizer, *, batch_size: int = 64, rate: float = 0.15, max_predictions: int = 20,
                 seed: int = 0) -> list[tuple]:
    """Held-out batches masked once with a fixed seed, so that the MLM loss is
    measured on the same masks before, during and after pretraining."""
    rng = np.random.default_rng(seed)
    return [_masked(encoded, idx, tokenizer, rng, rate, max_predictions)
            for idx in batching.batches(encoded.lengths(), batch_size)]


def masked_lm(checkpoint: str = ""):
    """KerasHub's ``BertMaskedLM`` on the checkpoint's backbone (no preprocessor:
    inputs are word-piece ids, see :func:`masked_batches`). Its head's output
    projection is tied to the backbone's token embeddings."""
    import keras_hub

    return keras_hub.models.BertMaskedLM(backbone=checkpoints.backbone(checkpoint), preprocessor=None)


def mlm_loss(model, batches) -> float:
    """Mean cross-entropy per masked word piece over ``batches``."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    total = count = 0.0
    for x, labels, weights in batches:
        logits = model(x, training=False)
        total += float(loss(labels, logits, sample_weight=weights))
        count += float(weights.sum())
    return total / max(count, 1.0)


@dataclass
class Pretrained:
    """What :func:`pretrain` did: the model, the loss curve and its cost."""

    model: keras.Model
    steps: int  # steps run
    seconds: float
    sequences: int
    word_pieces: int
    curve: list[dict] = field(default_factory=list)  # {"step", "train_loss", "heldout_loss", "seconds"}
    planned: int = 0  # the learning-rate schedule's length (a budget may stop sooner)
    cached: bool = False  # restored by mlstc.models.fitcache (steps, seconds and curve are the stored run's)

    @property
    def backbone(self):
        return self.model.backbone


class _Budget(keras.callbacks.Callback):
    def __init__(self, started: float, budget_s: float | None, log):
        super().__init__()
        self.started, self.budget_s, self.log = started, budget_s, log

    def on_epoch_end(self, epoch, logs=None):
        self.log(logs or {})
        if self.budget_s is not None and time.perf_counter() - self.started >= self.budget_s:
            self.model.stop_training = True


def step_seconds(model, stream, loss, *, probe: int = 4) -> float:
    """Seconds per optimizer step of ``model`` on ``stream``, measured at learning
    rate 0 (no weight changes) after one untimed step that traces the graph."""
    model.compile(optimizer=keras.optimizers.AdamW(0.0, weight_decay=0.0), loss=loss)
    with bert._unused_pooler_ignored():
        model.fit(stream, steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)
        started = time.perf_counter()
        model.fit(stream, steps_per_epoch=probe, epochs=1, verbose=0, shuffle=False)
    return (time.perf_counter() - started) / probe


def pretrain(checkpoint: str, texts, *, max_length: int = 128, batch_size: int = 32, learning_rate: float = 5e-5,
             steps: int | None = None, budget_s: float | None = None, log_every: int = 50,
             heldout_fraction: float = 0.02, rate: float = 0.15, max_predictions: int = 20,
             warmup_fraction: float = 0.06, seed: int = 0, verbose: int = 0) -> Pretrained:
    """Continue masked-LM training of ``checkpoint`` on ``texts`` (training text only:
    the caller keeps validation and test text out; strings, or the windows
    :func:`sequences` already cut from them) for ``steps`` optimizer steps, or
    until ``budget_s`` seconds have passed, whichever comes first. Without ``steps``,
    the number of steps that fit ``budget_s`` is measured first (a few steps at
    learning rate 0, which change no weight), so that the warm-up and linear decay
    of the learning rate end when the budget does. ``heldout_fraction`` of the
    windows are kept out of training to measure the MLM loss every ``log_every``
    steps."""
    if steps is None and budget_s is None:
        raise ValueError("give the number of steps, a time budget (budget_s), or both")
    keras.utils.set_random_seed(seed)
    tokenizer, encoded = _windows(checkpoint, texts, max_length)
    train, heldout = _held_out(encoded, heldout_fraction, seed)
    masking = dict(rate=rate, max_predictions=max_predictions)
    schedule = _Schedule(masked_lm(checkpoint), tokenizer, train, heldout, masking, batch_size=batch_size,
                         learning_rate=learning_rate, steps=steps, budget_s=budget_s, log_every=log_every,
                         warmup_fraction=warmup_fraction, seed=seed, verbose=verbose)
    settings = {"loop": "pretraining.pretrain", "max_length": max_length, "batch_size": batch_size,
                "learning_rate": learning_rate, "steps": steps, "budget_s": budget_s, "log_every": log_every,
                "rate": rate, "max_predictions": max_predictions, "warmup_fraction": warmup_fraction, "seed": seed}
    with bert._unused_pooler_ignored():  # the [CLS] pooler gets no gradient from the masked-LM loss
        trained = training.run(schedule.model, schedule.plan, schedule.record,
                               cache=([train, heldout], settings, [__name__]))
    kept = trained.record
    pieces = int(sum(len(s) for s in train.ids))
    return Pretrained(schedule.model, kept["steps"], kept["seconds"], len(train.ids), pieces, kept["curve"],
                      planned=kept["planned"], cached=trained.cached)


def _windows(checkpoint: str, texts, max_length: int):
    """The checkpoint's tokenizer and the word-piece windows of ``texts`` (cut here
    from strings, or checked when :func:`sequences` already cut them)."""
    tokenizer = checkpoints.tokenizer(checkpoint)
    if tokenizer.mask_token_id is None:
        raise ValueError(f"checkpoint {checkpoint or checkpoints.DEFAULT!r} has no [MASK] token; "
                         "masked-LM pretraining needs a BERT-style tokenizer")
    encoded = texts if isinstance(texts, Encoded) else sequences(texts, tokenizer, max_length)
    if max(encoded.lengths(), default=0) > max_length:
        raise ValueError(f"windows of up to {max(encoded.lengths())} word pieces given with max_length={max_length}; "
                         "cut them with pretraining.sequences(texts, tokenizer, max_length)")
    return tokenizer, encoded


def _held_out(encoded: Encoded, fraction: float, seed: int) -> tuple[Encoded, Encoded]:
    """The windows to train on and the ``fraction`` (at most 512) held out to measure
    the masked-LM loss, drawn with ``seed``."""
    order = np.random.default_rng(seed).permutation(len(encoded.ids))
    n_heldout = min(max(1, int(round(fraction * len(order)))), 512) if len(order) > 1 else 0

    def pick(idx):
        return Encoded([encoded.ids[i] for i in idx], np.arange(len(idx)), len(idx), encoded.full_lengths[:0])

    return pick(order[n_heldout:]), pick(order[:n_heldout])


class _Schedule:
    """One pretraining's plan (steps, learning-rate schedule, the fit's arguments),
    its held-out curve and its record, for :func:`mlstc.models.training.run`."""

    def __init__(self, model, tokenizer, train: Encoded, heldout: Encoded, masking: dict, *, batch_size: int,
                 learning_rate: float, steps: int | None, budget_s: float | None, log_every: int,
                 warmup_fraction: float, seed: int, verbose: int):
        self.model, self.tokenizer, self.train, self.masking = model, tokenizer, train, masking
        self.batch_size, self.learning_rate, self.warmup_fraction = batch_size, learning_rate, warmup_fraction
        self.steps, self.budget_s, self.log_every, self.seed, self.verbose = steps, budget_s, log_every, seed, verbose
        self.n_heldout = len(heldout.ids)
        self.heldout_batches = fixed_masked(heldout, tokenizer, **masking, seed=seed + 1)
        self.planned, self.curve, self.started = 0, [], 0.0

    def heldout_loss(self) -> float:
        return mlm_loss(self.model, self.heldout_batches) if self.n_heldout else float("nan")

    def plan(self) -> dict:
        """Compile for the planned steps and return the fit's arguments."""
        stream = masked_batches(self.train, self.tokenizer, self.batch_size, **self.masking, seed=self.seed)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.started = time.perf_counter()
        before = self.heldout_loss()
        self.planned = self.steps if self.steps is not None else self._steps_in_budget(stream, loss)
        bert.compile(self.model, learning_rate=self.learning_rate, total_steps=self.planned,
                     warmup_fraction=self.warmup_fraction, loss=loss)
        self.curve = [{"step": 0, "train_loss": float("nan"), "heldout_loss": before, "seconds": 0.0}]
        return {"x": stream, "steps_per_epoch": self.log_every,
                "epochs": max(1, int(np.ceil(self.planned / self.log_every))),
                "callbacks": [_Budget(self.started, self.budget_s, self.log)]}

    def _steps_in_budget(self, stream, loss) -> int:
        """The steps that fit the budget, held-out measurements every ``log_every``
        steps included; shortens ``log_every`` where the budget is shorter."""
        timed = time.perf_counter()  # a second pass: the first one also traced the model
        if self.n_heldout:
            mlm_loss(self.model, self.heldout_batches)
        eval_s = time.perf_counter() - timed
        per_step = step_seconds(self.model, stream, loss) + eval_s / self.log_every
        left = self.budget_s - (time.perf_counter() - self.started)
        fit = max(1, int(left / per_step))
        self.log_every = min(self.log_every, fit)  # a budget shorter than log_every steps still logs its end
        return fit // self.log_every * self.log_every

    def log(self, logs: dict) -> None:
        point = {"step": self.curve[-1]["step"] + self.log_every, "train_loss": float(logs.get("loss", np.nan)),
                 "heldout_loss": self.heldout_loss(), "seconds": time.perf_counter() - self.started}
        self.curve.append(point)
        if self.verbose:
            print(f"step {point['step']}: train {point['train_loss']:.3f}, held-out {point['heldout_loss']:.3f} "
                  f"({point['seconds']:.0f} s)", flush=True)

    def record(self, *_) -> dict:  # timed from before the planning, which the budget also spends
        done, seconds = self.curve[-1]["step"], time.perf_counter() - self.started
        print(f"masked-LM pretraining: {done} of {self.planned} steps in {seconds:.0f} s", flush=True)
        return {"steps": done, "planned": self.planned, "seconds": seconds, "curve": self.curve}


def save_checkpoint(pretrained: Pretrained | keras.Model, tokenizer, directory, **provenance) -> Path:
    """Write the adapted backbone (KerasHub preset: ``config.json``,
    ``model.weights.h5``, ``metadata.json``) and ``tokenizer`` to ``directory``; the
    directory is then a checkpoint like any other (pass it as ``checkpoint``)."""
    directory = Path(directory)
    backbone = pretrained.backbone if isinstance(pretrained, Pretrained) else pretrained.backbone
    if directory.exists() and any(directory.iterdir()):
        if not (directory / PROVENANCE_FILE).is_file():
            raise FileExistsError(f"{directory} exists and is not an adapted checkpoint written by mlstc; "
                                  "choose an empty or new directory")
    directory.mkdir(parents=True, exist_ok=True)
    backbone.save_to_preset(str(directory))
    tokenizer.save_pretrained(str(directory))
    if isinstance(pretrained, Pretrained):
        provenance |= {"steps": pretrained.steps, "planned_steps": pretrained.planned, "seconds": pretrained.seconds, "sequences": pretrained.sequences,
                       "word_pieces": pretrained.word_pieces, "curve": pretrained.curve}
    (directory / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=1, default=str) + "\n")
    return directory
