"""The book's one repository address (``repository.url`` and ``.branch`` in
``_config.yml``) and the places that must agree with it: Jupyter Book's repository,
issues and launch buttons, each chapter's *Open in Colab* badge and the line of its
Colab set-up cell that fetches the code, in ``notebooks/`` and ``book/`` alike (the
copy in ``book/`` is what a Colab badge opens; the set-up cell does nothing outside
Colab, so rewriting it changes nothing a run computed).

The book has no public address yet, so by default there is none of them: no buttons,
no badges, and the set-up cell asks a Colab reader to upload the code. Once the owner
has one, ``python -m mlstc repository https://github.com/OWNER/NAME`` writes it
everywhere; ``--none`` takes it out again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import yaml

from mlstc.core import paths

CONFIG = "_config.yml"
FOLDERS = ("notebooks", "book")
BADGE_LINE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                        r"\((?P<url>[^)\s]+)\)(\n\n|\s*$)")
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/book/(?P<name>[\w.-]+\.ipynb)")
FETCH = re.compile(r"!\[ -d /content/mlstc \] \|\| (?P<command>.*)")
NO_REPOSITORY = 'echo "upload the mlstc folder to /content/mlstc first: the book has no public repository yet"'


def configured(root: Path | None = None) -> tuple[str, str]:
    """``(url, branch)`` from ``_config.yml``; the url is ``""`` where the book has none."""
    config = yaml.safe_load(((root or paths.project_root()) / CONFIG).read_text())
    repository = config.get("repository") or {}
    return (repository.get("url") or "").rstrip("/"), repository.get("branch", "main")


def badge_url(url: str, branch: str, notebook: str) -> str:
    """The Colab link of a chapter of the book at ``url``."""
    return f"{url.replace('https://github.com/', 'https://colab.research.google.com/github/')}/blob/{branch}/book/{notebook}"


def fetch_command(url: str) -> str:
    """What the Colab set-up cell runs when ``/content/mlstc`` is missing."""
    return f"git clone --quiet --depth 1 {url} /content/mlstc" if url else NO_REPOSITORY


def _notebooks(root: Path):
    return [p for folder in FOLDERS for p in sorted((root / folder).glob("*.ipynb"))]


def disagreements(root: Path | None = None) -> list[str]:
    """Every badge or fetch line that does not match the configured repository (none:
    no badge, and a fetch line that asks for an upload), and every notebook without its
    fetch line or, where there is a repository, without its badge."""
    root = root or paths.project_root()
    url, branch = configured(root)
    found = []
    for path in _notebooks(root):
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        where = f"{path.parent.name}/{path.name}"
        badges = [m.group(0) for m in BADGE.finditer(text)]
        fetches = [m.group("command") for m in FETCH.finditer(text)]
        if not fetches:
            found.append(f"{where}: no Colab fetch line")
        if url and not badges:
            found.append(f"{where}: no Colab badge")
        found += [f"{where}: badge {b}" for b in badges if not url or b != badge_url(url, branch, path.name)]
        found += [f"{where}: fetches with {c}" for c in fetches if c != fetch_command(url)]
    return found


def _set(text: str, key: str, value: str) -> str:
    """``key: value`` on the first line of ``text`` that sets ``key``."""
    return re.sub(rf"(?m)^(\s+{key}:).*$", lambda m: f"{m.group(1)} {value}", text, count=1)


def _config_text(text: str, url: str, branch: str) -> str:
    empty = '""'
    text = _set(_set(text, "url", url or empty), "branch", branch)
    for key in ("use_repository_button", "use_issues_button"):
        text = _set(text, key, "true" if url else "false")
    for key, value in (("binderhub_url", "https://mybinder.org"), ("colab_url", "https://colab.research.google.com")):
        text = _set(text, key, value if url else empty)
    return text


def point_at(url: str | None, branch: str = "main", root: Path | None = None) -> int:
    """Set the repository (``None``: none) in ``_config.yml`` with its buttons, and
    write every badge and fetch line to match; returns how many notebooks changed."""
    root = root or paths.project_root()
    url = (url or "").rstrip("/")
    if url and not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"expected https://github.com/OWNER/NAME, not {url!r}")
    config = root / CONFIG
    config.write_text(_config_text(config.read_text(), url, branch))
    changed = 0
    for path in _notebooks(root):
        nb = nbformat.read(path, as_version=4)
        before = [c.source for c in nb.cells]
        title = nb.cells[0]
        title.source = BADGE_LINE.sub("", title.source).rstrip("\n")
        if url:
            head, _, rest = title.source.partition("\n\n")
            badge = (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                     f"({badge_url(url, branch, path.name)})")
            title.source = f"{head}\n\n{badge}\n\n{rest}"
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = FETCH.sub(lambda m: f"![ -d /content/mlstc ] || {fetch_command(url)}", cell.source)
        if [c.source for c in nb.cells] != before:
            nbformat.write(nb, path)
            changed += 1
    return changed
