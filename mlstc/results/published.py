"""Published figures the book compares with, each with its source (introduced in
chapter 01). Notebooks glue them into prose from here, so that every number in a
markdown cell is either measured by the run or listed, with its citation, here.

F1 scores are fractions (0.8914 = 89.14 micro-F1).
"""

from __future__ import annotations

HUANG2021 = ("Huang, Giledereli, Köksal, Özgür & Ozkirimli (2021), Balancing methods for multi-label text "
             "classification with long-tailed class distribution, EMNLP, table 2 (Reuters-21578 ModApte-90)")
ADHIKARI2019 = ("Adhikari, Ram, Tang & Lin (2019), Rethinking complex neural network architectures for document "
                "classification, NAACL (Reuters-21578, LSTM_reg)")

FIGURES = {
    # Huang et al. 2021, table 2: bert-base-cased fine-tuned with each loss; SVM on tf-idf
    "huang_svm_micro": (0.876, HUANG2021), "huang_svm_macro": (0.516, HUANG2021),
    "huang_svm_tail_macro": (0.1383, HUANG2021),
    "huang_bce_micro": (0.8914, HUANG2021), "huang_bce_macro": (0.4732, HUANG2021),
    "huang_focal_micro": (0.8997, HUANG2021), "huang_focal_macro": (0.5683, HUANG2021),
    "huang_cb_micro": (0.8923, HUANG2021), "huang_cb_macro": (0.5296, HUANG2021),
    "huang_db_micro": (0.9062, HUANG2021), "huang_db_macro": (0.6447, HUANG2021),
    "huang_db_tail_macro": (0.3139, HUANG2021),
    "huang_cbntr_micro": (0.9074, HUANG2021), "huang_cbntr_macro": (0.6331, HUANG2021),
    "huang_cbntr_tail_macro": (0.3231, HUANG2021),
    "lstm_reg_micro": (0.870, ADHIKARI2019),
}


def value(name: str) -> float:
    """A published figure by name (``KeyError`` names the known ones)."""
    if name not in FIGURES:
        raise KeyError(f"no published figure {name!r}; known: {', '.join(FIGURES)}")
    return FIGURES[name][0]


def points(name: str) -> str:
    """The figure in F1 points as the paper prints it (``89.14``, ``87.6``)."""
    return f"{round(value(name) * 100, 2):g}"
