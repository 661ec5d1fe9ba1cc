"""The tables that describe the corpora (chapters 00, 03 and 07)."""

import numpy as np
import pandas as pd

from mlstc.book import corpora


def test_cut_shares_count_documents_over_the_cap_and_the_pieces_it_cuts():
    shares = corpora.cut_shares([10, 100, 300], [128])
    assert shares["docs over 128"] == 1 / 3
    assert shares["pieces cut at 128"] == (300 - 128) / 410
    reserved = corpora.cut_shares([126, 127], [128], reserved=2)  # [CLS] and [SEP] take two places
    assert reserved["docs over 128"] == 0.5 and reserved["pieces cut at 128"] == 1 / 253


def test_truncation_gives_one_row_per_data_set():
    lengths = pd.DataFrame({"dataset": ["a", "a", "b"], "words": [10, 20, 5], "word pieces": [12, 600, 6]})
    table = corpora.truncation(lengths, [512])
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "docs over 512"] == 0.5 and table.loc["b", "docs over 512"] == 0
    assert table.loc["a", "pieces per word"] == 612 / 30


class _Split:
    def __init__(self, texts):
        self.texts = texts


class _Corpus:
    def __init__(self, texts):
        self._texts = texts

    def split(self, name):
        return _Split(self._texts)


def test_training_texts_keep_each_text_once_for_the_first_corpus_that_has_it():
    texts, source = corpora.training_texts({"a": _Corpus(["x", "y", "x"]), "b": _Corpus(["y", "z"])})
    assert texts == ["x", "y", "z"] and source == ["a", "a", "b"]


def test_window_counts_sum_per_corpus_and_in_all():
    class Windows:
        doc = np.array([0, 0, 1, 2])

        def lengths(self):
            return np.array([128, 20, 50, 7])

    counts = corpora.window_counts(Windows(), ["a", "a", "b"], ["a", "b", "c"])
    assert counts.loc["a"].tolist() == [2, 3, 198] and counts.loc["c"].tolist() == [0, 0, 0]
    assert counts.loc["all"].tolist() == [3, 4, 205]
