"""Lazy initialization: what a function runs only while a long-lived name is still empty.

``if not cls._providers: cls._providers = fetch(); json.dump(cls._providers, open(path, "w"))``
fills ``cls._providers`` once per process (once per object, for ``self._models``), whatever the
request that happens to come first: what that body writes (a cache file of what it fetched)
keeps nothing of a request, so none of it is a site (``analysis._site_shape``). The test is
``not X``, ``X is None`` or ``X == None`` on a name that outlives the call (an attribute of
``self`` or ``cls``, or a name the function declares ``global``), and the body binds ``X``
itself, at any depth. Any other test (``if rid not in self._turns:``, ``if X is None and
stream:``) is no lazy initialization: a body keyed or gated by the request is judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast

import libcst as cst

from storegate.cfg import suites
from storegate.paths import access_path

_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def lazy_writes(scope: cst.CSTNode) -> frozenset[int]:
    """The ids of every node in the bodies of ``scope``'s lazy initializations (see above)."""
    body = getattr(scope, "body", None)
    if not isinstance(scope, cst.FunctionDef) or not isinstance(body, cst.IndentedBlock):
        return frozenset()
    globals_ = {name.name.value for statement in _statements(body.body) if isinstance(statement, cst.Global) for name in statement.names}
    found: set[int] = set()
    for statement in _statements(body.body):
        if isinstance(statement, cst.If) and id(statement) not in found:
            name = _emptiness_of(statement.test)
            if name is not None and (name in globals_ or (name.partition(".")[0] in ("self", "cls") and "." in name)):
                if any(_binds(inner, name) for inner in _statements(statement.body.body)):
                    found.update(_descendants(statement.body))
    return frozenset(found)


def _emptiness_of(test: cst.BaseExpression) -> str | None:
    """``X`` of ``not X``, ``X is None``, ``X == None``; None for any other test."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return access_path(test.expression)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.operator, (cst.Is, cst.Equal)) and isinstance(target.comparator, cst.Name) and target.comparator.value == "None":
            return access_path(test.left)
    return None


def _binds(statement: cst.CSTNode, name: str) -> bool:
    """Whether a small statement binds ``name`` (``X = ...``, ``X: T = ...``, ``X = Y = ...``)."""
    targets: list[cst.BaseExpression] = []
    if isinstance(statement, cst.Assign):
        targets = [cast(cst.BaseExpression, target.target) for target in statement.targets]
    elif isinstance(statement, cst.AnnAssign):
        targets = [cast(cst.BaseExpression, statement.target)]
    return any(access_path(target) == name for target in targets)


def _statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Every statement of a body, those of its compound statements too, not of nested scopes."""
    stack: list[cst.CSTNode] = list(reversed(body))
    while stack:
        statement = stack.pop()
        yield statement
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body  # its small statements: ``global X``, ``X = ...``
        elif isinstance(statement, cst.BaseCompoundStatement) and not isinstance(statement, _SCOPES):
            for suite in suites(statement):
                if isinstance(suite, cst.IndentedBlock):
                    stack.extend(reversed(suite.body))
                elif isinstance(suite, cst.SimpleStatementSuite):
                    stack.extend(reversed(suite.body))


def _descendants(node: cst.CSTNode) -> Iterator[int]:
    """The ids of ``node``'s nodes, nested scopes' too (a callback defined there runs there)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield id(current)
        stack.extend(current.children)
