"""The package's shape: subpackages in one-way layers, small modules."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlstc"
LAYERS = ["core", "data", "text", "evaluation", "models", "ensembles", "saved", "results", "book"]
MAX_LINES = 400


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_back_up_the_flow(path):
    relative = path.relative_to(PACKAGE).with_suffix("")
    if len(relative.parts) == 1:
        return  # mlstc/__init__.py and __main__.py sit above the layers
    own = LAYERS.index(relative.parts[0])
    for node in ast.walk(ast.parse(path.read_text())):  # module level and inside functions alike
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mlstc"):
            names = [node.module]
            if node.module == "mlstc":
                names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("mlstc")]
        for name in names:
            layer = layer_of(name)
            assert layer is None or layer <= own, f"{relative} ({LAYERS[own]}) imports {name} ({LAYERS[layer]})"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_every_module_belongs_to_a_layer():
    assert len(modules()) > len(LAYERS)
    for path in modules():
        relative = path.relative_to(PACKAGE)
        assert len(relative.parts) == 1 or relative.parts[0] in LAYERS, relative


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports, at module level or inside functions."""
    names = {_module_name(p): p for p in modules()}
    graph = {}
    for name, path in names.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mlstc"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in names else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("mlstc"))
        graph[name] = {d for d in deps if d in names and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_no_subpackage_holds_more_than_three_tenths_of_the_package():
    """The folders show the package's parts: none grows into a catch-all."""
    lines = {path: len(path.read_text().splitlines()) for path in modules()}
    total = sum(lines.values())
    share = {layer: sum(n for p, n in lines.items() if p.relative_to(PACKAGE).parts[0] == layer) / total
             for layer in LAYERS}
    assert max(share.values()) <= 0.30, {k: round(v, 2) for k, v in share.items()}


def test_the_readme_stays_short():
    """What the book is, how to run and extend it; history goes to CHANGELOG.md."""
    words = len((PACKAGE.parent / "README.md").read_text(encoding="utf-8").split())
    assert words <= 1500, f"README.md has {words} words; move history to CHANGELOG.md"


RESULTS_LIMIT_MB = 60


def test_the_committed_results_stay_small_enough_to_clone():
    """Every cpu result keeps its validation and test probabilities in git (16-bit,
    compressed); together they stay within 60 MB, and trained weights stay out."""
    import subprocess

    root = PACKAGE.parent
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "results/cpu"],
                            cwd=root, capture_output=True, text=True, check=True).stdout.split()
    assert listed, "results/cpu holds no files git would commit"
    total = sum((root / f).stat().st_size for f in listed if (root / f).is_file()) / 1e6
    assert total <= RESULTS_LIMIT_MB, f"results/cpu is {total:.1f} MB, over {RESULTS_LIMIT_MB} MB"
    weights = [f for f in listed if f.endswith((".keras", ".h5", ".safetensors", ".weights.h5")) or "/models/" in f]
    assert not weights, f"trained weights would be committed: {weights[:5]}"


MAX_FUNCTION_LINES = 60


def test_no_function_exceeds_sixty_lines():
    long = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    long.add((path.relative_to(PACKAGE).as_posix(), node.name))
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {sorted(long)}; split them into named steps"


def test_the_linter_reads_every_module_and_test():
    """ruff's excludes name the top-level executed copies (``./book``), not every
    folder called ``book``: the package's ``mlstc/book`` and ``tests/book`` are linted."""
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (requirements-dev.txt)")
    root = PACKAGE.parent
    listed = subprocess.run([ruff, "check", "--show-files", "."], cwd=root, capture_output=True, text=True,
                            check=True).stdout
    linted = {Path(line.strip()).resolve() for line in listed.splitlines() if line.strip().endswith(".py")}
    wanted = set(modules()) | {p.resolve() for p in (root / "tests").rglob("*.py")}
    assert wanted and not sorted(str(p.relative_to(root)) for p in wanted - linted)
