"""Reuters-21578, ModApte split, the 90 topics with a training and a test story
(introduced in chapter 00).

The collection is 22 SGML files that are not well-formed XML, so each
``<REUTERS ...>`` block is parsed on its own. A story's text is its title and body
(``TYPE="BRIEF"`` stories have only a title and keep it; ``TYPE="UNPROC"`` stories
keep their unformatted text), with control-character entities such as ``&#3;``
removed, ``&lt;``-style entities decoded, the closing "Reuter" sign-off dropped and
white space folded.

Cite: Lewis, D. D. (1997). Reuters-21578 text categorization test collection,
Distribution 1.0.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from mlstc.core import paths
from mlstc.data import files
from mlstc.data.dataset import DataError, Dataset, Provenance, multi_hot, stratified_splits

NAME = "reuters21578"
SGML_FILES = tuple(f"reut2-{i:03d}.sgm" for i in range(22))
CATEGORY_FILE = "cat-descriptions_120396.txt"
HIERARCHY_FILE = "reuters_topic_groups.json"
URLS = (
    "https://kdd.ics.uci.edu/databases/reuters21578/reuters21578.tar.gz",
    "https://archive.ics.uci.edu/static/public/137/reuters+21578+text+categorization+collection.zip",
)
SOURCE = "Reuters-21578, Distribution 1.0 (Lewis 1997), UCI Machine Learning Repository data set 137"

_BLOCK = re.compile(r"<REUTERS(?P<attrs>[^>]*)>(?P<body>.*?)</REUTERS>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_D = re.compile(r"<D>(.*?)</D>", re.S)
_CONTROL = re.compile(r"&#(\d+);")
_SIGNOFF = re.compile(r"\s*\breuter\W*$", re.I)


@dataclasses.dataclass(frozen=True)
class Story:
    new_id: str
    lewis_split: str
    has_topics: str  # the TOPICS attribute: YES, NO or BYPASS
    topics: tuple[str, ...]
    title: str
    body: str
    text_type: str  # NORM, BRIEF or UNPROC

    @property
    def text(self) -> str:
        return " ".join(f"{self.title}\n{self.body}".split())


def clean(raw: str) -> str:
    """Drop control-character entities (``&#2;``, ``&#3;``, ...), decode the rest."""
    raw = _CONTROL.sub(lambda m: "" if int(m.group(1)) < 32 or int(m.group(1)) == 127 else m.group(0), raw)
    return html.unescape(raw)


def _tag(block: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", block, re.S)
    return match.group(1) if match else None


def parse_sgml(text: str, source: str = "<string>") -> list[Story]:
    """Parse every ``<REUTERS>`` block of one SGML file."""
    stories = []
    for number, match in enumerate(_BLOCK.finditer(text), 1):
        attrs = dict(_ATTR.findall(match.group("attrs")))
        block = match.group("body")
        if "NEWID" not in attrs or "LEWISSPLIT" not in attrs:
            raise DataError(source, "a <REUTERS> tag without NEWID or LEWISSPLIT.", row=f"story {number}",
                            fix="the file is not the published Reuters-21578; replace it.")
        text_tag = re.search(r"<TEXT([^>]*)>(.*?)</TEXT>", block, re.S)
        text_type, inner = ("NORM", "") if text_tag is None else (
            (re.search(r'TYPE="(\w+)"', text_tag.group(1)) or ["", "NORM"])[1], text_tag.group(2))
        title, body = _tag(inner, "TITLE"), _tag(inner, "BODY")
        if title is None and body is None:  # UNPROC: the text is not split into fields
            title, body = "", inner
        body = _SIGNOFF.sub("", clean(body or ""))
        stories.append(Story(
            new_id=attrs["NEWID"],
            lewis_split=attrs["LEWISSPLIT"],
            has_topics=attrs.get("TOPICS", ""),
            topics=tuple(t.strip() for t in _D.findall(_tag(block, "TOPICS") or "")),
            title=clean(title or "").strip(),
            body=body.strip(),
            text_type=text_type,
        ))
    return stories


def read_stories(folder: Path) -> list[Story]:
    stories = []
    for file in SGML_FILES:
        stories += parse_sgml((folder / file).read_text(encoding="latin-1"), str(folder / file))
    return stories


def parse_topic_groups(path: Path) -> dict[str, list[str]]:
    """Topic groups from Lewis's ``cat-descriptions_120396.txt``.

    The file lists the 135 TOPICS codes under headings (economic indicators,
    currencies, corporate, commodities, energy); the three codes it lists before the
    first heading (MONEY-FX, SHIP, INTEREST) form the group ``money/foreign exchange,
    shipping, interest``. Codes come back lower-case, as in the SGML files.
    """
    text = path.read_text(encoding="latin-1")
    start = text.index("****Subject Codes")
    end = text.index("@heading[Organization Codes")
    groups: dict[str, list[str]] = {}
    group = "money/foreign exchange, shipping, interest"
    for line in text[start:end].splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("_"):
            continue
        if line.startswith("**"):
            group = re.sub(r"\s*Codes\s*\(\d+\)\s*$", "", line.strip("* ")).lower()
            continue
        code = re.search(r"\(([A-Z0-9-]+)\)\s*$", line)
        groups.setdefault(group, []).append((code.group(1) if code else line).strip().lower())
    return groups


def load_topic_groups() -> dict[str, list[str]]:
    return json.loads((paths.manifest_dir() / HIERARCHY_FILE).read_text())["groups"]


def load(
    data_dir: str | Path | None = None,
    *,
    seed: int = 0,
    validation_fraction: float = 0.1,
    download: bool = True,
) -> Dataset:
    """Reuters-21578 ModApte with the 90 topics that have at least one training and
    one test story: 7,770 training and 3,019 test stories with at least one label.

    ``validation_fraction`` of the training stories become the validation split
    (iterative stratification, ``seed``).
    """
    folder = files.locate(
        data_dir, NAME, "reut2-000.sgm", urls=URLS, download=download,
        how_to_get="With network access the loader downloads it from the UCI archive; otherwise "
        "put the unpacked reuters21578.tar.gz there (or the archive itself as reuters21578.tar.gz).",
    )
    digests = files.verify(folder, NAME, SGML_FILES + (CATEGORY_FILE,))
    kept, label_names, skipped = modapte_90(read_stories(folder), folder)
    label_sets = [[t for t in s.topics if t in set(label_names)] for s in kept]
    y = multi_hot(label_sets, label_names)
    train_idx = np.array([i for i, s in enumerate(kept) if s.lewis_split == "TRAIN"])
    test_idx = np.array([i for i, s in enumerate(kept) if s.lewis_split == "TEST"])
    splits = stratified_splits(y, seed=seed, validation_fraction=validation_fraction, train_indices=train_idx)
    splits["test"] = test_idx
    groups = load_topic_groups()
    hierarchy = {g: [c for c in codes if c in label_names] for g, codes in groups.items()}
    return Dataset(
        name="reuters",
        texts=[s.text for s in kept],
        y=y,
        label_names=label_names,
        splits={k: splits[k] for k in ("train", "validation", "test")},
        ids=[s.new_id for s in kept],
        provenance=Provenance(
            source=SOURCE, location=str(folder), files=digests, skipped=dict(skipped),
            notes=[f"validation: {validation_fraction:.0%} of ModApte train, iterative stratification, seed {seed}"],
        ),
        hierarchy={g: c for g, c in hierarchy.items() if c},
        extras={"text_type": [s.text_type for s in kept]},
    )


def modapte_90(stories: list[Story], folder: Path) -> tuple[list[Story], list[str], Counter]:
    """The ModApte stories that carry one of the 90 topics with a training and a test
    story, those topics, and how many stories were left out for which reason."""
    skipped: Counter = Counter()
    modapte = []
    for story in stories:
        if story.lewis_split not in ("TRAIN", "TEST") or story.has_topics != "YES":
            skipped["not in ModApte (LEWISSPLIT NOT-USED or TOPICS not YES)"] += 1
        else:
            modapte.append(story)
    train_topics = Counter(t for s in modapte if s.lewis_split == "TRAIN" for t in set(s.topics))
    test_topics = Counter(t for s in modapte if s.lewis_split == "TEST" for t in set(s.topics))
    label_names = sorted(set(train_topics) & set(test_topics))
    kept = []
    for story in modapte:
        if not set(story.topics) & set(label_names):
            skipped["ModApte story with none of the 90 topics"] += 1
        elif not story.text:
            raise DataError(folder / "reut2-*.sgm", "story has neither title nor body.", row=f"NEWID {story.new_id}")
        else:
            kept.append(story)
    return kept, label_names, skipped
