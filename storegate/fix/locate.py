"""From a finding to its node: the call at the finding's span, its scope, and the statement blocks
from the scope down to it (the *chain* a gate is placed along)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Union

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from storegate.cfg import Scope
from storegate.model import Finding

SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)
_SUITES = (cst.IndentedBlock, cst.Module)
_SPANNED = (cst.Call, cst.Subscript, cst.Attribute, cst.Name)

Suite = Union[cst.IndentedBlock, cst.Module]  # a block of statements
Chain = tuple[tuple[Suite, int], ...]  # (suite, index of the statement), from the scope down


@dataclass(frozen=True)
class Sink:
    """An ungated write to gate: its finding, its node and the chain to its statement."""

    finding: Finding
    node: cst.CSTNode
    chain: Chain


class Tree:
    """The module being fixed, with the positions and parents of its nodes (resolved once)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.positions: Mapping[cst.CSTNode, CodeRange] = wrapper.resolve(PositionProvider)
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = wrapper.resolve(ParentNodeProvider)
        self._by_span: dict[tuple[int, int, int, int], list[cst.CSTNode]] = defaultdict(list)
        for node, where in self.positions.items():
            if isinstance(node, _SPANNED):
                self._by_span[(where.start.line, where.start.column, where.end.line, where.end.column)].append(node)
        self.memo: dict[tuple, object] = {}  # per-scope facts computed on demand (names.py)

    def locate(self, finding: Finding) -> cst.CSTNode | None:
        """The node of ``finding``: the one at its exact span (a call first), else the smallest
        call, subscript or attribute that encloses the span."""
        span = (finding.line, finding.column - 1, finding.end_line, finding.end_column - 1)
        exact = self._by_span.get(span)
        if exact:
            for kind in _SPANNED:
                for node in exact:
                    if isinstance(node, kind):
                        return node
        best = None
        best_size = None
        start, end = (span[0], span[1]), (span[2], span[3])
        for node, where in self.positions.items():
            if not isinstance(node, (cst.Call, cst.Subscript, cst.Attribute)):
                continue
            s, e = (where.start.line, where.start.column), (where.end.line, where.end.column)
            if s <= start and end <= e:
                size = (e[0] - s[0], e[1] - s[1])
                if best_size is None or size < best_size:
                    best, best_size = node, size
        return best

    def scope_of(self, node: cst.CSTNode) -> Scope:
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, SCOPES):
                return current
            current = self.parents.get(current)
        return self.module

    def chain(self, node: cst.CSTNode, scope: Scope) -> Chain | str:
        """The (suite, statement index) pairs from ``scope`` down to the statement holding ``node``,
        or why there is none."""
        out: list[tuple[Suite, int]] = []
        child, current = node, self.parents.get(node)
        while current is not None:
            if isinstance(current, cst.SimpleStatementSuite):
                return "in a one-line block"  # ``for x in y: save(x)``
            if isinstance(current, _SUITES):
                index = index_of(current.body, child)
                if index is None:
                    return "not in a statement block that can be gated"
                out.append((current, index))
            if current is scope:
                break
            if isinstance(current, SCOPES):
                return "not in a statement block that can be gated"
            child, current = current, self.parents.get(current)
        if not out or out[-1][0] is not body_suite(scope):
            return "not in the body of its function"  # e.g. in a decorator or a default value
        out.reverse()
        return tuple(out)

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        return pos(self.positions[node].start)

    def end(self, node: cst.CSTNode) -> tuple[int, int]:
        return pos(self.positions[node].end)


def pos(position: CodePosition) -> tuple[int, int]:
    return (position.line, position.column)


def index_of(body: Sequence[cst.CSTNode], child: cst.CSTNode) -> int | None:
    for index, statement in enumerate(body):
        if statement is child:
            return index
    return None


def body_suite(scope: Scope) -> Suite | None:
    """The block of statements of ``scope`` (None for a lambda or a one-line body)."""
    if isinstance(scope, cst.Module):
        return scope
    return scope.body if isinstance(scope.body, cst.IndentedBlock) else None
