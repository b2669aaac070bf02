"""Writes that the function making them undoes on every way out: a request's in-flight registry.

``self._running[rid] = task`` then ``try: ... finally: self._running.pop(rid, None)`` keeps
nothing once the function returns (or its generator is closed): the entry lives while the
request runs, as a local would, so the write is not a site (``analysis._site_shape``). The
undoing is in the ``finally`` of a ``try`` whose body holds the write, or that follows the
write's statement directly, after other writes it undoes, or after statements that only set up
locals and nested functions (``chunks = []``, ``def emit(...)``: an exception there is the only
way out that keeps the entry, before anything of the request is in it); unconditional, or under
``if k in c:``, or in a ``with`` (a lock held while it writes or removes). It names the same
container and key, as written, and neither may be a call (``c[uuid4()]``) nor be bound again in
the ``try``'s body or in what is set up before it.
``del c[k]`` and ``c.pop(k, ...)`` undo ``c[k] = v`` and ``c.setdefault(k, v)``; ``c.discard(x)``
and ``c.remove(x)`` undo ``c.add(x)`` and ``c.append(x)``; a registry's unregistering method
with the key (``registry.discard(rid)``, ``unregister``, ``release``, ...) undoes any of its
methods called with that key first (``registry.start(rid, snapshot)``, or ``state =
registry.open(rid)``, whose value a local keeps), and a closing one undoes the opening one of the
same name (``streaming.close_stream(rid)`` undoes ``streaming.open_stream(rid)``). An entry
removed anywhere else (a DELETE handler, a later request) is not undone here: that write is
still judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from storegate.cfg import children, own_statements, suites
from storegate.paths import access_path, root_name

# (what the write adds, the container as written, the key or member as written)
Entry = tuple[str, str, str]
_ITEM, _MEMBER, _ENTRY = "item", "member", "entry"
_ADDS = {"setdefault": _ITEM, "add": _MEMBER, "append": _MEMBER}
_UNDOES = {"pop": _ITEM, "discard": _MEMBER, "remove": _MEMBER}
# A registry's own methods: any method called with a key (``registry.start(rid, ...)``) is undone
# by one of these with the same key (``registry.discard(rid)``); not ``finish`` or ``close``,
# which may keep what they end.
_UNREGISTERS = frozenset("discard remove pop unregister deregister release untrack forget evict drop delete".split())
# An opening method and the closing one of the same name (``open_stream`` and ``close_stream``):
# what a registry opens for a request, it ends when the request does.
_OPENS = frozenset({"open", "begin", "start"})
_CLOSES = frozenset({"close", "end", "stop"})
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def transient_writes(scope: cst.CSTNode) -> frozenset[int]:
    """The ids of the write nodes of ``scope`` (a ``Subscript`` target, or the ``Call`` of an
    adding method) that every way out of it undoes."""
    body = getattr(scope, "body", None)
    if not isinstance(body, cst.IndentedBlock):
        return frozenset()
    found: set[int] = set()
    for block in _blocks(body.body):
        for index, statement in enumerate(block):
            if not isinstance(statement, (cst.Try, cst.TryStar)) or statement.finalbody is None:
                continue
            undone = _undone(statement.finalbody.body)
            if not undone:
                continue
            rebound = _rebound(statement.body)
            covered = list(_lines(statement.body.body)) if isinstance(statement.body, cst.IndentedBlock) else []
            between = True  # past the locals the function sets up before the ``try``
            for previous in reversed(block[:index]):  # the statement before it, and the undone writes before that
                registers = any(entry in undone for line in _lines([previous]) for _, entries in _writes(line) for entry in entries)
                if between and _sets_up(previous) and not registers:  # (``state = registry.open(rid)`` is the write)
                    rebound |= _rebound(previous)
                    continue
                between = False
                lines = list(_lines([previous]))
                covered.extend(lines)
                if not all(_only_undone(line, undone) for line in lines):
                    break
            for line in covered:
                for node, entries in _writes(line):
                    if any(entry in undone and root_name(entry[1]) not in rebound and root_name(entry[2]) not in rebound for entry in entries):
                        found.add(id(node))
    return frozenset(found)


def _blocks(statements: Sequence[cst.BaseStatement]) -> Iterator[Sequence[cst.BaseStatement]]:
    """Every list of statements in the scope, this one first, not those of nested scopes."""
    pending = [statements]
    while pending:
        block = pending.pop()
        yield block
        for statement in block:
            if isinstance(statement, cst.BaseCompoundStatement) and not isinstance(statement, _SCOPES):
                pending.extend(suite.body for suite in suites(statement) if isinstance(suite, cst.IndentedBlock))


def _lines(statements: Sequence[cst.BaseStatement]) -> Iterator[cst.SimpleStatementLine]:
    """The simple statement lines among ``statements`` and in their bodies, not nested scopes'."""
    for statement in own_statements(statements):
        if isinstance(statement, cst.SimpleStatementLine):
            yield statement


