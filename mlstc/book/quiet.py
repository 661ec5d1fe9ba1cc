"""What a chapter's outputs do not show (introduced in chapter 00): a library warning
appears once and without the file it came from, and the trainings the fit cache
restores are counted silently, for one glued line at the chapter's end
(:func:`glue_restored`) that a Summary may cite and the run log reads."""

from __future__ import annotations

import warnings

_warned: set[tuple[str, str]] = set()


def _warn_once(message, category, filename, lineno, file=None, line=None) -> None:
    """Show a library warning once per kind and text, without the file it came
    from (a path into the virtual environment says nothing to a reader)."""
    key = (category.__name__, str(message).strip())
    if key in _warned:
        return
    _warned.add(key)
    import sys

    print(f"{category.__name__}: {key[1]}", file=sys.stderr)


RESTORED_KEY = "trainings_restored"  # glued by Run.finish; the run log reads it (mlstc.book.runner)
_restored = [0, 0.0]  # trainings restored from the fit cache in this kernel, and their minutes when trained


def notebook() -> None:
    """In a notebook: warnings once and without paths, and the trainings the fit cache
    restores counted silently, for the one line :meth:`Run.finish` glues."""
    warnings.showwarning = _warn_once
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from mlstc.models import fitcache

    fitcache.collect()
    _restored[:] = [0, 0.0]

    def count_restored(result=None):
        count, minutes = fitcache.take()
        _restored[0] += count
        _restored[1] += minutes

    for old in [f for f in shell.events.callbacks["post_run_cell"] if getattr(f, "__name__", "") == "count_restored"]:
        shell.events.unregister("post_run_cell", old)
    shell.events.register("post_run_cell", count_restored)


def glue_restored(run) -> None:
    """Glue ``restored`` (one line on what the fit cache restored, for a Summary to
    cite) and :data:`RESTORED_KEY` (the count, for :mod:`mlstc.book.runner`'s log);
    nothing is shown."""
    from mlstc.models import fitcache

    count, minutes = fitcache.take()
    count, minutes = _restored[0] + count, _restored[1] + minutes
    try:
        run.glue({RESTORED_KEY: count, "restored": (
            f"this run restored {count} training{'s' if count != 1 else ''} from the fit cache ({minutes:.0f} "
            "min when they were trained)" if count else "this run trained every model it shows")})
    except ImportError:  # outside a notebook's MyST-NB
        pass
