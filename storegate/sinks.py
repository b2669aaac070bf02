"""What counts as a sink: kinds of sink, each a strategy over the graph's events, fed by packs.

A *sink kind* (``SinkKind``) claims the configured sinks (a pack's data) that are its own and
says whether an event (a call, a binding) writes to one of them: ``match(event, context)``
gives a ``SinkMatch`` naming the sink and the kind. ``SINK_KINDS`` is the registry, consulted in
order; ``SinkMatcher`` holds one instance of each for a run. A new kind is one class here and
one entry in ``SINK_KINDS`` (and its pack syntax in ``config.py`` if the sinks need new data).

- ``call``: a dotted glob over the callee, matched as written (``self.responses_store.store_x``)
  and import-qualified (``from app.db import save`` makes ``save`` ``app.db.save``); an optional
  regex that the first positional argument, a string literal, must match.
- ``container``: a pattern ending in ``[]``; item assignment, augmented assignment, ``del`` and
  mutating methods on the container it names.
- ``library``: a pattern with ``()`` names a method of a receiver by its type, the qualified
  call that made it (``redis.Redis().set``, ``sqlite3.connect()*.execute``: ``receivers.py``);
  ``[]`` after such a type names its item writes (``shelve.open()[]``). An argument regex is
  matched against a literal first argument or its type (``sqlalchemy.insert().values()``).
- ``state``: no pattern; writes into containers that outlive the request (module-level, class
  attributes, a service object's), when the configuration has a ``state`` rule (``state.py``).

``*`` matches any run of characters, dots included; a leading ``*.`` also matches nothing, so
``*.response_store[]`` names a bare ``response_store`` too (``sink_glob``). Globs and argument regexes come from
configuration that a pull request may change, so both are matched without backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from storegate.cfg import BindEvent, CallEvent, Event, children
from storegate.linear_regex import LinearRegex, compiled
from storegate.model import CONSTANTS, Sink, State, constants_only
from storegate.paths import access_path, callee_path, dotted_name, literal_text, read_key
from storegate.statements import PASSED, bookkeeping_column, counts_only
from storegate.summary import names_an_identifier

if TYPE_CHECKING:
    from storegate.receivers import Receivers
    from storegate.state import ScopeState

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


@lru_cache(maxsize=1024)
def sink_glob(pattern: str) -> Callable[[str], bool]:
    """``glob_matcher`` for a sink pattern: a leading ``*.`` also matches nothing, so that
    ``*.conversation_store.store_*`` names a parameter ``conversation_store.store_messages(...)``
    and ``*.response_store`` a bare ``response_store``: nobody has to write both forms."""
    whole = glob_matcher(pattern)
    if not pattern.startswith("*."):
        return whole
    bare = glob_matcher(pattern[2:])
    return lambda text: whole(text) or bare(text)


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


@dataclass(frozen=True)
class SinkMatch:
    """An event writes to a sink: ``text`` the callee or container as written, ``sink`` the
    configured sink, ``kind`` the name of the kind that matched it. With ``constant``, it may:
    the sink's argument regex is for the project to try on the text of that constant, which
    another module defines (``conn.execute(queries.INSERT_TURN, ...)``: ``queries.INSERT_TURN``
    as written; ``statements.add_statement_sinks``)."""

    text: str
    sink: Sink
    kind: str
    constant: str | None = None



@dataclass(frozen=True)
class MatchContext:
    """What a kind may know beyond the event: the module's imports (local name -> qualified),
    what a call's callee denotes when not what is written (``save`` after ``save = db.save``),
    the long-lived containers the scope can write (``state.ScopeState``), the types of its
    receivers (``receivers.Receivers``) and the literal text of the names that stand for a string
    (``INSERT_TURN = "INSERT INTO ..."``: an argument regex sees it)."""

    imports: Mapping[str, str]
    callee: str | None = None
    state: ScopeState | None = None
    receivers: Receivers | None = None
    strings: Mapping[str, str] | None = None
    params: frozenset[str] = frozenset()  # the calling function's parameters (``PASSED``)

    def callee_text(self, call: cst.Call) -> str:
        return self.callee or callee_text(call.func)

    def names(self, text: str) -> list[str]:
        """``text`` and its import-qualified name, the forms a pattern is matched against."""
        qualified = qualify(text, self.imports)
        return [text] if qualified is None or qualified == text else [text, qualified]


class SinkKind:
    """One kind of sink: which configured sinks are its own, and which events write to them."""

    name: ClassVar[str]

    @staticmethod
    def claims(sink: Sink) -> bool:
        """Whether ``sink`` (from a pack or the configuration) is of this kind."""
        raise NotImplementedError

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = sinks

    @classmethod
    def build(cls, sinks: Sequence[Sink], state: State | None) -> SinkKind | None:
        """This kind for a run, holding ``sinks``; None when it has nothing to match."""
        return cls(sinks) if sinks else None

    def match(self, event: Event, context: MatchContext) -> SinkMatch | None:
        """The sink ``event`` writes to, if it is one of this kind's."""
        raise NotImplementedError


