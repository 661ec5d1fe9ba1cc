"""The run cache: a finished chapter's results, kept by what produced them
(introduced in chapter 00; used by every chapter's prerequisites).

When a chapter finishes, :func:`store` copies each data set's result files to
``<cache>/runs/<profile>/<chapter>/<dataset key>/<run key>/``. The run key
(:func:`run_key`) hashes the chapter's parameters (except ``profile``, ``datasets``
and ``data_dir``: the profile is in the path and each data set has its own entry,
keyed by content for a user's file) and its code (:func:`code_key`): its code cells,
the package modules they can run (:func:`mlstc.core.code.closure` of the cells'
imports) and, in turn, the code keys of the earlier chapters whose results it can
read (those named in its cells or in those modules: the results flow from chapter to
chapter, so a changed chapter 01 misses every later chapter that builds on it, while
a fix to the ensembles misses neither chapter 02 nor 03). A later chapter that needs
those results (:mod:`mlstc.book.prerequisites`) restores them from here instead of
running the chapter again; a changed line of that code or a changed parameter misses,
and only the :data:`KEEP` most recent runs of a chapter and data set are kept. The trained
models a run saved for a data set (``models/<name>/``, written by
:meth:`mlstc.book.setup.Run.save_model`, which records ``dataset=<key>``) are kept with
its results, so that chapter 05 can put an earlier chapter's model into a saved ensemble.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from functools import cache
from pathlib import Path

from mlstc.core import cache as caches
from mlstc.core import code, folders, paths, storage, system

NOT_IN_KEY = ("profile", "datasets", "data_dir")
STORE = caches.Store("runs", bounded=False)  # pruned by :func:`prune`: the latest runs, not a size
KEEP = 3  # runs kept per (profile, chapter, data set): each can hold a fine-tuned BERT (about 90 MB)


def source(notebook: str) -> Path:
    path = paths.project_root() / "notebooks" / f"{notebook}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"no chapter {notebook!r}: {path} does not exist")
    return path


def _cells(notebook: str) -> list[dict]:
    return json.loads(source(notebook).read_text())["cells"]


def default_parameters(notebook: str) -> dict:
    """The literal values of the chapter's ``parameters`` cell."""
    for cell in _cells(notebook):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse("".join(cell["source"]))
            return {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets}
    raise ValueError(f"{source(notebook)} has no cell tagged 'parameters'")


def parameter_names(notebook: str) -> list[str]:
    return list(default_parameters(notebook))


def _code_cells(notebook: str) -> list[str]:
    return ["".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code"
            and not {"parameters", "injected-parameters"} & set(c.get("metadata", {}).get("tags", []))]


def _python(cell: str) -> str:
    """A code cell without its IPython lines (``%magic``, ``!shell``), which ``ast`` cannot read."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.splitlines())


@cache
def _strings(source: str) -> frozenset[str]:
    """The string constants of ``source``, docstrings left out."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return frozenset(node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                     and isinstance(node.value, str) and id(node) not in docstrings)


def _uses(notebook: str, cells: list[str]) -> tuple[list[str], list[str]]:
    cells = [_python(c) for c in cells]
    modules = code.closure(set().union(*(code.imports(c) for c in cells)))
    readers = [code.module_file(m).read_text(encoding="utf-8") for m in modules if m.startswith("mlstc.book.")]
    chapters = {p.stem for p in source(notebook).parent.glob("*.ipynb")}
    named = chapters.intersection(set().union(*(_strings(t) for t in cells + readers)))
    return modules, sorted(n for n in named if n < notebook)


def uses(notebook: str) -> tuple[list[str], list[str]]:
    """What a chapter's results can depend on besides its parameters: the package
    modules its code cells can run (sorted), and the earlier chapters (a lower number)
    whose results it can read, found as chapter names in its cells or in the modules
    of :mod:`mlstc.book` it runs (the layer that reads earlier chapters' results:
    ``run.require("01_preprocessing", ...)``, :data:`mlstc.book.members.SAVED`)."""
    return _uses(notebook, _code_cells(notebook))


