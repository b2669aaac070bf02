"""What a name or an attribute may hold, from what the code says about it: the facts that let
``Project`` resolve ``self.serving.create()``, ``store.save()`` or ``request.app.state.svc.run()``
to the methods of the classes they hold.

Gathered from one module at summary time (``Gatherer``), as plain ``Fact`` tuples ``(scope, name,
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

from storegate import cfg as cfglib
from storegate.paths import dotted_name, string_value

Fact = tuple[str, str, str, str]  # (scope, name, value, where)

STATE = "@state"  # the scope of ``app.state.x``: one namespace for the whole project


class Gatherer:
    """The facts of one module, scope by scope as the summarizer builds each one's graph (its
    binding events are the assignments: no second walk of the tree)."""

    def __init__(self) -> None:
        self._facts: set[Fact] = set()
        self._globals: frozenset[str] = frozenset()

    def scope(self, graph: cfglib.CFG, name: str, class_name: str | None) -> frozenset[str]:
        """Gather one scope's facts (``name`` as the summarizer names it; ``class_name`` for a
        method); the names whose calls may resolve in it: its own typed names and the module's
        (the module is the first scope summarized)."""
        found = set(_scope_facts(graph, name, class_name))
        self._facts |= found
        typed = typed_names(tuple(found))
        if name == "<module>":
            self._globals = typed
        return self._globals | typed

    def facts(self) -> tuple[Fact, ...]:
        """Every fact, sorted: the summary is the same whatever the order scopes came in."""
        return tuple(sorted(self._facts))


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


def _scope_facts(graph: cfglib.CFG, name: str, class_name: str | None) -> Iterator[Fact]:
    """The facts one scope states: a function's annotated parameters and, in a method, what a
    ``@property`` returns; a class body's annotated names; every scope's assignments."""
    node = graph.scope
    if isinstance(node, cst.FunctionDef):
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            if param.annotation is not None:
                for cls in annotated_classes(param.annotation.annotation):
                    yield name, param.name.value, cls, name
        if class_name is not None and node.returns is not None and _is_property(node):
            for cls in annotated_classes(node.returns.annotation):
                yield class_name, node.name.value, cls, name
    elif isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock):
        for statement in node.body.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    for cls in annotated_classes(small.annotation.annotation):
                        yield name, small.target.value, cls, name
    for block in graph.blocks:
        for event in block.events:
            if not isinstance(event, cfglib.BindEvent) or event.kind not in ("assign", "annassign"):
                continue
            target = dotted_name(event.target)
            where = _holder(target.split("."), name, class_name) if target is not None else None
            if where is None:
                continue
            annotation = event.node.annotation.annotation if isinstance(event.node, cst.AnnAssign) else None
            held = annotated_classes(annotation) if annotation is not None else []
            for value in held or [v for v in [_value(event.value)] if v is not None]:
                yield (*where, value, name)


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