class CallSinks(SinkKind):
    """A call whose callee matches a pattern (and whose first argument matches its regex)."""

    name = "call"

    @staticmethod
    def claims(sink: Sink) -> bool:
        return not sink.is_container and not sink.is_typed

    def __init__(self, sinks: Sequence[Sink]) -> None:
        super().__init__(sinks)
        self.compiled = [(sink, sink_glob(sink.pattern), compiled(sink.argument) if sink.argument else None) for sink in sinks]
        self.by_last, self.anywhere = _by_last_name(sinks)

    def match(self, event: Event, context: MatchContext) -> SinkMatch | None:
        if not isinstance(event, CallEvent):
            return None
        call = event.node
        text = context.callee_text(call)
        names = context.names(text)
        indices = set(self.anywhere)
        for name in names:
            indices.update(self.by_last.get(name.rpartition(".")[2], ()))
        pending = None
        for index in sorted(indices):
            sink, glob, argument = self.compiled[index]
            if any(glob(name) for name in names):
                if argument is None or _argument_matches(call, sink, argument, strings=context.strings):
                    if _keeps_nothing(call, sink, context):
                        return None
                    return SinkMatch(text, sink, sink.kind or self.name)
                constant = _imported_argument(call, sink, context)
                if pending is None and constant is not None:
                    pending = SinkMatch(text, sink, sink.kind or self.name, constant)
        return pending


def _by_last_name(sinks: Sequence[Sink]) -> tuple[dict[str, list[int]], list[int]]:
    """The sinks' indices by the last name of their pattern, and those whose last name has a
    wildcard. A pattern whose last name has none (``*.save_response``, ``redis.Redis().set``)
    matches only callees of that last name: each site tries those and the others, in the order
    of the configuration, not every pattern."""
    by_last: dict[str, list[int]] = {}
    anywhere: list[int] = []
    for index, sink in enumerate(sinks):
        last = sink.pattern.rpartition(".")[2]
        if "*" in last or "?" in last:
            anywhere.append(index)
        else:
            by_last.setdefault(last, []).append(index)
    return by_last, anywhere


class ContainerSinks(SinkKind):
    """A write into a container named by a ``pattern[]``: ``c[k] = v``, ``c[k] += v``,
    ``del c[k]``, or a mutating method (``c.append(v)``)."""

    name = "container"
    WRITES = frozenset({"assign", "augassign", "annassign", "delete"})

    @staticmethod
    def claims(sink: Sink) -> bool:
        return sink.is_container

    def __init__(self, sinks: Sequence[Sink]) -> None:
        super().__init__(sinks)
        self.compiled = [(sink, sink_glob(sink.pattern[:-2])) for sink in sinks]

    def match(self, event: Event, context: MatchContext) -> SinkMatch | None:
        if isinstance(event, CallEvent):
            func = event.node.func
            if isinstance(func, cst.Attribute) and func.attr.value in MUTATING_METHODS:
                sink = self._container(func.value, context)
                if sink is not None:
                    return SinkMatch(context.callee_text(event.node), sink, sink.kind or self.name)
        elif isinstance(event, BindEvent) and event.kind in self.WRITES and isinstance(event.target, cst.Subscript):
            sink = self._container(event.target.value, context)
            if sink is not None:
                return SinkMatch(callee_text(event.target.value) + "[...]", sink, sink.kind or self.name)
        return None

    def _container(self, expr: cst.BaseExpression, context: MatchContext) -> Sink | None:
        names = context.names(callee_text(expr))
        for sink, glob in self.compiled:
            if any(glob(name) for name in names):
                return sink
        return None


