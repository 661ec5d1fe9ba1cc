"""Frozen contextual embeddings from a BERT checkpoint through KerasHub (chapter 01).

The backbone is :func:`mlstc.text.checkpoints.backbone` and the tokenizer
``transformers.AutoTokenizer`` from the same directory. Texts are encoded once
(:func:`mlstc.text.wordpieces.encode`), run in batches of similar length, so each
batch is padded only to its own longest text, and the token vectors are mean-pooled
over the padding mask: the pooling all-MiniLM-L6-v2 was trained with. Results are
cached by the hash of (checkpoint, max_length, texts).
"""

from __future__ import annotations

import io
import logging
from functools import cache
from pathlib import Path

import numpy as np

from mlstc.core import cache as caches
from mlstc.core import storage
from mlstc.text import batching, checkpoints, wordpieces

log = logging.getLogger(__name__)  # a cache hit is logged, not shown in a chapter's output
STORE = caches.Store("embeddings")  # <cache>/embeddings/, one .npy per (data set, checkpoint, length, texts)

_frozen = cache(checkpoints.backbone)  # one backbone per checkpoint per process


def mean_pool(sequence: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask[..., None].astype(sequence.dtype)
    return (sequence * mask).sum(1) / np.maximum(mask.sum(1), 1)


def cache_file(dataset: str, checkpoint: str, max_length: int, texts) -> Path:
    """``<cache>/embeddings/<dataset>__<checkpoint>__<max_length>__<hash>.npy``."""
    resolved = checkpoints.resolve(checkpoint)
    key = storage.content_key(resolved, max_length, texts=texts)
    name = storage.slug(Path(resolved).name or "checkpoint")
    return STORE.path(f"{storage.slug(dataset)}__{name}__{max_length}__{key}.npy")


def embed(
    texts,
    *,
    dataset: str,
    checkpoint: str = "",
    max_length: int = 256,
    batch_size: int = 64,
    normalize: bool = True,
    cache: bool = True,
    progress: bool = True,
) -> np.ndarray:
    """Mean-pooled (and L2-normalised) embeddings, shape ``(len(texts), hidden_dim)``."""
    texts = list(texts)
    path = cache_file(dataset, checkpoint, max_length, texts)
    if cache and STORE.get(path.name):  # MLSTC_CACHE=0: computed every time
        log.info("embeddings of %d %s texts read from the cache (%s)", len(texts), dataset, path.name)
        return np.load(path)
    model = _frozen(checkpoint)
    encoded = wordpieces.encode(texts, checkpoints.tokenizer(checkpoint), max_length)
    out = np.zeros((len(texts), model.hidden_dim), dtype=np.float32)
    index_batches = batching.batches(encoded.lengths(), batch_size)
    if progress:
        from tqdm.auto import tqdm

        index_batches = tqdm(index_batches, desc=f"embed {dataset}", unit="batch", mininterval=5)
    for idx in index_batches:
        inputs = wordpieces.inputs([encoded.ids[i] for i in idx])
        sequence = np.asarray(model(inputs, training=False)["sequence_output"])
        out[idx] = mean_pool(sequence, inputs["padding_mask"])
    if normalize:
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    if cache:
        buffer = io.BytesIO()
        np.save(buffer, out)
        STORE.put_bytes(path.name, buffer.getvalue())
    return out
