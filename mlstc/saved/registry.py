"""Keras classes of the package, registered for loading.

Keras finds a custom class named in a saved model (a layer, a loss) only once the
module that registers it has been imported. A chapter's process imported them while
training; a fresh process, such as ``python -m mlstc predict``, calls
:func:`register_keras_classes` before loading. It lives apart from
:mod:`mlstc.saved.networks` and :mod:`mlstc.saved.pipelines` so that both can call it
without importing each other.
"""

from __future__ import annotations


def register_keras_classes() -> None:
    """Import every module of the package that registers Keras classes."""
    from mlstc.models import bert, hierarchy, layers, losses, lstm  # noqa: F401
