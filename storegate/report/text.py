"""The human (and flake8-like) text report: one line per finding and per error, then a summary."""

from __future__ import annotations

from storegate.model import FileError, Finding, Result


def format_finding(finding: Finding) -> str:
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}"


def format_error(error: FileError) -> str:
    if error.line is not None:
        return f"{error.path}:{error.line}:1: error: {error.message}"
    return f"{error.path}: error: {error.message}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(result: Result) -> str:
    checked = f"({_count(result.files_checked, 'file')} checked)"
    n_findings, n_errors = len(result.findings), len(result.errors)
    if not n_findings and not n_errors:
        return f"All checks passed {checked}."
    parts = []
    if n_findings:
        files = len({f.path for f in result.findings})
        parts.append(f"{_count(n_findings, 'finding')} in {_count(files, 'file')}")
    if n_errors:
        parts.append(_count(n_errors, "error"))
    return f"Found {' and '.join(parts)} {checked}."


def format_trace(finding: Finding) -> list[str]:
    """The witness path, one indented step a line: ``    31 if store -> false``."""
    return [f"    {step.line} {step.text}" if step.line else f"    {step.text}" for step in finding.trace]


def render(result: Result, *, quiet: bool = False, explain: bool = False) -> str:
    """The text report; ``quiet`` leaves out the summary line, ``explain`` adds witness paths."""
    lines = []
    for finding in result.findings:
        lines.append(format_finding(finding))
        if explain:
            lines.extend(format_trace(finding))
    lines += [format_error(e) for e in result.errors]
    if not quiet:
        lines.append(summary(result))
    return "".join(line + "\n" for line in lines)