class LibrarySinks(SinkKind):
    """A method of a receiver of a library's type (``r.set`` where ``r = redis.Redis()``), or an
    item write into one (``db[k] = v`` where ``db = shelve.open(p)``): the pattern names the type
    (``redis.Redis().set``, ``shelve.open()[]``), the context knows the receivers' types."""

    name = "library"

    @staticmethod
    def claims(sink: Sink) -> bool:
        return sink.is_typed

    def __init__(self, sinks: Sequence[Sink]) -> None:
        super().__init__(sinks)
        calls = [s for s in sinks if not s.is_container]
        self.calls = [(s, sink_glob(s.pattern), compiled(s.argument) if s.argument else None) for s in calls]
        self.by_last, self.anywhere = _by_last_name(calls)
        self.items = [(s, sink_glob(s.pattern[:-2])) for s in sinks if s.is_container]

    def match(self, event: Event, context: MatchContext) -> SinkMatch | None:
        receivers = context.receivers
        if receivers is None:
            return None
        if isinstance(event, CallEvent):
            func = event.node.func
            if not isinstance(func, cst.Attribute):
                return None
            owner = receivers.type_of(func.value)
            if owner is None:
                return None
            method = func.attr.value
            typed = f"{owner}.{method}"
            pending = None
            for index in sorted({*self.anywhere, *self.by_last.get(method, ())}):
                sink, glob, argument = self.calls[index]
                if not glob(typed):
                    continue
                if argument is None or _argument_matches(event.node, sink, argument, receivers, context.strings):
                    if _keeps_nothing(event.node, sink, context):
                        return None
                    return SinkMatch(callee_text(func), sink, sink.kind or self.name)
                constant = _imported_argument(event.node, sink, context)
                if pending is None and constant is not None:
                    pending = SinkMatch(callee_text(func), sink, sink.kind or self.name, constant)
            if method in MUTATING_METHODS:
                return self._item(func.value, receivers, callee_text(func)) or pending
            return pending
        elif isinstance(event, BindEvent) and event.kind in ContainerSinks.WRITES and isinstance(event.target, cst.Subscript):
            return self._item(event.target.value, receivers, callee_text(event.target.value) + "[...]")
        return None

    def untyped(self, call: cst.Call, context: MatchContext) -> tuple[tuple[str, str], ...]:
        """``(pattern, kind)`` of each sink of this call's method whose argument and key hold,
        when the summary does not know the receiver to be the library's (``Site.untyped``): a
        parameter's, a global of another module, ``app.state``'s, or what a class of the project
        holds (``_store.db.logs.insert_one``, ``_store: MongoStore``), which the project may type."""
        func = call.func
        receivers = context.receivers
        if receivers is None or not isinstance(func, cst.Attribute):
            return ()
        if access_path(func.value) is None and receivers.type_of(func.value) is not None:
            return ()  # typed, and no path the project could type again (``Model.objects.filter().update``)
        found = []
        for index in self.by_last.get(func.attr.value, ()):
            sink, _, argument = self.calls[index]
            if argument is not None and not _argument_matches(call, sink, argument, receivers, context.strings):
                continue
            if _keeps_nothing(call, sink, context):
                continue
            found.append((sink.pattern, sink.kind or self.name))
        return tuple(found)

    def _item(self, expr: cst.BaseExpression, receivers: Receivers, text: str) -> SinkMatch | None:
        owner = receivers.type_of(expr)
        if owner is None:
            return None
        for sink, glob in self.items:
            if glob(owner):
                return SinkMatch(text, sink, sink.kind or self.name)
        return None


