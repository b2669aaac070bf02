"""What a name or an attribute may hold, from what the code says about it: the facts that let
``Project`` resolve ``self.serving.create()``, ``store.save()`` or ``request.app.state.svc.run()``
to the methods of the classes they hold.

Gathered from one module at summary time (``gather``), as plain ``Fact`` tuples ``(scope, name,
value, where)``:

- ``scope``: where the name lives: ``""`` a module global (``store = Store()``); a class's
  qualified name for its attribute ``self.name`` (``self.x = Cls()``, ``self.x: Cls``, a field
  ``x: Cls`` of a dataclass or pydantic model, a ``@property`` annotated ``-> Cls``); a function's
  qualified name for its parameters and locals; ``STATE`` for ``app.state.name = Cls()``, read
  back anywhere in the project as ``app.state.name`` or ``request.app.state.name``.
- ``value``: what it holds, as written, evaluated in the function named ``where``: a class or a
  path (``Cls``, ``self._db``, ``session_db``), or a call (``Cls()``, ``make()``,
  ``self.factory.build()``), whose class ``Project`` finds by the callee's return annotation.

A name may hold several classes (two assignments, ``A | B``): each is a fact. Nothing here
resolves across modules; ``Project.classes_of`` does, from the facts of every module.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from storegate.paths import dotted_name, string_value
from storegate.receivers import _assignments

Fact = tuple[str, str, str, str]  # (scope, name, value, where)

STATE = "@state"  # the scope of ``app.state.x``: one namespace for the whole project


def gather(tree: cst.Module) -> tuple[Fact, ...]:
    """Every fact of one module, sorted (the summary is the same whatever the walk order)."""
    found: set[Fact] = set()
    _scope(tree, "<module>", "", None, found)
    return tuple(sorted(found))


def typed_names(facts: tuple[Fact, ...]) -> frozenset[str]:
    """The names some fact of the module types (in any scope): calls on them may resolve."""
    return frozenset(name for scope, name, _, _ in facts if scope != STATE)


def state_attribute(parts: list[str]) -> int | None:
    """The index of ``x`` in ``app.state.x...`` (any receiver before ``.state``), or None."""
    for index in range(1, len(parts) - 1):
        if parts[index] == "state":
            return index + 1
    return None


def annotated_classes(annotation: cst.BaseExpression) -> list[str]:
    """The classes an annotation names, as written: ``Cls``, ``"Cls"``, ``Optional[Cls]``,
    ``Cls | None``, ``Union[A, B]``, ``A | B``; none for anything else."""
    text = string_value(annotation)
    if text is not None:
        try:
            annotation = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return []
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return annotated_classes(annotation.left) + annotated_classes(annotation.right)
    if isinstance(annotation, cst.Subscript):
        if dotted_name(annotation.value) in ("Optional", "typing.Optional", "Union", "typing.Union"):
            return [
                name
                for element in annotation.slice
                if isinstance(element.slice, cst.Index)
                for name in annotated_classes(element.slice.value)
            ]
        return []
    name = dotted_name(annotation)
    return [] if name is None or name == "None" else [name]


def _value(expr: cst.BaseExpression | None) -> str | None:
    """A value as a fact holds it: ``Cls()`` for a call of a dotted callee, a dotted path as is."""
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if isinstance(expr, cst.Call):
        callee = dotted_name(expr.func)
        return None if callee is None else callee + "()"
    name = dotted_name(expr) if expr is not None else None
    return None if name in ("None", "True", "False") else name


def _scope(node: cst.CSTNode, name: str, prefix: str, class_name: str | None, found: set[Fact]) -> None:
    """The facts of one scope (module, class body or function), then of the scopes inside it;
    ``name`` as the summarizer names it, ``prefix`` what the names of its children start with."""
    if isinstance(node, cst.FunctionDef):
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if param.annotation is not None:
                for cls in annotated_classes(param.annotation.annotation):
                    found.add((name, param.name.value, cls, name))
        if class_name is not None and node.returns is not None and _is_property(node):
            for cls in annotated_classes(node.returns.annotation):
                found.add((class_name, node.name.value, cls, name))
    if isinstance(node, cst.ClassDef):
        for statement in _body(node):
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    for cls in annotated_classes(small.annotation.annotation):
                        found.add((name, small.target.value, cls, name))
    else:
        for target, value, annotation in _assignments(node) if isinstance(node, (cst.Module, cst.FunctionDef)) else ():
            values = annotated_classes(annotation) if annotation is not None else []
            held = values or [v for v in [_value(value)] if v is not None]
            parts = target.split(".")
            where = _holder(parts, name, class_name)
            for item in held:
                if where is not None:
                    found.add((*where, item, name))
    for child in _children(node):
        if isinstance(child, cst.ClassDef):
            _scope(child, prefix + child.name.value, prefix + child.name.value + ".", None, found)
        elif isinstance(child, cst.FunctionDef):
            method_of = name if isinstance(node, cst.ClassDef) else None
            _scope(child, prefix + child.name.value, prefix + child.name.value + ".", method_of, found)


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


def _body(node: cst.ClassDef | cst.FunctionDef) -> list:
    return list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The classes and functions defined directly in a scope (in its compound statements too)."""
    for child in node.children:
        if isinstance(child, (cst.ClassDef, cst.FunctionDef)):
            yield child
        elif not isinstance(child, cst.Lambda):
            yield from _children(child)
