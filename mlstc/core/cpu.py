"""The CPU's model name: machines with the same cores and memory can still round
floating point differently, so every result records which CPU made it. (Not in
:func:`mlstc.core.system.machine`, whose module every training's cache key hashes.)"""

from __future__ import annotations

import platform
from functools import cache
from pathlib import Path


@cache
def model() -> str:
    """``model name`` of ``/proc/cpuinfo`` on Linux, else what :mod:`platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
