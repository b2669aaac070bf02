"""Calls the code makes later, or through a dictionary: hand-offs and keyword dictionaries.

A function passed as a value to an API that calls it (``loop.run_in_executor(None, fn, x)``,
``functools.partial(fn, store=store)``, ``background_tasks.add_task(fn, x, store=store)``,
Starlette's ``BackgroundTask(fn, x)``, ``threading.Thread(target=fn, args=(x,))``,
``executor.submit(fn, x)``, ``asyncio.to_thread(fn, x)``, ``anyio.to_thread.run_sync(fn, x)``,
an anyio task group's ``tg.start_soon(fn, x)``, a Celery task's ``fn.delay(x)`` or
``fn.apply_async((x,))``, a Dramatiq actor's ``fn.send(x)``, RQ's ``queue.enqueue(fn, x)``) is a call of it with the hand-off's remaining
arguments; a lambda without parameters that makes one call, given to any call
(``transaction.on_commit(lambda: save(x))``), is that call, made later. The summary holds that
call as a site at the hand-off (``handed``), so the callee is resolved, derived and given
call-site facts exactly as for a direct call. The APIs are recognized by their name's shape
(the last name of the callee), never by importing anything.

``f(**kw)``, where ``kw`` is a dict display or ``dict(...)`` the function builds itself, passes
its keys as keywords (``Dicts.expand``): its keys, and the ``kw["k"] = v`` writes that every path
to the call runs. Anything else done to the dict leaves ``**kw`` an unknown splat.

What an object keeps of its arguments (``kept``) is what ``callbacks.py`` needs to follow a
callback called later through an attribute. A table of functions (``tables``, ``kept`` under a
key) called through the key an item chooses (``chosen``: a worker's ``self._handlers[type(job)](job)``),
and what made the item (``made``), are what ``dispatch.py`` needs to match a job with its handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import json
import re

import libcst as cst

from storegate import cfg as cfglib
from storegate.paths import callee_path, dotted_name, string_value
from storegate.summary import BUILT, LOCATED
from storegate.typegather import PUTS

# The last name of a hand-off API -> (position of the function among the positional arguments,
# whether the hand-off's keywords reach it). The event loop's methods take none for the function.
_POSITIONAL = {
    "partial": (0, True),  # functools.partial
    "add_task": (0, True),  # fastapi/starlette BackgroundTasks
    "BackgroundTask": (0, True),  # starlette.background.BackgroundTask(fn, *args, **kwargs)
    "start_soon": (0, False),  # anyio task groups, trio nurseries: start_soon(fn, *args, name=None)
    "run_sync": (0, False),  # anyio.to_thread.run_sync(fn, *args, cancellable=...)
    "submit": (0, True),  # concurrent.futures executors
    "to_thread": (0, True),  # asyncio.to_thread
    "run_in_threadpool": (0, True),  # starlette.concurrency
    "run_in_executor": (1, False),  # loop.run_in_executor(executor, fn, *args)
    "call_soon": (0, False),
    "call_soon_threadsafe": (0, False),
    "call_later": (1, False),
    "call_at": (1, False),
    "enqueue": (0, True),  # RQ: queue.enqueue(fn, *args, **kwargs)
}
# The API names that are a hand-off only on these receivers (anyio's ``to_thread.run_sync(fn, *args,
# cancellable=...)``, which passes no keyword on); elsewhere the name is often a project's own helper.
_RECEIVED = {"run_sync": frozenset({"to_thread", "from_thread"})}
# ``Thread(group, target, name, args, kwargs)``: the function and its arguments by keyword or position.
_THREADS = frozenset({"Thread", "Process"})
_THREAD_PARAMS = ("group", "target", "name", "args", "kwargs")
# A task queue's task is its own receiver: Celery's ``persist_turn.delay(*args, **kwargs)`` and
# ``persist_turn.apply_async(args, kwargs)``, Dramatiq's ``persist_turn.send(*args, **kwargs)`` and
# ``send_with_options(args=..., kwargs=...)``, Taskiq's ``persist_turn.kiq(*args, **kwargs)`` run
# it in a worker. A ``send`` is one only on a name (a task defined or imported as one):
# ``self.ws.send(x)``, ``ws.send(x)`` send a message (a name that is no function resolves to none).
_TASK_METHODS = frozenset({"delay", "apply_async", "send", "send_with_options", "kiq"})
_DIRECT_TASK_METHODS = frozenset({"delay", "send", "kiq"})  # the task's arguments as they are
_TASK_PARAMS = ("args", "kwargs")

# A string that may name a kind of job (``"attachment.upload"``): short, one word (``made``).
_IS_LABEL = re.compile(r"[\w.:/-]{1,64}").fullmatch
# Builtins whose value names no kind of anything (``str(x)``, ``len(items)``): ``made`` skips them.
_PLAIN_CALLS = frozenset({"str", "int", "float", "bool", "len", "dict", "list", "tuple", "set", "repr", "sorted", "min", "max", "sum", "any", "all"})

# Methods of a container that leave it as it is: a dict stays what its display says
# (``Dicts``), a buffer as full or empty as it was (``analysis._filled``).
READING_METHODS = frozenset({"get", "copy", "items", "keys", "values", "__contains__", "count", "index"})


def handed(call: cst.Call, imports: Mapping[str, str] | None = None) -> tuple[cst.BaseExpression, list[cst.Arg]] | None:
    """``(function, arguments)`` of the call a hand-off makes later, or ``None`` if ``call`` is
    not one (or passes something other than a named function: a nested ``partial(...)`` is a
    hand-off of its own, seen as its own call). ``imports``: the module's (local name ->
    qualified), for an API imported by name (``from anyio.to_thread import run_sync``)."""
    found = _by_api(call, imports or {})
    if found is None:
        # ``transaction.on_commit(lambda: task.delay(x))``: a thunk given to any call is run later
        return next((thunk for arg in call.args if (thunk := _thunk(arg.value)) is not None), None)
    if isinstance(found[0], cst.Lambda):
        return _thunk(found[0])  # ``loop.run_in_executor(None, lambda: save(x))``
    return found if callee_path(found[0]) is not None else None


def _by_api(call: cst.Call, imports: Mapping[str, str]) -> tuple[cst.BaseExpression, list[cst.Arg]] | None:
    """``(function, arguments)`` of a hand-off API that ``call`` is, by its name's shape: the
    callee's last name, whatever its receiver (``asyncio.get_running_loop().run_in_executor``)."""
    func = call.func
    last = _last_name(func)
    if not last:
        return None
    if last in _THREADS:
        return _thread(call)
    if last in _TASK_METHODS and isinstance(call.func, cst.Attribute):
        if last == "send" and not isinstance(call.func.value, cst.Name):
            return None
        return (call.func.value, list(call.args)) if last in _DIRECT_TASK_METHODS else _task(call)
    if last in _RECEIVED:
        receiver = dotted_name(func.value) if isinstance(func, cst.Attribute) else imports.get(last, "").rpartition(".")[0]
        if (receiver or "").rpartition(".")[2] not in _RECEIVED[last]:
            return None  # a project's own ``run_sync(fn, *args, **kwargs)``: its body says what it hands on
    shape = _POSITIONAL.get(last)
    return None if shape is None else _positional(call, *shape)


