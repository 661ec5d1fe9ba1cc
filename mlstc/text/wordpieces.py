"""Word pieces: tokenizing once, cutting long texts, and a backbone's inputs
(introduced in chapter 03).

A BERT reads at most ``max_length`` word pieces, ``[CLS]`` and ``[SEP]`` included.
:func:`budget_cut` is the one place that decides which pieces a long text keeps:

- ``head``: the first pieces, what ``tokenizer(..., truncation=True)`` does;
- ``head_tail``: the first ``head_fraction`` of the budget and the last pieces
  (Sun et al. 2019);
- ``chunks``: consecutive windows, one sequence each (prediction only).

:func:`encode` applies it to word-piece ids, :func:`cut_texts` to the text itself (so
that even a tf-idf model can be trained on exactly what a BERT reads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlstc.text import batching

STRATEGIES = ("head", "head_tail", "chunks")
INPUTS = ("token_ids", "segment_ids", "padding_mask")


@dataclass
class Encoded:
    """Word-piece ids per sequence (special tokens included) and, for chunks, the
    document each sequence belongs to."""

    ids: list[list[int]]
    doc: np.ndarray  # sequence -> document index
    n_docs: int
    full_lengths: np.ndarray  # word pieces per document before truncation (no specials)

    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.ids])

    def one_per_document(self) -> bool:
        return len(self.ids) == self.n_docs


def budget_cut(n: int, budget: int, strategy: str, *, head_fraction: float = 0.25,
               stride: int | None = None) -> list[list[tuple[int, int]]]:
    """Which ``[start, end)`` spans of ``n`` pieces each sequence keeps, at most
    ``budget`` pieces per sequence: one sequence for ``head``/``head_tail``, one per
    window for ``chunks``."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown truncation strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if n <= budget or strategy == "head":
        return [[(0, min(n, budget))]]
    if strategy == "head_tail":
        head = max(1, int(round(budget * head_fraction)))
        return [[(0, head), (n - (budget - head), n)]]
    step = stride or budget
    return [[(s, min(s + budget, n))] for s in range(0, n - budget + step, step) if s < n]


def encode(texts, tokenizer, max_length: int = 128, strategy: str = "head", *, head_fraction: float = 0.25,
           stride: int | None = None) -> Encoded:
    """Tokenize once, then cut each text to ``max_length`` word pieces (specials
    included) by ``strategy`` (see :func:`budget_cut`)."""
    if max_length < 8:
        raise ValueError("max_length must be at least 8 word pieces")
    texts = [str(t) for t in texts]
    pieces = tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    ids, doc = [], []
    for i, p in enumerate(pieces):
        for spans in budget_cut(len(p), max_length - 2, strategy, head_fraction=head_fraction, stride=stride):
            ids.append([cls, *(t for a, b in spans for t in p[a:b]), sep])
            doc.append(i)
    return Encoded(ids, np.array(doc, dtype=np.int64), len(texts), np.array([len(p) for p in pieces]))


def cut_texts(texts, tokenizer, max_length: int, strategy: str = "head", *, head_fraction: float = 0.25) -> list[str]:
    """The texts as :func:`encode` would let a model see them, as text (cut at
    word-piece offsets)."""
    if strategy not in ("head", "head_tail"):
        raise ValueError("cut_texts supports 'head' and 'head_tail'")
    texts = [str(t) for t in texts]
    offsets = tokenizer(texts, add_special_tokens=False, truncation=False, return_offsets_mapping=True)["offset_mapping"]
    out = []
    for text, off in zip(texts, offsets):
        spans = budget_cut(len(off), max_length - 2, strategy, head_fraction=head_fraction)[0]
        out.append(text if len(off) <= max_length - 2 else
                   " ".join(text[off[a][0]:off[b - 1][1]] for a, b in spans))
    return out


def inputs(sequences, *, width: int | None = None, max_length: int | None = None) -> dict[str, np.ndarray]:
    """A backbone's inputs for one batch: padded to its longest sequence, or to a
    fixed ``width`` (the padding that bucketing replaces)."""
    ids, mask = batching.pad(sequences, max_length=max_length, width=width)
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask.astype("int32")}
