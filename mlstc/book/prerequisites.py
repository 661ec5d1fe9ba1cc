"""What a chapter needs from earlier chapters, checked before it trains anything
(introduced in chapter 02).

A chapter declares its needs in its set-up cell::

    run.require("01_preprocessing", ["svm-tf-idf"])

For every data set of the run, :func:`ensure` looks for the metrics JSON *and* the
probabilities (``.npz``, not in git) under ``results/<profile>/<chapter>/``. What is
missing is produced, in this order, and the notebook says which:

1. restored from the run cache (:mod:`mlstc.book.runcache`) when the earlier chapter
   has run with the same code and parameters before;
2. otherwise by running the earlier chapter through the runner (papermill, progress
   shown) on just those data sets; its executed copy goes to the cache, not ``book/``.

A chapter that does not exist, or that would have to run itself, fails at once with
its name.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mlstc import results
from mlstc.book import runcache, shown
from mlstc.book.runner import CHAIN_ENV
from mlstc.core import paths

log = logging.getLogger(__name__)  # a restore is logged, not shown in a chapter's output


def _present(folder: Path, dataset_key: str, model: str, sizes: dict | None = None) -> bool:
    json_path = folder / f"{results.stem(dataset_key, model)}.json"
    if not json_path.is_file():
        return False
    try:
        probs = results.load_probs(json_path)
    except (FileNotFoundError, ValueError):
        return False
    stale = {s: (len(probs[s]), n) for s, n in (sizes or {}).items() if s in probs and len(probs[s]) != n}
    if stale:  # saved for other documents (another profile's size, an older copy of the data)
        print(f"prerequisites: {json_path.name} is for other documents ("
              + ", ".join(f"{s}: {a} rows, this run has {b}" for s, (a, b) in stale.items()) + "); it is made again")
        return False
    return True


def missing(profile: str, chapter: str, models: list[str], dataset_keys, sizes: dict | None = None) -> list[str]:
    """The data set keys for which ``chapter`` lacks one of ``models``, or has them
    for other documents than ``sizes`` (key -> {split: documents}) says."""
    folder = results.run_dir(profile, chapter)
    sizes = sizes or {}
    return [k for k in dataset_keys if not all(_present(folder, k, m, sizes.get(k)) for m in models)]


def restore_cached(profile: str, chapter: str, models: list[str], dataset_key: str, *, seed: int = 0,
                   sizes: dict[str, int] | None = None) -> bool:
    """Restore ``models`` of ``chapter`` for one data set from the run cache (a run
    with the chapter's default parameters and ``seed``); whether they are now
    present, for ``sizes`` ({split: documents}) where given. Also for code that reads
    an earlier chapter's results without a :class:`~mlstc.book.setup.Run`
    (:func:`mlstc.book.members.gather`)."""
    parameters = runcache.default_parameters(chapter) | {"seed": seed}
    hit = runcache.restore(profile, chapter, dataset_key, parameters,  # run on TensorFlow, as ensure runs it
                           [f"{results.stem(dataset_key, m)}.json" for m in models], results.run_dir(profile, chapter),
                           backend={})
    if hit and not missing(profile, chapter, models, [dataset_key], {dataset_key: sizes} if sizes else None):
        log.info("prerequisites: %s of %s for %s restored from the run cache; nothing retrained",
                 ", ".join(models), chapter, dataset_key)
        return True
    return False


def ensure(run, chapter: str, models: list[str], specs: dict[str, str]) -> None:
    """Produce ``models`` of ``chapter`` for the data sets ``specs`` (key -> name or
    path) where they are missing (see the module docstring)."""
    from mlstc.book import runner

    notebook = runner.find(chapter)  # fails at once for an unknown chapter
    chain = [c for c in os.environ.get(CHAIN_ENV, "").split(",") if c] + [run.notebook]
    if notebook.stem in chain:
        raise RuntimeError(f"{run.notebook} needs {notebook.stem}, which is already being produced for "
                           f"{' -> '.join(chain)}: the chapters' prerequisites form a cycle.")
    profile = run.profile.name
    sizes = getattr(run, "sizes", {})
    todo = missing(profile, notebook.stem, models, specs, sizes)
    if not todo:
        print(f"prerequisites: {', '.join(models)} of {notebook.stem} present for {', '.join(specs)}")
        return
    folder = results.run_dir(profile, notebook.stem)
    for key in list(todo):
        if restore_cached(profile, notebook.stem, models, key, seed=run.seed, sizes=sizes.get(key)):
            todo.remove(key)
    if not todo:
        return
    print(f"prerequisites: {', '.join(models)} of {notebook.stem} missing for {', '.join(todo)}: running "
          f"{notebook.stem} now ({profile} profile, seed {run.seed}); its results go to {shown.path(folder)}",
          flush=True)
    overrides = {"datasets": ",".join(specs[k] for k in todo), "seed": run.seed}
    if run.parameters.get("data_dir"):
        overrides["data_dir"] = run.parameters["data_dir"]
    # an earlier chapter runs on the default backend (chapter 02's text layers need
    # TensorFlow), whichever backend the chapter waiting for it uses
    runner.execute(notebook, profile, overrides, output_dir=paths.cache_dir() / "prerequisite-runs" / profile,
                   environment={CHAIN_ENV: ",".join(chain), "MLSTC_EXTRA_DATASETS": "", "KERAS_BACKEND": "tensorflow"})
    still = missing(profile, notebook.stem, models, todo, sizes)
    if still:
        raise FileNotFoundError(f"{notebook.stem} ran but saved no {', '.join(models)} for {', '.join(still)}: "
                                f"check the names {run.notebook} asks for.")