class StateSinks(SinkKind):
    """A write into a container that outlives the request (``state.py`` says which, per scope):
    on by the configuration's ``state`` rule, not by patterns. The site's sink is the container
    (``self._sessions[]``); its kind ``instance`` for the object's own (``ScopeState.of_object``)."""

    name = "state"
    INSTANCE = "instance"

    @staticmethod
    def claims(sink: Sink) -> bool:
        return False

    @classmethod
    def build(cls, sinks: Sequence[Sink], state: State | None) -> SinkKind | None:
        return cls(sinks) if state is not None else None

    def match(self, event: Event, context: MatchContext) -> SinkMatch | None:
        if context.state is None:
            return None
        found = context.state.written(event)
        if found is None:
            return None
        text, container = found
        return SinkMatch(text, Sink(container + "[]"), self.INSTANCE if context.state.of_object(container) else self.name)


# The registry of sink kinds, consulted in this order; a sink belongs to the first that claims it.
SINK_KINDS: tuple[type[SinkKind], ...] = (LibrarySinks, CallSinks, ContainerSinks, StateSinks)


class SinkMatcher:
    """All configured sinks, each held by its kind, compiled once per run; ``state``: the
    configuration's rule for containers that outlive the request, if any."""

    def __init__(self, sinks: Iterable[Sink], state: State | None = None) -> None:
        claimed: dict[type[SinkKind], list[Sink]] = {kind: [] for kind in SINK_KINDS}
        for sink in sinks:
            owner = next((kind for kind in SINK_KINDS if kind.claims(sink)), None)
            if owner is not None:
                claimed[owner].append(sink)
        built = (kind.build(found, state) for kind, found in claimed.items())
        self.kinds = [kind for kind in built if kind is not None]
        # whether a sink names a receiver by its type: then the analysis works the types out
        self.typed = any(isinstance(kind, LibrarySinks) for kind in self.kinds)

    def untyped(self, call: cst.Call, context: MatchContext) -> tuple[tuple[str, str], ...]:
        """The library sinks ``call`` is if its receiver holds their type (``LibrarySinks.untyped``)."""
        return next((kind.untyped(call, context) for kind in self.kinds if isinstance(kind, LibrarySinks)), ())

    def statement(self, value: cst.BaseExpression, strings: Mapping[str, str] | None) -> str | None:
        """The text of a string written out (or named: ``INSERT_TURN``) that some sink's argument
        regex finds something in (SQL that writes): what a call passes for a parameter that
        reaches such a sink (``PASSED``)."""
        regexes = self._regexes
        if not regexes or isinstance(value, (cst.Call, cst.List, cst.Dict, cst.Tuple)):
            return None
        for text in _argument_texts(value, None, strings):
            head = text[:_STATEMENT_CHARS]  # a statement says what it does first; a long text is prose
            if any(regex.search(head) for regex in regexes) and not counts_only(text):
                return text
        return None

    @cached_property
    def _regexes(self) -> list[LinearRegex]:
        """One of each argument regex (the SQL drivers' sinks share a few)."""
        return [compiled(argument) for argument in sorted({sink.argument for kind in self.kinds for sink in kind.sinks if sink.argument})]

    def match(self, event: Event, context: MatchContext) -> SinkMatch | None:
        """The first kind's match for ``event``, if any kind has one; one that waits for another
        module's constant (``SinkMatch.constant``) only if no kind has a match for certain."""
        pending = None
        for kind in self.kinds:
            found = kind.match(event, context)
            if found is not None and found.constant is None:
                return found
            pending = pending or found
        return pending


_STATEMENT_CHARS = 2_000  # what ``SinkMatcher.statement`` reads of a string


def _argument_matches(
    call: cst.Call, sink: Sink, argument: LinearRegex, receivers: Receivers | None = None, strings: Mapping[str, str] | None = None
) -> bool:
    """Whether the regex finds something in what the sink's argument (``Sink.position`` /
    ``keyword``) says (``_argument_texts``)."""
    value = _argument(call, sink.position, sink.keyword)
    return value is not None and any(argument.search(text) for text in _argument_texts(value, receivers, strings))