def _last_name(func: cst.BaseExpression) -> str:
    """A callee's last name, whatever its receiver (``run_in_executor`` of
    ``asyncio.get_running_loop().run_in_executor``); "" for anything else."""
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""


def _thunk(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, list[cst.Arg]] | None:
    """A lambda without parameters that makes one call (``lambda: save(x)``), the usual way to
    put off a call: ``(save, [x])``, or what that call hands off in turn (``lambda:
    task.delay(x)``: ``(task, [x])``)."""
    if not isinstance(expr, cst.Lambda) or not isinstance(expr.body, cst.Call):
        return None
    params = expr.params
    if params.params or params.posonly_params or params.kwonly_params or not isinstance(params.star_arg, cst.MaybeSentinel) or params.star_kwarg:
        return None
    call = expr.body
    inner = handed(call)
    if inner is not None:
        return inner
    return (call.func, list(call.args)) if callee_path(call.func) is not None else None


def forwards_keywords(call: cst.Call) -> bool:
    """Whether a keyword added to ``call`` reaches the function it calls (the fixer's SG003
    fix): not through ``Thread`` (its ``kwargs=``), the event loop's methods or a thunk."""
    if handed(call) is None:
        return True
    found = _by_api(call, {})
    if found is None or isinstance(found[0], cst.Lambda):
        return False
    last = _last_name(call.func)
    if last in _TASK_METHODS:
        return last in _DIRECT_TASK_METHODS
    return last not in _THREADS and _POSITIONAL[last][1]


