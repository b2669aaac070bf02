"""What a scope reads: the names it reads or binds and the access paths (locations) it reads.

A pass over a built graph, kept out of the CFG builder so that the builder knows no idiom of
the flag: ``request.store``, ``body["store"]`` and ``body.get("store")`` are locations here
(``paths.access_path``), and ``flags.available`` asks whether one of them is a flag's.
It walks ``CFG.evaluated`` the way the builder evaluates (nested scopes' bodies left out; a
location is read whole, its inner parts not walked) and the names of the graph's bindings. A
comprehension's own names are not the scope's: they make no function read the flag, and a
location rooted at one is spelled as the graph reads it (``x.store`` in ``for x in xs`` is
``x·.store``, a flag location still).

It also gathers the evidence ``flags.sight`` weighs to tell a flag from a storage object named
like it: parameter annotations and defaults, what a name or location is bound from, and its
uses as an object that the paths read do not show (``store[key]``, ``store.x = 1``), and which
names hold a command line's options (``args: argparse.Namespace``, ``args = parser.parse_args()``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import libcst as cst

from storegate.annotations import union_parts
from storegate.cfg import COMPREHENSION_TYPES, CFG, LOCAL, BindEvent, Comprehension, children, comprehension_names, node_types_under
from storegate.flags import BOOLEAN, COPIED, MADE, OBJECT, OPTIONS, TYPED
from storegate.paths import KEYED_READS, access_path, dotted_name, read_key, root_name, string_value


@dataclass(frozen=True)
class Reads:
    names: frozenset[str]  # every Name read or bound in the scope (not in nested scopes)
    accessed: frozenset[str]  # access paths read: ``request.store``, ``body["store"]``
    evidence: dict[str, frozenset[str]]  # access path -> what says it is a boolean or an object (``flags``)


def reads(graph: CFG) -> Reads:
    """The names and locations ``graph``'s scope reads (bound names count as names)."""
    names: set[str] = set()
    accessed: set[str] = set()
    evidence = _declared(graph)

    def access(expr: cst.BaseExpression, local: frozenset[str]) -> bool:
        path = access_path(expr)
        if path is None:
            return False
        if root_name(path) not in local:
            names.add(root_name(path))
        accessed.add(_spelled(path, local))
        return True

    copied: dict[str, set[str]] = {}  # local -> the locations it is bound to, on any path
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, BindEvent):
                if isinstance(event.target, cst.Name) and not event.target.value.endswith(LOCAL):
                    names.add(event.target.value)  # (a comprehension's own names are not the scope's)
                    source = access_path(event.value) if event.kind == "assign" and event.value is not None else None
                    if source is not None:
                        copied.setdefault(event.target.value, set()).add(source)
                _bound(event, evidence)
    # Each expression with the names of the comprehensions around it (their own, read there).
    none: frozenset[str] = frozenset()
    stack: list[tuple[cst.CSTNode, frozenset[str]]] = [(expr, none) for expr in graph.evaluated]  # no recursion
    while stack:  # ``type(...) is``: libcst's nodes are ABCs, whose isinstance is slow here
        expr, local = stack.pop()
        kind = type(expr)
        if kind is cst.Name:
            if cast(cst.Name, expr).value not in local:
                names.add(cast(cst.Name, expr).value)
        elif kind is cst.Attribute:
            attribute = cast(cst.Attribute, expr)
            if not access(attribute, local):
                stack.append((attribute.value, local))
        elif kind is cst.Call:
            call = cast(cst.Call, expr)
            if type(call.func) is cst.Attribute and call.func.attr.value in KEYED_READS:
                access(call, local)  # ``body.get("store", True)``
            elif type(call.func) is cst.Name and call.func.value == "getattr":
                access(call, local)  # ``getattr(request, "store", True)``
            elif type(call.func) is cst.Attribute and (called := access_path(call.func)) is not None:
                _note(evidence, _spelled(called, local), OBJECT)  # `tl.store(ptr, x)`: a method, no flag
            stack.append((call.func, local))
            stack.extend((arg.value, local) for arg in call.args)
        elif kind is cst.Lambda:
            params = cast(cst.Lambda, expr).params
            every = (*params.posonly_params, *params.params, *params.kwonly_params)
            stack.extend((p.default, local) for p in every if p.default is not None)
        elif kind is cst.NamedExpr:
            named = cast(cst.NamedExpr, expr)
            stack.append((named.value, local))
            _target(named.target, names, stack, local)  # the enclosing scope's name (PEP 572)
        elif kind in COMPREHENSION_TYPES:
            comprehension = cast(Comprehension, expr)
            inner = local | comprehension_names(comprehension)
            stack.append((comprehension.for_in.iter, local))  # evaluated in the enclosing scope
            stack.extend((part, inner) for part in children(comprehension) if part is not comprehension.for_in)
            stack.append((comprehension.for_in, inner))
        elif kind is cst.CompFor:  # a clause: its iterable (but the first), target and tests are inside
            clause = cast(cst.CompFor, expr)
            _target(clause.target, names, stack, local)
            stack.extend((condition.test, local) for condition in clause.ifs)
            if clause.inner_for_in is not None:
                stack.append((clause.inner_for_in.iter, local))
                stack.append((clause.inner_for_in, local))
        elif kind not in _LEAVES:
            if kind is cst.Subscript and not access(cast(cst.Subscript, expr), local):
                receiver = access_path(cast(cst.Subscript, expr).value)
                _note(evidence, None if receiver is None else _spelled(receiver, local), OBJECT)  # `store[key]`
            stack.extend((child, local) for child in children(expr))
    # a location copied to a local that is used as an object holds one, whichever branch copied it
    # (``stats = meta.stats.load if loading else meta.stats.store``, then ``stats.record(...)``)
    for copy, sources in copied.items():
        if any(path.startswith((copy + ".", copy + "[")) for path in accessed):
            for source in sources:
                _note(evidence, source, OBJECT)
    return Reads(frozenset(names), frozenset(accessed), {path: frozenset(kinds) for path, kinds in evidence.items()})


