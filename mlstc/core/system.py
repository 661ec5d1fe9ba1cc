"""The machine and the packages a run uses (introduced in chapter 00).

Versions, CPU/memory/GPU facts, peak memory, seeding, and a quiet TensorFlow import.
The notebook set-up that uses them is :func:`mlstc.book.setup.setup`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import random
import re
import resource
import sys
from functools import cache

import numpy as np

from mlstc.core import paths

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
    ready = "jax" in sys.modules if backend() == "jax" else "tensorflow" in sys.modules
    info["gpus"] = gpus() if ready else f"not checked ({backend()} not imported)"
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


def backend() -> str:
    """The Keras backend of this process: ``$KERAS_BACKEND`` (TensorFlow unless set)."""
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def import_backend():
    """Make Keras' backend ready before Keras is imported: TensorFlow imported quietly
    (:func:`import_tensorflow`) where it is the backend, nothing for JAX. The
    transformer path (fine-tune, pretraining, losses, layers, the training step) calls
    this and runs on either; the LSTM's text layers need TensorFlow itself."""
    return import_tensorflow() if backend() == "tensorflow" else None


def backend_version() -> dict[str, str]:
    """The backend and its version, for keys of work a backend computes differently
    (empty for TensorFlow, the default, so that its keys stay what they were)."""
    name = backend()
    return {} if name == "tensorflow" else {"backend": name, "version": versions([name]).get(name, "?")}


def gpus() -> list[str]:
    """Names of the GPUs the Keras backend sees (imports it)."""
    if backend() == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform == "gpu"]
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
