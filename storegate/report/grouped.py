"""The grouped report, for humans: the findings of each file under the file's name.

::

    app/service.py
      13:19  SG002  call to 'self._sync' persists (-> ...) and is not gated by 'store'
        also: 14:9 SG001 persistence call 'save_response' is not gated by 'store'
      20:9   SG001  persistence call 'save_audit' is not gated by 'store'

    Found 2 findings (3 locations) in 1 file (3 files checked).

The findings one missing gate explains are one row and its ``also:`` lines
(``storegate.related``). Files are sorted by path; an error (a file that could not be analyzed) is listed under its file
as ``LINE:1  error  MESSAGE`` (``-`` when it has no line).
"""

from __future__ import annotations

from storegate.model import Result
from storegate.related import Group, group
from storegate.report.text import SourceLines, _style, format_also, format_source, format_trace, printable, summary


def render(
    result: Result,
    *,
    quiet: bool = False,
    explain: bool = False,
    show_source: bool = False,
    color: bool = False,
) -> str:
    rows: dict[str, list[tuple[str, str, str, Group | None]]] = {}
    for item in group(result.findings):
        finding = item.primary
        rows.setdefault(finding.path, []).append((f"{finding.line}:{finding.column}", finding.code, finding.message, item))
    for error in result.errors:
        where = f"{error.line}:1" if error.line is not None else "-"
        rows.setdefault(error.path, []).append((where, "error", error.message, None))
    sources = SourceLines()
    lines: list[str] = []
    for path in sorted(rows):
        if lines:
            lines.append("")
        lines.append(_style(printable(path), color, bold=True, underline=True))
        entries = rows[path]
        width = max(len(where) for where, *_ in entries)
        code_width = max(len(code) for _, code, *_ in entries)
        for where, code, message, found in entries:
            label = _style(code.ljust(code_width), color, fg="red", bold=True)
            lines.append(f"  {where.ljust(width)}  {label}  {printable(message)}")
            if found is None:
                continue
            if show_source:
                lines.extend(format_source(found.primary, sources, color=color, indent="    "))
            lines.extend("  " + format_also(f, color=color, where=f"{f.line}:{f.column}") for f in found.related)
            if explain:
                lines.extend("  " + step for step in format_trace(found.primary))
    if not quiet:
        if lines:
            lines.append("")
        lines.append(summary(result, color=color))
    return "".join(line + "\n" for line in lines)
