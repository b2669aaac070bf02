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

from typing import cast

import libcst as cst

from storegate.cfg import descendants, own_statements
from storegate.paths import access_path


def lazy_writes(scope: cst.CSTNode) -> frozenset[int]:
    """The ids of every node in the bodies of ``scope``'s lazy initializations (see above)."""
    body = getattr(scope, "body", None)
    if not isinstance(scope, cst.FunctionDef) or not isinstance(body, cst.IndentedBlock):
        return frozenset()
    globals_: set[str] = set()
    tested: list[tuple[cst.If, str]] = []  # outer ones first
    for statement in own_statements(body.body):
        if isinstance(statement, cst.Global):
            globals_.update(name.name.value for name in statement.names)
        elif isinstance(statement, cst.If):
            name = _emptiness_of(statement.test)
            if name is not None:
                tested.append((statement, name))
    found: set[int] = set()
    for statement, name in tested:
        if id(statement) not in found:
            if name in globals_ or (name.partition(".")[0] in ("self", "cls") and "." in name):
                if any(_binds(inner, name) for inner in own_statements(statement.body.body)):
                    found.update(map(id, descendants(statement.body)))  # a callback defined there runs there
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


