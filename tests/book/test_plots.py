"""The book's plotting helpers on small and odd inputs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from mlstc.book import plots  # noqa: E402


def test_f1_vs_frequency_labels_the_most_frequent_even_with_three_labels():
    # SEntFiN has three labels; the helper once indexed the fifth-largest count
    ax = plots.f1_vs_frequency([0.9, 0.5, 0.0], [120, 40, 7], ["positive", "neutral", "negative"])
    assert {t.get_text() for t in ax.texts} == {"positive", "neutral", "negative"}
    plt.close(ax.figure)