def _positional(call: cst.Call, index: int, keywords: bool) -> tuple[cst.BaseExpression, list[cst.Arg]] | None:
    positional = [a for a in call.args if a.keyword is None and a.star != "**"]
    if len(positional) <= index or any(a.star for a in positional[: index + 1]):
        return None
    named = [a for a in call.args if a.keyword is not None or a.star == "**"] if keywords else []
    return positional[index].value, [*positional[index + 1 :], *named]


def _thread(call: cst.Call) -> tuple[cst.BaseExpression, list[cst.Arg]] | None:
    """``Thread(target=fn, args=(x,), kwargs={"store": store})``: ``fn`` and ``x, store=store``."""
    given = _by_parameter(call, _THREAD_PARAMS)
    if given is None or "target" not in given:
        return None
    return given["target"], _arguments(given)


def _task(call: cst.Call) -> tuple[cst.BaseExpression, list[cst.Arg]] | None:
    """``task.apply_async((x,), {"store": store}, countdown=5)``: ``task`` and ``x, store=store``."""
    given = _by_parameter(call, _TASK_PARAMS)
    if given is None or not isinstance(call.func, cst.Attribute):
        return None
    return call.func.value, _arguments(given)


def _by_parameter(call: cst.Call, params: tuple[str, ...]) -> dict[str, cst.BaseExpression] | None:
    """The call's arguments by the name of the parameter each is for (None with a ``*``)."""
    given: dict[str, cst.BaseExpression] = {}
    for position, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is not None:
            given[arg.keyword.value] = arg.value
        elif position < len(params):
            given[params[position]] = arg.value
    return given


def _arguments(given: dict[str, cst.BaseExpression]) -> list[cst.Arg]:
    """What a hand-off's ``args=`` sequence and ``kwargs=`` dict pass to the function."""
    args = _sequence(given["args"]) if "args" in given else []
    kwargs = given.get("kwargs")
    named: list[cst.Arg] = []
    if kwargs is not None:
        named = keywords(kwargs) or [_splat(kwargs)]
    return [*args, *named]


def _sequence(expr: cst.BaseExpression) -> list[cst.Arg]:
    """The arguments a tuple or list display spreads; an unknown ``*`` splat for anything else."""
    if isinstance(expr, (cst.Tuple, cst.List)):
        return [cst.Arg(value=e.value, star="*" if isinstance(e, cst.StarredElement) else "") for e in expr.elements]
    return [cst.Arg(value=expr, star="*")]


