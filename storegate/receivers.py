"""What a receiver is, by the import and the constructor: ``r.set`` is ``redis.Redis().set``.

A library's writing methods have common names (``set``, ``add``, ``execute``): they are sinks
only on a receiver of the library's type. A receiver's *type* is written as the qualified call
that made it, with ``()``: ``r = redis.Redis(...)`` makes ``r`` a ``redis.Redis()``, ``conn =
sqlite3.connect(p)`` a ``sqlite3.connect()``, ``cur = conn.cursor()`` a
``sqlite3.connect().cursor()``, and an annotation says the same of a parameter or attribute
(``session: AsyncSession`` with ``from sqlalchemy.ext.asyncio import AsyncSession`` makes
``session`` a ``sqlalchemy.ext.asyncio.AsyncSession()``); what a typed object holds is typed
through it (``client.db["turns"]`` is ``pymongo.MongoClient().db[]``). The types come from, in one function:
its parameters' annotations, its assignments (``await`` left out) and its ``with ... as``
targets; in a method, ``self.x`` from the class body's annotations and from what any method
of the class assigns to ``self.x`` (``self.db = await aiosqlite.connect(...)`` in ``start``);
and the module's own names that the function does not bind (``SessionLocal =
async_sessionmaker(engine)``, ``r = redis.Redis()`` at the top of the module). A name given two
different types is left out: storegate does not guess.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import libcst as cst

from storegate.annotations import annotated_class, is_type_alias
from storegate.cfg import children, node_types_under
from storegate.paths import dotted_name
from storegate.sinks import qualify

Types = Mapping[str, str]
# The key of ``module_types`` under which the module's own names' types are.
MODULE = ""


@dataclass(frozen=True)
class Receivers:
    """The types of one function's receivers (``types``: a local, a parameter or ``self.x``)."""

    imports: Mapping[str, str]
    types: Types

    def type_of(self, expr: cst.BaseExpression) -> str | None:
        return type_of(expr, self.imports, self.types)


def scope(node: object, imports: Mapping[str, str], classes: Mapping[str, Types], class_name: str | None) -> Receivers | None:
    """The receivers of one function (a method sees its class's ``self.x``); None for other scopes."""
    if not isinstance(node, cst.FunctionDef):
        return None
    inherited = {**classes.get(MODULE, {}), **(classes.get(class_name, {}) if class_name is not None else {})}
    return Receivers(imports, function_types(node, imports, inherited))


def type_of(expr: cst.BaseExpression, imports: Mapping[str, str], types: Types) -> str | None:
    """``expr``'s type as the call that made it (``redis.Redis()``), or None if unknown."""
    if isinstance(expr, cst.Await):
        return type_of(expr.expression, imports, types)
    if isinstance(expr, cst.Call):
        # a method of a typed object (``conn.cursor()``), a typed factory (``self.sessions()``
        # where ``self.sessions = async_sessionmaker(...)``), or a qualified constructor
        made = type_of(expr.func, imports, types)
        if made is not None:
            return made + "()"
        name = dotted_name(expr.func)
        return None if name is None else (qualify(name, imports) or name) + "()"
    name = dotted_name(expr)
    found = types.get(name) if name is not None else None
    if found is None and isinstance(expr, (cst.Attribute, cst.Subscript)):
        # what a typed object holds: ``client.db.turns`` is ``pymongo.MongoClient().db.turns``
        owner = type_of(expr.value, imports, types)
        if owner is not None:
            return f"{owner}.{expr.attr.value}" if isinstance(expr, cst.Attribute) else f"{owner}[]"
    return found


def annotation_type(annotation: cst.BaseExpression, imports: Mapping[str, str]) -> str | None:
    """An instance of what an annotation names: ``redis.Redis | None`` -> ``redis.Redis()``; none
    for ``Any`` or ``object``, which say nothing (what the callers pass may: ``Project._passed``)."""
    name = annotated_class(annotation)
    if name is None:
        return None
    qualified = qualify(name, imports) or name
    return None if qualified in _UNTYPED else qualified + "()"


_UNTYPED = frozenset({"Any", "typing.Any", "typing_extensions.Any", "object", "builtins.object"})


# The key of a type alias's own type in ``Types`` (no name has a colon): ``type:SessionDep``.
_ALIAS = "type:"


def module_types(tree: cst.Module, imports: Mapping[str, str]) -> dict[str, Types]:
    """Per class of the module: the types of ``self.x`` (class annotations and attributes,
    assignments in methods); under ``MODULE``, the types of the module's own names (its
    top-level assignments)."""
    top = _bound_types(tree, imports, {})
    classes: dict[str, Types] = {MODULE: top}
    for stmt in tree.body:
        if isinstance(stmt, cst.ClassDef):
            found = _self_types(stmt, imports, top, {})
            known = {k: v for k, v in found.items() if v is not None}
            if known and len(known) < len(found):  # one made from another (``self.db = self.client[name]``)
                found = _self_types(stmt, imports, top, known)
            classes[stmt.name.value] = {k: v for k, v in found.items() if v is not None}
    return classes


