import json
import shutil
import tarfile

import numpy as np
import pytest

from mlstc.core import paths
from mlstc.data import DataError, reuters

SGML = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="1" NEWID="10">
<DATE>26-FEB-1987</DATE>
<TOPICS><D>earn</D><D>acq</D></TOPICS>
<TEXT>&#2;
<TITLE>AT&amp;T &lt;T&gt; PROFIT UP</TITLE>
<DATELINE>NEW YORK, Feb 26 - </DATELINE><BODY>Profit rose
5 pct.&#31;
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="2" NEWID="11">
<TOPICS><D>earn</D></TOPICS>
<TEXT TYPE="BRIEF">&#2;
<TITLE>ACME 1ST QTR SHR 10 CTS</TITLE>
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="NO" LEWISSPLIT="NOT-USED" CGISPLIT="TRAINING-SET" OLDID="3" NEWID="12">
<TOPICS></TOPICS>
<TEXT TYPE="UNPROC">&#2;
N.Y. SUGAR FREIGHTS - nil
&#3;</TEXT>
</REUTERS>
"""


def test_parse_decodes_entities_and_drops_control_characters():
    story = reuters.parse_sgml(SGML)[0]
    assert story.title == "AT&T <T> PROFIT UP"
    assert story.text == "AT&T <T> PROFIT UP Profit rose 5 pct."
    assert story.topics == ("earn", "acq")
    assert (story.new_id, story.lewis_split, story.has_topics) == ("10", "TRAIN", "YES")


def test_story_without_body_keeps_its_title_and_unproc_keeps_its_text():
    brief, unproc = reuters.parse_sgml(SGML)[1:]
    assert (brief.text_type, brief.body, brief.text) == ("BRIEF", "", "ACME 1ST QTR SHR 10 CTS")
    assert unproc.text_type == "UNPROC" and unproc.text == "N.Y. SUGAR FREIGHTS - nil"


def test_block_without_newid_is_an_error_naming_the_story():
    with pytest.raises(DataError, match=r"x.sgm, row story 1: .*NEWID"):
        reuters.parse_sgml('<REUTERS TOPICS="YES"><TEXT></TEXT></REUTERS>', "x.sgm")


@pytest.fixture(scope="module")
def modapte(data_dir):
    return reuters.load(data_dir)


@pytest.mark.slow
def test_modapte_90_counts(modapte):
    assert modapte.num_labels == 90
    assert len(modapte.splits["train"]) + len(modapte.splits["validation"]) == 7770
    assert len(modapte.splits["test"]) == 3019
    assert modapte.y.sum(1).min() == 1
    assert modapte.y.sum() / len(modapte.y) == pytest.approx(1.23, abs=0.01)
    assert modapte.provenance.skipped["ModApte story with none of the 90 topics"] == 9603 + 3299 - 7770 - 3019
    assert sum(modapte.provenance.skipped.values()) + len(modapte.texts) == 21578


def test_validation_is_stratified_carve_of_train_and_disjoint(modapte):
    train, val, test = (set(modapte.splits[s]) for s in ("train", "validation", "test"))
    assert not (train & val or train & test or val & test)
    assert len(val) == pytest.approx(777, abs=5)
    share = modapte.split("validation").y.mean(0)[modapte.label_names.index("earn")]
    assert share == pytest.approx(modapte.split("train").y.mean(0)[modapte.label_names.index("earn")], abs=0.01)


@pytest.mark.slow
def test_same_seed_same_splits_other_seed_other_validation(data_dir, modapte):
    again = reuters.load(data_dir, seed=0)
    other = reuters.load(data_dir, seed=1)
    assert np.array_equal(again.splits["validation"], modapte.splits["validation"])
    assert not np.array_equal(other.splits["validation"], modapte.splits["validation"])
    assert np.array_equal(other.splits["test"], modapte.splits["test"])


def test_topic_groups_file_matches_the_category_descriptions(data_dir, modapte):
    parsed = reuters.parse_topic_groups(data_dir / "reuters21578" / reuters.CATEGORY_FILE)
    assert sum(len(v) for v in parsed.values()) == 135
    assert parsed == reuters.load_topic_groups()
    covered = {label for children in modapte.hierarchy.values() for label in children}
    assert covered == set(modapte.label_names)
    assert modapte.parent_of()["wheat"] == "commodity"


@pytest.mark.slow
def test_loads_from_the_uci_tarball(data_dir, tmp_path):
    archive = tmp_path / "data" / "reuters21578.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for file in reuters.SGML_FILES + (reuters.CATEGORY_FILE,):
            tar.add(data_dir / "reuters21578" / file, arcname=file)
    before = sorted(p.name for p in archive.parent.iterdir())
    ds = reuters.load(archive.parent, download=False)
    assert len(ds.splits["test"]) == 3019
    assert ds.provenance.location.startswith(str(paths.download_dir() / "reuters21578-"))
    assert sorted(p.name for p in archive.parent.iterdir()) == before  # the user's folder is left alone


@pytest.mark.slow
def test_downloads_only_into_the_cache_only_without_a_named_folder(data_dir, tmp_path, monkeypatch, capsys):
    archive = tmp_path / "upstream" / "reuters21578.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(data_dir / "reuters21578", arcname=".")
    monkeypatch.setattr(reuters, "URLS", ("file:///nonexistent/reuters21578.tar.gz", archive.as_uri()))
    monkeypatch.delenv(paths.DATA_ENV, raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=rf"(?s)in the data_dir argument.*{empty}"):
        reuters.load(empty)  # a named folder without the data: no download, no other copy
    ds = reuters.load()
    assert len(ds.texts) == 7770 + 3019
    assert "No data folder given" in capsys.readouterr().out
    assert (paths.download_dir() / "reuters21578" / "reut2-000.sgm").is_file()
    assert list(empty.iterdir()) == []


def test_a_named_folder_that_does_not_exist_is_an_error_naming_it(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=rf"The data folder {tmp_path / 'nowhere'} \(from the data_dir"):
        reuters.load(tmp_path / "nowhere")
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match=r"gone \(from \$MLSTC_DATA_DIR\) does not exist"):
        reuters.load()


def test_missing_data_says_where_it_looked_and_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)Looked in:.*MLSTC_DATA_DIR.*UCI"):
        reuters.load(tmp_path, download=False)


def test_checksum_mismatch_names_the_file_and_the_fix(data_dir, tmp_path):
    copy = tmp_path / "reuters21578"
    shutil.copytree(data_dir / "reuters21578", copy)
    with open(copy / "reut2-007.sgm", "a", encoding="latin-1") as handle:
        handle.write(" ")
    with pytest.raises(DataError, match=r"reut2-007.sgm: SHA-256 is .* expected .*Fix: .*replace"):
        reuters.load(tmp_path, download=False)


def test_hierarchy_file_is_valid_json_with_source():
    payload = json.loads((paths.manifest_dir() / reuters.HIERARCHY_FILE).read_text())
    assert "cat-descriptions" in payload["source"] and len(payload["groups"]) == 6