_LEAVES = frozenset({cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis})


def _spelled(path: str, local: frozenset[str]) -> str:
    """``path`` as the CFG reads it: rooted at a comprehension's own name (``local``), it is that
    comprehension's location (``x.store`` -> ``x·.store``, a flag location still)."""
    root = root_name(path)
    return root + LOCAL + path[len(root) :] if root in local else path


def _target(target: cst.BaseExpression, names: set[str], stack: list, local: frozenset[str]) -> None:
    """A binding target: its names are bound (a comprehension's own in ``local`` are not the
    scope's); a store's receiver and index are evaluated."""
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _target(element.value, names, stack, local)
    elif isinstance(target, cst.StarredElement):
        _target(target.value, names, stack, local)
    elif isinstance(target, cst.Name):
        if target.value not in local:
            names.add(target.value)
    elif isinstance(target, cst.Attribute):
        stack.append((target.value, local))
    elif isinstance(target, cst.Subscript):
        stack.extend((child, local) for child in children(target))


def _note(evidence: dict[str, set[str]], path: str | None, kind: str | None) -> None:
    if path is not None and kind is not None:
        evidence.setdefault(path, set()).add(kind)


def _declared(graph: CFG) -> dict[str, set[str]]:
    """The evidence of the parameters: their annotations, and a True/False default."""
    evidence: dict[str, set[str]] = {}
    scope = graph.scope
    if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        p = scope.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            name = param.name.value
            if param.annotation is not None:
                _note(evidence, name, annotation_kind(param.annotation.annotation))
                if dotted_name(param.annotation.annotation) in _OPTIONS_TYPES:
                    _note(evidence, name, OPTIONS)
            if isinstance(param.default, cst.Name) and param.default.value in ("True", "False"):
                _note(evidence, name, BOOLEAN)
    return evidence


def _bound(event: BindEvent, evidence: dict[str, set[str]]) -> None:
    """The evidence a binding gives: of its target's value, or of its receiver (an object)."""
    target = event.target
    if isinstance(target, (cst.Attribute, cst.Subscript)):
        _note(evidence, access_path(target.value), OBJECT)  # `store.x = 1`, `store[key] = 1`
    path = access_path(target)
    if path is None:
        return
    if event.kind in ("def", "import"):  # a function, class or module named like the flag
        _note(evidence, path, MADE)
        return
    value = event.value
    if event.kind == "for" and isinstance(event.node, cst.For) and event.node.target is target:
        _note(evidence, path, _element_kind(event.node.iter, path))  # ``for store in [self.store, self.model]:``
        return
    if event.kind == "with" and isinstance(event.node, cst.With):
        value = next((item.item for item in event.node.items if item.asname is not None and item.asname.name is target), None)
    if value is None and event.kind == "assign" and isinstance(event.node, cst.Assign):
        value = event.node.value if _unpacked(event.node, target) else None  # ``store, registry = make(config)``
        if value is not None and not isinstance(value, (cst.Tuple, cst.List)):
            _note(evidence, path, value_kind(value))
        return
    if value is not None:
        _note(evidence, path, value_kind(value))
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "parse_args":
            _note(evidence, path, OPTIONS)  # ``args = parser.parse_args()``
    if isinstance(event.node, cst.AnnAssign):
        _note(evidence, path, annotation_kind(event.node.annotation.annotation))


