"""Names as one scope of the fixed file sees them: what a run of statements binds, where each
name is used, and how the scope reads the flag (the expression a gate tests).

Bindings, parameters and the names a scope reads come from the analyzer's own control-flow graph
of the scope (``cfg.build``: its bind events and ``params``; ``reads.reads``: its names), and flag locations are
what ``flags.is_location`` says: the fixer sees a scope as the analysis that verifies it does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange

from storegate import cfg as cfglib
from storegate import flags as flaglib
from storegate.cfg import Scope
from storegate.fix.locate import Tree, body_suite
from storegate.model import Flag
from storegate.paths import access_path, root_name
from storegate.reads import reads


@dataclass(frozen=True)
class _Scope:
    graph: cfglib.CFG
    bindings: dict[str, list[cfglib.BindEvent]]  # by name, in source order
    names: frozenset[str]  # every name the scope reads or binds


def _scope(tree: Tree, scope: Scope) -> _Scope:
    """The control-flow graph of ``scope`` and its bindings of names (computed once per scope).

    A comprehension's variables are its own, not the scope's: they are left out. A ``finally``
    body is in the graph twice; each binding is listed once.
    """
    key = ("scope", id(scope))
    found = tree.memo.get(key)
    if not isinstance(found, _Scope):  # not computed yet
        graph = cfglib.build(scope)
        events: dict[int, tuple[str, cfglib.BindEvent]] = {}  # id of the target Name -> (its name, the event)
        for block in graph.blocks:
            for event in block.events:
                if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name) and not isinstance(event.node, cst.CompFor):
                    events.setdefault(id(event.target), (event.target.value, event))
        bindings: dict[str, list[cfglib.BindEvent]] = defaultdict(list)
        for name, event in sorted(events.values(), key=lambda named: tree.start(named[1].target)):
            bindings[name].append(event)
        found = tree.memo[key] = _Scope(graph, dict(bindings), reads(graph).names)
    return found


def bound_names(tree: Tree, scope: Scope, statements: Sequence[cst.CSTNode]) -> set[str]:
    """The names the ``statements`` (consecutive, of ``scope``) bind in ``scope``."""
    start, end = tree.start(statements[0]), tree.end(statements[-1])
    return {
        name
        for name, events in _scope(tree, scope).bindings.items()
        if any(start <= tree.start(event.target) and tree.end(event.target) <= end for event in events)
    }


def flag_expression(tree: Tree, scope: Scope, flag: Flag, before: tuple[int, int]) -> cst.BaseExpression | None:
    """How ``scope`` reads ``flag``, usable at position ``before``; None if it does not.

    The parameter (or a local or closure variable of the flag's name); else a local that is a
    pure copy of a flag location, assigned once before ``before``; else the flag location as
    the scope reads it, copied as written.
    """
    facts = _scope(tree, scope)
    graph, bindings = facts.graph, facts.bindings
    params = graph.params
    if flag.name in params:
        return cst.Name(flag.name)

    def after(event: cfglib.BindEvent) -> bool:
        return tree.end(event.target) > before

    if flag.name in facts.names:
        first = [tree.start(event.target) for event in bindings.get(flag.name, [])]
        if not first or min(first) < before:
            return cst.Name(flag.name)
    for alias, binds in bindings.items():
        if alias in params or len(binds) != 1 or not _is_copy(binds[0], flag) or after(binds[0]):
            continue
        return cst.Name(alias)
    for node in _locations(scope, flag):
        root = root_name(access_path(node) or "")
        binds = bindings.get(root, [])
        if root in params or (binds and all(not after(b) for b in binds)) or (not binds and root in facts.names):
            return node.deep_clone().with_changes(lpar=[], rpar=[])
    return None


def _is_copy(event: cfglib.BindEvent, flag: Flag) -> bool:
    """``name = <a flag location>`` (one target; annotated or not)."""
    if isinstance(event.node, cst.Assign) and len(event.node.targets) != 1:  # kind "assign"
        return False
    return event.kind in ("assign", "annassign") and event.value is not None and _is_location(event.value, flag)


def _is_location(expr: cst.BaseExpression, flag: Flag) -> bool:
    if isinstance(expr, cst.Name):
        return False
    path = access_path(expr)
    return path is not None and flaglib.is_location(path, flag)


def _locations(scope: Scope, flag: Flag) -> list[cst.BaseExpression]:
    """The expressions of ``scope`` (not of its nested scopes) that read a location of ``flag``
    (``flags.is_location``), in source order, nodes and all: the gate copies one as written.

    Not ``CFG.accessed``: it holds paths, not nodes, and only the longest of an attribute chain
    (``request.store.lower`` for ``request.store.lower()``).
    """
    visitor = _Locations(flag)
    for statement in scope.body if isinstance(scope, cst.Module) else (scope.body,):  # a one-line body too
        statement.visit(visitor)
    return visitor.found


def name_uses(tree: Tree, scope: Scope) -> list[tuple[str, CodeRange, bool]]:
    """Every name occurrence in ``scope``: (name, range, inside a nested scope)."""
    key = ("uses", id(scope))
    cached = tree.memo.get(key)
    if not isinstance(cached, list):  # not computed yet
        visitor = _Uses(tree.positions)
        body = body_suite(scope)
        for statement in body.body if body is not None else ():
            statement.visit(visitor)
        cached = tree.memo[key] = visitor.found
    return cached


class _Uses(cst.CSTVisitor):
    def __init__(self, positions: Mapping[cst.CSTNode, CodeRange]) -> None:
        self.positions = positions
        self.depth = 0
        self.found: list[tuple[str, CodeRange, bool]] = []

    def _enter(self, node: cst.CSTNode) -> None:
        self.depth += 1

    def _leave(self, original_node: cst.CSTNode) -> None:
        self.depth -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        where = self.positions.get(node)
        if where is not None:
            self.found.append((node.value, where, self.depth > 0))


class _Locations(cst.CSTVisitor):
    def __init__(self, flag: Flag) -> None:
        self.flag = flag
        self.found: list[cst.BaseExpression] = []

    def _note(self, node: cst.BaseExpression) -> None:
        if _is_location(node, self.flag):
            self.found.append(node)

    def _skip(self, node: cst.CSTNode) -> bool:
        return False

    visit_FunctionDef = visit_ClassDef = visit_Lambda = _skip

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self._note(node)
        node.value.visit(self)
        return False

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._note(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._note(node)

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False
