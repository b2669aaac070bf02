"""The package type-checks: ``mypy`` with the settings of ``pyproject.toml`` ``[tool.mypy]``
(Python 3.10, the oldest supported, bodies of unannotated functions included) reports nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mypy import api

    monkeypatch.chdir(REPO)  # where [tool.mypy] is read from
    out, err, status = api.run(["--cache-dir", str(tmp_path / "mypy-cache")])
    assert status == 0, out + err
