"""Source positions for the few nodes a summary reports, without libcst's full metadata pass.

libcst's ``PositionProvider`` re-generates the whole module's code to compute positions, which
costs several times the parse. The stdlib ``ast`` parser is an order of magnitude faster and
gives positions for the same calls, subscripts and statements, in the same order: a pre-order
walk of the libcst tree meets them sorted by start (an outer call before the inner one that
starts at the same place), exactly as sorting the ``ast`` nodes by (start, -end) does. The two
sequences are checked against each other; if they disagree (or ``ast`` cannot parse the file,
e.g. newer syntax than this Python's), the metadata pass is the fallback.
"""

from __future__ import annotations

import ast
import inspect
import unicodedata
import warnings
from collections.abc import Mapping
from typing import cast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from storegate.cfg import NODE_TYPES, expr_fields, node_types_under
from storegate.summary import Span

_STATEMENT_TYPES = frozenset(t for t in node_types_under(cst.BaseSmallStatement, cst.BaseCompoundStatement) if not inspect.isabstract(t))


class Locator:
    """Spans of ``Call``, ``Subscript`` and statement nodes of one module, computed on first use."""

    def __init__(self, source: str, tree: cst.Module, outline: Outline | None = None) -> None:
        self.source = source
        self.tree = tree
        self.outline = outline  # of the stdlib tree, if the caller parsed one
        self._nodes: dict[int, ast.expr | ast.stmt] | None = None  # libcst node id -> the same ast node
        self._lines: list[str] = []
        self._fallback: Mapping[cst.CSTNode, CodeRange] | None = None

    def span(self, node: cst.CSTNode) -> Span:
        if self._nodes is None:
            self._nodes = self._from_ast() or {}
        found = self._nodes.get(id(node))
        if found is not None:
            if not self._lines:
                self._lines = self.source.splitlines(keepends=True)
            lines = self._lines
            end_line, end_column = found.end_lineno, found.end_col_offset
            assert end_line is not None and end_column is not None  # the parser sets both
            return Span(
                found.lineno,
                _column(lines, found.lineno, found.col_offset) + 1,
                end_line,
                _column(lines, end_line, end_column) + 1,
            )
        if self._fallback is None:
            self._fallback = MetadataWrapper(self.tree, unsafe_skip_copy=True).resolve(PositionProvider)
        where = self._fallback[node]
        return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)

    def line(self, node: cst.CSTNode) -> int:
        return self.span(node).line

    def parameter_line(self, function: cst.FunctionDef, param: cst.Param) -> int:
        """The line of one of ``function``'s parameters, from the stdlib tree when it has the
        function (parameters are not mapped on their own: asking libcst would regenerate the
        whole module's code)."""
        if self._nodes is None:
            self._nodes = self._from_ast() or {}
        found = self._nodes.get(id(function))
        if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = found.args
            for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                if argument.arg == param.name.value:
                    return argument.lineno
        return self.line(param)

    def _from_ast(self) -> dict[int, ast.expr | ast.stmt] | None:
        outline = self.outline
        if outline is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    outline = Outline(ast.parse(self.source))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return None
        calls, subscripts, statements = outline.calls, outline.subscripts, outline.statements
        cst_calls: list[cst.Call] = []
        cst_subscripts: list[cst.Subscript] = []
        cst_statements: list[cst.CSTNode] = []
        _collect(self.tree, cst_calls, cst_subscripts, cst_statements)
        if len(calls) != len(cst_calls) or len(subscripts) != len(cst_subscripts) or len(statements) != len(cst_statements):
            return None
        calls.sort(key=_order)
        if not all(_same_call(a, c) for a, c in zip(calls, cst_calls)):
            return None
        subscripts.sort(key=_order)
        statements.sort(key=_order)
        nodes: dict[int, ast.expr | ast.stmt] = {id(c): a for a, c in zip(calls, cst_calls)}
        nodes.update((id(c), a) for a, c in zip(subscripts, cst_subscripts))
        nodes.update((id(c), a) for a, c in zip(statements, cst_statements))
        return nodes


