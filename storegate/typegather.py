"""Gathering the type facts of one module (``typefacts``) at summary time, from the graphs the
summarizer builds: what each scope's assignments, annotations and properties say a name or an
attribute holds."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from storegate import cfg as cfglib
from storegate.annotations import annotated_classes, callable_returns, element_classes, is_type_alias
from storegate.paths import access_path, dotted_name, partial_function
from storegate.summary import EACH
from storegate.typefacts import APPLICATIONS, CALLS, KEYED, RETURN, STATE, Fact, application_key, argument_name, state_attribute, typed_names


class Gatherer:
    """The facts of one module, scope by scope as the summarizer builds each one's graph (its
    binding events are the assignments: no second walk of the tree)."""

    def __init__(self) -> None:
        self._facts: set[Fact] = set()
        self._globals: frozenset[str] = frozenset()
        self._typed: dict[str, frozenset[str]] = {}  # scope name -> its own typed names
        self._applications: dict[str, frozenset[str]] = {}  # scope name -> its names bound to a web application

    def scope(self, graph: cfglib.CFG, name: str, class_name: str | None) -> frozenset[str]:
        """Gather one scope's facts (``name`` as the summarizer names it; ``class_name`` for a
        method); the names whose calls may resolve in it: its own typed names, its enclosing
        functions' (an app factory's ``log = TurnLog()``, called in its handlers) and the
        module's (the module and an enclosing scope are summarized before what they hold)."""
        stated = set(_scope_facts(graph, name, class_name))
        # the names bound to a web application: its own (``app = Quart(__name__)``, ``app:
        # Flask``), the module's and its enclosing functions' (an app factory's, set in its ``startup``)
        own = "" if name == "<module>" else name
        applications = self._applications[name] = frozenset(n for s, n, v, _ in stated if s == own and _names_application(v))
        for scope in ("<module>", *(".".join(name.split(".")[:end]) for end in range(1, name.count(".") + 1))):
            applications |= self._applications.get(scope, frozenset())
        found = {fact for fact in stated if fact[0] != _ATTACHED}
        # and the names bound to such an application's state (``state = app.state``)
        states = frozenset(n for s, n, v, _ in stated if s == own and v.endswith(".state") and v.count(".") == 1 and v.partition(".")[0] in applications)
        for _, target, value, where in stated - found:  # ``app.store = Store()``: ``app.state``'s if ``app`` is one
            root, _, attribute = target.partition(".")
            if root in applications or root in states:
                found.add((STATE, attribute, value, where))
        self._facts |= found
        typed = self._typed[name] = typed_names(tuple(found))
        if name == "<module>":
            self._globals = typed
        enclosing = name.split(".")[:-1]
        for end in range(1, len(enclosing) + 1):
            typed |= self._typed.get(".".join(enclosing[:end]), frozenset())
        return self._globals | typed

    def facts(self) -> tuple[Fact, ...]:
        """Every fact, sorted: the summary is the same whatever the order scopes came in."""
        return tuple(sorted(self._facts))


def _value(expr: cst.BaseExpression | None) -> str | None:
    """A value as a fact holds it: ``Cls()`` for a call of a dotted callee, a dotted path as is,
    ``path[]`` for an item of one (``self.client[name]``), and the same of what a call built
    (``MongoClient()[]``, ``MongoClient().get_database()``)."""
    if isinstance(expr, cst.Await):
        expr = expr.expression
    copied = _copied(expr)
    if copied is not None:  # ``replace(plan, user=...)``: the class of what it copies
        return _value(copied)
    if isinstance(expr, cst.Call):
        callee = dotted_name(expr.func)
        if callee is not None and callee.rpartition(".")[2] == "AppKey":  # aiohttp's ``web.AppKey("name", Cls)``
            typed = [a.value for a in expr.args if a.keyword is None][1:2] or [a.value for a in expr.args if a.keyword is not None and a.keyword.value == "t"]
            held = dotted_name(typed[0]) if typed else None
            return KEYED + held if held is not None else callee + "()"
        if callee is None and isinstance(expr.func, cst.Attribute):  # a method of what a call built
            made = _value(expr.func.value)  # (``MongoClient(url).get_database("app")``)
            return None if made is None or not made.endswith(("()", "[]")) else f"{made}.{expr.func.attr.value}()"
        return None if callee is None else callee + "()"
    if isinstance(expr, cst.Subscript):  # an item of a path or of what a call built (``MongoClient(url)["app"]``)
        held = _value(expr.value) if isinstance(expr.value, (cst.Call, cst.Subscript)) else dotted_name(expr.value)
        return None if held is None else held + "[]"
    name = dotted_name(expr) if expr is not None else None
    return None if name in ("None", "True", "False") else name


