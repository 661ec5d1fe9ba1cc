"""Executing notebooks with papermill and building the book (chapter 00).

``python -m mlstc book`` runs every ``notebooks/NN_*.ipynb`` in order in one
profile, writes the executed copies to ``book/`` and builds the HTML with Jupyter
Book. An executed copy replaces the one in ``book/`` only when the run succeeded;
a failed run is kept in ``_build/failed/`` for reading.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from mlstc import paths, profiles


def notebooks() -> list[Path]:
    """The book's source notebooks, in chapter order."""
    return sorted((paths.project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def find(name: str) -> Path:
    """A source notebook by file name, stem or chapter number (``00``, ``00_data``)."""
    for nb in notebooks():
        if name in (nb.name, nb.stem, nb.stem.split("_")[0]):
            return nb
    raise ValueError(f"No notebook {name!r} in notebooks/; there are: {', '.join(n.stem for n in notebooks())}")


def execute(
    notebook: Path,
    profile: str = "",
    parameters: dict[str, str] | None = None,
    *,
    output_dir: Path | None = None,
    timeout_s: int | None = None,
) -> Path:
    """Run one notebook with papermill in a fresh kernel; return the executed copy."""
    prof = profiles.resolve(profile)
    root = paths.project_root()
    output_dir = output_dir or root / "book"
    failed_dir = root / "_build" / "failed"
    output_dir.mkdir(parents=True, exist_ok=True)
    failed_dir.mkdir(parents=True, exist_ok=True)
    partial = failed_dir / notebook.name
    command = [sys.executable, "-m", "mlstc.runner", str(notebook), str(partial), "--cwd", str(root),
               "-k", "python3", "--progress-bar", "-r", "profile", prof.name]
    for key, value in (parameters or {}).items():
        command += ["-p", key, value]
    timeout_s = timeout_s or prof.notebook_timeout_s
    print(f"[{time.strftime('%H:%M:%S')}] {notebook.name}: profile {prof.name}, timeout {timeout_s} s", flush=True)
    started = time.perf_counter()
    environment = dict(os.environ, MLSTC_PROFILE=prof.name)
    # papermill and its kernel run in their own process group, so a timeout stops both
    process = subprocess.Popen(command, env=environment, start_new_session=True)
    try:
        returncode = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise RuntimeError(f"{notebook.name} ran past its {timeout_s} s timeout; partial run in {partial}") from None
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    if returncode:
        raise RuntimeError(f"{notebook.name} failed; the executed notebook with the error is {partial}")
    final = output_dir / notebook.name
    shutil.move(partial, final)
    print(f"[{time.strftime('%H:%M:%S')}] {notebook.name}: done in {time.perf_counter() - started:.0f} s -> {final}",
          flush=True)
    return final


def build(strict: bool = True) -> None:
    """``jupyter-book build . -W -n --keep-going`` (HTML in ``_build/html``)."""
    root = paths.project_root()
    command = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
               "build", str(root)]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    try:
        subprocess.run(command, check=True)
    except subprocess.CalledProcessError:
        raise RuntimeError("the book build failed (warnings are errors); see the messages above") from None
    index = root / "_build" / "html" / "index.html"
    if not index.is_file():
        raise RuntimeError(f"the book build wrote no {index}")


def book(profile: str = "", only: list[str] | None = None, *, execute_notebooks: bool = True,
         build_html: bool = True) -> None:
    """Execute the notebooks (all, or ``only`` these) and build the book."""
    if execute_notebooks:
        for nb in [find(n) for n in only] if only else notebooks():
            execute(nb, profile)
    if build_html:
        build()


EXPECTED_ERROR_TAG = "raises-exception"


def _check_errors(nb, output_path):
    """papermill's error check, except that a cell tagged ``raises-exception`` (which
    nbclient and nbval honour, but papermill 2.7's final check does not) must raise,
    and its error does not fail the run."""
    import copy

    import papermill.execute

    checked = copy.deepcopy(nb)
    for cell in checked.cells:
        if EXPECTED_ERROR_TAG in cell.get("metadata", {}).get("tags", []):
            if not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                raise RuntimeError(f"a cell tagged {EXPECTED_ERROR_TAG} did not raise:\n{cell.source}")
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
            cell.metadata.get("papermill", {})["exception"] = False
    papermill.execute._raise_for_execution_errors(checked, output_path)


if __name__ == "__main__":  # papermill's command line with the check above (see execute())
    import papermill.cli
    import papermill.execute

    papermill.execute._raise_for_execution_errors = papermill.execute.raise_for_execution_errors
    papermill.execute.raise_for_execution_errors = _check_errors
    papermill.cli.papermill(prog_name="papermill")
