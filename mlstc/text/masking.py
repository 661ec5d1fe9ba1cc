"""Dynamic masking for masked-language-model pretraining (for chapter 07's
domain-adaptive pretraining).

BERT's rule (Devlin et al. 2019, section 3.1): choose ``rate`` (15%) of a sequence's
word pieces, never a special token (``[CLS]``, ``[SEP]``, padding); of the chosen, 80%
become ``[MASK]``, 10% a random word piece and 10% stay as they are; the model must
predict the original piece at every chosen position. *Dynamic* masking (Liu et al.
2019, RoBERTa) draws a new mask each time a sequence is seen: :func:`mask` takes the
random generator, so a seed reproduces the masks and a new draw gives new ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Masked:
    """One batch: ``token_ids`` with the masks applied, the chosen ``positions`` per
    sequence (padded to ``max_predictions``), the ``labels`` (original pieces) there,
    and ``weights`` (1 for a real prediction, 0 for padding)."""

    token_ids: np.ndarray
    positions: np.ndarray
    labels: np.ndarray
    weights: np.ndarray


def mask(token_ids, padding_mask, *, mask_id: int, vocab_size: int, special_ids=(), rate: float = 0.15,
         max_predictions: int = 20, rng: np.random.Generator) -> Masked:
    """Apply BERT's 80/10/10 masking to a batch of ``token_ids`` (``(n, width)``);
    positions where ``padding_mask`` is false or the id is in ``special_ids`` are never
    chosen. At least one position is chosen in any sequence that has a maskable piece,
    at most ``max_predictions``."""
    token_ids = np.asarray(token_ids)
    maskable = np.asarray(padding_mask, dtype=bool) & ~np.isin(token_ids, list(special_ids))
    n, width = token_ids.shape
    out = token_ids.copy()
    positions = np.zeros((n, max_predictions), dtype="int32")
    labels = np.zeros((n, max_predictions), dtype="int32")
    weights = np.zeros((n, max_predictions), dtype="float32")
    for i in range(n):
        candidates = np.flatnonzero(maskable[i])
        if not len(candidates):
            continue
        count = min(max_predictions, max(1, int(round(rate * len(candidates)))))
        chosen = np.sort(rng.choice(candidates, size=count, replace=False))
        draw = rng.random(count)
        replace_with_mask = draw < 0.8
        replace_with_random = (draw >= 0.8) & (draw < 0.9)
        out[i, chosen[replace_with_mask]] = mask_id
        out[i, chosen[replace_with_random]] = rng.integers(0, vocab_size, size=int(replace_with_random.sum()))
        positions[i, :count], labels[i, :count], weights[i, :count] = chosen, token_ids[i, chosen], 1.0
    return Masked(out, positions, labels, weights)
