"""Executing notebooks with papermill and building the book (chapter 00).

``python -m mlstc book`` runs every ``notebooks/NN_*.ipynb`` in order in one
profile, writes the executed copies to ``book/`` and builds the HTML with Jupyter
Book. Each notebook runs in its own process group (so a timeout stops its kernel
too) through papermill's public API; a cell tagged ``raises-exception`` (which
nbclient and nbval honour) must raise, and only its error is excused
(:func:`check_errors`). An executed copy replaces the one in ``book/`` only when
the run succeeded; a failed run is kept in ``_build/failed/<profile>/`` for reading, and its
results stay in the staging folder, never in ``results/``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from mlstc.book import runlog, shown
from mlstc.core import paths, profiles

CHAIN_ENV = "MLSTC_PREREQUISITE_CHAIN"  # the chapters a prerequisite run is made for (set by prerequisites.ensure)


def notebooks() -> list[Path]:
    """The book's source notebooks, in chapter order."""
    return sorted((paths.project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def find(name: str) -> Path:
    """A source notebook by file name, stem or chapter number (``00``, ``00_data``)."""
    for nb in notebooks():
        if name in (nb.name, nb.stem, nb.stem.split("_")[0]):
            return nb
    raise ValueError(f"No notebook {name!r} in notebooks/; there are: {', '.join(n.stem for n in notebooks())}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def execute(
    notebook: Path,
    profile: str = "",
    parameters: dict[str, str] | None = None,
    *,
    output_dir: Path | None = None,
    timeout_s: int | None = None,
    environment: dict[str, str] | None = None,
    log: bool = True,
) -> Path:
    """Run one notebook with papermill in a fresh kernel; return the executed copy,
    logged in the run log unless ``log`` is false (a check that redraws a page)."""
    prof = profiles.resolve(profile)
    made_for = (environment or {}).get(CHAIN_ENV, "")  # set when an earlier chapter runs as a prerequisite
    root = paths.project_root()
    output_dir = output_dir or root / "book"
    failed_dir = root / "_build" / "failed" / prof.name  # per profile: a smoke check beside a cpu run
    output_dir.mkdir(parents=True, exist_ok=True)
    failed_dir.mkdir(parents=True, exist_ok=True)
    partial = failed_dir / notebook.name
    command = [sys.executable, "-m", "mlstc.book.runner", str(notebook), str(partial), str(root),
               json.dumps({"profile": prof.name, **(parameters or {})})]
    timeout_s = timeout_s or prof.notebook_timeout_s
    print(f"[{time.strftime('%H:%M:%S')}] {notebook.name}: profile {prof.name}, timeout {timeout_s} s", flush=True)
    started = time.perf_counter()
    # TQDM_DISABLE: progress bars (a library's download or encoding loop) are not page content
    environment = dict(os.environ, MLSTC_PROFILE=prof.name, TQDM_DISABLE="1", **(environment or {}))
    # papermill and its kernel run in their own process group, so a timeout stops both
    process = subprocess.Popen(command, env=environment, start_new_session=True)
    stop_on_term = threading.current_thread() is threading.main_thread()
    if stop_on_term:  # a SIGTERM to this process (`timeout`, a CI runner) stops the notebook's group too
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        returncode = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise RuntimeError(f"{notebook.name} ran past its {timeout_s} s timeout; partial run in {partial}; "
                           f"{_results_note(notebook, prof)}") from None
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGKILL)
        print(f"{notebook.name} stopped; {_results_note(notebook, prof)}", file=sys.stderr)
        raise
    finally:
        if stop_on_term:
            signal.signal(signal.SIGTERM, previous)
    if returncode:
        raise RuntimeError(f"{notebook.name} failed; the executed notebook with the error is {partial}; "
                           f"{_results_note(notebook, prof)}")
    final = output_dir / notebook.name
    shutil.move(partial, final)
    if log:
        runlog.log_run(final, made_for=made_for)
    print(f"[{time.strftime('%H:%M:%S')}] {notebook.name}: done in {time.perf_counter() - started:.0f} s -> "
          f"{shown.path(final)}",
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


def _results_note(notebook: Path, profile: profiles.Profile) -> str:
    runs = sorted((paths.staging_dir() / profile.name / notebook.stem).glob("run-*"), key=lambda p: p.stat().st_mtime)
    return f"results/ is unchanged; partial results are in {runs[-1]}" if runs else "results/ is unchanged"


EXPECTED_ERROR_TAG = "raises-exception"


def check_errors(nb) -> None:
    """Fail unless every error in ``nb`` comes from a cell tagged
    ``raises-exception``, and every such cell raised. Removes papermill's error
    banner cells and clears its exception flags where the errors were expected."""
    import papermill.execute

    nb.cells = [c for c in nb.cells if papermill.execute.ERROR_MARKER_TAG not in c.get("metadata", {}).get("tags", [])]
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        expected = EXPECTED_ERROR_TAG in cell.get("metadata", {}).get("tags", [])
        if expected and not errors:
            raise RuntimeError(f"cell {index}, tagged {EXPECTED_ERROR_TAG}, did not raise:\n{cell.source}")
        if errors and not expected:
            raise RuntimeError(f"cell {index} raised {errors[0]['ename']}: {errors[0]['evalue']}")
        if expected:
            cell.metadata.get("papermill", {})["exception"] = False
    nb.metadata.get("papermill", {})["exception"] = None


INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it adds
HIDDEN_TAG = "remove-cell"  # Jupyter Book leaves such a cell out of the page


INJECTED_HEADING = "# this run's parameters (papermill); the defaults are in the cell above"


def label_injected(nb) -> None:
    """Show papermill's injected-parameters cell under a heading that says what it
    is: the page shows the chapter's defaults and, below them, the values this run
    used (the profile among them), rather than defaults alone."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if INJECTED_TAG in tags:
            cell.metadata["tags"] = [t for t in tags if t != HIDDEN_TAG]
            lines = cell.source.split("\n")
            body = lines[1:] if lines and lines[0].strip() == "# Parameters" else lines
            cell.source = "\n".join([INJECTED_HEADING, *body])


_ABSOLUTE = re.compile(r"/(?:[\w.+@-]+/)+[\w.+@-]*")


def _machine_folders() -> tuple[str, ...]:
    import tempfile

    folders = {str(paths.project_root()), str(Path.home()), tempfile.gettempdir(), sys.prefix}
    return tuple(f.rstrip("/") + "/" for f in folders if f)


def hide_paths(nb) -> None:
    """Write every machine path in the outputs (the checkout, home, a temporary
    folder, the virtual environment; an error message naming an installed module's
    file, say) as :func:`mlstc.book.shown.path` does: relative, or from the package's
    folder on; papermill's record of the input and output paths too. Other text, URLs
    included, is left as it is."""
    folders = _machine_folders()

    def clean(text: str) -> str:
        def one(match):
            found = match.group(0)
            machine = found.startswith(folders) or "site-packages" in found or "dist-packages" in found
            return shown.path(found) if machine else found

        return _ABSOLUTE.sub(one, text)

    papermill = nb.get("metadata", {}).get("papermill", {})
    for key in ("input_path", "output_path"):  # where papermill read and wrote it: provenance, not the machine
        if isinstance(papermill.get(key), str):
            papermill[key] = clean(papermill[key])
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["evalue"] = clean(output.get("evalue", ""))
                output["traceback"] = [clean(line) for line in output.get("traceback", [])]
            elif output.get("output_type") == "stream":
                output["text"] = clean(output.get("text", ""))


def parse_value(text: str):
    """A command-line parameter value: a Python literal (``3``, ``1e-4``, ``True``)
    where it is one, else the string itself."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, (int, float, bool, str)) or value is None else text


def stop_with_parent(interval_s: float = 2.0) -> threading.Thread:
    """Stop this process's group (papermill and its kernel) as soon as the process
    that started it is gone. Each run has its own process group, so that a timeout
    stops its kernel too; a chapter run as another's prerequisite is started from
    that chapter's kernel, and when that kernel is stopped (a timeout, Ctrl-C, a CI
    runner's kill) nothing else would stop the prerequisite's group, which would go
    on training unseen. A watch thread, since a process learns of its parent's end
    only by its parent id changing; portable to any POSIX system."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(interval_s)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="stop-with-parent", daemon=True)
    thread.start()
    return thread


def _main(argv: list[str]) -> int:
    """``python -m mlstc.book.runner IN OUT CWD PARAMETERS_JSON``: papermill's public
    ``execute_notebook``, then :func:`check_errors` on what it wrote. The run stops
    with the process that started it (:func:`stop_with_parent`)."""
    stop_with_parent()
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source, output, cwd, parameters = argv
    parameters = json.loads(parameters)
    try:
        papermill.execute_notebook(source, output, parameters=parameters, kernel_name="python3", progress_bar=True,
                                   cwd=cwd)
    except PapermillExecutionError:
        pass  # papermill flags every error, expected or not: check_errors decides
    nb = nbformat.read(output, as_version=4)
    label_injected(nb)
    hide_paths(nb)
    try:
        check_errors(nb)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    nbformat.write(nb, output)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
