"""The README states what the records say: its findings and its time table are the
blocks :mod:`mlstc.book.readme` generates from the committed claims and run log."""

import pytest

from mlstc.book import readme
from mlstc.core import paths


@pytest.mark.parametrize("name", sorted(readme.BLOCKS))
def test_the_readme_block_equals_what_the_records_say(committed, name):
    made = readme.BLOCKS[name]()
    assert made.strip()
    assert readme.shown(name) == made, f"README.md's {name} is stale: python -m mlstc readme --write"


def test_writing_replaces_only_the_blocks(committed, tmp_path):
    copy = tmp_path / "README.md"
    text = (paths.project_root() / "README.md").read_text(encoding="utf-8")
    start, end = readme.markers("times")
    stale = text.split(start)[0] + start + "\n| stale |\n" + end + text.split(end)[1]
    copy.write_text(stale, encoding="utf-8")
    assert readme.write(copy) == ["times"]
    assert copy.read_text(encoding="utf-8") == text
    with pytest.raises(ValueError, match="no findings block"):
        readme.shown("findings", tmp_path / "nothing.md") if (tmp_path / "nothing.md").write_text("x") else None
