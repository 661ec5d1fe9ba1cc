import numpy as np
import pytest

from mlstc.data import Dataset, Provenance, multi_hot, stratified_splits


def toy(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 5)) < [0.5, 0.3, 0.1, 0.05, 0.02]).astype(np.uint8)
    return y


def test_stratified_splits_partition_all_rows_deterministically():
    y = toy()
    splits = stratified_splits(y, seed=0)
    rows = np.concatenate(list(splits.values()))
    assert sorted(rows.tolist()) == list(range(len(y)))
    assert len(splits["test"]) == pytest.approx(40, abs=2)
    assert len(splits["validation"]) == pytest.approx(16, abs=2)
    again = stratified_splits(y, seed=0)
    assert all(np.array_equal(splits[k], again[k]) for k in splits)


def test_multi_hot_rejects_unknown_labels():
    assert multi_hot([["b"], [], ["a", "b"]], ["a", "b"]).tolist() == [[0, 1], [0, 0], [1, 1]]
    with pytest.raises(KeyError):
        multi_hot([["c"]], ["a", "b"])


def make(n=50):
    y = toy(n)
    return Dataset(name="toy", texts=[f"doc {i}" for i in range(n)], y=y, label_names=list("abcde"),
                   splits=stratified_splits(y, seed=0), ids=[str(i) for i in range(n)],
                   provenance=Provenance("toy", "-", {}), extras={"n": list(range(n))})


def test_head_keeps_alignment_and_split_membership():
    ds = make()
    small = ds.head({"train": 10, "validation": None, "test": 3}, seed=1)
    assert [len(small.splits[s]) for s in ("train", "validation", "test")] == [10, len(ds.splits["validation"]), 3]
    for name in small.splits:
        part = small.split(name)
        assert set(part.ids) <= set(ds.split(name).ids)
        for text, row, doc_id in zip(part.texts, part.y, part.ids):
            assert text == f"doc {doc_id}" and np.array_equal(row, ds.y[int(doc_id)])
        assert small.extra("n", name) == [int(i) for i in part.ids]


def test_unknown_split_and_bad_shapes():
    ds = make()
    with pytest.raises(ValueError, match="has no split 'dev'"):
        ds.split("dev")
    with pytest.raises(ValueError, match="y has shape"):
        Dataset(name="bad", texts=["a"], y=np.zeros((2, 1)), label_names=["x"], splits={}, ids=["1"],
                provenance=Provenance("", "", {}))


def test_summary_counts():
    s = make().summary()
    assert s["documents"].sum() == 50
    assert set(s.index) == {"train", "validation", "test"}
