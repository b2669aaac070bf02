"""State that outlives the request: which containers of a module live longer than one call.

A write into a container keeps the request when the container outlives the call that wrote it.
The summarizer sees the whole module, so the facts are collected once per module
(``ModuleState``), then read per function (``ScopeState``), before any site is judged:

- a *module-level* name bound to a container (``_TURNS = {}``, ``HISTORY: deque = deque()``),
  unless the function binds that name itself (then it is the function's local);
- a *class attribute* bound in the class body (``_cache = {}``, unannotated or ``ClassVar``: an
  annotated one is a field of a model or a dataclass, one per instance), as ``Service._cache``,
  ``cls._cache`` or ``self._cache`` in the class's methods;
- an attribute that a *service object* sets up in ``__init__`` (``self._sessions = {}``), as
  ``self._sessions`` in the class's methods, unless the object is built from the request: its
  ``__init__`` takes a parameter named like a flag (not one annotated as a storage object:
  ``store: ResponseStore``) or like a request (``request``, ``body``, ...) or annotated with a
  ``...Request`` type, or it reads a flag out of what it is given (``params.get("store")``).
  Such an object is the request's scratch. A class
  defined in a function counts as a module's does (``ModuleState.add_class``);
- a local of an *app factory*, a function that registers route handlers
  (``def create_app(): responses = {}; @app.post(...) ...``): it lives as long as the
  application, for the functions and classes nested in it that do not bind the name.

A container is a display (``{}``, ``[]``, ``{x}``, a comprehension) or a call of one of the
pack's constructors (``dict``, ``collections.deque``, ``cachetools.TTLCache``). A write is an
item assignment or augmented assignment, an adding method (``STATE_METHODS``), ``+=`` on the
container, and the same on an element (``store[k].append(x)``) or through a local bound once to
an element or in the same chained assignment (``q = self.events[rid] = deque(); q.append(e)``).
Removing (``del``, ``pop``, ``clear``) is never a write: forgetting keeps nothing, and a write the
function undoes on every way out is no site (``transient``). What is
bookkeeping is left out: containers whose name the pack's ``ignore`` globs match (tasks, locks,
counters, ...), and written values that are constants, identifiers (``completion["id"]``), or calls the ``ignore-values`` globs
match (``asyncio.create_task(...)``, ``time.time()``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from storegate import cfg as cfglib
from storegate.flags import TYPED
from storegate.annotations import numeric
from storegate.model import State
from storegate.paths import access_path, dotted_name, root_name
from storegate.reads import annotation_kind
from storegate.sinks import callee_text, identifier, qualify, sink_glob

# The methods that add to a dict, list, set, deque, OrderedDict, defaultdict or cachetools cache.
STATE_METHODS = frozenset({"__setitem__", "setdefault", "update", "append", "appendleft", "extend", "extendleft", "insert", "add"})
# Parameters of ``__init__`` that say the object is built from the request.
REQUEST_PARAMS = frozenset({"request", "req", "body", "payload", "raw_request"})
_DISPLAYS = (cst.Dict, cst.List, cst.Set, cst.DictComp, cst.ListComp, cst.SetComp)
_TEXT = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
_CONSTANTS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString)
_SETUP = ("__init__", "__post_init__")


@dataclass(frozen=True)
class ClassState:
    """The long-lived containers of one class: its class attributes, and (for a service object,
    not one built from the request) the attributes its ``__init__`` sets up."""

    shared: frozenset[str] = frozenset()
    instance: frozenset[str] = frozenset()


@dataclass
class ModuleState:
    """The long-lived containers of one module (``collect``)."""

    rule: State
    imports: Mapping[str, str]
    flags: frozenset[str] = frozenset()  # the flags' names: an ``__init__`` that reads one is the request's
    names: set[str] = field(default_factory=set)
    classes: dict[str, ClassState] = field(default_factory=dict)

    def add_class(self, name: str, node: cst.ClassDef) -> None:
        """The containers of the class ``name`` (qualified in the module: ``create_app.Store`` for
        a class an app factory defines); a connection pool's or a client's own containers are
        bookkeeping (``ignore-classes``)."""
        ignored = _matches(node.name.value, self.rule.ignore_classes)
        self.classes[name] = ClassState() if ignored else _class_state(node, self)

    def scope(self, graph: cfglib.CFG, class_name: str | None, fixed: frozenset[str], factory: frozenset[str] = frozenset()) -> ScopeState | None:
        """What one function sees of the module's state, and of an enclosing app factory's
        (``factory``: the containers it binds); None for a module or class body."""
        if not isinstance(graph.scope, cst.FunctionDef):
            return None
        bound: dict[str, int] = {}
        for block in graph.blocks:
            for event in block.events:
                if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                    bound[event.target.value] = bound.get(event.target.value, 0) + 1
        own = (set(graph.params) | set(bound)) - fixed  # a ``global`` name stays the module's
        owner = self.classes.get(class_name) if class_name is not None else None
        scope = ScopeState(self, frozenset(own), owner, frozenset(c for c in self.classes if c not in own), factory - own)
        scope.aliases = _aliases(graph, scope, bound, set(graph.params))
        scope.handles = _handles(graph, scope, bound, set(graph.params))
        return scope


@dataclass
class ScopeState:
    """The long-lived containers one function can write, and the locals that stand for one."""

    module: ModuleState
    own: frozenset[str]  # the function's locals and parameters
    owner: ClassState | None  # the class of a method
    classes: frozenset[str]  # class names of the module the function does not shadow
    factory: frozenset[str] = frozenset()  # containers of an enclosing app factory
    aliases: dict[str, str] = field(default_factory=dict)  # local -> the container it is an element of
    handles: frozenset[str] = frozenset()  # locals bound once to bookkeeping (``job = create_task(...)``)

    def written(self, event: cfglib.Event) -> tuple[str, str] | None:
        """``(text, container)`` when ``event`` adds to a long-lived container: the write as written
        (``self._turns[...]``, ``q.append``) and the container (``self._turns``)."""
        value: cst.BaseExpression | None
        if isinstance(event, cfglib.CallEvent):
            func = event.node.func
            if not (isinstance(func, cst.Attribute) and func.attr.value in STATE_METHODS):
                return None
            target, text = func.value, callee_text(func)
            positional = [arg.value for arg in event.node.args if arg.keyword is None and not arg.star]
            value = positional[-1] if positional else None
        elif isinstance(event, cfglib.BindEvent) and event.kind in ("assign", "annassign", "augassign"):
            if isinstance(event.target, cst.Subscript):
                target, text = event.target.value, callee_text(event.target.value) + "[...]"
            elif event.kind == "augassign":  # ``self._history += [item]``: in place
                target, text = event.target, callee_text(event.target)
                if self._direct(target) is None:
                    return None
            else:
                return None
            value = event.value
            if event.kind == "augassign" and isinstance(event.node, cst.AugAssign):
                value = event.node.value  # what is added: ``failures[k] += 1`` counts
        else:
            return None
        container = self.container(target)
        if container is None or (value is not None and self.bookkeeping(value)):
            return None
        return text, container

    def container(self, expr: cst.BaseExpression) -> str | None:
        """The long-lived container that ``expr`` is, or an element of (``store[k]``, ``store[k].items``,
        a local alias); None for anything else, or for a container of bookkeeping."""
        node, element, names = expr, False, []
        while True:
            found = self._direct(node)
            if found is not None:
                if node is not expr and not element:
                    return None  # ``self._sessions.x``: not an element
                names.append(found.rpartition(".")[2])
                return None if any(self.ignored(name) for name in names) else found
            if isinstance(node, cst.Subscript):
                node, element = node.value, True
            elif isinstance(node, cst.Attribute):
                names.append(node.attr.value)
                node = node.value
            else:
                return None

    def _direct(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Attribute) and _on_app_state(expr):
            return f"app.state.{expr.attr.value}"
        if isinstance(expr, cst.Name):
            if expr.value in self.aliases:
                return self.aliases[expr.value]
            if expr.value in self.own:
                return None
            return expr.value if expr.value in self.module.names or expr.value in self.factory else None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            base, attr = expr.value.value, expr.attr.value
            if base in ("self", "cls") and self.owner is not None:
                attrs = self.owner.shared | (self.owner.instance if base == "self" else frozenset())
                return f"{base}.{attr}" if attr in attrs else None
            if base in self.classes and attr in self.module.classes[base].shared:
                return f"{base}.{attr}"
        return None

    def of_object(self, container: str) -> bool:
        """Whether ``container`` is the object's own (``self._buffer``, set up in ``__init__``, not
        a class attribute): it lives as long as the object, which its caller may have made for
        one call (``Project.made_here``)."""
        base, _, attr = container.partition(".")
        return base == "self" and self.owner is not None and attr in self.owner.instance and attr not in self.owner.shared

    def ignored(self, name: str) -> bool:
        """Whether a container's name (or a key-value store's key word) names bookkeeping."""
        return _matches(name, self.module.rule.ignore)

    def bookkeeping(self, value: cst.BaseExpression) -> bool:
        """A written value that is no part of the request: a constant, an identifier (``rid``,
        ``completion["id"]``, ``response.id``: which requests were seen, not what they said), a
        task, lock, clock, ..., or a tuple of them (``(response_id, time.monotonic())``)."""
        if isinstance(value, _CONSTANTS) or (isinstance(value, cst.Name) and value.value in ("True", "False", "None")):
            return True
        if isinstance(value, cst.Tuple) and value.elements:
            return all(not isinstance(element, cst.StarredElement) and self.bookkeeping(element.value) for element in value.elements)
        if identifier(value):
            return True
        if isinstance(value, cst.UnaryOperation) and isinstance(value.expression, (cst.Integer, cst.Float)):
            return True
        if isinstance(value, cst.Name) and value.value in self.handles:
            return True
        if isinstance(value, cst.BinaryOperation):
            return self._deadline_or_count(value)
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return False
        written = callee_text(value.func)
        if _measure(value) or (written in _NUMERIC_CALLS and value.args and all(not a.star and self.bookkeeping(a.value) for a in value.args)):
            return True  # ``max(self.slowest_ms.get(name, 0.0), elapsed_ms)``: a measure kept
        qualified = qualify(written, self.module.imports)
        names = [written] if qualified is None else [written, qualified]
        return any(sink_glob(pattern)(name) for pattern in self.module.rule.ignore_values for name in names)

    def _deadline_or_count(self, value: cst.BinaryOperation) -> bool:
        """Arithmetic on a clock or a number (``time.monotonic() + TTL``, ``hits.get(k, 0) + 1``):
        a deadline, a duration or a count; never when a side is text or a display
        (``text + "\\n"``, ``old + [item]``: content joined to content)."""
        sides = (value.left, value.right)
        if any(isinstance(side, (*_TEXT, *_DISPLAYS, cst.Tuple)) for side in sides):
            return False
        return any(
            isinstance(side, (cst.Integer, cst.Float)) or (isinstance(side, cst.Call) and self.bookkeeping(side)) for side in sides
        )


def collect(tree: cst.Module, imports: Mapping[str, str], rule: State, flags: frozenset[str] = frozenset()) -> ModuleState:
    """The module's long-lived containers: module-level names, and each top-level class's (a
    class defined in a function is added when its body is summarized: ``ModuleState.add_class``)."""
    state = ModuleState(rule, imports, flags)
    for stmt in _statements(tree.body):
        if isinstance(stmt, cst.ClassDef):
            state.add_class(stmt.name.value, stmt)
        else:
            state.names.update(_bound_containers(stmt, state))
    return state


def bound_in(graph: cfglib.CFG, state: ModuleState) -> frozenset[str]:
    """The names a function binds to a container (``responses = {}``)."""
    return frozenset(name for name, value in name_assignments(graph) if value is not None and is_container(value, state))


def name_assignments(graph: cfglib.CFG) -> Iterator[tuple[str, cst.BaseExpression | None]]:
    """``(name, value)`` of each assignment of a scope to a plain name (``x = ...``, ``x: T = ...``)."""
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and event.kind in ("assign", "annassign") and isinstance(event.target, cst.Name):
                yield event.target.value, event.value


def _on_app_state(expr: cst.Attribute) -> bool:
    """``app.state.x``, ``request.app.state.x``, ``self.app.state.x``: an attribute of a Starlette
    or FastAPI application's state, or of a Sanic application's ``app.ctx``, which lives as long
    as the application."""
    if not (isinstance(expr.value, cst.Attribute) and expr.value.attr.value in ("state", "ctx")):
        return False
    app = expr.value.value
    return (isinstance(app, cst.Name) and app.value == "app") or (isinstance(app, cst.Attribute) and app.attr.value == "app")


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether one of ``patterns`` matches ``name`` lowercased, without leading underscores."""
    name = name.lower().lstrip("_")
    return any(sink_glob(pattern)(name) for pattern in patterns)