def code_key(notebook: str, _done: dict | None = None) -> str:
    """A key of the code a chapter's results come from (see the module docstring)."""
    done = {} if _done is None else _done
    if notebook not in done:
        cells = _code_cells(notebook)
        modules, earlier = _uses(notebook, cells)
        done[notebook] = storage.content_key(code.key(modules) if modules else "",
                                             [code_key(n, done) for n in earlier], texts=cells)
    return done[notebook]


def run_key(notebook: str, parameters: dict, backend: dict | None = None) -> str:
    """What a chapter's results depend on: its code (:func:`code_key`), its parameters
    and, where it is not TensorFlow, the Keras backend and its version (``backend``:
    :func:`mlstc.core.system.backend_version`'s, this process's by default)."""
    kept = {k: v for k, v in sorted(parameters.items()) if k not in NOT_IN_KEY}
    backend = system.backend_version() if backend is None else backend
    return storage.content_key(code_key(notebook), kept | ({"_backend": backend} if backend else {}))


def entry(profile: str, notebook: str, dataset_key: str, key: str) -> Path:
    return STORE.path(f"{profile}/{notebook}/{storage.slug(dataset_key)}/{key}")


MODELS = "models"


def models_of(final: Path, dataset_key: str) -> list[Path]:
    """The saved model directories under ``final/models`` that record ``dataset_key``."""
    found = []
    for folder in sorted((final / MODELS).glob("*")) if (final / MODELS).is_dir() else []:
        for meta in ("labels.json", "ensemble.json"):
            if (folder / meta).is_file():
                info = json.loads((folder / meta).read_text()).get("info", {})
                if info.get("dataset") == dataset_key:
                    found.append(folder)
                break
    return found


def store(run, final: Path) -> None:
    """Copy each data set's result files (and saved models) of a finished run into the
    cache (nothing with ``MLSTC_CACHE=0``, :func:`mlstc.core.folders.enabled`)."""
    if not STORE.enabled:
        return
    key = run_key(run.notebook, run.parameters)
    for dataset_key in run.specs:
        files = list(final.glob(f"{storage.slug(dataset_key)}__*"))
        if not files:
            continue
        folder = entry(run.profile.name, run.notebook, dataset_key, key)

        def write(tmp: Path, files=files, dataset_key=dataset_key) -> None:
            for f in files:
                shutil.copy2(f, tmp / f.name)
            for model in models_of(final, dataset_key):
                shutil.copytree(model, tmp / MODELS / model.name)

        STORE.put_folder(str(folder.relative_to(STORE.folder)), write)
        prune(folder.parent)


def prune(dataset_folder: Path, keep: int = KEEP) -> list[Path]:
    """Remove all but the ``keep`` most recently stored runs of one data set (an
    older run's code or parameters are rarely asked for again); the removed entries."""
    runs = sorted((p for p in dataset_folder.iterdir() if p.is_dir() and not p.name.endswith(folders.TMP_SUFFIX)),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return runs[keep:]


def restore(profile: str, notebook: str, dataset_key: str, parameters: dict, names: list[str],
            into: Path, backend: dict | None = None) -> Path | None:
    """Copy the cached files ``names`` of one data set into ``into`` (from a run on
    ``backend``, as :func:`run_key` takes it); the cache entry used, or ``None`` when
    there is none with all of them (or the cache is off)."""
    if not STORE.enabled:
        return None
    folder = entry(profile, notebook, dataset_key, run_key(notebook, parameters, backend))
    if not names or not all((folder / n).is_file() for n in names):
        return None
    into.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if f.is_file():
            shutil.copy2(f, into / f.name)
    for model in sorted((folder / MODELS).glob("*")) if (folder / MODELS).is_dir() else []:
        shutil.rmtree(into / MODELS / model.name, ignore_errors=True)
        shutil.copytree(model, into / MODELS / model.name)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fresh_staging(profile: str, notebook: str) -> Path:
    """An empty staging folder of its own for this process
    (``<staging>/<profile>/<notebook>/run-<pid>``), so that two runs of a chapter at
    once (two prerequisite chains, two terminals) never clear each other's files. The
    folders of runs whose process has ended are removed first."""
    base = paths.staging_dir() / profile / notebook
    for old in base.glob("run-*"):
        pid = old.name.removeprefix("run-")
        if not pid.isdigit() or not _alive(int(pid)) or int(pid) == os.getpid():
            shutil.rmtree(old, ignore_errors=True)
    staging = base / f"run-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    return staging
