"""pytest configuration shared by the unit tests and the nbval notebook run.

For the notebook run (``make notebooks``: nbval over ``notebooks/`` in the smoke
profile) this file also makes one pass serve three checks:

- **each chapter alone**: every notebook starts from its own empty results folder, so
  what it needs from earlier chapters must come through its prerequisites (restored
  from the run cache that the earlier notebooks filled, or produced on the spot);
- **on your own data**: a generated labelled CSV (a few hundred headlines, some labels
  written as paths) is added to every chapter's data sets through
  ``$MLSTC_EXTRA_DATASETS``;
- **nothing beside the user's file**: at the end, the CSV's folder must hold the CSV
  and nothing else.

Both temporary folders (the CSV's and the per-notebook results, about 2 GB) are removed
when the session ends, so that repeated runs on one machine do not fill its disk.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

NBVAL_OUTPUT_TIMEOUT_S = 120
OWN_DATA = "headlines.csv"


def _nbval(config) -> bool:
    return bool(getattr(config.option, "nbval_lax", False) or getattr(config.option, "nbval", False))


def pytest_configure(config):
    if not _nbval(config) or os.environ.get("MLSTC_EXTRA_DATASETS"):
        return
    from mlstc.data import synthetic

    folder = Path(tempfile.mkdtemp(prefix="mlstc-own-data-"))
    path = synthetic.write_headlines(folder / OWN_DATA, rows=240, seed=0)
    os.environ["MLSTC_EXTRA_DATASETS"] = str(path)
    config._mlstc_own_data = path
    config._mlstc_results = Path(tempfile.mkdtemp(prefix="mlstc-nbval-results-"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # before nbval starts a notebook's kernel (which inherits the environment)
    root = getattr(item.config, "_mlstc_results", None)
    if root is not None:
        os.environ["MLSTC_RESULTS_DIR"] = str(root / Path(str(item.fspath)).stem)


def pytest_collection_modifyitems(config, items):
    # nbval waits a hard-coded 5 s for each output message after a cell finishes
    # (nbval issues #151 and #231), which a loaded 2-core CI machine can exceed while
    # matplotlib renders or TensorFlow starts its threads. Give it room; the per-cell
    # execution limit (--nbval-cell-timeout) is separate and unchanged.
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S


def pytest_sessionfinish(session, exitstatus):
    path = getattr(session.config, "_mlstc_own_data", None)
    if path is None:
        return
    beside = sorted(p.name for p in path.parent.iterdir() if p.name != path.name)
    if beside:
        print(f"\nFAILED: the notebooks wrote next to the user's file {path}: {beside}")
        session.exitstatus = 1
    else:
        print(f"\nown data: every chapter ran on {path}; nothing was written next to it")
    for folder in (path.parent, session.config._mlstc_results):
        shutil.rmtree(folder, ignore_errors=True)
