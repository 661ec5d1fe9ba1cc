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


def test_f1_vs_frequency_lists_missed_labels_instead_of_overprinting_them():
    f1 = [0.9, 0.8, 0.7, 0.6, 0.5] + [0.0] * 6
    counts = [900, 800, 700, 600, 500] + [6, 6, 7, 7, 8, 9]
    names = [f"big{i}" for i in range(5)] + [f"rare{i}" for i in range(6)]
    ax = plots.f1_vs_frequency(f1, counts, names)
    texts = [t.get_text() for t in ax.texts]
    assert sorted(t for t in texts if t.startswith("big")) == names[:5]
    assert [t for t in texts if "rare" in t] == ["F1 0 with at least 5 training documents: "
                                                 + ", ".join(names[5:])]
    plt.close(ax.figure)


def test_training_curves_put_f1_and_loss_on_their_own_axes_and_mark_the_kept_epoch():
    history = {"loss": [0.3, 0.1, 0.05], "val_micro_f1": [0.6, 0.8, 0.7]}
    fig = plots.training_curves({"reuters": history, "sentfin": history})
    axes = fig.axes
    assert len(axes) == 4 and axes[0].get_ylabel() == "validation micro-F1" and axes[2].get_ylabel() == "training loss"
    kept = [line for line in axes[0].lines if line.get_label() == "kept epoch"]
    assert kept and kept[0].get_xdata()[0] == 2
    plt.close(fig)


def test_label_tail_uses_a_log_scale_only_for_a_long_tail():
    assert plots.label_tail([3000, 2900, 2300]).get_yscale() == "linear"
    assert plots.label_tail([3000 // (i + 1) ** 2 for i in range(40)]).get_yscale() == "log"
    plt.close("all")
