import pytest

from mlstc.data import DataError, fiqa, sentfin


def test_sentfin_headline_labels_and_entities(data_dir):
    ds = sentfin.load(data_dir)
    assert len(ds.texts) == 10753 and ds.label_names == ["negative", "neutral", "positive"]
    assert (ds.y.sum(1) > 1).sum() == 1235
    both = ds.y[:, 0] & ds.y[:, 2]
    assert both.sum() == 156 and (both & (ds.y[:, 1] == 0)).sum() == 144
    first = ds.texts.index("SpiceJet to issue 6.4 crore warrants to promoters")
    assert ds.extras["entities"][first] == {"SpiceJet": "neutral"}
    assert sorted(len(v) for v in ds.splits.values()) == pytest.approx([1075, 2151, 7527], abs=10)


def write(tmp_path, body):
    path = tmp_path / "s.csv"
    path.write_text('S No.,Title,Decisions,Words\n' + body)
    return path


@pytest.mark.parametrize("body, message", [
    ('1,,"{""A"": ""positive""}",1\n', r"row 1: empty headline"),
    ('1,Up,"{A: positive}",1\n', r"row 1: Decisions is not JSON"),
    ('1,Up,"{""A"": ""positive""}",1\n2,Down,"{""B"": ""bearish""}",1\n',
     r"row 2: unknown sentiment\(s\) \['bearish'\]"),
    ('1,Up,"{}",1\n', r"row 1: Decisions must be a non-empty"),
])
def test_sentfin_bad_rows_are_errors_with_the_row(tmp_path, body, message):
    with pytest.raises(DataError, match=message):
        sentfin.read_rows(write(tmp_path, body))


def test_sentfin_missing_column(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("S No.,Headline\n1,x\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['Decisions', 'Title'\]"):
        sentfin.read_rows(path)


def test_sentfin_missing_folder_explains_kaggle(tmp_path):
    with pytest.raises(FileNotFoundError, match="Kaggle"):
        sentfin.load(tmp_path)


def test_fiqa_levels_hierarchy_and_sentiment(data_dir):
    ds = fiqa.load(data_dir)
    assert len(ds.texts) == 436 + 675
    assert set(ds.hierarchy) == {"Corporate", "Economy", "Market", "Stock"}
    assert "Stock/Price Action" in ds.hierarchy["Stock"]
    # every document has a level-1 and a level-2 label, and its level-2 labels' parents
    parents = ds.parent_of()
    for row in ds.y:
        labels = {ds.label_names[j] for j in row.nonzero()[0]}
        assert labels & set(ds.hierarchy) and {parents[label] for label in labels if label in parents} <= labels
    first = ds.ids.index("headline-1")
    assert ds.texts[first] == "Royal Mail chairman Donald Brydon set to step down"
    assert ds.extras["targets"][first] == [{"target": "Royal Mail", "aspect": "Corporate/Appointment",
                                             "score": -0.374, "sign": -1}]
    assert sum("repaired a defect" in note for note in ds.provenance.notes) == 3


def test_fiqa_aspects_are_parsed_without_eval(tmp_path):
    with pytest.raises(DataError, match="not a list literal"):
        fiqa.parse_aspects("__import__('os').system('echo pwned')", tmp_path / "f.json", "id 1")
    assert fiqa.parse_aspects("['Stock/Price Action/Bullish']", tmp_path, "1") == [["Stock", "Price Action", "Bullish"]]


def test_fiqa_bad_items(tmp_path):
    path = tmp_path / "f.json"
    path.write_text('{"1": {"sentence": "  ", "info": []}}')
    with pytest.raises(DataError, match=r"row id 1: empty or missing sentence"):
        fiqa.read_items(path, "post")
    path.write_text('{"1": {"sentence": "x", "info": [{"sentiment_score": "high", "aspects": "[\'Stock\']"}]}}')
    with pytest.raises(DataError, match=r"row id 1: sentiment_score"):
        fiqa.read_items(path, "post")
    path.write_bytes(b'{"1": {"sentence": "caf\xe9"}}')
    with pytest.raises(DataError, match=r"row 1: byte 0xe9 .* not UTF-8"):
        fiqa.read_items(path, "post")
