"""One plotting style and one way to save figures (introduced in chapter 00).

Figures are saved through :meth:`mlstc.book.setup.Run.figure`, which writes them
with :func:`save` into the run's staging folder like every other result.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt


def style() -> None:
    """The book's figure style: readable on screen and in the rendered HTML."""
    mpl.rcParams.update({
        "figure.figsize": (8, 4.5),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
        "font.size": 10,
        "image.cmap": "viridis",
    })


def save(fig: plt.Figure, name: str, folder: Path) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png`` and return the path."""
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def label_tail(counts, ax=None, title: str = ""):
    """Documents per label, most frequent first: the long tail, on a log scale when
    the counts span more than an order of magnitude (a few labels get a linear one)."""
    import numpy as np

    ax = ax or plt.subplots()[1]
    values = np.asarray(counts, dtype=float)
    ax.bar(np.arange(len(values)), values, width=1.0 if len(values) > 10 else 0.7, color="C0")
    logarithmic = len(values) > 10 and values.max() > 10 * max(values.min(), 1)
    if logarithmic:
        ax.set_yscale("log")
    ax.set_xlabel("label rank")
    ax.set_ylabel("training documents" + (" (log scale)" if logarithmic else ""))
    ax.set_title(title)
    return ax


def cooccurrence(y, label_names, ax=None, title: str = ""):
    """Heat map of P(column label | row label) over documents."""
    import numpy as np

    ax = ax or plt.subplots(figsize=(7, 6))[1]
    y = np.asarray(y, dtype=float)
    joint = y.T @ y
    conditional = joint / np.maximum(np.diag(joint)[:, None], 1)
    image = ax.imshow(conditional, vmin=0, vmax=1, cmap="magma_r")
    ax.set_xticks(range(len(label_names)), label_names, rotation=90)
    ax.set_yticks(range(len(label_names)), label_names)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, label="P(column | row)")
    ax.set_title(title)
    return ax


def tree(hierarchy: dict, counts: dict, ax=None, title: str = ""):
    """A two-level hierarchy drawn as a tree: parents on the left, children on the
    right, each child's line as thick as its document count."""
    import numpy as np

    children = [(p, c) for p, cs in hierarchy.items() for c in cs]
    rows = max(len(children), 1)
    ax = ax or plt.subplots(figsize=(9, max(3, 0.22 * rows)))[1]
    largest = max([counts.get(c, 0) for _, c in children] + [1])
    y_child = {c: rows - i for i, (_, c) in enumerate(children)}
    for k, (parent, kids) in enumerate(hierarchy.items()):
        ys = [y_child[c] for c in kids] or [0]
        y_parent = float(np.mean(ys))
        color = f"C{k % 10}"
        for c in kids:
            ax.plot([0, 1], [y_parent, y_child[c]], color=color, alpha=0.6,
                    linewidth=0.5 + 5 * counts.get(c, 0) / largest)
            ax.text(1.02, y_child[c], f"{c.split('/')[-1]} ({counts.get(c, 0)})", va="center", fontsize=8)
        ax.text(-0.02, y_parent, f"{parent} ({counts.get(parent, sum(counts.get(c, 0) for c in kids))})",
                va="center", ha="right", fontsize=10, fontweight="bold", color=color)
    ax.set_xlim(-0.9, 1.7)
    ax.set_ylim(0, rows + 1)
    ax.axis("off")
    ax.set_title(title)
    return ax


