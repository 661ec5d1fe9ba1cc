import json

import numpy as np
import pytest

from mlstc import data
from mlstc.data import Hierarchy, HierarchyError

LABELS = ["positive", "positive/earnings", "positive/deals", "negative", "negative/market", "rates"]


def test_from_paths_levels_and_descendants():
    tree = Hierarchy.from_paths(LABELS)
    assert tree.levels == [["positive", "negative", "rates"],
                           ["positive/earnings", "positive/deals", "negative/market"]]
    assert tree.parent["negative/market"] == "negative" and "rates" not in tree.parent
    r = tree.descendant_matrix()
    i, j = tree.nodes.index("positive"), tree.nodes.index("positive/deals")
    assert r[i, j] == 1 and r[j, i] == 0 and np.all(np.diag(r) == 1)
    assert tree.parent_index()[tree.nodes.index("rates")] == -1


def test_augment_adds_ancestors_and_derived_parents():
    tree = Hierarchy.from_mapping({"energy": ["crude", "gas"]}, ["crude", "gas", "wheat"])
    assert tree.derived == {"energy"} and tree.nodes[0] in ("energy", "wheat")
    y = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    full = tree.augment(y, ["crude", "gas", "wheat"])
    assert full[:, tree.nodes.index("energy")].tolist() == [1, 0, 1]
    assert "energy" in "\n".join(tree.table({"energy": 3}))


@pytest.mark.parametrize("mapping, message", [
    ({"a": ["b"], "b": ["a"]}, r"cycle: .*a -> b -> a|cycle: .*b -> a -> b"),
    ({"a": ["c"], "b": ["c"]}, r"label 'c' has two parents, 'a' and 'b'"),
    ({"a": ["zz"]}, r"label 'zz' \(a child of 'a'\) does not occur in the data"),
    ({"a": ["a"]}, r"'a' is listed as its own child"),
    ({"a": "b"}, r"children of 'a' must be a list"),
])
def test_bad_hierarchies_name_the_label(mapping, message):
    with pytest.raises(HierarchyError, match=message):
        Hierarchy.from_mapping(mapping, ["a", "b", "c"])


def test_json_file_and_its_errors(tmp_path):
    path = tmp_path / "tree.json"
    path.write_text(json.dumps({"groups": {"energy": ["crude"]}}))
    assert Hierarchy.from_json(path, ["crude"]).parent == {"crude": "energy"}
    path.write_text("{not json")
    with pytest.raises(HierarchyError, match="tree.json: not valid JSON"):
        Hierarchy.from_json(path, ["crude"])
    with pytest.raises(FileNotFoundError, match="hierarchy file .* does not exist"):
        Hierarchy.from_json(tmp_path / "absent.json", ["crude"])


def test_csv_labels_written_as_paths_build_the_hierarchy(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("text,labels\n" + "\n".join(f"story {i},positive/earnings|rates" if i % 2
                                                else f"story {i},negative/market" for i in range(30)))
    ds = data.load(str(path))
    assert ds.label_names == ["negative", "negative/market", "positive", "positive/earnings", "rates"]
    assert ds.hierarchy == {"negative": ["negative/market"], "positive": ["positive/earnings"]}
    assert ds.y[1].tolist() == [0, 0, 1, 1, 1]  # a path label brings its parent
