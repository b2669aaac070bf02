"""What counts as a sink: dotted globs over the callee, argument regexes, container writes.

A pattern is matched against the callee as written (``self.responses_store.store_x``) and
against its import-qualified name (``from app.db import save`` makes ``save`` ``app.db.save``).
``*`` matches any run of characters, dots included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import libcst as cst

from storegate.model import Sink
from storegate.paths import dotted_name, literal_text

# Methods that write into a container named by a ``[]`` pattern.
MUTATING_METHODS = frozenset(
    {"__setitem__", "__delitem__", "setdefault", "update", "append", "appendleft", "extend", "extendleft", "insert", "add", "put", "put_nowait"}
)

_EMPTY_MODULE = cst.Module(body=[])


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a dotted glob: ``*`` any characters (dots included), ``?`` one character."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


@dataclass(frozen=True)
class _Compiled:
    sink: Sink
    regex: re.Pattern[str]
    argument: re.Pattern[str] | None


def callee_text(func: cst.BaseExpression) -> str:
    """The callee as written, in one line: ``self.store.save`` or ``get_db().save``."""
    name = dotted_name(func)
    if name is not None:
        return name
    return " ".join(_EMPTY_MODULE.code_for_node(func).split())


def qualify(name: str, imports: Mapping[str, str]) -> str | None:
    """``save`` -> ``app.db.save`` when ``from app.db import save``; ``None`` if not imported."""
    root, dot, rest = name.partition(".")
    target = imports.get(root)
    if target is None:
        return None
    return target + dot + rest


class SinkMatcher:
    """All configured sinks, compiled once per run."""

    def __init__(self, sinks: Iterable[Sink]) -> None:
        self.calls: list[_Compiled] = []
        self.containers: list[_Compiled] = []
        for sink in sinks:
            argument = re.compile(sink.argument) if sink.argument else None
            if sink.is_container:
                self.containers.append(_Compiled(sink, glob_regex(sink.pattern[:-2]), None))
            else:
                self.calls.append(_Compiled(sink, glob_regex(sink.pattern), argument))

    def match_call(self, call: cst.Call, imports: Mapping[str, str]) -> tuple[str, Sink] | None:
        """``(callee text, sink)`` when ``call`` is a persistence call."""
        text = callee_text(call.func)
        names = [text]
        qualified = qualify(text, imports)
        if qualified is not None and qualified != text:
            names.append(qualified)
        for compiled in self.calls:
            if any(compiled.regex.match(name) for name in names):
                if compiled.argument is None or _first_argument_matches(call, compiled.argument):
                    return text, compiled.sink
        if self.containers and isinstance(call.func, cst.Attribute) and call.func.attr.value in MUTATING_METHODS:
            container = self._container(call.func.value, imports)
            if container is not None:
                return text, container
        return None

    def match_write(self, target: cst.BaseExpression, imports: Mapping[str, str]) -> tuple[str, Sink] | None:
        """``(text, sink)`` when assigning to or deleting ``target`` writes into a sink container."""
        if not self.containers or not isinstance(target, cst.Subscript):
            return None
        container = self._container(target.value, imports)
        if container is None:
            return None
        return callee_text(target.value) + "[...]", container

    def _container(self, expr: cst.BaseExpression, imports: Mapping[str, str]) -> Sink | None:
        text = callee_text(expr)
        names = [text]
        qualified = qualify(text, imports)
        if qualified is not None:
            names.append(qualified)
        for compiled in self.containers:
            if any(compiled.regex.match(name) for name in names):
                return compiled.sink
        return None


def _first_argument_matches(call: cst.Call, argument: re.Pattern[str]) -> bool:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            text = literal_text(arg.value)
            return text is not None and argument.search(text) is not None
        break
    return False