class Outline:
    """What ``Locator`` needs of a stdlib tree: its calls, subscripts and statements, in
    ``ast.walk``'s order (breadth first), and the number of its levels below the module.

    One walk over every node, level by level and written out (no generator per node, no
    recursion: the tree may be deep), which also gives the depth ``analysis.parse_ast`` bounds:
    this walk sees every node of every file analyzed, before libcst does."""

    def __init__(self, tree: ast.AST) -> None:
        self.calls: list[ast.Call] = []
        self.subscripts: list[ast.Subscript] = []
        self.statements: list[ast.stmt] = []
        node_type = ast.AST
        level: list[ast.AST] = [tree]
        depth = 0
        while level:
            depth += 1
            below: list[ast.AST] = []
            append = below.append
            for node in level:
                for name in node._fields:
                    value = getattr(node, name, None)
                    if type(value) is list:
                        for item in value:  # a loop, not a generator per list
                            if isinstance(item, node_type):
                                append(item)
                    elif isinstance(value, node_type):
                        append(value)
            for node in below:
                kind = type(node)
                if kind is ast.Call:
                    self.calls.append(cast(ast.Call, node))
                elif kind is ast.Subscript:
                    self.subscripts.append(cast(ast.Subscript, node))
                elif kind in _AST_STATEMENTS:
                    self.statements.append(cast(ast.stmt, node))
            level = below
        self.depth = depth - 1


def _order(node: ast.expr | ast.stmt) -> tuple[int, int, int, int]:
    """Sorted by start, the longer node first (the parser sets both ends: ``or 0`` is never taken)."""
    return node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0)


def _collect(
    node: cst.CSTNode, calls: list[cst.Call], subscripts: list[cst.Subscript], statements: list[cst.CSTNode]
) -> None:
    """Pre-order walk (iterative: deep trees must not overflow the stack), each node's children
    in lexical order: they are pushed in the reverse of it (``_fields_from_last``)."""
    node_types = NODE_TYPES
    stack = [node]
    push = stack.append
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind in _LEAVES:
            continue
        # ``type(...) is``, not isinstance: libcst's nodes are ABCs, whose isinstance is slow here
        if kind is cst.Call:
            calls.append(cast(cst.Call, current))
        elif kind is cst.Subscript:
            subscripts.append(cast(cst.Subscript, current))
        elif kind in _STATEMENT_TYPES:
            statements.append(current)
        fields = _FROM_LAST.get(kind)
        for name in fields if fields is not None else _fields_from_last(kind):
            value = getattr(current, name)
            value_kind = type(value)
            if value_kind in node_types:
                push(value)
            elif value_kind is tuple or value_kind is list:
                for item in reversed(value):
                    if type(item) in node_types:
                        push(item)


_AST_STATEMENTS = frozenset(kind for kind in vars(ast).values() if isinstance(kind, type) and issubclass(kind, ast.stmt))
_LEAVES = frozenset({cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis})

# Node types whose libcst fields are not declared in source order.
_LEXICAL_FIELDS: dict[type, tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
}


def _fields_from_last(kind: type) -> tuple[str, ...]:
    """The fields of a node type that hold its children, last first (``cfg.expr_fields``,
    declared in source order but for ``_LEXICAL_FIELDS``)."""
    fields = _FROM_LAST[kind] = tuple(reversed(_LEXICAL_FIELDS.get(kind) or expr_fields(kind)))
    return fields


_FROM_LAST: dict[type, tuple[str, ...]] = {}


def _column(lines: list[str], line: int, byte_offset: int) -> int:
    """``ast`` columns count UTF-8 bytes; libcst's (and editors') count characters."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text.isascii():
        return byte_offset
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _same_call(a: ast.Call, c: cst.Call) -> bool:
    """A cheap check that two calls are the same: their callees end in the same name.

    ``ast`` normalises identifiers (NFKC); libcst keeps them as written.
    """
    func = c.func
    if isinstance(func, cst.Name):
        return isinstance(a.func, ast.Name) and a.func.id == unicodedata.normalize("NFKC", func.value)
    if isinstance(func, cst.Attribute):
        return isinstance(a.func, ast.Attribute) and a.func.attr == unicodedata.normalize("NFKC", func.attr.value)
    return True
