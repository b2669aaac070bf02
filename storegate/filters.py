"""What happens to a ``Result`` between the analysis and the report (``storegate.run.pipeline``
applies it for every entry point), in this order:

1. suppression comments (``storegate.suppress``) drop the findings on their lines; with
   ``report_unused_ignores`` every comment (or code of it) that dropped nothing is an SG100;
2. ``select`` / ``ignore`` (code prefixes) keep the chosen codes;
3. a baseline drops the findings it records.

A suppression is "used" by any finding of the analysis, selected or not, so ``--ignore`` never
makes a comment look unused.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from storegate import files, suppress
from storegate.baseline import Baseline
from storegate.checks import CODES, sg100_unused_suppression
from storegate.errors import SourceError
from storegate.model import Finding, Result

UNUSED_CODE = sg100_unused_suppression.CODE.code
_SELECTOR_RE = re.compile(r"[A-Z]+[0-9]*")


def parse_selectors(values: Iterable[str]) -> tuple[str, ...]:
    """``("SG001,SG002", "SG1")`` -> ``("SG001", "SG002", "SG1")``; raises ``ValueError`` for a
    selector that is not a prefix of any known code."""
    selectors = []
    for value in values:
        for part in value.split(","):
            part = part.strip().upper()
            if not part:
                continue
            if not _SELECTOR_RE.fullmatch(part) or not any(code.startswith(part) for code in CODES):
                raise ValueError(f"unknown code or prefix {part!r} (codes: {', '.join(CODES)})")
            selectors.append(part)
    return tuple(dict.fromkeys(selectors))


def is_selected(code: str, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> bool:
    """Like ruff: the longest matching prefix decides; on a tie ``ignore`` wins; an empty
    ``select`` selects every code."""
    chosen = [len(p) for p in select if code.startswith(p)] if select else [0]
    if not chosen:
        return False
    ignored = [len(p) for p in ignore if code.startswith(p)]
    return not ignored or max(ignored) < max(chosen)


def _suppressions_of(path: str, honour_noqa: bool) -> list[suppress.Suppression]:
    try:
        source = files.read_source(Path(path))
    except (SourceError, OSError):
        return []
    if "storegate" not in source and "noqa" not in source.lower():
        return []
    return [c for c in suppress.parse(source) if honour_noqa or c.kind != suppress.NOQA_KIND]


def apply_suppressions(
    findings: Iterable[Finding],
    *,
    report_unused_ignores: bool = False,
    honour_noqa: bool = True,
    paths: Iterable[str] = (),
) -> list[Finding]:
    """The findings that no comment suppresses, plus (if asked) one SG100 per unused comment.

    Comments are read from the files that have findings, and from ``paths`` (display paths) too
    when ``report_unused_ignores`` (a comment in a file without findings is unused). Without
    ``honour_noqa``, ``# noqa`` comments are left to the tool that reads them (flake8).
    """
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    scan = dict.fromkeys(by_path)
    if report_unused_ignores:
        scan.update(dict.fromkeys(paths))
    kept: list[Finding] = []
    for path in scan:
        comments = _suppressions_of(path, honour_noqa)
        table = suppress.by_line(comments)
        position = {id(c): i for i, c in enumerate(comments)}
        used: set[tuple[int, str]] = set()
        for finding in by_path.get(path, ()):
            for comment in table.get(finding.line, ()):
                entry = comment.match(finding.code)
                if entry is not None:
                    used.add((position[id(comment)], entry))
                    break
            else:
                kept.append(finding)
        if report_unused_ignores:
            for finding in sg100_unused_suppression.decide(path, comments, used):
                # `# storegate: ignore[SG100]` on the same line silences the report of the others.
                if not any(c.codes and UNUSED_CODE in c.codes for c in table.get(finding.line, ())):
                    kept.append(finding)
    return kept


def apply(
    result: Result,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    baseline: Baseline | None = None,
    report_unused_ignores: bool = False,
    honour_noqa: bool = True,
    paths: Iterable[str | Path] = (),
) -> Result:
    """``result`` with suppressions, selection and the baseline applied (see the module doc),
    its findings sorted.

    ``paths``: the checked files, scanned for unused suppressions (only with
    ``report_unused_ignores``; the files with findings are always scanned).
    """
    display = [files.display_path(p) for p in paths] if report_unused_ignores else []
    findings = apply_suppressions(
        result.findings, report_unused_ignores=report_unused_ignores, honour_noqa=honour_noqa, paths=display
    )
    findings = [f for f in findings if is_selected(f.code, select, ignore)]
    if baseline is not None:
        findings = baseline.filter(findings)
    return dataclasses.replace(result, findings=tuple(sorted(set(findings), key=lambda f: f.sort_key)))
