"""The import closure that keys the fit cache (mlstc.core.code)."""

import ast
from pathlib import Path

import pytest

from mlstc.core import code

PACKAGE = Path(code.__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_package_imports_itself_only_by_absolute_name(path):
    """What makes the closure complete: no relative import, no import by a computed name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert tree.body or path.name == "__init__.py", f"{path}: an empty module"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            assert name not in ("importlib.import_module", "import_module", "__import__"), \
                f"{path}:{node.lineno}: import by a computed name hides code from mlstc.core.code.closure"


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A small package named like ours: a -> b (inside a function) -> sub.c; d alone."""
    root = tmp_path / "mlstc"
    (root / "sub").mkdir(parents=True)
    files = {"__init__.py": "", "sub/__init__.py": "import numpy\n",
             "a.py": "from mlstc import b\n",
             "b.py": "def f():\n    from mlstc.sub import c\n    return c.x\n",
             "sub/c.py": "import os\nx = 1\n", "d.py": "x = 2\n"}
    for name, text in files.items():
        (root / name).write_text(text)
    monkeypatch.setattr(code, "ROOT", root)
    code._imports_of.cache_clear()
    yield root
    code._imports_of.cache_clear()


def test_closure_follows_imports_at_any_depth_and_the_packages_on_the_way(package):
    assert code.closure(["mlstc.a"]) == ["mlstc", "mlstc.a", "mlstc.b", "mlstc.sub", "mlstc.sub.c"]
    assert code.closure(["mlstc.a"], exempt=["mlstc.b"]) == ["mlstc", "mlstc.a"]  # not entered either
    assert code.closure(["numpy", "", "mlstc.sub.c.x"]) == []  # outside the package, or not a module
    assert code.imports("from mlstc.sub import c, nothing\nimport mlstc.d") == {"mlstc.sub", "mlstc.sub.c",
                                                                               "mlstc.d"}


def test_key_changes_with_the_code_in_the_closure_only(package):
    before = code.key(["mlstc.a"])
    (package / "d.py").write_text("x = 3\n")
    assert code.key(["mlstc.a"]) == before
    (package / "sub" / "c.py").write_text("import os\nx = 2\n")
    assert code.key(["mlstc.a"]) != before
    with pytest.raises(ValueError, match="no module"):
        code.key(["numpy"])


def test_the_fit_cache_keys_a_training_loop_by_its_closure_not_by_the_package():
    from mlstc.models import fitcache

    modules = code.closure(["mlstc.models.training"], exempt=["mlstc.models.fitcache"])
    assert "mlstc.models.callbacks" in modules and "mlstc.text.batching" in modules
    assert not {"mlstc.models.fitcache", "mlstc.models.boosting", "mlstc.ensembles.combiners",
                "mlstc.book.setup"} & set(modules)
    assert fitcache.code_key(["mlstc.models.training"]) != fitcache.code_key(["mlstc.models.heads"])


def _notebook(path: Path, *cells: str, parameters: str = "seed = 0") -> None:
    import json

    tagged = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": parameters}]
    path.write_text(json.dumps({"cells": tagged + [{"cell_type": "code", "metadata": {}, "source": c}
                                                   for c in cells]}))


@pytest.fixture
def chapters(package, tmp_path, monkeypatch):
    """Three chapters over the small package: 02_b reads 01_a's results; 03_c names
    01_a only where it runs mlstc.book.members (and 02_b only in a docstring)."""
    from mlstc.book import runcache

    (package / "book").mkdir()
    (package / "book" / "__init__.py").write_text("")
    (package / "book" / "members.py").write_text('"""Not 02_b."""\nSAVED = {"01_a": ["m"]}\n')
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "01_a.ipynb", "from mlstc import a\n")
    _notebook(folder / "02_b.ipynb", "%matplotlib inline\nimport mlstc.d\n", 'run.require("01_a", ["m"])')
    _notebook(folder / "03_c.ipynb", "from mlstc.book import members\n")
    monkeypatch.setattr(runcache, "source", lambda name: folder / f"{name}.ipynb")
    return runcache, folder


def test_a_chapters_run_key_covers_its_closure_and_the_chapters_it_reads(package, chapters):
    runcache, folder = chapters
    assert runcache.uses("01_a") == (["mlstc", "mlstc.a", "mlstc.b", "mlstc.sub", "mlstc.sub.c"], [])
    assert runcache.uses("02_b") == (["mlstc", "mlstc.d"], ["01_a"])  # a magic line does not stop the parse
    assert runcache.uses("03_c")[1] == ["01_a"]  # through members.SAVED, not the docstring's 02_b
    keys = {n: runcache.code_key(n) for n in ("01_a", "02_b", "03_c")}
    (package / "d.py").write_text("x = 3\n")  # run by 02_b only
    assert {n: runcache.code_key(n) == keys[n] for n in keys} == {"01_a": True, "02_b": False, "03_c": True}
    keys = {n: runcache.code_key(n) for n in keys}
    (package / "sub" / "c.py").write_text("x = 5\n")  # run by 01_a, whose results the others read
    assert all(runcache.code_key(n) != keys[n] for n in keys)
    keys = {n: runcache.code_key(n) for n in keys}
    _notebook(folder / "02_b.ipynb", "import mlstc.d\n", 'run.require("01_a", ["m", "n"])')
    assert {n: runcache.code_key(n) == keys[n] for n in keys} == {"01_a": True, "02_b": False, "03_c": True}
    _notebook(folder / "01_a.ipynb", "from mlstc import a\n", parameters="seed = 1")  # parameters are not code
    assert runcache.code_key("01_a") == keys["01_a"]
    assert runcache.run_key("01_a", {"seed": 0}) != runcache.run_key("01_a", {"seed": 1})
