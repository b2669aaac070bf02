"""The package type-checks: ``mypy`` with the settings of ``pyproject.toml`` ``[tool.mypy]``
(Python 3.10, the oldest supported, bodies of unannotated functions included) reports nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_error() -> None:
    # As CI runs it, in a process of its own (mypy.api.run in the test's process took half again
    # as long); a cold run either way: no incremental cache to write (mypy's documented way to
    # turn it off).
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", os.devnull], cwd=REPO,  # where [tool.mypy] is read from
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
