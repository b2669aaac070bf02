"""A large file parsed with libcst a run of whole top-level statements at a time.

libcst's native parser holds a text's tokens and intermediate nodes until it returns: a 1 MB
module peaks at about 420 MB (litellm's ``proxy_server.py``), several times the tree it returns.
Cut where the stdlib's tree says a top-level statement begins, each piece parses alone, and the
peak is that of the largest piece. The pieces' statements, joined, are the module the whole text
gives: the same nodes, the same code (``tests/test_pieces.py`` compares them).
"""

from __future__ import annotations

import ast
from itertools import accumulate

import libcst as cst

from storegate.files import source_lines

# Files longer than this (characters) are parsed in pieces of about ``PIECE_CHARS``: below it a
# whole parse peaks under 120 MB, and a piece is large enough that few texts are cut at all.
LARGE_CHARS = 256_000
PIECE_CHARS = 64_000


def parse_in_pieces(source: str, tree: ast.Module, piece_chars: int = PIECE_CHARS) -> cst.Module | None:
    """The module parsed a piece at a time; None when the pieces disagree on what libcst infers
    for the whole text (its indentation or newline: a file whose first block is indented by two
    spaces, or with mixed line endings), which the caller then parses whole.

    Each line between two statements (a comment, a blank line) belongs to the statement after it
    when the whole text is parsed, and to the end of the piece before it, or the start of the
    piece after it, when a piece is: it is moved to the statement's ``leading_lines``."""
    modules = [cst.parse_module(source[start:end]) for start, end in _pieces(source, tree, piece_chars)]
    first = modules[0]
    if any(m.default_indent != first.default_indent or m.default_newline != first.default_newline for m in modules):
        return None
    body = list(first.body)
    between = list(first.footer)
    for module in modules[1:]:
        head, *rest = module.body
        body.append(head.with_changes(leading_lines=[*between, *module.header, *head.leading_lines]))
        body.extend(rest)
        between = list(module.footer)
    return first.with_changes(body=body, footer=between, has_trailing_newline=modules[-1].has_trailing_newline)


def _pieces(source: str, tree: ast.Module, piece_chars: int) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of runs of whole top-level statements, each about ``piece_chars``
    long, cut at the line where a statement (its first decorator) begins, never on a line that
    the statement before it shares (``a = 1; b = 2``), and only after empty lines and comments
    at the margin: libcst loses what else ends a text (an indented comment, a line of spaces, a
    form feed: ``_cuttable``)."""
    lines = source_lines(source)  # as ``lineno`` counts them
    starts = [0, *accumulate(map(len, lines))]  # the offset of each line
    cuts = []
    previous_end = 0
    for statement in tree.body:
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        if previous_end and first > previous_end and _cuttable(lines, previous_end, first):
            cuts.append(starts[first - 1])
        previous_end = statement.end_lineno or statement.lineno
    pieces = []
    start = 0
    for cut in cuts:
        if cut - start >= piece_chars:
            pieces.append((start, cut))
            start = cut
    pieces.append((start, len(source)))
    return pieces


def _cuttable(lines: list[str], after: int, before: int) -> bool:
    """Whether every line strictly between the lines ``after`` and ``before`` (1-based) is empty
    or a comment at the margin."""
    for text in lines[after : before - 1]:
        text = text.rstrip("\r\n")
        if text and not text.startswith("#"):
            return False
    return True