# What makes a copy of an object of the same class: ``dataclasses.replace(plan, ...)``,
# ``copy.copy(plan)``, ``attrs.evolve(plan, ...)``, and its own ``plan.model_copy(update=...)``
# (pydantic), ``plan._replace(...)`` (a named tuple).
_COPY_FUNCTIONS = frozenset({"replace", "dataclasses.replace", "copy.copy", "copy.deepcopy", "deepcopy", "evolve", "attrs.evolve", "attr.evolve"})
_COPY_METHODS = frozenset({"model_copy", "_replace"})


def _copied(expr: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """The object a call copies (``_COPY_FUNCTIONS``, ``_COPY_METHODS``), if it is one, a path."""
    if not isinstance(expr, cst.Call):
        return None
    if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _COPY_METHODS:
        copied = expr.func.value
    elif dotted_name(expr.func) in _COPY_FUNCTIONS and expr.args and expr.args[0].keyword is None and not expr.args[0].star:
        copied = expr.args[0].value
    else:
        return None
    return copied if dotted_name(copied) is not None else None


def _values(expr: cst.BaseExpression | None) -> list[str]:
    """What an assigned value may be (``_value``): each side of a conditional expression
    (``Store() if enabled else None``) or of ``or`` (``given or Store()``)."""
    if isinstance(expr, cst.IfExp):
        return [*_values(expr.body), *_values(expr.orelse)]
    if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
        return [*_values(expr.left), *_values(expr.right)]
    value = _value(expr)
    if value is not None and isinstance(expr, cst.Subscript):  # and under its key, if a name (``app[RESPONSES]``)
        index = expr.slice[0].slice if len(expr.slice) == 1 else None
        key = dotted_name(index.value) if isinstance(index, cst.Index) else None
        if key is not None:
            return [value, f"{value[:-1]}{key}]"]
    return [value] if value is not None else []


# The scope of what ``_scope_facts`` states of an attribute set on a plain name (``app.store =
# Store()``, named ``app.store``): ``app.state``'s when the name holds a web application
# (``Gatherer.scope``), else nothing.
_ATTACHED = "@attached"


def _names_application(value: str) -> bool:
    """Whether a fact's value builds or names a web application (``Quart()``, ``flask.Flask``)."""
    return value.removesuffix("()").rpartition(".")[2] in APPLICATIONS


def _scope_facts(graph: cfglib.CFG, name: str, class_name: str | None) -> Iterator[Fact]:
    """The facts one scope states: a function's annotated parameters and, in a method, what a
    ``@property`` returns; a class body's annotated names; every scope's assignments, those to
    an attribute of another name as ``_ATTACHED``; what a collection's elements hold (``name[*]``:
    its annotation, a literal, what is put in it, the collection it copies) and what a loop
    over one binds."""
    node = graph.scope
    collections: set[str] = set()  # the parameters annotated as collections of classes
    if isinstance(node, cst.FunctionDef):
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            held = annotated_classes(param.annotation.annotation) if param.annotation is not None else []
            for cls in held or _injected(param.default):
                yield name, param.name.value, cls, name
            for cls in callable_returns(param.annotation.annotation) if param.annotation is not None else ():
                yield name, param.name.value, CALLS + cls, name  # ``uow_factory: Callable[[], UnitOfWork]``
            for cls in element_classes(param.annotation.annotation) if param.annotation is not None else ():
                collections.add(param.name.value)
                yield name, param.name.value + EACH, cls, name
        if class_name is not None and _is_property(node):
            if node.returns is not None:
                for cls in annotated_classes(node.returns.annotation):
                    yield class_name, node.name.value, cls, name
            else:  # unannotated: what it returns, each time the same path (``self._mongo.db["responses"]``)
                for value in _returned_paths(graph):
                    yield class_name, node.name.value, value, name
    # a declaration without a value binds nothing (no event): ``x: Cls`` in a class body (a
    # field), ``self.x: Cls`` in ``__init__``, a module's global set at startup (``turns: TurnLog``)
    body = node.body.body if isinstance(node, (cst.ClassDef, cst.FunctionDef)) and isinstance(node.body, cst.IndentedBlock) else ()
    body = node.body if isinstance(node, cst.Module) else body
    for statement in body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.AnnAssign) and small.value is None:
                target = dotted_name(small.target)
                where = _holder(target.split("."), name, class_name) if target is not None else None
                if where is not None:
                    for cls in annotated_classes(small.annotation.annotation):
                        yield (*where, cls, name)
                    for cls in callable_returns(small.annotation.annotation):
                        yield (*where, CALLS + cls, name)
                    for cls in element_classes(small.annotation.annotation):
                        yield where[0], where[1] + EACH, cls, name
    loops: list[tuple[str, str]] = []  # (target, path) of each loop over a path
    bound: set[str] = set()  # the names the scope binds
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.CallEvent):
                yield from _built_arguments(event.node, name)
                yield from _filled(event.node, name, class_name)
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                bound.add(event.target.value)
                over = _iterated(event.node.iter) if event.kind == "for" and isinstance(event.node, cst.For) else None
                if over is not None:  # ``for plugin in self._plugins``: each element of it
                    loops.append((event.target.value, over))
            if isinstance(event, cfglib.BindEvent) and event.kind == "assign" and isinstance(event.target, cst.Subscript):
                yield from _element_facts(event.target.value, [event.value], name, class_name)  # ``self._by_id[k] = Session()``
                registered = _named_item(event.target)
                if registered is not None:  # ``app.extensions["storage"] = storage``: app.state's, if ``app`` is one
                    yield from ((_ATTACHED, registered, value, name) for value in _values(event.value))
                key = application_key(access_path(event.target) or "")
                if key is not None:  # ``app["responses"] = Service()``: aiohttp's
                    yield from ((STATE, key, value, name) for value in _values(event.value))
            if isinstance(event, cfglib.BindEvent) and event.kind == "with" and isinstance(event.target, cst.Name):
                yield from _entered(event, name, class_name)
            if not isinstance(event, cfglib.BindEvent) or event.kind not in ("assign", "annassign"):
                continue
            target = dotted_name(event.target)
            if target is None:
                continue
            where = _holder(target.split("."), name, class_name)
            if where is None and target.count(".") == 1:
                where = _ATTACHED, target
            if where is None:
                continue
            annotation = event.node.annotation.annotation if isinstance(event.node, cst.AnnAssign) else None
            if annotation is None and is_type_alias(event.value):  # ``ServiceDep = Annotated[Service, ...]``
                annotation = event.value
            held = annotated_classes(annotation) if annotation is not None else []
            alias = event.value if isinstance(event.value, cst.Subscript) else None  # ``Factory = Callable[[], Uow]``
            made = callable_returns(annotation if annotation is not None else alias)
            for value in held or ([CALLS + cls for cls in made] if made else _values(event.value)):
                yield (*where, value, name)
            for cls in element_classes(annotation) if annotation is not None else ():
                yield where[0], where[1] + EACH, cls, name
            for value in _elements(event.value):
                yield where[0], where[1] + EACH, value, name
    # a loop over what an object or a module holds, or over a parameter annotated as a
    # collection: not over the request's own data (``for message in messages``), which holds none
    own = "" if name == "<module>" else name
    for target, over in loops:
        root = over.partition(".")[0]
        if root in ("self", "cls") or (root not in bound and root not in graph.params) or root in collections:
            yield own, target, over + EACH, name
    if isinstance(node, cst.FunctionDef):
        yield from ((name, RETURN, value, name) for value in _fresh_returns(graph, class_name))


