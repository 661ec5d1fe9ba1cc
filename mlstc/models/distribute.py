"""Training on more than one device (for chapter 07 and every neural chapter).

:func:`strategy` names a ``tf.distribute`` strategy: ``"default"`` (one device, what
the book's cpu runs use), ``"mirrored"`` (every GPU of this machine, or the CPUs given
as logical devices; one copy of the model per device, gradients summed each step) and
``"multi-worker"`` (several machines, each told its role by the ``TF_CONFIG``
environment variable). Build and compile the model inside ``strategy.scope()``; the
shared loop of :mod:`mlstc.models.training` then trains it unchanged.

:func:`scale` applies the linear scaling rule of Goyal et al. (2017): with ``k``
replicas each seeing the per-device batch, the global batch is ``k`` times larger and
so is the learning rate (keep the warm-up: it is what makes the rule work).
"""

from __future__ import annotations

import json
import os

from mlstc.core import system

system.import_tensorflow()
import tensorflow as tf  # noqa: E402

NAMES = ("default", "mirrored", "multi-worker")
ENV = "MLSTC_STRATEGY"  # how `python -m mlstc run --strategy` reaches a chapter's kernel


def strategy(name: str = "default") -> tf.distribute.Strategy:
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        config = os.environ.get("TF_CONFIG")
        if not config or "cluster" not in json.loads(config):
            raise ValueError("multi-worker training needs TF_CONFIG with the cluster and this worker's task, e.g. "
                             '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                             '"task": {"type": "worker", "index": 0}}')
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy must be one of {', '.join(NAMES)}, not {name!r}")


def activate(name: str | None = None) -> tf.distribute.Strategy:
    """Make the strategy ``name`` (default: ``$MLSTC_STRATEGY``, else ``"default"``)
    the one every model built afterwards is placed with, without a ``scope()`` in the
    chapter's code (``tf.distribute.experimental_set_strategy``). Every chapter's
    set-up calls this, so ``python -m mlstc run 03 --strategy mirrored`` trains chapter
    03 on every GPU of the machine. The global batch stays what the chapter's
    ``batch_size`` says (each replica gets its share), so results are comparable with
    one device; for the linear scaling rule pass the :func:`scale`-d batch size and
    learning rate as parameters."""
    name = name or os.environ.get(ENV, "") or "default"
    chosen = strategy(name)
    tf.distribute.experimental_set_strategy(None if name == "default" else chosen)
    return chosen


def scale(batch_size: int, learning_rate: float, replicas: int) -> tuple[int, float]:
    """Global batch size and learning rate for ``replicas`` devices, from the
    one-device ``batch_size`` and ``learning_rate`` (linear scaling)."""
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    return batch_size * replicas, learning_rate * replicas
