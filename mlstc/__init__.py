"""mlstc: the reusable code behind the book *Multi-label text classification on
financial news*.

Modules are small and named for what they hold; notebooks import them as modules
(``from mlstc import data, metrics``). Each docstring says which chapter introduces
the thing it defines.
"""

__version__ = "0.1.0"