def f1_vs_frequency(f1, train_counts, labels=None, ax=None, title: str = ""):
    """Per-label F1 against the label's training documents (log scale)."""
    import numpy as np

    ax = ax or plt.subplots(figsize=(8, 4.5))[1]
    counts = np.asarray(train_counts, dtype=float)
    ax.scatter(np.maximum(counts, 0.8), f1, s=18, alpha=0.7)
    ax.set_xscale("log")
    ax.set_xlabel("training documents with the label (log scale)")
    ax.set_ylabel("test F1")
    ax.set_ylim(-0.05, 1.05)
    if labels is not None and len(counts):
        fifth_largest = np.sort(counts)[-min(5, len(counts))]  # a data set may have fewer than five labels
        missed = []
        for x, y, name in zip(counts, f1, labels):
            if x >= fifth_largest:
                ax.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
            elif y == 0 and x >= 5:
                missed.append(str(name))
        if missed:  # listed in a box: named on the points, their names would overprint one another
            shown = ", ".join(missed[:12]) + (f" and {len(missed) - 12} more" if len(missed) > 12 else "")
            ax.text(0.0, -0.2, "F1 0 with at least 5 training documents: " + shown, wrap=True,
                    transform=ax.transAxes, va="top", fontsize=7,
                    bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"})
    ax.set_title(title)
    return ax


VERDICT_COLORS = {"better": "#1b7837", "worse": "#b2182b", "within noise": "#6b6b6b"}


def forest(effects, ax=None, title: str = ""):
    """Effects with their intervals, one row each, around a line at zero.

    ``effects``: a table with ``label``, ``delta``, ``low``, ``high`` (fractions; shown
    in points) and ``verdict`` (better, worse or within noise; its colour)."""
    import numpy as np

    rows = len(effects)
    ax = ax or plt.subplots(figsize=(8, 0.42 * rows + 1.2))[1]
    y = np.arange(rows)[::-1]
    for yi, (_, e) in zip(y, effects.iterrows()):
        color = VERDICT_COLORS.get(e["verdict"], "C0")
        ax.plot([e["low"] * 100, e["high"] * 100], [yi, yi], color=color, linewidth=2.2, solid_capstyle="butt")
        ax.plot(e["delta"] * 100, yi, "o", color=color, markersize=6)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, list(effects["label"]), fontsize=8)
    ax.set_xlabel("effect in points (F1 or accuracy), with its Holm-adjusted interval")
    ax.grid(axis="y", visible=False)
    handles = [mpl.lines.Line2D([], [], color=c, marker="o", linewidth=2.2, label=v) for v, c in VERDICT_COLORS.items()]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    ax.set_title(title)
    return ax


