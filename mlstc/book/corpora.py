"""Tables that describe the corpora before any model sees them (chapters 00 and
03): how long-tailed their labels are and how long their documents are against BERT's
word-piece caps."""

from __future__ import annotations

import numpy as np
import pandas as pd


def label_tails(corpora: dict) -> pd.DataFrame:
    """Per data set: its most frequent training label and that label's share of all
    label assignments, and how many labels have fewer than 10 and 3 training documents."""
    tails = {}
    for key, ds in corpora.items():
        counts = ds.label_counts("train")
        tails[key] = {"most frequent label": counts.index[0], "its share of assignments": counts.iloc[0] / counts.sum(),
                      "labels with < 10 training docs": int((counts < 10).sum()),
                      "labels with < 3": int((counts < 3).sum()), "labels": len(counts)}
    return pd.DataFrame(tails).T


def lengths(corpora: dict, tokenizer) -> pd.DataFrame:
    """One row per document: its data set, words (split on white space) and word
    pieces (``tokenizer``'s, [CLS] and [SEP] included)."""
    frames = []
    for key, ds in corpora.items():
        pieces = [len(ids) for ids in tokenizer(ds.texts, add_special_tokens=True)["input_ids"]]
        frames.append(pd.DataFrame({"dataset": key, "words": [len(t.split()) for t in ds.texts],
                                    "word pieces": pieces}))
    return pd.concat(frames, ignore_index=True)


def truncation(lengths: pd.DataFrame, caps) -> pd.DataFrame:
    """Per data set of :func:`lengths`: median and 95th percentile of word pieces,
    pieces per word, and at each cap the share of documents over it and of word
    pieces cut off."""
    rows = {}
    for key, group in lengths.groupby("dataset", sort=False):
        pieces = group["word pieces"].to_numpy()
        row = {"median pieces": np.median(pieces), "95th percentile": np.percentile(pieces, 95),
               "pieces per word": pieces.sum() / group["words"].sum()}
        rows[key] = row | cut_shares(pieces, caps)
    return pd.DataFrame(rows).T


def cut_shares(pieces, caps, reserved: int = 0) -> dict:
    """At each cap, the share of documents longer than it (``docs over <cap>``) and
    of all word pieces it cuts off (``pieces cut at <cap>``); ``reserved`` places of
    the cap go to [CLS] and [SEP] where ``pieces`` does not count them."""
    pieces = np.asarray(pieces)
    shares = {}
    for cap in caps:
        shares[f"docs over {cap}"] = (pieces > cap - reserved).mean()
        shares[f"pieces cut at {cap}"] = np.clip(pieces - (cap - reserved), 0, None).sum() / pieces.sum()
    return shares


def training_texts(corpora: dict) -> tuple[list[str], list[str]]:
    """Every distinct training text of ``corpora`` (a text in two corpora counted
    once, for the first) and the key of the corpus each came from."""
    texts, source_of = [], []
    for key, ds in corpora.items():
        seen = set(texts)
        new = [t for t in dict.fromkeys(ds.split("train").texts) if t not in seen]
        texts += new
        source_of += [key] * len(new)
    return texts, source_of


def window_counts(windows, source_of: list[str], keys) -> pd.DataFrame:
    """Per corpus of ``keys`` and in all: its training texts, the pretraining windows
    cut from them (``windows``: :func:`mlstc.models.pretraining.sequences` of the texts
    whose corpora ``source_of`` names) and their word pieces."""
    window_source = np.array(source_of)[windows.doc]
    counts = pd.DataFrame([{"corpus": key, "training texts": source_of.count(key),
                            "windows": int((window_source == key).sum()),
                            "word pieces": int(windows.lengths()[window_source == key].sum())}
                           for key in keys]).set_index("corpus")
    counts.loc["all"] = counts.sum()
    return counts


def mixed_sentiments(ds, shown: int = 8) -> dict:
    """For a data set labelled ``positive``/``negative``/``neutral`` per headline
    (SEntFiN): its headlines, the share with more than one sentiment, how many carry
    both positive and negative and how many of those no neutral entity, and a table
    of the first ``shown`` of those with their entities' sentiments."""
    column = {name: ds.y[:, j] for j, name in enumerate(ds.label_names)}
    card = ds.y.sum(1)
    pos_neg = column["positive"] & column["negative"]
    examples = np.flatnonzero(pos_neg)[:shown]
    return {"headlines": len(card), "multi": int((card > 1).sum()), "multi_share": float((card > 1).mean()),
            "pos_neg": int(pos_neg.sum()), "pos_neg_no_neutral": int((pos_neg & (column["neutral"] == 0)).sum()),
            "examples": pd.DataFrame({
                "headline": [ds.texts[i] for i in examples],
                "entity sentiments": ["; ".join(f"{e}: {s}" for e, s in ds.extras["entities"][i].items())
                                      for i in examples]})}