# The calls that copy a collection's elements (``list(plugins)``), and the methods that put one
# in a collection, with the position of the element.
_COPIES = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed"})
PUTS = {"append": 0, "add": 0, "appendleft": 0, "insert": 1}


def _iterated(expr: cst.BaseExpression) -> str | None:
    """The path whose elements a loop or a copy goes over: ``self._plugins``, ``plugins.values()``,
    ``list(self._plugins)``; None for anything else."""
    if isinstance(expr, cst.Call):
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "values" and not expr.args:
            return dotted_name(expr.func.value)
        if dotted_name(expr.func) in _COPIES and len(expr.args) == 1 and not expr.args[0].star:
            return _iterated(expr.args[0].value)
        return None
    return dotted_name(expr)


def _partial_or_values(expr: cst.BaseExpression) -> list[str]:
    """``f`` for ``partial(f, ...)`` (``paths.partial_function``), else ``_values``."""
    function = partial_function(expr)
    return [function] if function is not None else _values(expr)


def _elements(value: cst.BaseExpression | None) -> list[str]:
    """What the elements of an assigned collection may be: those of a display (``[A(), B()]``,
    a dict's values), or each element of the path it copies (``plugins[*]`` of ``list(plugins)``)."""
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):  # (a partial object: the function it calls)
        return [v for element in value.elements if isinstance(element, cst.Element) for v in _partial_or_values(element.value)]
    if isinstance(value, cst.Dict):
        return [v for element in value.elements if isinstance(element, cst.DictElement) for v in _values(element.value)]
    over = _iterated(value) if isinstance(value, cst.Call) else None
    return [over + EACH] if over is not None else []


