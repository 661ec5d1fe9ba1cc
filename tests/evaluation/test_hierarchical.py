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


def _tree(labels=("A/x", "A/y", "B")):
    from mlstc.data import Hierarchy

    return Hierarchy.from_mapping({"A": ["A/x", "A/y"], "B": []}, list(labels))


def test_evaluate_tree_reads_parents_and_levels_from_the_tree():
    tree = _tree()
    names = ["A", "A/x", "A/y", "B"]
    y = np.array([[1, 1, 0, 0], [0, 0, 0, 1]])[:, [names.index(n) for n in tree.nodes]]  # columns: tree.nodes
    got = hierarchical.evaluate_tree(tree, y, y)
    assert got["micro_f1"] == 1 and got["violation_rate"] == 0 and "level2_macro_f1" in got


def test_subsets_compare_all_nodes_and_level_two_or_only_the_labels_of_a_derived_tree():
    tree = _tree(("A", "A/x", "A/y", "B"))
    assert list(hierarchical.subsets(tree, ["A", "A/x", "A/y", "B"])) == ["all nodes", "level 2"]
    derived = _tree()  # A is a group node the data set never labels
    assert derived.derived
    found = hierarchical.subsets(derived, ["A/x", "A/y", "B"])
    assert list(found) == ["leaves (the data set's labels)"]
    assert [derived.nodes[j] for j in found["leaves (the data set's labels)"]] == ["A/x", "A/y", "B"]


def test_score_seeds_averages_seeds_and_tunes_a_threshold_per_seed():
    tree = _tree(("A", "A/x", "A/y", "B"))
    rng = np.random.default_rng(0)
    y_val, y_test = (rng.random((40, 4)) < 0.4).astype(int), (rng.random((30, 4)) < 0.4).astype(int)
    runs = [{"validation": np.clip(y_val * 0.6 + rng.random(y_val.shape) * 0.5, 0, 1),
             "test": np.clip(y_test * 0.6 + rng.random(y_test.shape) * 0.5, 0, 1)} for _ in range(2)]
    found = hierarchical.score_seeds(tree, y_val, y_test, runs)
    mean, spread, preds = found.mean, found.spread, found.preds
    assert len(preds) == 2 and preds[0].shape == y_test.shape
    one = [hierarchical.evaluate_tree(tree, y_test, p, r["test"])["micro_f1"] for p, r in zip(preds, runs)]
    assert mean["micro_f1"] == pytest.approx(np.mean(one)) and spread["micro_f1"] == pytest.approx(np.std(one, ddof=1))
    assert 0 < mean["validation_micro_f1"] <= 1 and "validation_micro_f1" not in spread
    assert [r["micro_f1"] for r in found.rows] == one and len(found.cuts) == 2
    assert hierarchical.score_seeds(tree, y_val, y_test, runs[:1]).spread == {}  # one seed: no spread


def test_score_seeds_scores_what_will_be_stored():
    tree = _tree(("A", "A/x", "A/y", "B"))
    rng = np.random.default_rng(1)
    y_val, y_test = (rng.random((20, 4)) < 0.5).astype(int), (rng.random((20, 4)) < 0.5).astype(int)
    runs = [{"validation": rng.random((20, 4)), "test": rng.random((20, 4))}]
    calls = []
    found = hierarchical.score_seeds(tree, y_val, y_test, runs,
                                     stored=lambda p, cut: calls.append(cut) or np.round(p, 1))
    assert calls == [found.cuts[0]] * 2
    assert np.array_equal(found.probs[0]["test"], np.round(runs[0]["test"], 1))