def keywords(expr: cst.BaseExpression | None) -> list[cst.Arg] | None:
    """The keyword arguments a dict display or ``dict(...)`` call spreads (``**`` of one in it
    stays a splat); ``None`` for anything else."""
    if isinstance(expr, cst.Dict):
        out = []
        for element in expr.elements:
            if not isinstance(element, cst.DictElement):  # ``**other``
                out.append(_splat(element.value))
                continue
            key = string_value(element.key)
            out.append(_keyword(key, element.value) if key is not None and key.isidentifier() else _splat(element.value))
        return out
    if isinstance(expr, cst.Call) and callee_path(expr.func) == "dict":
        return [arg if arg.keyword is not None or arg.star == "**" else _splat(arg.value) for arg in expr.args]
    return None


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value, keyword=cst.Name(name))


def _splat(value: cst.BaseExpression) -> cst.Arg:
    """An argument whose keys are not known: it may bind any parameter (``_bound_argument``)."""
    return cst.Arg(value=value, star="**")


# -- keyword dictionaries -------------------------------------------------------------------


@dataclass
class _Dict:
    display: list[cst.Arg] | None = None  # the keywords of its one binding, if a display
    where: tuple[int, int] | None = None  # (block, event) of that binding
    bindings: int = 0
    writes: list[tuple[int, int, str | None, cst.BaseExpression]] = field(default_factory=list)
    # mutated some other way (True), or handed to these calls, which may mutate it
    escapes: list[object] = field(default_factory=list)


