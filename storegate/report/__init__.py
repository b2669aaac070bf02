"""Report formats: each is a module with ``render(result, *, quiet=False, explain=False) -> str``.

A new format is one new module here and one line in ``FORMATS``.
"""

from __future__ import annotations

from collections.abc import Callable

from storegate.model import Result
from storegate.report import json, text

Renderer = Callable[..., str]

# name -> render(result, *, quiet=False, explain=False) -> str
FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json.render,
}


def render(result: Result, format: str = "text", *, quiet: bool = False, explain: bool = False) -> str:
    """Render ``result`` in the named format; raises ``KeyError`` for an unknown one."""
    return FORMATS[format](result, quiet=quiet, explain=explain)


__all__ = ["FORMATS", "Renderer", "render"]
