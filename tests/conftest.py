import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data sets: $MLSTC_DATA_DIR or ../shared/data. CI must have them."""
    path = Path(os.environ.get("MLSTC_DATA_DIR") or ROOT.parent / "shared" / "data")
    if not (path / "reuters21578").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI without the data sets: {path} has no reuters21578/")
        pytest.skip(f"real data sets not found in {path}; set MLSTC_DATA_DIR")
    os.environ.setdefault("MLSTC_DATA_DIR", str(path))  # for notebooks the tests run in a kernel
    return path


@pytest.fixture(scope="session", autouse=True)
def session_dirs(tmp_path_factory):
    """Module-scoped fixtures (set up before :func:`isolated_dirs`) write under a
    temporary folder too, never into the user's cache or results."""
    patch = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("session")
    patch.setenv("MLSTC_CACHE_DIR", str(base / "cache"))
    patch.setenv("MLSTC_RESULTS_DIR", str(base / "results"))
    yield base
    patch.undo()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Every test gets its own cache and results folders."""
    monkeypatch.setenv("MLSTC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MLSTC_RESULTS_DIR", str(tmp_path / "results"))


@pytest.fixture
def committed(monkeypatch):
    """The committed cpu results, read only (skipped where there are none)."""
    from mlstc.core import paths

    root = paths.project_root() / "results"
    if not (root / "cpu").is_dir():
        pytest.skip("no committed cpu results")
    monkeypatch.setenv("MLSTC_RESULTS_DIR", str(root))



@pytest.fixture
def value_and_grad():
    """:func:`mlstc.models.training.value_and_grad`: a test of a loss or layer runs
    under TensorFlow and JAX alike."""
    from mlstc.models import training

    return training.value_and_grad


def pytest_report_header(config):
    """The Keras backend of this run, so that a backend-specific failure names it."""
    return f"Keras backend: {os.environ.get('KERAS_BACKEND', 'tensorflow')}"