def _self_types(stmt: cst.ClassDef, imports: Mapping[str, str], top: Types, known: Types) -> dict[str, str | None]:
    """The types of a class's ``self.x``, reading the values its methods assign with ``known``
    (the types of its ``self.x`` found before, for a second reading)."""
    found: dict[str, str | None] = {}
    for item in stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ():
        for small in item.body if isinstance(item, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                _note(found, "self." + small.target.value, annotation_type(small.annotation.annotation, imports))
            elif isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                # a class attribute, which every instance reads: ``client = redis.Redis()``
                _note(found, "self." + small.targets[0].target.value, type_of(small.value, imports, top))
    methods = [item for item in stmt.body.body if isinstance(item, cst.FunctionDef)] if isinstance(stmt.body, cst.IndentedBlock) else []
    inherited = {**top, **known} if known else top
    for method in methods:
        local = function_types(method, imports, inherited)
        for target, value, annotation in _assignments(method.body):
            if target.startswith("self."):
                given = annotation_type(annotation, imports) if annotation is not None else None
                _note(found, target, given or (type_of(value, imports, local) if value is not None else None))
    return found


def function_types(function: cst.FunctionDef, imports: Mapping[str, str], inherited: Types) -> Types:
    """The types of a function's parameters and locals, over ``inherited`` (its class's ``self.x``
    and the module's names): a name the function binds is its own, typed or not."""
    found: dict[str, str | None] = {}
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params, params.star_arg, params.star_kwarg]
    for param in every:
        if isinstance(param, cst.Param) and param.annotation is not None:
            alias = dotted_name(param.annotation.annotation)  # a module's ``SessionDep = Annotated[...]``
            typed = inherited.get(_ALIAS + alias) if alias is not None else None
            _note(found, param.name.value, typed or annotation_type(param.annotation.annotation, imports))
    names = {param.name.value for param in every if isinstance(param, cst.Param)}
    return _bound_types(function.body, imports, {k: v for k, v in inherited.items() if k not in names}, found)


def _bound_types(
    scope: cst.CSTNode, imports: Mapping[str, str], inherited: Types, found: dict[str, str | None] | None = None
) -> Types:
    """The types of the names bound in ``scope``'s own statements (a function's body, a module),
    in order (``found``: those of its parameters), over ``inherited``, which they shadow."""
    found = {} if found is None else found
    known = {**inherited, **{k: v for k, v in found.items() if v is not None}}
    for target, value, annotation in _assignments(scope):
        if not target.startswith("self.") and annotation is None and is_type_alias(value):
            named = annotation_type(value, imports) if value is not None else None
            if named is not None:  # what a parameter the alias annotates holds (``function_types``)
                found[_ALIAS + target] = known[_ALIAS + target] = named
        elif not target.startswith("self."):
            given = annotation_type(annotation, imports) if annotation is not None else None
            _note(found, target, given or (type_of(value, imports, known) if value is not None else None))
            noted = found[target]
            if noted is None:
                known.pop(target, None)
            else:
                known[target] = noted
    own = {k: v for k, v in found.items() if v is not None}
    return {**{k: v for k, v in inherited.items() if k not in found}, **own}


def _note(found: dict[str, str | None], name: str, value: str | None) -> None:
    """Record ``name``'s type; an unknown or a second, different one makes it unknown."""
    if name in found and found[name] != value:
        found[name] = None
    else:
        found[name] = value


def _assignments(scope: cst.CSTNode) -> Iterator[tuple[str, cst.BaseExpression | None, cst.BaseExpression | None]]:
    """``(target, value, annotation)`` for each binding of a name or ``self.x`` in ``scope``'s own
    statements (a function's body, a module; not a nested function's or class's): assignments
    and ``with ... as`` targets, in order."""
    for node in _own_nodes(scope):
        # exact types: a failed ``isinstance`` of a libcst class is slow (an ABC's check)
        if type(node) is cst.Assign:
            for target in node.targets:
                name = dotted_name(target.target)
                if name is not None:
                    yield name, node.value, None
        elif type(node) is cst.AnnAssign:
            name = dotted_name(node.target)
            if name is not None:
                yield name, node.value, node.annotation.annotation
        elif type(node) is cst.WithItem and node.asname is not None:
            name = dotted_name(node.asname.name)
            if name is not None:
                yield name, node.item, None
        elif type(node) is cst.AugAssign or type(node) is cst.For:
            name = dotted_name(node.target)
            if name is not None:
                yield name, None, None


def _own_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The statements of a function's own body and their parts, in pre-order, nested scopes left
    out. Expressions are not entered (no binding read above is in one; a lambda is a scope), and
    the walk goes by the nodes' fields (``cfg.children``): libcst's ``children`` visits every
    token, and this runs for every function (over half the summary time of a real server)."""
    stack = list(reversed(children(node)))
    while stack:
        child = stack.pop()
        kind = type(child)
        if kind in _EXPRESSIONS or kind is cst.FunctionDef or kind is cst.ClassDef:
            continue
        yield child
        stack.extend(reversed(children(child)))


_EXPRESSIONS = node_types_under(cst.BaseExpression)