def _argument_texts(value: cst.BaseExpression, receivers: Receivers | None, strings: Mapping[str, str] | None) -> Iterator[str]:
    """What an argument says: the text of a string literal, of a name bound to one (``strings``:
    ``INSERT_TURN``, a class's ``Queries.SAVE``) or of one that a call wraps (``text("INSERT ...")``); with ``receivers``, its type
    (``sqlalchemy.insert().values()``); and a call as written (``self.turns.insert().values()``)."""
    strings = strings or {}
    wrapped = value.args[0].value if isinstance(value, cst.Call) and value.args and value.args[0].keyword is None else None
    for candidate in (value, wrapped):
        if candidate is not None:
            text = literal_text(candidate)
            if text is None and isinstance(candidate, (cst.Name, cst.Attribute)):
                text = strings.get(callee_text(candidate))
            if text is not None:
                yield text
    if receivers is not None:
        typed = receivers.type_of(value)
        if typed is not None:
            yield typed
    if isinstance(value, cst.Call):
        yield callee_text(value.func) + "()"


def _imported_argument(call: cst.Call, sink: Sink, context: MatchContext) -> str | None:
    """The sink's argument as written (``queries.INSERT_TURN``, ``INSERT_TURN``), when it is a
    name, or an attribute of one, that the module imports: a constant whose text only the
    project can read."""
    value = _argument(call, sink.position, sink.keyword)
    if not isinstance(value, (cst.Name, cst.Attribute)):
        return None
    if isinstance(value, cst.Name) and value.value in context.params and not (context.strings and value.value in context.strings):
        return PASSED + value.value
    written = callee_path(value)
    if written is None or (context.strings is not None and written in context.strings):
        return None
    return written if written.partition(".")[0] in context.imports else None


def _argument(call: cst.Call, position: int, keyword: str | None = None) -> cst.BaseExpression | None:
    """The argument at ``position`` or named ``keyword``; None after a ``*args``."""
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is None and index == position:
            return arg.value
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


def constant_written(expr: cst.BaseExpression) -> bool:
    """Whether an argument is a constant written out (``"completed"``, ``1``, ``None``; not an
    f-string, which may hold the request) or named by an upper-case name (``STATUS_TTL``, a
    module's setting): it passes nothing of the request (``Argument.literal``)."""
    if isinstance(expr, cst.Name):
        return expr.value in CONSTANTS or (expr.value.isupper() and len(expr.value) > 1)
    if isinstance(expr, cst.ConcatenatedString):
        return constant_written(expr.left) and constant_written(expr.right)
    return isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary))


def _constants_under_key(call: cst.Call, key: int) -> bool:
    """Whether a key-value write stores only constants or identifiers under its key
    (``cache.set(bucket, 1, timeout=90)``, ``r.set(marker, "done")``, ``cache.add(idem_key,
    response_id)``): a counter's start, a marker's status, which response a key claimed, nothing
    of the request (``model.constants_only``)."""
    arguments = [(arg.keyword.value if arg.keyword else None, bool(arg.star), constant_written(arg.value) or identifier(arg.value)) for arg in call.args]
    return constants_only(arguments, key)


def identifier(value: cst.BaseExpression) -> bool:
    """Whether a value is named as an identifier: a name or an attribute (``completion_id``,
    ``response.id``), an item under such a key (``completion["id"]``, ``headers.get("X-Request-Id")``),
    what a function named for one makes (``new_id("req")``), or either of two such
    (``headers.get("X-Request-Id") or new_id("req")``)."""
    if isinstance(value, cst.BooleanOperation):
        return identifier(value.left) and identifier(value.right)
    if isinstance(value, cst.Name):
        name = value.value
    elif isinstance(value, cst.Attribute):
        name = value.attr.value
    elif isinstance(value, cst.Subscript) and len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
        key = value.slice[0].slice.value
        name = (literal_text(key) or "") if isinstance(key, cst.SimpleString) else ""
    elif isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get":
        name = read_key(value) or ""
    elif isinstance(value, cst.Call):
        name = (dotted_name(value.func) or "").rpartition(".")[2]
    else:
        return False
    return names_an_identifier(name.replace("-", "_"))


