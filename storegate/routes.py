"""HTTP handlers of store-bearing endpoints: ``@app.post("/v1/responses")`` and friends.

A route pattern from a pack is a path glob, optionally preceded by a method:
``/v1/responses`` (any method) or ``POST /v1/chat/completions``.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from storegate.paths import string_value
from storegate.sinks import glob_matcher

_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "route", "websocket"}


def handler_routes(function: cst.FunctionDef, patterns: Sequence[str]) -> tuple[str, ...]:
    """``("POST /v1/responses",)`` for each decorator registering ``function`` on a matching route."""
    if not patterns:
        return ()
    found = []
    for decorator in function.decorators:
        call = decorator.decorator
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            continue
        verb = call.func.attr.value
        if verb not in _METHODS or not call.args or call.args[0].keyword is not None:
            continue
        path = string_value(call.args[0].value)
        if path is None:
            continue
        method = verb.upper() if verb not in ("api_route", "route") else _declared_method(call)
        if any(route_matches(pattern, method, path) for pattern in patterns):
            found.append(f"{method} {path}")
    return tuple(found)


def route_matches(pattern: str, method: str, path: str) -> bool:
    wanted_method, _, wanted_path = pattern.rpartition(" ")
    if wanted_method and wanted_method.upper() != method and method != "*":
        return False
    return glob_matcher(wanted_path.rstrip("/") or "/")(path.rstrip("/") or "/")


def _declared_method(call: cst.Call) -> str:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "methods" and isinstance(arg.value, (cst.List, cst.Tuple)):
            declared = [string_value(e.value) for e in arg.value.elements]
            methods = [m.upper() for m in declared if m]
            if len(methods) == 1:
                return methods[0]
    return "*"
