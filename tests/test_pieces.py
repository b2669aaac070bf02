"""A large file parsed in pieces is the module the whole text gives (``storegate.pieces``).

Compared node for node (``deep_equals``: every field, whitespace and comments too) with libcst's
parse of the whole text, on texts written to sit at each kind of cut and on real modules cut at
every top-level statement; and the analysis of every fixture case summarizes the same either way.
"""

from __future__ import annotations

import ast
import json
import sysconfig
from pathlib import Path

import libcst as cst
import pytest

from storegate import pieces
from storegate.analysis import summarize
from storegate.config import load_config
from storegate.files import read_source

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "fixtures" / "cases"
STDLIB = Path(sysconfig.get_paths()["stdlib"])

# What sits between two top-level statements, and what ends one, at a cut.
BETWEEN = {
    "blank lines": "import os\n\n\nx = 1\n",
    "comments at the margin": "import os\n# one\n\n# two\ndef f():\n    return 1\n",
    "a header before the first statement": "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\n'''doc'''\nx = 1\ny = 2\n",
    "decorators, a comment between them": "x = 1\n@a\n# between\n@b(1)\nclass C:\n    pass\n\n@c\ndef f():\n    pass\n",
    "statements sharing a line": "a = 1; b = 2\nc = 3\n",
    "a backslash continuation": "a = 1 + \\\n    2\nb = 3\n",
    "a trailing comment indented after a block": "def f():\n    pass\n    # still f's\ny = 1\n",
    "a comment indented after a statement": "x = 1  # one\n        # its second line\ny = 2\n",
    "a line of spaces": "x = 1\n    \ny = 2\n",
    "a form feed": "x = 1\n\x0c\ny = 2\n",
    "windows line ends": "x = 1\r\n\r\ndef f():\r\n    return 2\r\n",
    "no newline at the end": "x = 1\ny = 2",
    "an indented block after a flat start": "import os\nimport sys\nclass C:\n    def m(self):\n        return 1\nz = 3\n",
    "two spaces of indentation": "import os\ndef f():\n  return 1\ndef g():\n  return 2\n",
    "a first block by two spaces, then by four": "import os\ndef f():\n  return 1\ndef g():\n    return 2\n",
    "an async def and a match": "async def f():\n    await g()\nmatch x:\n    case 1:\n        pass\nw = 1\n",
}


def whole_or_none(text: str, piece_chars: int = 1) -> tuple[cst.Module, cst.Module | None]:
    return cst.parse_module(text), pieces.parse_in_pieces(text, ast.parse(text), piece_chars)


@pytest.mark.parametrize("text", BETWEEN.values(), ids=BETWEEN.keys())
def test_a_text_cut_at_every_statement_is_the_whole_module(text):
    whole, cut = whole_or_none(text)
    if cut is None:  # the pieces disagree on the indentation: the caller parses the whole text
        assert whole.default_indent != "    "
        return
    assert cut.deep_equals(whole)
    assert cut.code == whole.code


def test_a_text_is_cut_where_it_can_be_and_not_elsewhere():
    text = "a = 1\n\nb = 2\n    \nc = 3\n# note\nd = 4; e = 5\nf = 6\n"
    starts = [offset for offset, _ in pieces._pieces(text, ast.parse(text), 1)]
    # before b (blank line), d (a margin comment) and f; not before c (a line of spaces) or e
    assert [text[offset] for offset in starts] == ["a", "b", "d", "f"]


def test_a_text_under_a_piece_is_one_piece():
    text = "a = 1\nb = 2\n"
    assert pieces._pieces(text, ast.parse(text), 1000) == [(0, len(text))]


@pytest.mark.parametrize("package", ["json", "email", "asyncio", "logging"])
def test_stdlib_modules_cut_at_every_statement_are_the_whole_modules(package):
    compared = 0
    for path in sorted((STDLIB / package).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        whole, cut = whole_or_none(text)
        assert cut is not None, path
        assert cut.deep_equals(whole), path
        compared += len(whole.body) > 1
    assert compared >= 3


def test_the_analysis_summarizes_the_same_in_pieces(monkeypatch):
    config = load_config([str(CASES)])
    texts = [(path, read_source(path)) for path in sorted(CASES.rglob("*.py"))]

    def summaries() -> list[str]:
        return [json.dumps(summarize(text, path.name, config, path.stem).to_json()) for path, text in texts]

    whole = summaries()
    monkeypatch.setattr(pieces, "LARGE_CHARS", 0)
    monkeypatch.setattr(pieces, "PIECE_CHARS", 1)
    assert summaries() == whole
    assert len(whole) > 100


def test_the_parser_s_nodes_are_left_unchecked_and_hand_built_ones_are_checked_after():
    from storegate.analysis import parse

    checked = []
    original = cst.SimpleWhitespace._validate

    def noting(node):
        checked.append(node)
        return original(node)

    cst.SimpleWhitespace._validate = noting  # type: ignore[method-assign]
    try:
        module = parse("def f(a, b):\n    return a + b\n")
        assert checked == []  # the parse checked none of its nodes
        assert module.code == "def f(a, b):\n    return a + b\n"
        with pytest.raises(cst.CSTValidationError):
            cst.SimpleWhitespace("not whitespace")  # a node built by hand, after the parse
        assert len(checked) == 1
    finally:
        cst.SimpleWhitespace._validate = original  # type: ignore[method-assign]