def _keeps_nothing(call: cst.Call, sink: Sink, context: MatchContext) -> bool:
    """Whether a write keeps nothing of the request: a key-value store's (a sink with a
    ``key``) under a key named for bookkeeping, or of only constants under its key; a
    statement's (a sink with an argument regex) that only counts (``statements.counts_only``)."""
    if sink.argument is not None:
        value = _argument(call, sink.position, sink.keyword)
        texts = list(_argument_texts(value, None, context.strings)) if value is not None else []
        if (texts and counts_only(texts[0])) or (value is not None and _stamps_only(value)):
            return True
    if sink.key is None:
        return False
    return _bookkeeping_key(_argument(call, sink.key), context) or _constants_under_key(call, sink.key) or _stamps_mapping(call, sink.key)


def _stamps_mapping(call: cst.Call, key: int) -> bool:
    """Whether a key-value write sets only fields named for a status, a count, a time or a
    reason (``pipe.hset(state_key, mapping={"status": status, "closed_at": now})``), as
    ``_stamps_only`` reads a SQL update: where a stream stands, nothing of the request."""
    mapping = next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == "mapping"), None)
    if not isinstance(mapping, cst.Dict) or not mapping.elements:
        return False
    if any(arg.star or (arg.keyword is None and index > key) for index, arg in enumerate(call.args)):
        return False  # a value passed beside the mapping
    return all(
        isinstance(element, cst.DictElement) and bookkeeping_column(literal_text(element.key) or "") for element in mapping.elements
    )


def _stamps_only(value: cst.BaseExpression) -> bool:
    """Whether a statement built with SQLAlchemy is an ``update(...)`` whose ``.values(...)`` only
    sets columns named for a status, a count, a time or a reason (``update(ApiKey).where(...)
    .values(last_used_at=now)``): ``statements.counts_only`` of the written form."""
    if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "values"):
        return False
    if not value.args or any(arg.keyword is None or not bookkeeping_column(arg.keyword.value) for arg in value.args):
        return False
    node: cst.BaseExpression = value.func.value
    while isinstance(node, cst.Call) or isinstance(node, cst.Attribute):
        if isinstance(node, cst.Call) and callee_text(node.func).rpartition(".")[2] == "update":
            return True
        node = node.func if isinstance(node, cst.Call) else node.value
    return False


def _bookkeeping_key(key: cst.BaseExpression | None, context: MatchContext) -> bool:
    """Whether a key-value store's key is named for bookkeeping by the scope's ``state`` rule
    (``f"{TASKS_KEY}:{rid}"``, ``"lock:" + rid``): a word of its literal text or one of its
    constants that an ``ignore`` glob matches. No rule, no key: not bookkeeping."""
    if key is None or context.state is None:
        return False
    return any(context.state.ignored(word) for word in _key_words(key, context.strings or {}) if word)


def _key_words(node: cst.CSTNode, strings: Mapping[str, str]) -> Iterator[str]:
    """What a key says it is for: the words of its literal text and its constants' names
    (``TASKS_KEY``, ``settings.LOCK_PREFIX``), and of the literal a local or a module constant
    holds (``key = f"lock:conv:{cid}"``, ``_MODELS_KEY = "meta:models"``: ``strings``).
    Variables are the ids it is for (``job_id`` may key a kept result), never counted."""
    if isinstance(node, cst.Name):
        if node.value.isupper():
            yield node.value
        if node.value in strings:  # what a constant spells too (``_MODELS_KEY = "meta:models"``)
            yield from re.split(r"\W+", strings[node.value])
    elif isinstance(node, (cst.SimpleString, cst.FormattedStringText)):
        text = literal_text(node) if isinstance(node, cst.SimpleString) else node.value
        yield from re.split(r"\W+", text or "")
    else:
        for child in children(node):
            yield from _key_words(child, strings)
