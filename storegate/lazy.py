"""Lazy initialization: what a function runs only while a long-lived name is still empty.

``if not cls._providers: cls._providers = fetch(); json.dump(cls._providers, open(path, "w"))``
fills ``cls._providers`` once per process (once per object, for ``self._models``), whatever the
request that happens to come first: what that body writes (a cache file of what it fetched)
keeps nothing of a request, so none of it is a site (``analysis._site_shape``). The test is
``not X``, ``X is None`` or ``X == None`` on a name that outlives the call (an attribute of
``self`` or ``cls``, or a name the function declares ``global``), and the body binds ``X``
itself, at any depth. Any other test (``if rid not in self._turns:``, ``if X is None and
stream:``) is no lazy initialization: a body keyed or gated by the request is judged.

A memo filled per key is one too: ``client = self._clients.get(key)``, then ``if client is
None:`` whose body makes ``client`` with a call and puts it back (``client = self._build(key);
self._clients[key] = client``): the object made for that key (a tenant's storage client, a
model's session) is what the next request with the key gets, nothing of the one that made it.
What is later done through it (``client.append(...)``) is judged where it is done.
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
    fetched: dict[str, list[str]] = {}  # local -> the long-lived containers it is fetched from by key
    for statement in own_statements(body.body):
        if isinstance(statement, cst.Global):
            globals_.update(name.name.value for name in statement.names)
        elif isinstance(statement, cst.If):
            name = _emptiness_of(statement.test)
            if name is not None:
                tested.append((statement, name))
        elif isinstance(statement, cst.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0].target, cst.Name):
            fetched.setdefault(statement.targets[0].target.value, []).append(_fetched_from(statement.value) or "")

    def outlives(name: str) -> bool:
        return name in globals_ or (name.partition(".")[0] in ("self", "cls") and "." in name)

    found: set[int] = set()
    for statement, name in tested:
        if id(statement) in found:
            continue
        inner = list(own_statements(statement.body.body))
        if outlives(name):
            lazy = any(_binds(small, name) for small in inner)
        else:  # a memo: fetched once by key from a long-lived container, made and put back here
            sources = {source for source in fetched.get(name, ()) if source}
            container = next(iter(sources)) if len(sources) == 1 else None
            container = container if container is not None and outlives(container) else None
            lazy = container is not None and _makes(inner, name) and any(_puts_back(small, container, name) for small in inner)
        if lazy:
            found.update(map(id, descendants(statement.body)))  # a callback defined there runs there
    return frozenset(found)


def _fetched_from(value: cst.BaseExpression) -> str | None:
    """``self._clients`` of ``self._clients.get(key)`` (one argument, or a ``None`` default)."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get":
        args = value.args
        if len(args) == 1 or (len(args) == 2 and isinstance(args[1].value, cst.Name) and args[1].value.value == "None"):
            return access_path(value.func.value)
    return None


def _makes(statements: list[cst.CSTNode], name: str) -> bool:
    """Whether ``name`` is bound there, each time from a call (``client = self._build(key)``)."""
    made = [small for small in statements if _binds(small, name)]
    return bool(made) and all(isinstance(getattr(small, "value", None), (cst.Call, cst.Await)) for small in made)


def _puts_back(statement: cst.CSTNode, container: str, name: str) -> bool:
    """Whether a small statement is ``container[...] = name``."""
    if not isinstance(statement, cst.Assign) or not isinstance(statement.value, cst.Name) or statement.value.value != name:
        return False
    return any(isinstance(t.target, cst.Subscript) and access_path(t.target.value) == container for t in statement.targets)


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


