"""The one public entry point: ``check(paths, config) -> Result``.

The CLI, the flake8 plugin and the demo are thin adapters over this function.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path

from storegate import files
from storegate.errors import SourceError
from storegate.model import Config, FileError, Finding, Result


def check(paths: Sequence[str | Path], config: Config) -> Result:
    """Analyze every Python file under ``paths`` with ``config``; never raises for bad input."""
    from storegate.analysis import analyze_source

    found, errors = files.discover(paths, config)
    findings: list[Finding] = []
    error_list: list[FileError] = list(errors)
    tracebacks: list[str] = []
    for path in found:
        display = files.display_path(path)
        try:
            source = files.read_source(path)
            findings.extend(analyze_source(source, display, config))
        except SourceError as exc:
            error_list.append(FileError(display, exc.message, exc.line))
        except RecursionError:
            error_list.append(FileError(display, "too deeply nested to analyze"))
        except Exception as exc:  # an internal error in one file never stops the others
            error_list.append(FileError(display, f"internal error: {type(exc).__name__}: {exc}"))
            tracebacks.append(f"{display}:\n{traceback.format_exc()}")
    return Result(
        findings=tuple(sorted(set(findings), key=lambda f: f.sort_key)),
        errors=tuple(sorted(error_list, key=lambda e: (e.path, e.line or 0, e.message))),
        files_checked=len(found),
        tracebacks=tuple(tracebacks),
    )


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.sort_key)
