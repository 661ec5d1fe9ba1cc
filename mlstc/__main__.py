"""``python -m mlstc ...``: see :mod:`mlstc.book.cli`."""

import sys

from mlstc.book.cli import main

if __name__ == "__main__":
    sys.exit(main())
