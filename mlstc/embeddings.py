"""Frozen contextual embeddings from a BERT checkpoint through KerasHub (chapter 01).

The backbone is ``keras_hub.models.BertBackbone.from_preset(<checkpoint dir>)`` and
the tokenizer ``transformers.AutoTokenizer`` from the same directory (see
:mod:`mlstc.checkpoints`). Texts are encoded in batches sorted by length, so each
batch is padded only to its own longest text, and the token vectors are mean-pooled
over the padding mask: the pooling all-MiniLM-L6-v2 was trained with. Results are
cached per (dataset, checkpoint, max_length, texts).
"""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path

import numpy as np

from mlstc import checkpoints, env, paths, results


@cache
def backbone(checkpoint: str = ""):
    """The KerasHub BertBackbone of a checkpoint directory (weights from safetensors)."""
    env.import_tensorflow()
    import keras_hub

    return keras_hub.models.BertBackbone.from_preset(checkpoints.resolve(checkpoint))


def encode(texts, checkpoint: str = "", max_length: int = 256):
    """Token ids, segment ids and padding mask as NumPy arrays, padded to the batch."""
    tok = checkpoints.tokenizer(checkpoint)
    enc = tok(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="np")
    segments = enc.get("token_type_ids", np.zeros_like(enc["input_ids"]))
    return {"token_ids": enc["input_ids"], "segment_ids": segments, "padding_mask": enc["attention_mask"]}


def mean_pool(sequence: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask[..., None].astype(sequence.dtype)
    return (sequence * mask).sum(1) / np.maximum(mask.sum(1), 1)


def _cache_file(dataset: str, checkpoint: str, max_length: int, texts) -> Path:
    digest = hashlib.sha1()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    name = Path(checkpoints.resolve(checkpoint)).name or "checkpoint"
    return paths.cache_dir() / "embeddings" / f"{dataset}__{name}__{max_length}__{digest.hexdigest()[:16]}.npy"


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
    path = _cache_file(dataset, checkpoint, max_length, texts)
    if cache and path.is_file():
        return np.load(path)
    model = backbone(checkpoint)
    tok = checkpoints.tokenizer(checkpoint)
    lengths = [len(ids) for ids in tok(texts, truncation=True, max_length=max_length)["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    out = np.zeros((len(texts), model.hidden_dim), dtype=np.float32)
    batches = range(0, len(texts), batch_size)
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc=f"embed {dataset}", unit="batch", mininterval=5)
    for start in batches:
        idx = order[start:start + batch_size]
        inputs = encode([texts[i] for i in idx], checkpoint, max_length)
        sequence = np.asarray(model(inputs, training=False)["sequence_output"])
        out[idx] = mean_pool(sequence, inputs["padding_mask"])
    if normalize:
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    if cache:
        buffer = io.BytesIO()
        np.save(buffer, out)
        results.atomic_write_bytes(path, buffer.getvalue())
    return out