class Dicts:
    """The local dicts of one scope that ``**`` passes, with what each is known to hold."""

    def __init__(self, graph: cfglib.CFG) -> None:
        self.graph = graph

    @cached_property
    def _dicts(self) -> dict[str, _Dict]:
        found: dict[str, _Dict] = {}
        for block in self.graph.blocks:
            for position, event in enumerate(block.events):
                if isinstance(event, cfglib.BindEvent):
                    self._bind(found, block.index, position, event)
                else:
                    self._call(found, event.node)
        return found

    @staticmethod
    def _bind(found: dict[str, _Dict], block: int, position: int, event: cfglib.BindEvent) -> None:
        target = event.target
        if isinstance(target, cst.Name):
            entry = found.setdefault(target.value, _Dict())
            entry.bindings += 1
            if event.kind in ("assign", "annassign"):
                entry.display, entry.where = keywords(event.value), (block, position)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            entry = found.setdefault(target.value.value, _Dict())
            element = target.slice[0].slice if len(target.slice) == 1 else None
            key = string_value(element.value) if isinstance(element, cst.Index) else None
            if event.kind == "assign" and event.value is not None:
                entry.writes.append((block, position, key, event.value))
            else:
                entry.escapes.append(True)

    @staticmethod
    def _call(found: dict[str, _Dict], call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value not in READING_METHODS:
            found.setdefault(func.value.value, _Dict()).escapes.append(True)
        for arg in call.args:
            if isinstance(arg.value, cst.Name) and arg.star != "**":
                found.setdefault(arg.value.value, _Dict()).escapes.append(call)

    def expand(self, args: list[cst.Arg], call: cst.Call) -> list[cst.Arg]:
        """``args`` with each ``**kw`` of a known dict (or ``**{...}``) replaced by the keywords it
        holds at ``call``."""
        if not any(arg.star == "**" for arg in args):
            return args
        at = self._where(call)
        out: list[cst.Arg] = []
        for arg in args:
            held = None
            if arg.star == "**":
                held = self._held(arg.value.value, at) if isinstance(arg.value, cst.Name) and at else keywords(arg.value)
            out.extend(held if held is not None else [arg])
        return out

    def packed(self, args: list[cst.Arg], call: cst.Call) -> list[tuple[str, list[cst.Arg]]]:
        """``(keyword, the keywords it holds)`` for each known dict passed by keyword
        (``Item(kwargs=kw)``): what a consumer's ``f(**item.kwargs)`` passes."""
        found = []
        for arg in args:
            if arg.keyword is not None and not arg.star and isinstance(arg.value, cst.Name) and arg.value.value in self._dicts:
                at = self._where(call)
                held = self._held(arg.value.value, at, call) if at else None
                if held is not None and all(a.keyword is not None for a in held):
                    found.append((arg.keyword.value, held))
        return found

    def _held(self, name: str, at: tuple[int, int], handed_to: cst.Call | None = None) -> list[cst.Arg] | None:
        entry = self._dicts.get(name)
        if entry is None or any(e is not handed_to for e in entry.escapes):
            return None
        if entry.bindings != 1 or entry.display is None or entry.where is None:
            return None
        if not self._dominates(entry.where, at):
            return None
        held = {arg.keyword.value: arg for arg in entry.display if arg.keyword is not None}
        unknown = [arg for arg in entry.display if arg.keyword is None]
        for block, position, key, value in sorted(entry.writes, key=lambda w: (w[0], w[1])):
            if key is not None and key.isidentifier() and self._dominates((block, position), at):
                held[key] = _keyword(key, value)
            elif self._reaches((block, position), at):
                held.pop(key or "", None)  # may or may not be there at the call
                unknown.append(_splat(cst.Name(name)))
        return [*held.values(), *unknown[:1]]

    def _where(self, call: cst.Call) -> tuple[int, int] | None:
        return self._calls.get(id(call))

    @cached_property
    def _calls(self) -> dict[int, tuple[int, int]]:
        """Call node id -> ``(block, event)`` of its first call event (a ``finally`` body's
        calls are in several blocks): one pass, not one per call that passes a dict."""
        found: dict[int, tuple[int, int]] = {}
        for block in self.graph.blocks:
            for position, event in enumerate(block.events):
                if isinstance(event, cfglib.CallEvent):
                    found.setdefault(id(event.node), (block.index, position))
        return found

    def _dominates(self, first: tuple[int, int], then: tuple[int, int]) -> bool:
        """Whether every path from the entry to ``then`` runs ``first`` before it."""
        if first[0] == then[0]:
            return first[1] < then[1]
        return then[0] not in self._reachable(avoiding=first[0])

    def _reaches(self, first: tuple[int, int], then: tuple[int, int]) -> bool:
        """Whether some path runs ``first`` and then ``then`` (a loop may bring it back)."""
        if first[0] == then[0] and first[1] < then[1]:
            return True
        return then[0] in self._reachable(start=first[0], avoiding=None, strict=True)

    def _reachable(self, avoiding: int | None = None, start: int | None = None, strict: bool = False) -> set[int]:
        """The blocks reached from the entry (or after ``start``) without going through ``avoiding``."""
        blocks = self.graph.blocks
        first = self.graph.entry.index if start is None else start
        todo = [edge.target.index for edge in blocks[first].edges] if strict else [first]
        seen: set[int] = set()
        while todo:
            index = todo.pop()
            if index in seen or index == avoiding:
                continue
            seen.add(index)
            todo.extend(edge.target.index for edge in blocks[index].edges)
        return seen


def kept(graph: cfglib.CFG) -> tuple[tuple[str, str, str], ...]:
    """``(attribute, parameter, key)`` of each ``self.attribute = parameter`` of a method, of each
    parameter it puts in a collection the attribute holds (``self._handlers[topic].append(handler)``,
    ``self._handlers.setdefault(topic, []).append(handler)``, ``self._hooks.add(hook)``: an event
    bus's subscriptions, called later as the collection's elements), and of each it keeps under
    another parameter (``self._handlers[kind] = handler``: key ``kind``; else "")."""
    params = set(graph.params) - {"self", "cls"}
    found = set()
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and event.kind in ("assign", "annassign") and isinstance(event.value, cst.Name) and event.value.value in params:
                target = event.target
                key = ""
                if isinstance(target, cst.Subscript) and event.kind == "assign":
                    index = _index(target)
                    key = (dotted_name(index) or "").partition(".")[0] if index is not None else ""  # ``kind``, ``kind.value``
                    key = key if key in params else ""
                    target = target.value
                if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
                    found.add((target.attr.value, event.value.value, key))
            elif isinstance(event, cfglib.CallEvent):
                filled = _filled(event.node, params)
                if filled is not None:
                    found.add(filled)
    return tuple(sorted(found))


def tables(graph: cfglib.CFG) -> tuple[tuple[str, str, str], ...]:
    """``(location, key, value)`` of each function a scope writes a table out with under a
    constant: a dict display assigned to an attribute or a name (``self._handlers = {UsageJob:
    self._usage}``) or an item assigned (``HANDLERS["usage"] = record_usage``), as written."""
    found: list[tuple[str, str, str]] = []
    for block in graph.blocks:
        for event in block.events:
            if not isinstance(event, cfglib.BindEvent) or event.kind not in ("assign", "annassign"):
                continue
            if isinstance(event.target, cst.Subscript) and event.kind == "assign":
                location = dotted_name(event.target.value)
                index = _index(event.target)
                pairs = [(index, event.value)] if index is not None else []
            else:
                location = dotted_name(event.target)
                pairs = [(e.key, e.value) for e in event.value.elements if isinstance(e, cst.DictElement)] if isinstance(event.value, cst.Dict) else []
            for key, value in pairs:
                written, named = _constant(key), dotted_name(value) if value is not None else None
                if location is not None and written is not None and named is not None:
                    found.append((location, written, named))
    return tuple(found)


def chosen(func: cst.BaseExpression) -> tuple[str, str] | None:
    """``(location, key)`` when a callee is the element a key chooses from a named table
    (``self._handlers[type(job)]``, ``self._handlers.get(job.kind)``): the key is "type" for the
    item's class (``type(job)``, ``job.__class__``, ``type(job).__name__``), the name of the
    attribute or key it reads of the item (``job.kind``, ``job["kind"]``: "kind"), else ""."""
    if isinstance(func, cst.Subscript):
        table, key = func.value, _index(func)
    elif isinstance(func, cst.Call) and isinstance(func.func, cst.Attribute) and func.func.attr.value == "get" and 1 <= len(func.args) <= 2:
        table, key = func.func.value, func.args[0].value if func.args[0].keyword is None and not func.args[0].star else None
    else:
        return None
    location = dotted_name(table)
    if location is None or key is None:
        return None
    return location, _chooses(key)


def _chooses(key: cst.BaseExpression) -> str:
    """What a table's key reads of the item (``chosen``)."""
    if isinstance(key, cst.Attribute) and key.attr.value == "__name__":
        key = key.value
    if isinstance(key, cst.Call) and isinstance(key.func, cst.Name) and key.func.value == "type" and len(key.args) == 1:
        return "type"
    if isinstance(key, cst.Attribute) and isinstance(key.value, cst.Name):
        return "type" if key.attr.value == "__class__" else key.attr.value
    if isinstance(key, cst.Subscript) and isinstance(key.value, cst.Name):
        index = _index(key)
        return (string_value(index) or "") if index is not None else ""
    if isinstance(key, cst.Call) and isinstance(key.func, cst.Attribute) and key.func.attr.value == "get" and isinstance(key.func.value, cst.Name) and key.args:
        return string_value(key.args[0].value) or ""
    return ""


def bound_once(graph: cfglib.CFG) -> dict[str, cst.BaseExpression]:
    """The names a scope binds exactly once, by an assignment: name -> the value assigned. What
    ``chosen_names`` and the made jobs (``made``'s ``assigned``) read locals through."""
    bound: dict[str, list[cst.BaseExpression | None]] = {}
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                bound.setdefault(event.target.value, []).append(event.value if event.kind in ("assign", "annassign") else None)
    return {name: values[0] for name, values in bound.items() if len(values) == 1 and values[0] is not None}


def chosen_names(once: dict[str, cst.BaseExpression]) -> dict[str, tuple[str, str]]:
    """Of the names a scope binds once (``bound_once``), those bound to the element a key
    chooses from a table (``handler = self._handlers.get(job.kind)``): name -> ``chosen``'s
    ``(location, key)``."""
    return {name: found for name, value in once.items() if (found := chosen(value)) is not None}


def made(value: cst.BaseExpression, assigned: dict[str, cst.BaseExpression], located: Callable[[cst.BaseExpression], str | None]) -> tuple[str, ...]:
    """What made an argument (``Argument.made``): a call's callee, then ``keyword=constant`` of
    each constant it is given (``position=constant`` for one passed by position), or
    ``keyword=*location`` for a location (``Job(kind=key)``, ``key = kind.value``: ``kind=*kind.value``,
    as ``located`` reads it); a string's JSON; through a local bound once (``assigned``); for a
    method of an object built on the spot, the class and the method (``BUILT``)."""
    if isinstance(value, cst.Name) and value.value in assigned:
        value = assigned[value.value]
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Call):  # ``Indexer(repo).on_completed``
        built = dotted_name(value.value.func)
        return (f"{built}{BUILT}{value.attr.value}",) if built is not None and built not in _PLAIN_CALLS else ()
    if isinstance(value, cst.Call):
        callee = dotted_name(value.func)
        if callee is None or callee in _PLAIN_CALLS:
            return ()
        labels = []
        for position, arg in enumerate(value.args):
            if arg.star:
                continue
            location = located(arg.value)
            written = LOCATED + location if location is not None else _constant(arg.value)
            if written is not None:  # by keyword, or by position (``Job("upload", payload)``: ``0="upload"``)
                labels.append(f"{arg.keyword.value if arg.keyword is not None else position}={written}")
        return (callee, *labels)
    written = string_value(value)
    return (json.dumps(written),) if written is not None and _IS_LABEL(written) else ()


