"""``python -m storegate``.

``-m`` puts the current directory first on ``sys.path``, so that an import would load a
``pathspec.py``, ``json.py`` or ``click.py`` of the tree being checked, and run it. That entry
goes before anything else is imported (``storegate/__init__.py`` imports nothing); storegate's
own modules still load, through the package's ``__path__``, even when the package itself was
found in the current directory.
"""

import os
import sys


def _drop_current_directory() -> None:
    if not sys.path or getattr(sys.flags, "safe_path", False):
        return  # python -P: nothing was added
    try:
        current = os.getcwd()
    except OSError:
        current = None
    if sys.path[0] in ("", ".", current):
        del sys.path[0]


if __name__ == "__main__":
    _drop_current_directory()
    from storegate.cli import main

    main(prog_name="storegate")