def _named_item(target: cst.Subscript) -> str | None:
    """``app.extensions["storage"]`` for an item under a string of a name's attribute (a Flask
    application's extensions), as ``access_path`` writes it in a call's text; else None."""
    owner = dotted_name(target.value)
    return access_path(target) if owner is not None and owner.count(".") == 1 else None


def _element_facts(collection: cst.BaseExpression, values: list[cst.BaseExpression | None], scope: str, class_name: str | None) -> Iterator[Fact]:
    """What putting ``values`` in a named collection says of its elements."""
    target = dotted_name(collection)
    where = _holder(target.split("."), scope, class_name) if target is not None else None
    if where is not None:
        for value in values:
            for held in _partial_or_values(value) if value is not None else ():
                yield where[0], where[1] + EACH, held, scope


def _filled(call: cst.Call, scope: str, class_name: str | None) -> Iterator[Fact]:
    """``self._plugins.append(Archive())``: the collection holds that element too."""
    func = call.func
    position = PUTS.get(func.attr.value) if isinstance(func, cst.Attribute) else None
    args = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if position is not None and len(args) == position + 1 and isinstance(func, cst.Attribute):
        yield from _element_facts(func.value, [args[position].value], scope, class_name)


def _entered(event: cfglib.BindEvent, name: str, class_name: str | None) -> Iterator[Fact]:
    """``with Session(engine) as s``: ``s`` holds what the context expression built (a session,
    a connection and a file return themselves from ``__enter__``)."""
    assert isinstance(event.target, cst.Name)
    where = _holder([event.target.value], name, class_name)
    items = event.node.items if isinstance(event.node, cst.With) else ()
    entered = next((item.item for item in items if item.asname is not None and item.asname.name is event.target), None)
    if where is not None and entered is not None:
        for value in _values(entered):
            yield (*where, value, name)


