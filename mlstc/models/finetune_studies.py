"""Chapter 03's measurements of a fine-tuned BERT classifier: how fast it trains
under each padding and precision setting (:func:`throughput`), and how it scores when
it reads texts cut in other ways than it was trained on (:func:`reading`).

Kept apart from :mod:`mlstc.models.finetune` on purpose: that module is part of the
code a fine-tune with a loss of :mod:`mlstc.models.losses` runs (its scores link), so
any change to it re-keys those fine-tunes in the fit cache.
"""

from __future__ import annotations

import time

from mlstc.evaluation import metrics, thresholds
from mlstc.models import bert, training
from mlstc.text import wordpieces


def reading(model: training.keras.Model, tokenizer, val, test, variants, batch_size: int = 64) -> list[dict]:
    """How a fine-tuned ``model`` scores on ``test`` when it reads each ``(cap,
    strategy)`` of ``variants`` (:func:`mlstc.text.wordpieces.encode`: ``head``,
    ``head_tail``, ``chunks``), one global threshold tuned on ``val`` read the same way:
    micro- and macro-F1, test documents per second and the sequences it read."""
    fn = training.forward(model)
    rows = []
    for cap, strategy in variants:
        enc_val, enc_test = (wordpieces.encode(s.texts, tokenizer, cap, strategy) for s in (val, test))
        p_val = thresholds.sigmoid(bert.predict_logits(model, enc_val, batch_size, fn=fn))
        started = time.perf_counter()
        p_test = thresholds.sigmoid(bert.predict_logits(model, enc_test, batch_size, fn=fn))
        seconds = time.perf_counter() - started
        scores = metrics.evaluate(test.y, thresholds.predict(p_test, thresholds.fit(val.y, p_val, "global")))
        rows.append({"word pieces": cap, "reading": strategy, "micro_f1": scores["micro_f1"],
                     "macro_f1": scores["macro_f1"], "test docs/s": len(test.texts) / seconds,
                     "sequences": len(enc_test.ids)})
    return rows


def throughput(checkpoint: str, dataset, tokenizer, *, max_length: int, truncation: str, learning_rate: float,
               batch_size: int, precision: str = "float32", steps: int = 20, seed: int = 0) -> dict[str, dict]:
    """Training speed of a throwaway copy of the classifier on ``dataset``'s training
    split (:func:`mlstc.models.bert.train_throughput`), per setting: float32 with every
    batch padded to ``max_length``, float32 with bucketed batches, and bucketed in
    ``precision`` (the fine-tune's arithmetic) where that is not float32."""
    train = dataset.split("train")
    encoded = wordpieces.encode(train.texts, tokenizer, max_length, truncation)
    variants = [(f"float32, padded to {max_length}", "float32", True), ("float32, bucketed", "float32", False)]
    if precision != "float32":
        variants.append((f"{precision}, bucketed", precision, False))
    speed = {}
    for setting, policy, padded in variants:
        with bert.dtype_policy(policy):
            throwaway = bert.compile(bert.classifier(checkpoint, dataset.num_labels), learning_rate=learning_rate,
                                     total_steps=1000)
        speed[setting] = bert.train_throughput(throwaway, encoded, train.y, batch_size=batch_size,
                                               max_length=max_length, padded=padded, steps=steps, seed=seed)
        del throwaway
    return speed
