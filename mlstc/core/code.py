"""The package code a computation can run, found from its imports (introduced in
chapter 02 with the fit cache).

A cache keyed by code should miss when a line that can change its result changes,
and only then: keyed by every file of the package, a fix to the ensembles would make
every BiLSTM and BERT train again. :func:`closure` starts from the modules a
computation runs (a training loop, the modules of a model's layers and loss) and
follows every ``import mlstc…`` and ``from mlstc… import …`` in them, at any depth
(imports inside functions too), to every module of the package they can execute;
importing a module also runs its packages' ``__init__``, so those are in it too.
:func:`key` hashes the closure's paths and texts.

This is complete because the package imports only by absolute name, never relatively
or by a computed name (``tests/test_code_closure.py`` checks the whole package). A
module in ``exempt`` is neither hashed nor entered: the cache's own module, whose
storage format is versioned by a number in the key instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from mlstc.core import storage

PACKAGE = "mlstc"
ROOT = Path(__file__).resolve().parents[1]  # the package folder


def module_file(name: str) -> Path | None:
    """The source file of module ``name`` of the package (a package's ``__init__.py``),
    or ``None`` when ``name`` is not one (an attribute, another package)."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports(source: str) -> set[str]:
    """The package's modules that ``source`` imports anywhere (packages included)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(n for n in names if module_file(n) is not None)
    return found


@cache
def _imports_of(name: str) -> frozenset[str]:
    return frozenset(imports(module_file(name).read_text(encoding="utf-8")))


def closure(names: Iterable[str], exempt: Iterable[str] = ()) -> list[str]:
    """Every module of the package that running ``names`` can execute: the modules,
    their packages' ``__init__``, and what they import, transitively (sorted).
    Names outside the package are ignored; ``exempt`` modules are left out and
    not followed."""
    exempt = set(exempt)
    todo = [n for n in names if n and module_file(n) is not None]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name in exempt:
            continue
        seen.add(name)
        todo.extend(_parents(name))
        todo.extend(_imports_of(name))
    return sorted(seen)


def key(names: Iterable[str], exempt: Iterable[str] = ()) -> str:
    """A short hex key of the source of :func:`closure` ``(names, exempt)``."""
    modules = closure(names, exempt)
    if not modules:
        raise ValueError(f"no module of the {PACKAGE} package among {sorted(set(names))}")
    files = [module_file(m) for m in modules]
    return storage.content_key(*(str(f.relative_to(ROOT)) for f in files),
                               texts=[f.read_text(encoding="utf-8") for f in files])
