"""Suppression comments: ``# storegate: ignore[SG001]`` and flake8's ``# noqa: SG001``.

Comments are read with ``tokenize``, so a ``# noqa`` inside a string literal does not count. A
comment covers the lines of the tokens between two line breaks, as in flake8: its own line, or
every line of a multi-line string that ends on its line.

Forms (codes are codes or code prefixes, separated by commas and/or spaces):

- ``# storegate: ignore``: every code on the line;
- ``# storegate: ignore[SG001]``, ``# storegate: ignore[SG001, SG002]``: those codes;
- ``# noqa``: every code; ``# noqa: SG001,E501``: those codes (flake8's syntax and matching).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

STOREGATE_KIND, NOQA_KIND = "storegate", "noqa"

_STOREGATE_RE = re.compile(r"#\s*storegate:\s*ignore\b(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
# flake8's own pattern (flake8.defaults.NOQA_INLINE_REGEXP), so both tools agree on a comment.
_NOQA_RE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_SPLIT_RE = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Suppression:
    kind: str  # STOREGATE_KIND or NOQA_KIND
    line: int  # the comment's line
    column: int  # 1-based column where the directive starts
    end_column: int  # exclusive
    codes: tuple[str, ...] | None  # None: every code (a bare comment)
    first_line: int  # the lines the comment covers
    last_line: int

    @property
    def text(self) -> str:
        """The directive as written back in messages: ``storegate: ignore[SG001]``, ``noqa``."""
        name = "storegate: ignore" if self.kind == STOREGATE_KIND else "noqa"
        if self.codes is None:
            return name
        joined = ", ".join(self.codes)
        return f"{name}[{joined}]" if self.kind == STOREGATE_KIND else f"{name}: {joined}"

    def match(self, code: str) -> str | None:
        """The entry of this comment that suppresses ``code``: a code, a prefix, ``"*"`` for a
        bare comment; None when it does not suppress it."""
        if self.codes is None:
            return "*"
        for entry in self.codes:
            if code == entry or code.startswith(entry):
                return entry
        return None


def _codes(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(dict.fromkeys(part.upper() for part in _SPLIT_RE.split(text) if part))


def _from_comment(token: tokenize.TokenInfo, first: int, last: int) -> list[Suppression]:
    found = []
    line, column = token.start
    for kind, pattern in ((STOREGATE_KIND, _STOREGATE_RE), (NOQA_KIND, _NOQA_RE)):
        match = pattern.search(token.string)
        if match is None:
            continue
        found.append(
            Suppression(
                kind=kind,
                line=line,
                column=column + match.start() + 1,
                end_column=column + match.end() + 1,
                codes=_codes(match.group("codes")),
                first_line=first,
                last_line=last,
            )
        )
    return found


def parse(source: str) -> list[Suppression]:
    """Every suppression comment in ``source``; never raises (a file that stops tokenizing
    yields the comments before the error)."""
    result: list[Suppression] = []
    comments: list[tokenize.TokenInfo] = []
    first, last = None, None
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = token.start[0] if first is None else min(first, token.start[0])
            last = token.end[0] if last is None else max(last, token.end[0])
            if token.type == tokenize.COMMENT:
                comments.append(token)
            elif token.type in (tokenize.NL, tokenize.NEWLINE):
                for comment in comments:
                    result.extend(_from_comment(comment, first, last))
                comments, first, last = [], None, None
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    for comment in comments:  # a last line without a line break
        result.extend(_from_comment(comment, first or comment.start[0], last or comment.end[0]))
    return result


def by_line(suppressions: list[Suppression]) -> dict[int, list[Suppression]]:
    """Each covered line -> the suppressions that cover it, in source order."""
    table: dict[int, list[Suppression]] = {}
    for suppression in suppressions:
        for line in range(suppression.first_line, suppression.last_line + 1):
            table.setdefault(line, []).append(suppression)
    return table
