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
    assert not {"mlstc.models.fitcache", "mlstc.models.boosting", "mlstc.models.ensembles",
                "mlstc.book.setup"} & set(modules)
    assert fitcache.code_key(["mlstc.models.training"]) != fitcache.code_key(["mlstc.models.heads"])