def training_curves(histories: dict, title: str = ""):
    """One column per model: validation micro-F1 (top) and training loss (bottom)
    by epoch, on their own axes (two scales on one axis overprint), the epoch that
    early stopping kept marked."""
    import numpy as np

    fig, axes = plt.subplots(2, len(histories), figsize=(max(4.5 * len(histories), 6), 5), squeeze=False,
                             sharex="col")
    for (name, history), (top, bottom) in zip(histories.items(), axes.T):
        epochs = np.arange(1, len(history["loss"]) + 1)
        f1 = np.asarray(history["val_micro_f1"], dtype=float)
        best = int(np.nanargmax(f1)) + 1
        top.plot(epochs, f1, marker="o", color="C0", label="validation micro-F1")
        bottom.plot(epochs, history["loss"], marker="o", color="C1", label="training loss")
        for ax in (top, bottom):
            ax.axvline(best, color="0.5", linestyle="--", linewidth=0.8, label="kept epoch")
        top.set_title(name)
        top.set_ylabel("validation micro-F1")
        bottom.set_ylabel("training loss")
        bottom.set_xlabel("epoch")
    axes[0, 0].legend(loc="lower right", fontsize=8)
    axes[1, 0].legend(loc="upper right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def length_histograms(lengths, caps, title: str = ""):
    """Words and word pieces per document, one histogram per data set on log axes
    (``lengths``: a table with ``dataset``, ``words``, ``word pieces``), the word-piece
    caps ``caps`` dashed."""
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    for ax, unit in zip(axes, ["words", "word pieces"]):
        for key, group in lengths.groupby("dataset", sort=False):
            ax.hist(group[unit], bins=np.logspace(0, 3.5, 50), alpha=0.55, label=key)
        ax.set_xscale("log")
        ax.set_xlabel(f"{unit} per document (log scale)")
        ax.set_ylabel("documents")
    for cap in caps:
        axes[1].axvline(cap, color="black", linestyle="--", linewidth=0.8)
        axes[1].text(cap, axes[1].get_ylim()[1] * 0.95, f" {cap}", fontsize=8)
    axes[0].legend()
    fig.suptitle(title, y=1.02)
    return fig


def trees(drawn: dict, empty: str):
    """:func:`tree` for each ``title -> (hierarchy, counts)`` of ``drawn``, stacked,
    each panel as tall as its tree; ``empty`` is written where there is none."""
    heights = [max(sum(len(cs) for cs in hierarchy.values()), 4) for hierarchy, _ in drawn.values()] or [4]
    fig, axes = plt.subplots(len(heights), 1, figsize=(9, 0.22 * sum(heights) + 1), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (title, (hierarchy, counts)) in zip(axes[:, 0], drawn.items()):
        tree(hierarchy, counts, ax=ax, title=title)
    if not drawn:
        axes[0, 0].axis("off")
        axes[0, 0].text(0.5, 0.5, empty, ha="center")
    return fig


def attention(words, weights, titles, title: str = "", first: int = 40):
    """One strip per document: the attention weight of each of its ``first`` words."""
    import numpy as np

    fig, axes = plt.subplots(len(words), 1, figsize=(12, 1.6 * len(words)))
    for ax, w, a, heading in zip(np.atleast_1d(axes), words, weights, titles):
        w, a = w[:first], a[:first]
        ax.imshow(a[None, :], aspect="auto", cmap="Blues", vmin=0, vmax=a.max())
        ax.set_xticks(range(len(w)), w, rotation=70, fontsize=7)
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(heading, fontsize=9, loc="left")
    fig.suptitle(title, y=1.01)
    fig.tight_layout()
    return fig


def piece_histograms(lengths: dict, caps, longest: int = 1100):
    """Word pieces per text, one step histogram per data set (``lengths``: name ->
    counts), longer texts counted at ``longest``, each cap (less [CLS] and [SEP]) dotted."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 3.2))
    for key, pieces in lengths.items():
        ax.hist(np.minimum(pieces, longest), bins=np.arange(0, longest + 1, 20), histtype="step", linewidth=1.5,
                label=key)
    for cap in caps:
        ax.axvline(cap - 2, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(f"word pieces per text (longer ones counted at {longest:,})")
    ax.set_ylabel("texts")
    ax.legend()
    fig.tight_layout()
    return fig


def correlation(matrix, names, label: str):
    """A square matrix of correlations in [0, 1] between ``names``, as a heat map."""
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="magma_r")
    ax.set_xticks(range(len(names)), names, rotation=70)
    ax.set_yticks(range(len(names)), names)
    ax.grid(False)
    fig.colorbar(image, ax=ax, fraction=0.046, label=label)
    fig.tight_layout()
    return fig


GROUPS = ["head (≥ 35 training documents)", "medium (9-34)", "tail (≤ 8)"]  # Huang et al.'s frequency groups


def group_bars(table, ylabel: str):
    """Bars of macro-F1 per frequency group (the columns of ``table``, in
    :data:`GROUPS` order) for each row (a loss)."""
    fig, ax = plt.subplots(figsize=(10, 4.2))
    table.plot.bar(ax=ax, width=0.8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(table.index.name or "")
    ax.legend(GROUPS, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    fig.tight_layout()
    return fig


def f1_by_frequency(per_label: dict, train_counts, ylabel: str, legend: str = "", bounds=(8.5, 34.5)):
    """Test F1 of each label against its training documents (log scale), one marker
    per system (``per_label``: name -> F1 per label, NaN where the label has no test
    document), the frequency groups' bounds as lines."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 4))
    for (name, f1), marker in zip(per_label.items(), "oxs^v"):
        has = np.isfinite(f1)
        ax.scatter(np.asarray(train_counts)[has], np.asarray(f1)[has], marker=marker, alpha=0.7, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("training documents of the label")
    ax.set_ylabel(ylabel)
    for bound in bounds:
        ax.axvline(bound, color="grey", lw=0.8)
    ax.legend(title=legend, loc="lower right")
    fig.tight_layout()
    return fig


def validation_curves(curves: dict, ylabel: str = "validation micro-F1", legend: str = ""):
    """One line per run (``curves``: name -> score per epoch), its best epoch circled."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, scores in curves.items():
        scores = np.asarray(scores)
        line, = ax.plot(np.arange(1, len(scores) + 1), scores, marker="o", label=name)
        ax.scatter([np.argmax(scores) + 1], [scores.max()], s=160, facecolors="none", edgecolors=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(title=legend, loc="lower right")
    fig.tight_layout()
    return fig


def loss_curves(curves: dict, ylabel: str, xlabel: str = "optimizer step"):
    """One line per series (``curves``: label -> (x, y, marker)) of a loss."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, (x, y, marker) in curves.items():
        ax.plot(x, y, marker=marker, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    fig.tight_layout()
    return fig
