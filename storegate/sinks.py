"""What counts as a sink: dotted globs over the callee, argument regexes, container writes.

A pattern is matched against the callee as written (``self.responses_store.store_x``) and
against its import-qualified name (``from app.db import save`` makes ``save`` ``app.db.save``).
``*`` matches any run of characters, dots included. Globs and argument regexes come from
configuration that a pull request may change, so both are matched without backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from storegate.linear_regex import LinearRegex
from storegate.model import Sink
from storegate.paths import callee_path, literal_text

# Methods that write into a container named by a ``[]`` pattern.
MUTATING_METHODS = frozenset(
    {"__setitem__", "__delitem__", "setdefault", "update", "append", "appendleft", "extend", "extendleft", "insert", "add", "put", "put_nowait"}
)

_EMPTY_MODULE = cst.Module(body=[])


@lru_cache(maxsize=1024)
def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """A whole-string matcher for a dotted glob: ``*`` any characters (dots included), ``?`` one.

    No backtracking: the parts between the stars have fixed lengths, the first must start the
    text, the last end it, and each middle one is taken at its leftmost place (which is never
    worse for the parts after it). A match costs at most the text's length times the pattern's.
    """
    parts = pattern.split("*")
    regexes = [re.compile("".join("." if char == "?" else re.escape(char) for char in part), re.DOTALL) for part in parts]
    if len(parts) == 1:
        return lambda text: regexes[0].fullmatch(text) is not None
    head, *middle, tail = regexes
    tail_size = len(parts[-1])

    def match(text: str) -> bool:
        start, end = len(parts[0]), len(text) - tail_size
        if end < start or head.match(text) is None or tail.fullmatch(text, end) is None:
            return False
        for part in middle:
            found = part.search(text, start, end)
            if found is None:
                return False
            start = found.end()
        return True

    return match


@dataclass(frozen=True)
class _Compiled:
    sink: Sink
    glob: Callable[[str], bool]
    argument: LinearRegex | None


def callee_text(func: cst.BaseExpression) -> str:
    """The callee as written, in one line: ``self.store.save`` or ``get_db().save``
    (``getattr(obj, "save")`` as ``obj.save``)."""
    name = callee_path(func)
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
            argument = LinearRegex(sink.argument) if sink.argument else None
            if sink.is_container:
                self.containers.append(_Compiled(sink, glob_matcher(sink.pattern[:-2]), None))
            else:
                self.calls.append(_Compiled(sink, glob_matcher(sink.pattern), argument))

    def match_call(self, call: cst.Call, imports: Mapping[str, str], text: str | None = None) -> tuple[str, Sink] | None:
        """``(callee text, sink)`` when ``call`` is a persistence call. ``text``: what the callee
        is known to denote, when not what is written (``save`` after ``save = db.save``)."""
        text = text or callee_text(call.func)
        names = [text]
        qualified = qualify(text, imports)
        if qualified is not None and qualified != text:
            names.append(qualified)
        for compiled in self.calls:
            if any(compiled.glob(name) for name in names):
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
            if any(compiled.glob(name) for name in names):
                return compiled.sink
        return None


def _first_argument_matches(call: cst.Call, argument: LinearRegex) -> bool:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            text = literal_text(arg.value)
            return text is not None and argument.search(text)
        break
    return False
