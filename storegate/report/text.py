"""The human (and flake8-like) text report: one line per finding and per error, then a summary.

The findings one missing gate explains are one item (``storegate.related``): the first, then an
indented ``also: path:line CODE message`` line for each other (no column, so that a
``path:line:col:`` problem matcher does not take it for a finding of its own). ``show_source`` adds under a finding its line and a caret under its column (as flake8 does);
``color`` styles paths, codes and the summary with ANSI escapes (the CLI turns it on only for a
terminal). ``statistics`` is the ``--statistics`` block: the count of each code.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from storegate import files
from storegate.errors import SourceError
from storegate.model import FileError, Finding, Result
from storegate.related import group


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, *, keep_tabs: bool = False) -> str:
    """``text`` with every character that is not printable escaped as Python's ``repr`` does
    (``\\n``, ``\\x1b``, ``\\u2028``, a lone surrogate ``\\udcff``): a file name or a message
    from the analyzed tree can neither start a line of its own in a CI log (where a line like
    ``::error ...`` is a command) nor send escape sequences to a terminal. The one escaping of
    every human-readable output (text, grouped, ``--show-source``, errors on stderr)."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or (keep_tabs and char == "\t"):
            out.append(char)
        elif char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def _style(text: str, color: bool, **style) -> str:
    return click.style(text, **style) if color else text


def format_finding(finding: Finding, *, color: bool = False) -> str:
    path = _style(printable(finding.path), color, bold=True)
    code = _style(finding.code, color, fg="red", bold=True)
    return f"{path}:{finding.line}:{finding.column}: {code} {printable(finding.message)}"


def format_also(finding: Finding, *, color: bool = False, where: str | None = None) -> str:
    """A related location under its group's first finding: ``    also: path:line CODE message``
    (``where`` replaces ``path:line``: the grouped report, under the file's name, gives ``line:col``)."""
    if where is None:
        where = f"{printable(finding.path)}:{finding.line}"
    code = _style(finding.code, color, fg="red", bold=True)
    return f"    also: {where} {code} {printable(finding.message)}"


def format_error(error: FileError, *, color: bool = False) -> str:
    path = _style(printable(error.path), color, bold=True)
    label = _style("error:", color, fg="red", bold=True)
    if error.line is not None:
        return f"{path}:{error.line}:1: {label} {printable(error.message)}"
    return f"{path}: {label} {printable(error.message)}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(result: Result, *, color: bool = False) -> str:
    """``Found N findings (L locations) in M files ...``: a finding with related locations counts
    once; ``(L locations)``, every location, only when they are more."""
    checked = f"({_count(result.files_checked, 'file')} checked)"
    n_locations, n_errors = len(result.findings), len(result.errors)
    if not n_locations and not n_errors:
        return f"{_style('All checks passed', color, fg='green', bold=True)} {checked}."
    parts = []
    if n_locations:
        n_findings = len(group(result.findings))
        locations = f" ({n_locations} locations)" if n_locations != n_findings else ""
        n_files = len({f.path for f in result.findings})
        parts.append(f"{_count(n_findings, 'finding')}{locations} in {_count(n_files, 'file')}")
    if n_errors:
        parts.append(_count(n_errors, "error"))
    return f"{_style('Found', color, fg='red', bold=True)} {' and '.join(parts)} {checked}."


def statistics(result: Result) -> str:
    """``--statistics``: one line per code, ``COUNT<tab>CODE<tab>summary``, by code. Every
    location counts, related ones too: the count of a code is what ``--select`` would keep."""
    from storegate.checks import CODES

    counts = Counter(f.code for f in result.findings)
    lines = []
    for code in sorted(counts):
        known = CODES.get(code)
        lines.append(f"{counts[code]:<5} {code}  {known.summary if known else ''}".rstrip())
    return "".join(line + "\n" for line in lines)


def format_trace(finding: Finding) -> list[str]:
    """The witness path in its short form, one indented step a line (``    31 if store -> false``):
    the steps that bear on the flag, each run of other branches folded into one line
    (``    … 6 other branches``). The JSON report keeps every step."""
    lines: list[str] = []
    folded = 0
    for step in (*finding.trace, None):
        if step is not None and not step.relevant:
            folded += 1
            continue
        if folded:
            lines.append(f"    \u2026 {folded} other branch{'es' if folded > 1 else ''}")
            folded = 0
        if step is not None:
            lines.append(f"    {step.line} {printable(step.text)}" if step.line else f"    {printable(step.text)}")
    return lines


class SourceLines:
    """The lines of reported files, each file read once (unreadable files: no lines)."""

    def __init__(self) -> None:
        self._files: dict[str, list[str]] = {}

    def line(self, path: str, number: int) -> str | None:
        if path not in self._files:
            try:
                self._files[path] = files.read_source(Path(path)).splitlines()
            except (SourceError, OSError):
                self._files[path] = []
        lines = self._files[path]
        return lines[number - 1] if 0 < number <= len(lines) else None


def format_source(finding: Finding, sources: SourceLines, *, color: bool = False, indent: str = "") -> list[str]:
    """The finding's line and a caret under its column; tabs are kept so the caret lines up."""
    line = sources.line(finding.path, finding.line)
    if line is None:
        return []
    column = max(finding.column - 1, 0)
    text, before = printable(line, keep_tabs=True), printable(line[:column], keep_tabs=True)
    pad = "".join(c if c == "\t" else " " for c in before)
    return [f"{indent}{text}", f"{indent}{pad}{_style('^', color, fg='red', bold=True)}"]


def render(
    result: Result,
    *,
    quiet: bool = False,
    explain: bool = False,
    show_source: bool = False,
    color: bool = False,
) -> str:
    """The text report; ``quiet`` leaves out the summary line, ``explain`` adds witness paths
    (the first finding's: its related locations share its path up to their own call)."""
    lines = []
    sources = SourceLines()
    for item in group(result.findings):
        finding = item.primary
        lines.append(format_finding(finding, color=color))
        if show_source:
            lines.extend(format_source(finding, sources, color=color))
        lines.extend(format_also(other, color=color) for other in item.related)
        if explain:
            lines.extend(format_trace(finding))
    lines += [format_error(e, color=color) for e in result.errors]
    if not quiet:
        lines.append(summary(result, color=color))
    return "".join(line + "\n" for line in lines)
