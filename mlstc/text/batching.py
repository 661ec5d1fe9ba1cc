"""Length-bucketed batches: pad each batch only to its own longest text (chapter 02).

Padding every text to a fixed cap wastes most of a CPU's time on padding when lengths
vary as much as Reuters' do. :func:`batches` groups indices of similar length into
batches ("sortish": sorted within large random chunks, so training batches still vary
from epoch to epoch); :func:`pad` pads one batch; :func:`predict_in_order` runs a
model over length-sorted batches and puts the outputs back in the input order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def _cut(part: np.ndarray, lengths: np.ndarray, batch_size: int, max_tokens: int | None) -> list[np.ndarray]:
    """Length-sorted indices cut into batches of ``batch_size``, or, with
    ``max_tokens``, of as many documents as fit ``width x documents <= max_tokens``."""
    if not max_tokens:
        return [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    out, start = [], 0
    for end in range(1, len(part) + 1):
        width = lengths[part[end - 1]]  # sorted: the last is the longest
        if end - start > 1 and (width * (end - start) > max_tokens):
            out.append(part[start:end - 1])
            start = end - 1
    out.append(part[start:])
    return out


def batches(lengths: Sequence[int], batch_size: int, *, shuffle: bool = False, seed: int = 0,
            chunk_batches: int = 50, max_tokens: int | None = None) -> list[np.ndarray]:
    """Index batches of similar length covering every index exactly once.

    Without ``shuffle`` the batches are in ascending length. With it, indices are
    permuted, cut into chunks of ``chunk_batches * batch_size``, sorted by length
    within each chunk, and the batches are shuffled. With ``max_tokens`` a batch
    holds as many documents as fit that many (padded) tokens, so short documents
    come in large batches and long ones in small ones.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    lengths = np.asarray(lengths)
    rng = np.random.default_rng(seed)
    if not shuffle:
        return _cut(np.argsort(lengths, kind="stable"), lengths, batch_size, max_tokens)
    order = rng.permutation(len(lengths))
    chunk = batch_size * chunk_batches
    out = []
    for start in range(0, len(order), chunk):
        part = order[start:start + chunk]
        out += _cut(part[np.argsort(lengths[part], kind="stable")], lengths, batch_size, max_tokens)
    return [out[i] for i in rng.permutation(len(out))]


def bucket_width(longest: int, widths: Sequence[int]) -> int:
    """The smallest of ``widths`` that holds ``longest`` tokens (the largest if none
    does): padding to a few fixed widths keeps the number of distinct batch shapes,
    and so of compilations (XLA on a GPU), small."""
    widths = sorted(widths)
    return next((w for w in widths if w >= longest), widths[-1])


def pad(sequences: Sequence[Sequence[int]], pad_id: int = 0, max_length: int | None = None,
        dtype="int32", width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, mask)`` padded on the right to the longest sequence (cut at
    ``max_length``), or to exactly ``width`` (longer sequences cut)."""
    if width is None:
        longest = max((len(s) for s in sequences), default=0)
        width = min(longest, max_length) if max_length else longest
    ids = np.full((len(sequences), max(width, 1)), pad_id, dtype=dtype)
    mask = np.zeros_like(ids, dtype=bool)
    for row, seq in enumerate(sequences):
        seq = list(seq)[:width]
        ids[row, :len(seq)] = seq
        mask[row, :len(seq)] = True
    return ids, mask


def padded_fraction(lengths: Sequence[int], index_batches: Sequence[np.ndarray], cap: int | None = None) -> float:
    """Share of the tokens a model processes that are padding, for these batches
    (``cap``: every batch padded to this fixed length instead)."""
    lengths = np.asarray(lengths)
    real = padded = 0
    for idx in index_batches:
        width = cap if cap else lengths[idx].max()
        real += np.minimum(lengths[idx], width).sum()
        padded += width * len(idx)
    return float(1 - real / padded) if padded else 0.0


def predict_in_order(predict: Callable[[np.ndarray], np.ndarray], lengths: Sequence[int],
                     batch_size: int) -> np.ndarray:
    """Call ``predict(index_batch)`` on length-sorted batches and return the stacked
    outputs in the original order of the indices."""
    index_batches = batches(lengths, batch_size)
    outputs = [np.asarray(predict(idx)) for idx in index_batches]
    order = np.concatenate(index_batches)
    result = np.empty((len(order), *outputs[0].shape[1:]), dtype=outputs[0].dtype)
    result[order] = np.concatenate(outputs)
    return result
