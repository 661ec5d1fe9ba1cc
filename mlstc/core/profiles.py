"""Run profiles: how much data and compute a notebook uses (introduced in chapter 00).

``smoke`` is what CI runs under nbval on a 2-core CPU, ``cpu`` (the default) is the
full data with models sized for a 2-core CPU, and ``gpu`` uses full-size models.
A notebook's ``parameters`` cell holds ``profile = ""``; :func:`resolve` turns that
into the ``MLSTC_PROFILE`` environment variable when it is set, else ``cpu``, so
nbval (which runs the defaults) runs the smoke profile when CI sets the variable.
"""

from __future__ import annotations

import dataclasses
import os

ENV_VAR = "MLSTC_PROFILE"
DEFAULT = "cpu"


@dataclasses.dataclass(frozen=True)
class Profile:
    """What a profile allows. ``None`` for a document cap means the whole split."""

    name: str
    description: str
    max_docs: dict[str, int | None]
    bootstrap_samples: int
    notebook_timeout_s: int
    max_epochs: int  # cap on training epochs of the neural chapters
    benchmark_steps: int  # training steps timed per setting in speed measurements
    seeds: int  # training seeds per neural system in the comparisons that report a seed spread
    pretrain_minutes: float  # chapter 07's masked-LM pretraining budget


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="CI: 160/60/100 train/validation/test documents, tiny models; a notebook in a minute or two",
        max_docs={"train": 160, "validation": 60, "test": 100},
        bootstrap_samples=100,
        notebook_timeout_s=15 * 60,
        max_epochs=2,
        benchmark_steps=2,
        seeds=2,
        pretrain_minutes=0.2,
    ),
    "cpu": Profile(
        name="cpu",
        description="default: full data, models sized for a 2-core CPU (timings in the README)",
        max_docs={"train": None, "validation": None, "test": None},
        bootstrap_samples=1000,
        # chapters 05 and 06 take more than an hour on 2 cores (README): a limit that stops
        # runaway runs, not one that `make book` meets only on a fast machine
        notebook_timeout_s=150 * 60,
        max_epochs=40,
        benchmark_steps=20,
        seeds=3,
        pretrain_minutes=12,
    ),
    "gpu": Profile(
        name="gpu",
        description="full data and full-size models (bert-base and larger); needs a GPU",
        max_docs={"train": None, "validation": None, "test": None},
        bootstrap_samples=1000,
        notebook_timeout_s=3 * 60 * 60,
        max_epochs=40,
        benchmark_steps=20,
        seeds=5,
        pretrain_minutes=60,
    ),
}


def resolve(profile: str | Profile = "") -> Profile:
    """Return the :class:`Profile` named by ``profile``, ``$MLSTC_PROFILE`` or ``cpu``."""
    if isinstance(profile, Profile):
        return profile
    name = (profile or os.environ.get(ENV_VAR, "") or DEFAULT).strip().lower()
    if name not in PROFILES:
        raise ValueError(
            f"Unknown profile {name!r} (from {'the profile parameter' if profile else ENV_VAR}). "
            f"Use one of: {', '.join(PROFILES)}."
        )
    return PROFILES[name]
