import numpy as np
import pytest

from mlstc.evaluation import hierarchical

# nodes: 0 = A, 1 = A/x, 2 = A/y, 3 = B
PARENT = np.array([-1, 0, 0, -1])


def test_violation_rate_counts_documents_with_an_orphan_child():
    pred = np.array([[0, 1, 0, 0],   # child without its parent
                     [1, 1, 0, 0],   # fine
                     [0, 0, 0, 1],   # fine
                     [0, 1, 1, 1]])  # orphan children
    assert hierarchical.violations(pred, PARENT).tolist() == [True, False, False, True]
    assert hierarchical.violation_rate(pred, PARENT) == 0.5


def test_hierarchical_prf_by_hand():
    true = np.array([[1, 1, 0, 0], [0, 0, 0, 1]])
    pred = np.array([[0, 0, 1, 0], [0, 0, 0, 1]])  # a sibling: the shared parent earns partial credit
    got = hierarchical.hierarchical_prf(true, pred, PARENT)
    # augmented: true {A, A/x}, {B}; predicted {A, A/y}, {B}: overlap 2 of 3 predicted, 2 of 3 true
    assert got["hierarchical_precision"] == pytest.approx(2 / 3)
    assert got["hierarchical_recall"] == pytest.approx(2 / 3)
    assert got["hierarchical_f1"] == pytest.approx(2 / 3)


def test_levels_and_closure():
    true = np.array([[1, 1, 0, 0], [0, 0, 0, 1]])
    assert hierarchical.ancestor_closure(np.array([[0, 0, 1, 0]]), PARENT).tolist() == [[True, False, True, False]]
    levels = hierarchical.by_level(true, true, [[0, 3], [1, 2]])
    assert levels["level1_micro_f1"] == 1.0 and levels["level2_macro_f1"] == 1.0
