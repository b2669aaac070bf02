"""Report formats: each is a module with
``render(result, *, quiet=False, explain=False, show_source=False, color=False) -> str``.

A new format is one new module here and one line in ``FORMATS``. ``show_source`` and ``color``
only change the human formats (text, grouped); the machine formats ignore every option that
would change their structure, and so does ``html`` (a page, not text: ``--statistics`` goes to
stderr with it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from storegate.model import Result

Renderer = Callable[..., str]


class _Formats(Mapping[str, Renderer]):
    """Format name -> its module's ``render``, imported when first asked for: a run renders one
    format, and importing them all cost a warm run a few hundredths of a second."""

    _NAMES = ("text", "json", "sarif", "github", "grouped", "html")

    def __getitem__(self, name: str) -> Renderer:
        if name not in self._NAMES:
            raise KeyError(name)
        return importlib.import_module(f"storegate.report.{name}").render

    def __iter__(self) -> Iterator[str]:
        return iter(self._NAMES)

    def __len__(self) -> int:
        return len(self._NAMES)


# name -> render(result, *, quiet=False, explain=False, show_source=False, color=False) -> str
FORMATS: Mapping[str, Renderer] = _Formats()

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
