import json

import numpy as np
import pytest

from mlstc import data
from mlstc.data import DataError, table


def csv_file(tmp_path, text, name="news.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_split_column_and_empty_label_set(tmp_path):
    rows = ["text,labels,split"] + [f"story {i},{'a|b' if i % 2 else ''},{'train' if i < 8 else 'test'}"
                                     for i in range(12)]
    ds = data.load(str(csv_file(tmp_path, "\n".join(rows))), split_column="split")
    assert ds.label_names == ["a", "b"]
    assert ds.y.sum(1).tolist() == [0, 2] * 6
    assert len(ds.splits["test"]) == 4 and len(ds.splits["validation"]) >= 1
    assert set(ds.splits["train"]) | set(ds.splits["validation"]) == set(range(8))


def test_jsonl_lists_and_carved_splits(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"t{i}", "labels": ["x"] if i % 3 else ["x", "y"]})
                              for i in range(40)))
    ds = table.load(path, seed=3)
    assert sorted(ds.splits) == ["test", "train", "validation"]
    assert sum(len(v) for v in ds.splits.values()) == 40
    assert np.array_equal(ds.splits["test"], table.load(path, seed=3).splits["test"])


@pytest.mark.parametrize("text, kwargs, message", [
    ("body,labels\nx,a\n", {}, r"news.csv, row 1: has no column 'text'"),
    ("text,labels\nx,a\n  ,b\n", {}, r"row 2: empty text"),
    ("text,labels\nx,a|zz\n", {"label_names": ["a"]}, r"row 1: unknown label\(s\) \['zz'\]"),
    ("text,labels,split\nx,a,training\n", {"split_column": "split"}, r"row 1: unknown split 'training'"),
    ("text,labels\nx,a,extra\n", {}, r"row 1: has 3 fields, the header has 2"),
    ("text,labels,split\nx,a,test\n", {"split_column": "split"}, r"marks no row as train"),
])
def test_bad_input_names_file_row_and_fix(tmp_path, text, kwargs, message):
    with pytest.raises(DataError, match=message) as info:
        table.load(csv_file(tmp_path, text), **kwargs)
    assert "news.csv" in str(info.value)


def test_non_utf8_and_unknown_format_and_missing_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,labels\nok,a\nna\xefve,b\n")
    with pytest.raises(DataError, match=r"latin.csv, row 3: byte 0xef.*Fix: save the file as UTF-8"):
        table.load(path)
    with pytest.raises(ValueError, match="use a .csv, .tsv or .jsonl"):
        table.load(csv_file(tmp_path, "x", name="news.xlsx"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        table.load(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="Unknown dataset 'reuter'"):
        data.load("reuter")


def test_malformed_jsonl_line(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text('{"text": "a", "labels": []}\n{"text": "b", labels: []}\n')
    with pytest.raises(DataError, match=r"n.jsonl, row 2: not a JSON object"):
        table.load(path)