def _writes(line: cst.SimpleStatementLine) -> Iterator[tuple[cst.CSTNode, tuple[Entry, ...]]]:
    """Each write of ``line``, with the entries it adds (any one undone undoes it)."""
    for small in line.body:
        targets: list[cst.BaseExpression] = []
        if isinstance(small, cst.Assign):
            targets = [target.target for target in small.targets]
        elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
            targets = [small.target]
        for target in targets:
            entry = _item(target)
            if entry is not None:
                yield target, (entry,)
        call = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
        call = call.expression if isinstance(call, cst.Await) else call
        if isinstance(small, cst.Assign) and not all(isinstance(target.target, cst.Name) for target in small.targets):
            continue  # a registry's entry kept in a local (``state = registry.open(rid)``), not in another container
        if isinstance(call, cst.Call):
            added = _method_entry(call, _ADDS) if isinstance(small, cst.Expr) else None
            entries = (added,) if added is not None else _registered(call)
            if entries:
                yield call, entries


def _only_undone(line: cst.SimpleStatementLine, undone: set[Entry]) -> bool:
    """Whether each statement of ``line`` is a write that ``undone`` removes."""
    writes = list(_writes(line))
    return len(writes) == len(line.body) and all(any(entry in undone for entry in entries) for _, entries in writes)


def _undone(suite: cst.BaseSuite) -> set[Entry]:
    """What a ``finally`` removes on every way through it: its own statements, those of a
    ``with`` (a lock held while it removes: ``with self._lock: self._live.pop(rid, None)``), and
    those of an ``if k in c:`` whose ``c[k]`` they remove."""
    found: set[Entry] = set()
    if not isinstance(suite, cst.IndentedBlock):
        return found
    for statement in suite.body:
        if isinstance(statement, cst.SimpleStatementLine):
            found |= _removed(statement)
        elif isinstance(statement, cst.With):
            found |= _undone(statement.body)
        elif isinstance(statement, cst.If) and statement.orelse is None and isinstance(statement.body, cst.IndentedBlock):
            member = _membership(statement.test)
            for line in statement.body.body:
                if isinstance(line, cst.SimpleStatementLine):
                    found |= {entry for entry in _removed(line) if entry[1:] == member}
    return found


def _removed(line: cst.SimpleStatementLine) -> set[Entry]:
    found = set()
    for small in line.body:
        if isinstance(small, cst.Del):
            targets = [element.value for element in small.target.elements] if isinstance(small.target, cst.Tuple) else [small.target]
            for target in targets:
                entry = _item(target)
                if entry is not None:
                    found.add(entry)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            entry = _method_entry(small.value, _UNDOES)
            if entry is not None:
                found.add(entry)
            entry = _method_entry(small.value, dict.fromkeys(_UNREGISTERS, _ENTRY))
            if entry is not None:
                found.add(entry)
            paired = _paired(small.value, _CLOSES)
            if paired is not None:
                found.add(paired)
    return found