def _constant(expr: cst.BaseExpression | None) -> str | None:
    """A key or a label as written: a string's JSON, or a dotted name that names a constant, a
    class or a member (``UsageJob``, ``JobKind.UPLOAD``, ``kinds.USAGE``); else None."""
    if expr is None:
        return None
    written = string_value(expr)
    if written is not None:
        return json.dumps(written) if _IS_LABEL(written) else None
    name = dotted_name(expr)
    if name is None:
        return None
    return name if "." in name or name[:1].isupper() else None


def _index(subscript: cst.Subscript) -> cst.BaseExpression | None:
    """The one index of ``x[i]``; None for a slice or several."""
    if len(subscript.slice) == 1 and isinstance(subscript.slice[0].slice, cst.Index):
        return subscript.slice[0].slice.value
    return None


def _filled(call: cst.Call, params: set[str]) -> tuple[str, str, str] | None:
    """``(attribute, parameter, key)`` when ``call`` puts a parameter in a collection
    ``self.attribute`` holds: directly (key ""), under a key, or under a key it creates
    (``setdefault(k, [])``): the key a parameter of the method's, else ""."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in PUTS:
        return None
    position = PUTS[func.attr.value]
    args = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    added = args[position] if len(args) > position else None
    if not isinstance(added, cst.Name) or added.value not in params:
        return None
    holder = func.value
    key: cst.BaseExpression | None = None
    if isinstance(holder, cst.Subscript):
        key = _index(holder)
        holder = holder.value
    elif isinstance(holder, cst.Call) and isinstance(holder.func, cst.Attribute) and holder.func.attr.value == "setdefault":
        key = holder.args[0].value if holder.args and holder.args[0].keyword is None and not holder.args[0].star else None
        holder = holder.func.value
    if isinstance(holder, cst.Attribute) and isinstance(holder.value, cst.Name) and holder.value.value == "self":
        named = key.value if isinstance(key, cst.Name) and key.value in params else ""
        return holder.attr.value, added.value, named
    return None
