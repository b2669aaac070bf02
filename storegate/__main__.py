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
    """Take every entry that means the current directory off ``sys.path``: the one ``-m`` puts
    first, and an empty one from ``PYTHONPATH`` (``PYTHONPATH=$PYTHONPATH:/x`` with the variable
    unset gives ``:/x``)."""
    try:
        current = os.getcwd()
    except OSError:
        current = None
    sys.path[:] = [entry for entry in sys.path if entry not in ("", ".", current)]


if __name__ == "__main__":
    _drop_current_directory()
    from storegate.cli import main

    main(prog_name="storegate")
