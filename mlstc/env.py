"""The environment a notebook runs in: setup, versions, machine (chapter 00).

:func:`setup` is the one setup call at the top of every notebook: it resolves the
profile, seeds every random generator in use, sets the plot style, and returns a
:class:`Run` that times the notebook and saves its results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import os
import platform
import random
import re
import resource
import sys
import time
import warnings
from functools import cache

import numpy as np

from mlstc import paths, profiles

# Quiet, deterministic defaults; set before TensorFlow or transformers are imported.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's native INFO/WARNING/"E" chatter
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@cache
def requirement_names() -> tuple[str, ...]:
    """Package names pinned in requirements.txt and requirements-models.txt: the one
    list that the README, the environment page and :func:`versions` share."""
    names = []
    for file in ("requirements.txt", "requirements-models.txt"):
        path = paths.project_root() / file
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                names.append(re.split(r"[=<>!~ ;\[]", line)[0])
    return tuple(names)


def versions(names=None) -> dict[str, str]:
    """Installed version of each package (``"not installed"`` where absent)."""
    out = {"python": platform.python_version()}
    for name in names or requirement_names():
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@cache
def machine() -> dict:
    """CPU, cores, memory and accelerators, as far as they can be known cheaply."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count()}
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    info["gpus"] = gpus() if "tensorflow" in sys.modules else "not checked (TensorFlow not imported)"
    return info


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for a moment: TensorFlow's C++ start-up
    messages ("oneDNN custom operations are on", "Could not find cuda drivers") are
    written before its log level applies, and would clutter every notebook."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


@cache
def import_tensorflow():
    """Import TensorFlow and initialise its devices quietly; return the module."""
    with native_stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
    tf.get_logger().setLevel("ERROR")  # e.g. retracing notices for length-bucketed batches
    return tf


def gpus() -> list[str]:
    """Names of the GPUs TensorFlow sees (imports TensorFlow)."""
    return [d.name for d in import_tensorflow().config.list_physical_devices("GPU")]


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def in_colab() -> bool:
    return "google.colab" in sys.modules


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and, when they are imported, Keras/TensorFlow."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


@dataclasses.dataclass
class Run:
    """One execution of a notebook: its profile, seed, timer and results writer."""

    notebook: str
    profile: profiles.Profile
    seed: int
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 1)

    def save(self, *, dataset: str, model: str, metrics, **kwargs):
        """:func:`mlstc.results.save` with this run's notebook, profile, seed and time."""
        from mlstc import results

        return results.save(notebook=self.notebook, dataset=dataset, model=model, profile=self.profile.name,
                            seed=self.seed, metrics=metrics, wall_time_s=self.elapsed(), **kwargs)


def setup(notebook: str, profile: str = "", seed: int = 0, *, show: bool = True) -> Run:
    """Resolve the profile, seed everything, set the plot style; print what runs where."""
    from mlstc import plots

    run = Run(notebook=notebook, profile=profiles.resolve(profile), seed=seed)
    seed_everything(seed)
    plots.style()
    warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto without ipywidgets
    import pandas as pd

    pd.set_option("display.max_colwidth", 200)
    if show:
        v = versions()
        shown = {k: v[k] for k in ("python", "numpy", "pandas", "scikit-learn", "tensorflow", "keras", "keras-hub",
                                   "transformers", "spacy") if k in v}
        print(f"notebook {notebook} | profile {run.profile.name} ({run.profile.description}) | seed {seed}")
        print(f"machine: {machine()['cpu_count']} CPU cores, {machine().get('memory_gib', '?')} GiB"
              + (" | Colab" if in_colab() else ""))
        print("versions: " + ", ".join(f"{k} {val}" for k, val in shown.items()))
        print(f"data: {paths.data_dir()} | results: {paths.results_dir(run.profile.name)}")
    return run