def _injected(default: cst.BaseExpression | None) -> list[str]:
    """What a FastAPI dependency gives an unannotated parameter (``svc=Depends(get_service)``):
    what ``get_service`` returns, as a call of it."""
    if not isinstance(default, cst.Call) or (dotted_name(default.func) or "").rpartition(".")[2] != "Depends":
        return []
    given = [arg.value for arg in default.args if arg.keyword is None or arg.keyword.value == "dependency"]
    callee = dotted_name(given[0]) if given else None
    return [callee + "()"] if callee is not None else []


def _fresh_returns(graph: cfglib.CFG, class_name: str | None) -> set[str]:
    """What a function returns when every ``return`` returns an object built there: a call of a
    callee named like a class (``Cls()``; ``cls(...)`` in a classmethod of ``Cls``: a factory like
    ``Conversation.load``), or a local bound once, to such a call. Empty otherwise."""
    built: dict[str, list[str | None]] = {}
    returned: list[cst.BaseExpression | None] = []
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                built.setdefault(event.target.value, []).append(_construction(event.value, class_name) if event.kind in ("assign", "annassign") else None)
        returned.extend(edge.owner.value for edge in block.edges if isinstance(edge.owner, cst.Return))
    found: set[str] = set()
    for value in returned:
        made = _construction(value, class_name)
        if made is None and isinstance(value, cst.Name) and len(built.get(value.value, ())) == 1:
            made = built[value.value][0]
        if made is None:
            return set()
        found.add(made)
    return found


def _returned_paths(graph: cfglib.CFG) -> list[str]:
    """What every ``return`` of a function returns, when it is one path, or an item of one
    (``return self._mongo.db["responses"]``: ``self._mongo.db[]``); empty otherwise."""
    returned = [edge.owner.value for block in graph.blocks for edge in block.edges if isinstance(edge.owner, cst.Return)]
    values = {_value(value) if isinstance(value, (cst.Attribute, cst.Name, cst.Subscript)) else None for value in returned}
    return [value for value in values if value is not None] if len(values) == 1 else []


def _construction(expr: cst.BaseExpression | None, class_name: str | None) -> str | None:
    """``Cls()`` for a call of a callee named like a class, or of ``cls`` in a method of ``Cls``;
    else None."""
    value = _value(expr) if isinstance(expr, cst.Call) else None
    if value == "cls()" and class_name is not None:
        return class_name + "()"
    return value if value is not None and value[:-2].rpartition(".")[2][:1].isupper() else None


def _built_arguments(call: cst.Call, scope: str) -> Iterator[Fact]:
    """What a call passes that it builds on the spot (``Agent(session_db=SessionDB())``): a
    constructor's parameter may keep it (``Project._constructed``). Only for a callee named like
    a class: the project reads these facts for the constructions it finds, which are named so
    (``Project._constructions``); the others would only weigh on every summary."""
    callee = dotted_name(call.func)
    if callee is None or not callee.rpartition(".")[2][:1].isupper():
        return
    position = 0
    for arg in call.args:
        if arg.star:
            return
        value = _value(arg.value) if isinstance(arg.value, (cst.Call, cst.Await)) else None
        if value is not None:
            yield scope, argument_name(callee, arg.keyword.value if arg.keyword else position), value, scope
        position += arg.keyword is None


def _holder(parts: list[str], scope: str, class_name: str | None) -> tuple[str, str] | None:
    """Where a binding's target lives: ``(scope, name)`` of a ``Fact``; None for other targets."""
    state = state_attribute(parts)
    if state is not None and state == len(parts) - 1:
        return STATE, parts[state]
    if len(parts) == 1:
        return ("" if scope == "<module>" else scope), parts[0]
    if len(parts) == 2 and parts[0] == "self" and class_name is not None:
        return class_name, parts[1]
    return None


def _is_property(function: cst.FunctionDef) -> bool:
    return any(dotted_name(d.decorator) in ("property", "functools.cached_property", "cached_property") for d in function.decorators)