def attribute_evidence(tree: cst.Module, source: str, flag_names: Iterable[str]) -> dict[str, set[str]]:
    """What the module's methods bind to ``self.<flag>`` / ``self._<flag>`` and how they annotate
    it (``self._store = ObjectStore(...)``, ``self._store: ObjectStore | None = None``): a local
    copy in another method (``store = self._store``) is then known to hold an object. A binding
    of ``self.<flag>`` that copies a location of the flag (``self.store = req.store``) is
    ``COPIED``: what ``flags.copied_attribute`` weighs."""
    names = [name for name in flag_names if re.search(rf"self\._?{re.escape(name)}\b", source)]
    if not names:
        return {}
    wanted = {f"self.{prefix}{name}" for name in names for prefix in ("", "_")}
    evidence: dict[str, set[str]] = {}
    bound: list[tuple[str, cst.BaseExpression]] = []  # (attribute, value) of each binding of one
    for node in _assignments(tree):
        if isinstance(node, cst.AnnAssign):
            path = access_path(node.target)
            if path in wanted:
                _note(evidence, path, annotation_kind(node.annotation.annotation))
                if node.value is not None:
                    bound.append((path, node.value))
        else:
            bound.extend((path, node.value) for target in node.targets if (path := access_path(target.target)) in wanted)
    # the module's parameters, read only when an attribute is bound from a bare name (``self.store = store``)
    params = _parameter_kinds(tree, names) if any(isinstance(value, cst.Name) for _, value in bound) else {}
    for path, value in bound:
        _note(evidence, path, _attribute_value_kind(path, value, params))
    return evidence


def _attribute_value_kind(path: str, value: cst.BaseExpression, params: dict[str, set[str | None]]) -> str | None:
    """``value_kind``, or ``COPIED`` for ``self.store`` bound from a location of the flag that is
    not the object's own: ``req.store``, ``body.get("store")``, ``body["store"]``, or a parameter
    ``store`` that every function of the module annotates as a boolean (``params``: one annotated
    with another type makes ``self.store`` the object it is, an unannotated one says nothing)."""
    name = path.rpartition(".")[2]
    if isinstance(value, cst.Name) and value.value == name:
        kinds = params.get(name, {None})
        return COPIED if kinds == {BOOLEAN} else TYPED if TYPED in kinds else None
    copied = access_path(value) if not isinstance(value, cst.Call) else None
    if copied is not None and root_name(copied) not in ("self", "cls"):
        if copied == name or copied.endswith("." + name) or copied.endswith(f'["{name}"]'):
            return COPIED
    if isinstance(value, cst.Call) and read_key(value) == name and root_name(access_path(value.func) or "") not in ("self", "cls"):
        return COPIED
    return value_kind(value)


def _parameter_kinds(tree: cst.Module, names: list[str]) -> dict[str, set[str | None]]:
    """Name -> what the module's functions annotate their parameters of that name as (``None``:
    not annotated; ``BOOLEAN`` for a boolean default)."""
    found: dict[str, set[str | None]] = {}
    stack: list[cst.CSTNode] = [tree]
    while stack:
        node = stack.pop()
        if type(node) is cst.FunctionDef:
            for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
                if param.name.value in names:
                    if param.annotation is not None:
                        kind = annotation_kind(param.annotation.annotation)
                    else:  # ``store=True``: a boolean by its default
                        kind = BOOLEAN if isinstance(param.default, cst.Name) and param.default.value in ("True", "False") else None
                    found.setdefault(param.name.value, set()).add(kind)
        if type(node) in _HOLDING_STATEMENTS:
            stack.extend(children(node))
    return found


def _assignments(tree: cst.Module) -> list[cst.Assign | cst.AnnAssign]:
    """Every assignment statement of the module, nested ones too, in source order: a walk of the
    statements alone (an assignment is no expression's part), not a visitor over every node."""
    found: list[cst.Assign | cst.AnnAssign] = []
    stack: list[cst.CSTNode] = [tree]
    while stack:
        node = stack.pop()
        if type(node) is cst.Assign or type(node) is cst.AnnAssign:
            found.append(node)
        elif type(node) in _HOLDING_STATEMENTS:
            stack.extend(reversed(children(node)))
    return found


# What may hold a statement: statements, suites and the clauses of compound statements.
_HOLDING_STATEMENTS = frozenset(
    {
        *(t for t in node_types_under(cst.BaseStatement, cst.BaseSuite) if not inspect.isabstract(t)),
        cst.Module, cst.Else, cst.Finally, cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase,
    }
)