def _item(target: cst.BaseExpression) -> Entry | None:
    """``c[k]`` as an item entry, when both are paths (no call)."""
    if not isinstance(target, cst.Subscript) or len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        return None
    container, key = _text(target.value), _text(target.slice[0].slice.value)
    return None if container is None or key is None else (_ITEM, container, key)


def _method_entry(call: cst.Call, methods: dict[str, str]) -> Entry | None:
    """``c.add(x)`` (an adding method of ``methods``) as its entry."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in methods or not call.args or call.args[0].keyword or call.args[0].star:
        return None
    container, key = _text(func.value), _text(call.args[0].value)
    return None if container is None or key is None else (methods[func.attr.value], container, key)


def _registered(call: cst.Call) -> tuple[Entry, ...]:
    """``registry.start(rid, ...)``, a method of a receiver called with a key first, as the
    entry an unregistering method with that key undoes (``_UNREGISTERS``), and, for an opening
    method, the one its closing method undoes (``_paired``)."""
    func = call.func
    if not isinstance(func, cst.Attribute) or isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
        return ()
    entry = _method_entry(call, {func.attr.value: _ENTRY})
    paired = _paired(call, _OPENS)
    return tuple(e for e in (entry, paired) if e is not None)


def _paired(call: cst.Call, words: frozenset[str]) -> Entry | None:
    """``streaming.open_stream(rid)`` (a method whose first word is one of ``words``) as the
    entry of its pair, named by what follows that word: the one ``close_stream(rid)`` undoes."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    first, _, rest = func.attr.value.partition("_")
    if first not in words:
        return None
    return _method_entry(call, {func.attr.value: f"paired:{rest}"})


def _membership(test: cst.BaseExpression) -> tuple[str, str] | None:
    """``(c, k)`` of a test ``k in c``."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 or not isinstance(test.comparisons[0].operator, cst.In):
        return None
    key, container = _text(test.left), _text(test.comparisons[0].comparator)
    return None if key is None or container is None else (container, key)


def _text(expr: cst.BaseExpression) -> str | None:
    """A path (``self._running``, ``request.id``, ``body["id"]``) or a literal, else None."""
    if isinstance(expr, (cst.SimpleString, cst.Integer)):
        return expr.value
    return access_path(expr)


def _sets_up(statement: cst.BaseStatement) -> bool:
    """Whether a statement only binds locals or defines a nested function (``chunks: list[str] =
    []``, ``t0 = time.perf_counter()``, ``def emit(...)``): what a function sets up between a
    write and the ``try`` whose ``finally`` undoes it."""
    if isinstance(statement, cst.FunctionDef):
        return True
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Assign):
            if not all(isinstance(target.target, cst.Name) for target in small.targets):
                return False
        elif not (isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)):
            return False
    return True


def _rebound(suite: cst.CSTNode) -> set[str]:
    """The names a ``try``'s body binds (assignment, ``for``, ``with ... as``, ``:=``): a key or
    container bound again there may no longer be what the ``finally`` removes."""
    names: set[str] = set()
    pending: list[cst.CSTNode] = [suite]
    while pending:
        node = pending.pop()
        field = _BINDINGS.get(type(node))
        if field is not None:
            names.update(_names(getattr(node, field)))
        pending.extend(children(node))  # by the nodes' fields: libcst's ``children`` visits every token too
    return names


# The field of each binding node that holds what it binds.
_BINDINGS: dict[type, str] = {
    cst.AssignTarget: "target", cst.AnnAssign: "target", cst.AugAssign: "target",
    cst.For: "target", cst.NamedExpr: "target", cst.AsName: "name",
}  # fmt: skip


def _names(target: cst.CSTNode) -> Iterator[str]:
    """The names a target binds (``a``, ``a, (b, *c)``)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _names(target.value)
