"""What the fixer hands back: one ``FileFix`` per file, and a ``Refusal`` per finding left."""

from __future__ import annotations

from dataclasses import dataclass, field

from storegate.model import Finding


@dataclass(frozen=True)
class Refusal:
    """A finding that is not fixed, and why (one line)."""

    finding: Finding
    reason: str

    def line(self) -> str:
        f = self.finding
        return f"{f.path}:{f.line}:{f.column}: {f.code} not fixed: {self.reason}"


@dataclass(frozen=True)
class FileFix:
    """The fixes of one file: ``original`` -> ``fixed`` (equal when nothing could be fixed)."""

    path: str  # as the findings name it (relative to the current directory, or as given)
    original: str
    fixed: str
    encoding: str  # what to write ``fixed`` with (``utf-8-sig`` keeps a BOM)
    fixed_findings: tuple[Finding, ...] = ()
    refused: tuple[Refusal, ...] = ()
    original_bytes: bytes = field(default=b"", repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    @property
    def remaining(self) -> int:
        return len(self.refused)