def _statements(body) -> Iterator[cst.CSTNode]:
    """The small statements and class definitions of a module or class body, through ``if``,
    ``try`` and ``with`` blocks, never into a function."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, cst.ClassDef):
            yield stmt
        elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
            for suite in cfglib.suites(stmt):
                if isinstance(suite, cst.IndentedBlock):
                    yield from _statements(suite.body)


def _bound_containers(stmt: cst.CSTNode, state: ModuleState, base: str | None = None, annotated_too: bool = True) -> Iterator[str]:
    """The names (``base`` None) or attributes of ``base`` (``self``) that ``stmt`` binds to a container."""
    if isinstance(stmt, cst.Assign) and is_container(stmt.value, state):
        targets = [t.target for t in stmt.targets]
    elif isinstance(stmt, cst.AnnAssign) and stmt.value is not None and is_container(stmt.value, state):
        if not annotated_too and not _is_classvar(stmt):
            return  # a field of a model or dataclass: one per instance
        element = _element_class(stmt.annotation.annotation)
        if element is not None and _matches(_snake(element), state.rule.ignore):
            return  # declared to hold bookkeeping (``set[Future[Any]]``, ``dict[str, ModelInfo]``)
        targets = [stmt.target]
    else:
        return
    for target in targets:
        if base is None and isinstance(target, cst.Name):
            yield target.value
        elif base is not None and isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == base:
            yield target.attr.value


# Generic collections whose last type argument is what they hold (``dict[str, X]``: its values).
_COLLECTIONS = frozenset({"dict", "list", "set", "frozenset", "deque", "OrderedDict", "defaultdict", "Dict", "List", "Set", "Deque", "TTLCache", "LRUCache", "WeakSet", "ClassVar"})


def _element_class(annotation: cst.BaseExpression) -> str | None:
    """The class a container's annotation says it holds (``set[Future[Any]]``: ``Future``;
    ``dict[str, list[Task]]``: ``Task``), by its last name; None when it says none."""
    while isinstance(annotation, cst.Subscript):
        head = (dotted_name(annotation.value) or "").rpartition(".")[2]
        if head not in _COLLECTIONS:
            return head or None  # a generic class (``Future[Any]``)
        last = annotation.slice[-1].slice if annotation.slice else None
        if not isinstance(last, cst.Index):
            return None
        annotation = last.value
    name = dotted_name(annotation)
    return name.rpartition(".")[2] if name and name.rpartition(".")[2] not in _COLLECTIONS else None


def _snake(name: str) -> str:
    """``ModelInfo`` -> ``model_info``, to match the ``ignore`` globs as a container's name would."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _is_classvar(stmt: cst.AnnAssign) -> bool:
    annotation = stmt.annotation.annotation
    if isinstance(annotation, cst.Subscript):
        annotation = annotation.value
    return (dotted_name(annotation) or "").rpartition(".")[2] == "ClassVar"


