"""What the plans show (a unified diff, a summary) and the only write of the fixer (``apply``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from storegate import disk
from storegate.fix.results import FileFix


def unified_diff(file_fixes: Iterable[FileFix]) -> str:
    """The unified diff (``a/path`` -> ``b/path``) of every file the plans change."""
    out: list[str] = []
    for fix in file_fixes:
        if not fix.changed:
            continue
        lines = difflib.unified_diff(
            fix.original.splitlines(keepends=True),
            fix.fixed.splitlines(keepends=True),
            fromfile=f"a/{fix.path}",
            tofile=f"b/{fix.path}",
        )
        for line in lines:
            if line.endswith("\n"):
                out.append(line)
            else:  # the last line of a file without a final newline
                out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def apply(file_fixes: Iterable[FileFix]) -> dict[str, str]:
    """Write every changed file atomically; what could not be written, by path, with the reason.

    A file that changed since it was planned, or that ``disk.write_atomic`` refuses (a symbolic
    link, read-only, hard-linked, ...), is left as it is; the other files are still written.
    """
    problems: dict[str, str] = {}
    for fix in file_fixes:
        if not fix.changed:
            continue
        path = Path(fix.path)
        try:
            current = disk.read_regular(path, len(fix.original_bytes) + 1, follow_links=False)
            if fix.original_bytes and current != fix.original_bytes:
                problems[fix.path] = "changed since it was read; not fixed"
                continue
            disk.write_atomic(path, fix.fixed.encode(fix.encoding))
        except OSError as exc:
            problems[fix.path] = f"{disk.reason_of(exc).removesuffix('; not written')}; not fixed"
    return problems


def summary(file_fixes: Iterable[FileFix]) -> list[str]:
    """Per file ``path: fixed N, remaining M``, then one line per finding left unfixed."""
    out: list[str] = []
    for fix in file_fixes:
        out.append(f"{fix.path}: fixed {len(fix.fixed_findings)}, remaining {fix.remaining}")
        out.extend(refusal.line() for refusal in fix.refused)
    return out
