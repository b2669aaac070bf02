"""Checking a fix before it is offered: libcst must print the file back as it was read, the fixed
text must parse, and the analysis of the fixed text must find every fixed write gated (else the
finding is refused, with the reason)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import libcst as cst

from storegate import files
from storegate.analysis import parse, stdlib_parse, summarize
from storegate.errors import SourceError
from storegate.model import Config, Finding

NOT_GATED = "a gate here would not make the write gated (is the flag reassigned before it?)"
DEAD = "the write is only reached when the flag forbids storing: a gate would make it dead code"


def still_ungated(original: str, fixed: str, path: str, config: Config, findings: Sequence[Finding]) -> dict[Finding, str]:
    """The ``findings`` whose site the analysis of ``fixed`` does not find gated, and why.

    Sites are matched by function, callee text and order: a fix moves sites, never reorders them;
    a site that the fix made unreachable disappears (dead code: refused).
    """
    if not findings:
        return {}
    module_name = files.module_name(Path(path))
    try:
        before = summarize(original, path, config, module_name)
        after = summarize(fixed, path, config, module_name)
    except SourceError:
        return {finding: "internal error: the fixed file cannot be analyzed" for finding in findings}
    failed: dict[Finding, str] = {}
    for finding in findings:
        old_sites = _sites(before, finding)
        new_sites = _sites(after, finding)
        index = next(
            (i for i, site in enumerate(old_sites) if (site.span.line, site.span.column) == (finding.line, finding.column)),
            None,
        )
        if index is None or len(old_sites) != len(new_sites):
            failed[finding] = DEAD if len(new_sites) < len(old_sites) else "internal error: the fix moved the write"
            continue
        verdict = new_sites[index].verdict(finding.flag)
        if verdict is None or not verdict.gated:
            failed[finding] = NOT_GATED
    return failed


def _sites(summary, finding: Finding) -> list:
    for function in summary.functions:
        if function.name == finding.function:
            return sorted((s for s in function.sites if s.text == finding.sink), key=lambda s: (s.span.line, s.span.column))
    return []


def faithful(module: cst.Module, text: str) -> tuple[cst.Module, str | None]:
    """``module`` made to print as ``text`` again, or why it cannot be (then nothing is fixed).

    libcst does not see the final newline of a file whose lines end in a lone CR (classic Mac),
    and drops a form feed that precedes a statement on its line: a fix would change those bytes
    too, far from the write it gates.
    """
    if module.code == text:
        return module, None
    repaired = module.with_changes(has_trailing_newline=True)
    if repaired.code == text:
        return repaired, None
    code = module.code
    same = next((i for i, (a, b) in enumerate(zip(code, text)) if a != b), min(len(code), len(text)))
    line = len(re.findall(r"\r\n?|\n", text[:same])) + 1
    return module, f"the file cannot be rewritten without also changing its line {line} (libcst does not reproduce it)"


def parse_problem(code: str, original_compiles: bool) -> str | None:
    """Why ``code`` (a fixed file) does not parse, or None.

    libcst must take it, and so must this Python's parser where it took the file before the fix
    (newer syntax than this Python's fails both: libcst decides). The same checks, bounds and
    messages as for any analyzed file (``analysis.stdlib_parse`` then ``analysis.parse``).
    """
    try:
        _, error = stdlib_parse(code)
        parse(code, error)
    except SourceError as exc:
        return exc.message
    if error is not None and original_compiles:
        return f"{error.msg} (line {error.lineno})"
    return None