def is_container(value: cst.BaseExpression, state: ModuleState) -> bool:
    """A display, or a call of one of the rule's container constructors (import-qualified)."""
    if isinstance(value, _DISPLAYS):
        return True
    if isinstance(value, cst.Call):
        name = dotted_name(value.func)
        if name is None:
            return False
        qualified = qualify(name, state.imports) or name
        return qualified in state.rule.containers
    return False


def _class_state(node: cst.ClassDef, state: ModuleState) -> ClassState:
    shared: set[str] = set()
    instance: set[str] = set()
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in _statements(body):
        if not isinstance(stmt, cst.ClassDef):
            shared.update(_bound_containers(stmt, state, annotated_too=False))
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value in _SETUP and not _from_request(stmt, state.flags):
            for small in _all_statements(stmt):
                instance.update(_bound_containers(small, state, base="self"))
    return ClassState(frozenset(shared), frozenset(instance))


def _from_request(init: cst.FunctionDef, flags: frozenset[str] = frozenset()) -> bool:
    """Whether ``__init__`` takes the request (so its object is the request's scratch): a flag
    it is built with says so, a storage object named like one (``store: ResponseStore``) does
    not (``reads.annotation_kind``); so does reading a flag out of what it is given
    (``params.get("store")``, ``options.store``): no object set up at startup sees a client's."""
    params = init.params
    names = set()
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        name = param.name.value.lower()
        names.add(param.name.value)
        annotation = dotted_name(param.annotation.annotation) if param.annotation is not None else None
        if name in REQUEST_PARAMS or (annotation or "").endswith("Request"):
            return True
        if name == "store" and (param.annotation is None or annotation_kind(param.annotation.annotation) != TYPED):
            return True
    names.discard("self")
    return bool(flags) and any(_reads_flag(node, names, flags) for node in cfglib.descendants(init.body))