def _unpacked(node: cst.Assign, target: cst.BaseExpression) -> bool:
    """Whether ``target`` is a name of a tuple or list that ``node`` assigns (``a, b = ...``)."""
    return any(
        isinstance(t.target, (cst.Tuple, cst.List)) and any(element.value is target for element in t.target.elements) for t in node.targets
    )


def _element_kind(iterable: cst.BaseExpression, name: str) -> str | None:
    """What a loop binds to ``name``: over a literal list, tuple or set, ``BOOLEAN`` when every
    element is ``True``, ``False`` or ``None`` (``for store in (True, False):``), else ``MADE``
    when every element is a name, an attribute or a call (``for store in [self.store,
    self.model]:`` iterates objects); over a collection named as its plural, ``MADE`` too (``for
    store in self._stores:``, ``stores.values()``); ``None`` when it cannot be told."""
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value == "values":
        iterable = iterable.func.value
    if isinstance(iterable, (cst.Name, cst.Attribute)):
        last = (iterable.value if isinstance(iterable, cst.Name) else iterable.attr.value).lstrip("_")
        return MADE if last in (f"{name}s", f"{name}es") else None
    if not isinstance(iterable, (cst.List, cst.Tuple, cst.Set)) or not iterable.elements:
        return None
    values = [element.value for element in iterable.elements if isinstance(element, cst.Element)]
    if len(values) != len(iterable.elements):
        return None  # a starred element
    if all(isinstance(v, cst.Name) and v.value in ("True", "False", "None") for v in values):
        return BOOLEAN
    if all(isinstance(v, (cst.Name, cst.Attribute, cst.Call)) and not (isinstance(v, cst.Name) and v.value in ("True", "False", "None")) for v in values):
        return MADE
    return None


def value_kind(value: cst.BaseExpression) -> str | None:
    """``BOOLEAN`` for a value that is a boolean, ``MADE`` for one a call makes, else ``None``.

    ``bool(x)``, a comparison, ``not x``, ``True``/``False`` are booleans; reads
    (``body.get("store")``, ``getattr(request, "store", True)``, a keyed read of anything:
    ``(body.get("extra_body") or {}).get("store", True)``) say nothing: they copy.
    """
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, cst.IfExp):  # `make(sid) if sid else None`: what its branches are
        kinds = {value_kind(branch) for branch in (value.body, value.orelse) if not _is_none(branch)}
        return BOOLEAN if BOOLEAN in kinds else MADE if kinds == {MADE} else None
    if isinstance(value, cst.Name):
        return BOOLEAN if value.value in ("True", "False") else None
    if isinstance(value, cst.Comparison) or (isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Not)):
        return BOOLEAN
    if isinstance(value, cst.Call):
        callee = dotted_name(value.func)
        if callee == "bool":
            return BOOLEAN
        if callee == "getattr" or access_path(value) is not None or read_key(value) is not None:
            return None
        return MADE
    return None


def _is_none(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Name) and value.value == "None"


_BOOLEANS = frozenset({"bool", "builtins.bool", "StrictBool", "pydantic.StrictBool"})
_UNKNOWN = frozenset({"Any", "typing.Any", "object"})
_LITERALS = frozenset({"Literal", "typing.Literal", "typing_extensions.Literal"})


# What a command line's parsed options are annotated as (``flags.OPTIONS``).
_OPTIONS_TYPES = frozenset({"argparse.Namespace", "Namespace"})


def annotation_kind(annotation: cst.BaseExpression) -> str | None:
    """``BOOLEAN`` for an annotation that admits only booleans (and None), ``TYPED`` for one of
    another type, ``None`` when it says nothing (``Any``, an unparsable string)."""
    kinds = {_part_kind(part) for part in union_parts(annotation)}
    if None in kinds:
        return None
    kinds.discard("none")
    return TYPED if TYPED in kinds or not kinds else BOOLEAN


def _part_kind(part: cst.BaseExpression) -> str | None:
    """One member of a union: ``BOOLEAN``, ``"none"``, ``TYPED``, or ``None`` (unknown)."""
    if string_value(part) is not None:
        return None  # a string that does not parse
    name = dotted_name(part)
    if name == "None":
        return "none"
    if name in _BOOLEANS:
        return BOOLEAN
    if name in _UNKNOWN:
        return None
    if isinstance(part, cst.Subscript) and dotted_name(part.value) in _LITERALS:
        values = {dotted_name(e.slice.value) for e in part.slice if isinstance(e.slice, cst.Index)}
        return BOOLEAN if values <= {"True", "False", "None"} else TYPED
    return TYPED
