"""The book's one repository URL (``repository.url`` and ``.branch`` in
``_config.yml``) and the places that must agree with it: each chapter's *Open in
Colab* badge and the ``git clone`` of its Colab set-up cell, in ``notebooks/`` and
``book/`` alike. Jupyter Book's repository, issues and launch buttons read
``_config.yml`` directly.

Point the book at your fork with ``python -m mlstc repository https://github.com/you/mlstc``:
it rewrites the configuration and every badge and clone line, nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from mlstc.core import paths

CONFIG = "_config.yml"
FOLDERS = ("notebooks", "book")
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/book/(?P<name>[\w.-]+\.ipynb)")
CLONE = re.compile(r"git clone --quiet --depth 1 (?P<url>\S+) /content/mlstc")


def configured(root: Path | None = None) -> tuple[str, str]:
    """``(url, branch)`` from ``_config.yml``."""
    config = yaml.safe_load(((root or paths.project_root()) / CONFIG).read_text())
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def badge_url(url: str, branch: str, notebook: str) -> str:
    """The Colab link of a chapter of the book at ``url``."""
    return f"{url.replace('https://github.com/', 'https://colab.research.google.com/github/')}/blob/{branch}/book/{notebook}"


def _notebooks(root: Path):
    return [p for folder in FOLDERS for p in sorted((root / folder).glob("*.ipynb"))]


def disagreements(root: Path | None = None) -> list[str]:
    """Every badge or clone line that does not point at the configured repository,
    and every notebook without a badge or a clone line."""
    root = root or paths.project_root()
    url, branch = configured(root)
    found = []
    for path in _notebooks(root):
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        where = f"{path.parent.name}/{path.name}"
        badges = [m.group(0) for m in BADGE.finditer(text)]
        clones = [m.group("url") for m in CLONE.finditer(text)]
        if not badges or not clones:
            found.append(f"{where}: no Colab badge or no clone line")
        found += [f"{where}: badge {b}" for b in badges if b != badge_url(url, branch, path.name)]
        found += [f"{where}: clones {c}" for c in clones if c != url]
    return found


def point_at(url: str, branch: str = "main", root: Path | None = None) -> int:
    """Set the repository in ``_config.yml`` and rewrite every badge and clone line
    to it; returns how many notebooks changed."""
    root = root or paths.project_root()
    url = url.rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"expected https://github.com/OWNER/NAME, not {url!r}")
    config = root / CONFIG
    text = config.read_text()
    text = re.sub(r"(?m)^(\s+url:\s*)\S+", rf"\g<1>{url}", text, count=1)
    text = re.sub(r"(?m)^(\s+branch:\s*)\S+", rf"\g<1>{branch}", text, count=1)
    config.write_text(text)
    changed = 0
    for path in _notebooks(root):
        raw = path.read_text()
        new = BADGE.sub(lambda m: badge_url(url, branch, m.group("name")), raw)
        new = CLONE.sub(f"git clone --quiet --depth 1 {url} /content/mlstc", new)
        if new != raw:
            path.write_text(new)
            changed += 1
    return changed