def _reads_flag(node: cst.CSTNode, params: set[str], flags: frozenset[str]) -> bool:
    """``p.store``, ``p["store"]`` or ``p.get("store")`` of one of ``params``: a flag's location
    read straight off it, as the analysis reads one (``paths.access_path``)."""
    if type(node) not in (cst.Attribute, cst.Subscript) and not (type(node) is cst.Call and type(node.func) is cst.Attribute):
        return False  # (not ``getattr(p, "store")``, which ``access_path`` reads too)
    path = access_path(cast(cst.BaseExpression, node))
    root = root_name(path) if path is not None else None
    return root in params and any(path in (f"{root}.{flag}", f"{root}[{json.dumps(flag)}]") for flag in flags)


def _all_statements(function: cst.FunctionDef) -> Iterator[cst.BaseSmallStatement]:
    """The small statements of a function's body at any depth of blocks (not nested functions)."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine):
            yield from node.body
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node is not function:
            continue
        elif isinstance(node, (cst.IndentedBlock, cst.BaseCompoundStatement, cst.Else, cst.Finally, cst.ExceptHandler)):
            stack.extend(child for child in node.children if isinstance(child, cst.CSTNode))


def _handles(graph: cfglib.CFG, scope: ScopeState, bound: Mapping[str, int], params: set[str]) -> frozenset[str]:
    """Locals bound once to bookkeeping (``job = asyncio.create_task(...)``): kept in a set so that
    the task is not collected (``_jobs.add(job)``), they hold no part of the request; those bound
    once to an identifier (``rid = headers.get("X-Request-Id") or new_id("req")``); and the
    parameters annotated as numbers and never rebound (a counter's ``add(self, amount: float)``):
    a number is a count or a measure, not what the client said."""
    params_node = cast(cst.FunctionDef, graph.scope).params
    numbers = frozenset(
        param.name.value
        for param in (*params_node.posonly_params, *params_node.params, *params_node.kwonly_params)
        if param.annotation is not None and param.name.value not in bound and numeric(param.annotation.annotation)
    )
    return numbers | frozenset(
        name
        for name, value in name_assignments(graph)
        if bound.get(name) == 1
        and name not in params
        and (
            isinstance(value, (cst.Call, cst.Await, cst.BinaryOperation)) and scope.bookkeeping(value)
            or isinstance(value, (cst.Call, cst.BooleanOperation)) and identifier(value)
        )
    )


# Builtins whose value is a number made of their arguments (``max(old, elapsed_ms)``).
_NUMERIC_CALLS = frozenset({"max", "min", "round", "abs", "int", "float", "sum"})


def _measure(call: cst.Call) -> bool:
    """A read with a number for its default (``self.slowest_ms.get(name, 0.0)``): a count or a
    measure read back."""
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "get"
        and len(call.args) == 2
        and not any(arg.star or arg.keyword for arg in call.args)
        and isinstance(call.args[1].value, (cst.Integer, cst.Float))
    )


def _aliases(graph: cfglib.CFG, scope: ScopeState, bound: Mapping[str, int], params: set[str]) -> dict[str, str]:
    """Locals that stand for an element of a long-lived container: bound to one (``q = store[k]``,
    ``q = store.get(k)``, ``q = store.setdefault(k, [])``), in a chained assignment with a write
    into one (``q = self.events[rid] = deque()``), or a fresh container stored into one, alone or
    in a tuple (``q = deque(); self.events[rid] = (q, signal)``); each time they are bound, and
    always to the same container (``q = store.get(k)``, then ``if q is None: q = store[k] = []``).
    Writes through them are writes into the container."""
    written: dict[int, str] = {}  # statement -> a container it writes an element of
    stored: dict[str, str] = {}  # local -> a container it is stored into
    candidates: list[cfglib.BindEvent] = []
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.CallEvent):
                func = event.node.func
                if isinstance(func, cst.Attribute) and func.attr.value in STATE_METHODS:
                    container = scope.container(func.value)
                    if container is not None:
                        stored.update((name, container) for arg in event.node.args for name in _names_in(arg.value))
            elif isinstance(event, cfglib.BindEvent) and event.kind == "assign":
                if isinstance(event.target, cst.Subscript):
                    container = scope.container(event.target.value)
                    if container is not None:
                        written[id(event.node)] = container
                        stored.update((name, container) for name in _names_in(event.value))
                elif isinstance(event.target, cst.Name) and event.target.value not in params:
                    candidates.append(event)
    found: dict[str, list[str | None]] = {}  # local -> the container each of its bindings is an element of
    for event in candidates:
        assert isinstance(event.target, cst.Name)
        name, value = event.target.value, event.value
        container = written.get(id(event.node))
        if container is None and isinstance(value, cst.Subscript):
            container = scope.container(value.value)
        elif container is None and isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in ("setdefault", "get"):
            container = scope.container(value.func.value)
        if container is None and name in stored and value is not None and is_container(value, scope.module):
            container = stored[name]
        found.setdefault(name, []).append(container)
    return {
        name: containers[0]
        for name, containers in found.items()
        if len(containers) == bound.get(name) and containers[0] is not None and all(c == containers[0] for c in containers)
    }


def _names_in(value: cst.BaseExpression | None) -> Iterator[str]:
    """The locals a stored value holds: a name, or the names of a tuple or list display."""
    if isinstance(value, cst.Name):
        yield value.value
    elif isinstance(value, (cst.Tuple, cst.List)):
        yield from (element.value.value for element in value.elements if isinstance(element.value, cst.Name))
