"""What a scope reads: the names it reads or binds and the access paths (locations) it reads.

A pass over a built graph, kept out of the CFG builder so that the builder knows no idiom of
the flag: ``request.store``, ``body["store"]`` and ``body.get("store")`` are locations here
(``paths.access_path``), and ``flags.available`` asks whether one of them is a flag's.
It walks ``CFG.evaluated`` the way the builder evaluates (nested scopes' bodies left out; a
location is read whole, its inner parts not walked) and the names of the graph's bindings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import libcst as cst

from storegate.cfg import CFG, BindEvent, children
from storegate.paths import access_path, root_name


@dataclass(frozen=True)
class Reads:
    names: frozenset[str]  # every Name read or bound in the scope (not in nested scopes)
    accessed: frozenset[str]  # access paths read: ``request.store``, ``body["store"]``


def reads(graph: CFG) -> Reads:
    """The names and locations ``graph``'s scope reads (bound names count as names)."""
    names: set[str] = set()
    accessed: set[str] = set()

    def access(expr: cst.BaseExpression) -> bool:
        path = access_path(expr)
        if path is None:
            return False
        accessed.add(path)
        names.add(root_name(path))
        return True

    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, BindEvent) and isinstance(event.target, cst.Name):
                names.add(event.target.value)
    stack: list[cst.CSTNode] = list(graph.evaluated)  # no recursion: chains may be long
    while stack:  # ``type(...) is``: libcst's nodes are ABCs, whose isinstance is slow here
        expr = stack.pop()
        kind = type(expr)
        if kind is cst.Name:
            names.add(cast(cst.Name, expr).value)
        elif kind is cst.Attribute:
            attribute = cast(cst.Attribute, expr)
            if not access(attribute):
                stack.append(attribute.value)
        elif kind is cst.Call:
            call = cast(cst.Call, expr)
            if type(call.func) is cst.Attribute and call.func.attr.value == "get":
                access(call)
            stack.append(call.func)
            stack.extend(arg.value for arg in call.args)
        elif kind is cst.Lambda:
            params = cast(cst.Lambda, expr).params
            stack.extend(p.default for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.default is not None)
        elif kind is cst.NamedExpr:
            named = cast(cst.NamedExpr, expr)
            stack.append(named.value)
            _target(named.target, names, stack)
        elif kind is cst.CompFor:
            clause = cast(cst.CompFor, expr)
            _target(clause.target, names, stack)
            stack.append(clause.iter)
            stack.extend(condition.test for condition in clause.ifs)
            if clause.inner_for_in is not None:
                stack.append(clause.inner_for_in)
        elif kind not in _LEAVES:
            if kind is cst.Subscript:
                access(cast(cst.Subscript, expr))
            stack.extend(children(expr))
    return Reads(frozenset(names), frozenset(accessed))


_LEAVES = frozenset({cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis})


def _target(target: cst.BaseExpression, names: set[str], stack: list[cst.CSTNode]) -> None:
    """A binding target: its names are bound; a store's receiver and index are evaluated."""
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _target(element.value, names, stack)
    elif isinstance(target, cst.StarredElement):
        _target(target.value, names, stack)
    elif isinstance(target, cst.Name):
        names.add(target.value)
    elif isinstance(target, cst.Attribute):
        stack.append(target.value)
    elif isinstance(target, cst.Subscript):
        stack.extend(children(target))
