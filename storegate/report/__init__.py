"""Report formats: each is a module with
``render(result, *, quiet=False, explain=False, show_source=False, color=False) -> str``.

A new format is one new module here and one line in ``FORMATS``. ``show_source`` and ``color``
only change the human formats (text, grouped); the machine formats ignore every option that
would change their structure, and so does ``html`` (a page, not text: ``--statistics`` goes to
stderr with it).
"""

from __future__ import annotations

from collections.abc import Callable

from storegate.model import Result
from storegate.report import github, grouped, html, json, sarif, text

Renderer = Callable[..., str]

# name -> render(result, *, quiet=False, explain=False, show_source=False, color=False) -> str
FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "github": github.render,
    "grouped": grouped.render,
    "html": html.render,
}

# Formats for people; the others are parsed by programs (``--statistics`` goes to stderr for them).
HUMAN_FORMATS = frozenset({"text", "grouped"})


def render(
    result: Result,
    format: str = "text",
    *,
    quiet: bool = False,
    explain: bool = False,
    show_source: bool = False,
    color: bool = False,
) -> str:
    """Render ``result`` in the named format; raises ``KeyError`` for an unknown one."""
    return FORMATS[format](result, quiet=quiet, explain=explain, show_source=show_source, color=color)


__all__ = ["FORMATS", "HUMAN_FORMATS", "Renderer", "render"]
