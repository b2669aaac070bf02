"""What a function or a model guarantees to its callers, as clauses over its parameters' locations.

Servers check "background requires store" before a handler's body runs: in a pydantic validator
of the request model, in a helper that raises or returns an error, in a FastAPI dependency.
Each of these is a contract, in the clause language of ``facts``:

- ``guarantees``: what holds at every normal exit of a function (a raising helper gives
  ``not request.background or request.store``), over locations rooted at its parameters, and
  at what it returns when every exit returns a local (``RETURNED``: a factory's checks);
- ``if_none``: what holds at the exits that return None, when every other return returns an
  object (an error-returning helper): its caller learns it on ``err is None``;
- ``invariants``: what a model validator guarantees of every instance, over ``FIELDS``-rooted
  locations (``@.background``);
- ``if_true``: what holds where a predicate returns a truthy value (``should_store(request)``
  returning ``request.store is not False and ...``): its caller learns it on the branch where
  the call's value is true (``if should_store(request):``, ``ok = ...; if ok:``).

Three stages use them. The summarizer derives them from each scope's solution (``derive``).
The project stage resolves what a function is given by others (its annotated parameters, its
dependencies, the helpers it calls: ``Project.contracts``) into a plain, sorted dict per file.
The pipeline summarizes those files again with it (``Given``), and repeats while it changes.
Nothing here imports libcst at module level: the project stage runs on warm runs that never parse.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from storegate.model import ANY, TRUE
from storegate.summary import Clause

if TYPE_CHECKING:
    import libcst as cst

    from storegate.cfg import CFG
    from storegate.model import Flag

FIELDS = "@"  # the root of a model's field locations in its invariants: ``@.store``
# The root of what a function returns, in its guarantees (``@return.store``): a factory that
# raises unless ``not req.background or req.store`` before ``return req`` guarantees it of the
# object its caller binds (``req = Request.parse(body)``: ``Project._given``'s binds).
RETURNED = "@return"
MAX_ROUNDS = 3  # summaries made again while contracts change: a helper calling a helper
_VALIDATORS = {"model_validator", "field_validator", "root_validator", "validator"}
_INSTANCE_CHECK = re.compile(r"^\?!isinstance\((\w+)\s*,")
_SEGMENT = re.compile(r'\["([A-Za-z_]\w*)"\]')
_ROOT = re.compile(r"[.\[]")
_ATTRIBUTE = r".\1"  # a key of the input is an attribute of the model


# -- clauses as plain data ------------------------------------------------------------------


def root_name(path: str) -> str:
    """``paths.root_name``, which the project stage cannot import (``paths`` loads libcst)."""
    return _ROOT.split(path, maxsplit=1)[0]


def rename(clauses: Iterable[Clause], name: Callable[[str], str | None]) -> list[Clause]:
    """The clauses with each location read as ``name(location)``; a clause with a location
    that has no name (``None``) says nothing to the reader and is left out."""
    out = []
    for clause in clauses:
        merged: dict[str, int] = {}
        for path, mask in clause:
            renamed = name(path)
            if renamed is None:
                break
            merged[renamed] = merged.get(renamed, 0) | mask
        else:
            if all(mask != ANY for mask in merged.values()):
                out.append(tuple(sorted(merged.items())))
    return out


def rerooted(path: str, roots: dict[str, str]) -> str | None:
    """``path`` with its root variable replaced as ``roots`` says; ``None`` for another root."""
    root = root_name(path)
    target = roots.get(root)
    return None if target is None else target + path[len(root) :]


def unless_object(clauses: Iterable[Clause], local: str) -> list[Clause]:
    """Each clause, or ``local`` holds an object: what is known once ``local is None`` is tested."""
    out = []
    for clause in clauses:
        if all(path != local for path, _ in clause):
            out.append(tuple(sorted((*clause, (local, TRUE)))))
    return out


def as_data(clauses: Iterable[Clause]) -> list[list[list]]:
    """Clauses as sorted JSON-able lists (a contract's text must not depend on any order)."""
    return sorted([[list(literal) for literal in clause] for clause in set(clauses)])


@lru_cache(maxsize=8192)  # the project asks again for each call of each function (``Project._given``)
def annotated_class(annotation: str | None) -> str | None:
    """The class an annotation's code names: ``Req``, ``"Req"``, ``Req | None``,
    ``Optional[Req]``, ``Union[Req, None]``, ``Annotated[Req, ...]``; ``None`` for anything
    else. ``annotations.annotated_class`` reads the same on libcst's tree (a test holds them
    equal): the project stage has only the summary's text, and no libcst."""
    node = _expression(annotation)
    while node is not None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node = _expression(node.value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = [s for s in (node.left, node.right) if not (isinstance(s, ast.Constant) and s.value is None)]
            node = sides[0] if len(sides) == 1 else None
        elif isinstance(node, ast.Subscript) and _dotted(node.value) in ("Optional", "typing.Optional"):
            node = node.slice
        elif isinstance(node, ast.Subscript) and _dotted(node.value) in ("Union", "typing.Union"):
            members = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            sides = [s for s in members if not (isinstance(s, ast.Constant) and s.value is None)]
            node = sides[0] if len(sides) == 1 else None
        elif isinstance(node, ast.Subscript) and (_dotted(node.value) or "").endswith("Annotated"):
            node = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else None
        else:
            return _dotted(node)
    return None


@lru_cache(maxsize=8192)
def dependencies(code: str | None) -> tuple[str, ...]:
    """The functions ``Depends(f)`` names in a default's or an annotation's code."""
    node = _expression(code)
    if node is None:
        return ()
    found = []
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and (_dotted(call.func) or "").rpartition(".")[2] == "Depends" and call.args:
            name = _dotted(call.args[0])
            if name is not None:
                found.append(name)
    return tuple(found)


# Calls whose first argument, or ``default=``, is the default they declare: pydantic's ``Field``,
# a dataclass's ``field``, FastAPI's ``Body``, ``Query``, ``Form`` and ``Param``.
_DEFAULT_MAKERS = frozenset({"Field", "field", "Body", "Query", "Form", "Param"})


@lru_cache(maxsize=1024)
def boolean_default(code: str | None) -> bool | None:
    """The boolean constant a field's or a parameter's default (its code) gives: ``True``,
    ``Field(default=True)``, ``Body(True)``, ``Query(default=False, ...)``; None for anything else."""
    node = _expression(code)
    if isinstance(node, ast.Call) and (_dotted(node.func) or "").rpartition(".")[2] in _DEFAULT_MAKERS:
        given = [keyword.value for keyword in node.keywords if keyword.arg == "default"]
        given += [arg for arg in node.args[:1] if not isinstance(arg, ast.Starred)]
        node = given[0] if given else None
    return node.value if isinstance(node, ast.Constant) and type(node.value) is bool else None


def _expression(code: str | None) -> ast.expr | None:
    if not code:
        return None
    try:
        return ast.parse(code, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


# -- what a scope is given (the summarizer's side of the project's answer) ------------------


@dataclass
class Given:
    """What others guarantee inside one function: clauses known at its ``entry``, after the
    call at a ``line:col`` (``calls``), at the assignment of that call's value (``binds``), and
    where that call's value is true (``tests``: a predicate's).
    ``objects``: the locals bound from error-returning helpers, whose ``isinstance`` tests read
    as their truth."""

    entry: tuple[Clause, ...] = ()
    calls: dict[str, tuple[Clause, ...]] = field(default_factory=dict)
    binds: dict[str, tuple[Clause, ...]] = field(default_factory=dict)
    tests: dict[str, tuple[Clause, ...]] = field(default_factory=dict)  # what a predicate's call, if true, tells
    defaults: dict[str, bool] = field(default_factory=dict)  # flag -> what it means omitted on the routes that reach it

    @classmethod
    def of(cls, contracts: dict | None, function: str) -> Given:
        data = (contracts or {}).get("functions", {}).get(function)
        if not data:
            return cls()

        def clauses(items) -> tuple[Clause, ...]:
            return tuple(tuple((path, mask) for path, mask in clause) for clause in items)

        return cls(
            clauses(data.get("entry", ())),
            {key: clauses(items) for key, items in data.get("calls", {}).items()},
            {key: clauses(items) for key, items in data.get("binds", {}).items()},
            {key: clauses(items) for key, items in data.get("tests", {}).items()},
            {str(key): bool(value) for key, value in data.get("defaults", {}).items()},
        )

    def __bool__(self) -> bool:
        return bool(self.entry or self.calls or self.binds or self.tests)  # (``defaults`` guarantee nothing)

    def in_background(self) -> Given:
        """What holds in a function that runs only for background requests (``run_background``,
        a ``BackgroundWorker``'s method): what is given of a model's ``background`` field is
        that it is true, so a model whose validators refuse ``background`` without ``store``
        permits storing there."""

        def with_background(clauses: tuple[Clause, ...]) -> tuple[Clause, ...]:
            paths = sorted({path for clause in clauses for path, _ in clause if path.rpartition(".")[2] == BACKGROUND})
            return (*clauses, *(((path, TRUE),) for path in paths))

        return replace(self, entry=with_background(self.entry), binds={key: with_background(found) for key, found in self.binds.items()})


# A request's field that asks for the response to be made in the background (OpenAI's Responses):
# a function named for it runs only for such requests (``Given.in_background``).
BACKGROUND = "background"


def runs_in_background(name: str) -> bool:
    """Whether a function's qualified name says it runs background requests only: a word of
    it, or of its class, is "background" (``run_background``, ``BackgroundRunner.run``)."""
    words = re.split(r"[._]|(?<=[a-z0-9])(?=[A-Z])", name)
    return BACKGROUND in (word.lower() for word in words)


def instance_test(atom: str, objects: frozenset[str]) -> str | None:
    """``isinstance(err, E)`` of a local bound from an error-returning helper reads as ``err``:
    such a local is None or the error."""
    found = _INSTANCE_CHECK.match(atom)
    return found.group(1) if found is not None and found.group(1) in objects else None


# -- deriving a function's contract (the summarizer's side) ---------------------------------


@dataclass(frozen=True)
class Exits:
    """The edges that leave a scope normally, by what they return."""

    none: list  # (block, edge): return None, bare return, falling off the end
    objects: list  # (block, edge): return of a call, a name, an attribute ...
    other: list  # (block, edge): return of a constant other than None


def exits(graph: CFG) -> Exits:
    import libcst as cst

    found = Exits([], [], [])
    for block in graph.blocks:
        for edge in block.edges:
            if edge.target is not graph.exit or edge.exceptional:
                continue
            value = edge.owner.value if isinstance(edge.owner, cst.Return) else None
            if value is None or (isinstance(value, cst.Name) and value.value == "None"):
                found.none.append((block, edge))
            elif isinstance(value, cst.Name) and value.value in ("True", "False"):
                found.other.append((block, edge))
            elif isinstance(value, (cst.Call, cst.Await, cst.Name, cst.Attribute, cst.Subscript, cst.Dict)):
                found.objects.append((block, edge))
            else:
                found.other.append((block, edge))
    return found


def raises(graph: CFG) -> bool:
    """Whether a ``raise`` or ``assert`` leaves the scope (not caught inside it)."""
    return any(edge.target is graph.raise_exit and not edge.exceptional for block in graph.blocks for edge in block.edges)


def is_generator(graph: CFG) -> bool:
    """A generator's body runs when it is iterated, not when it is called: it guarantees nothing."""
    import libcst as cst

    from storegate.cfg import children

    stack = list(graph.evaluated)
    while stack:
        node = stack.pop()
        if type(node) is cst.Yield:  # exact types: a failed ``isinstance`` of a libcst class is slow
            return True
        if type(node) is not cst.Lambda:  # the builder lists no other scope as evaluated
            stack.extend(children(node))
    return False


@dataclass(frozen=True)
class Validator:
    """How a model validator names the instance: ``self`` (after mode), a dict of the input
    (``data``, ``values``, ``info.data``), or the value of one field."""

    attributes: str | None  # the parameter whose attributes are the fields
    mappings: tuple[str, ...]  # parameters whose keys (or ``.data`` keys) are the fields
    value: tuple[str, str] | None  # (parameter, field) for a field validator's value
    named: tuple[tuple[str, str], ...] = ()  # (local, field): what a factory builds the instance with


def factory(scope: cst.FunctionDef, class_name: str, graph: CFG) -> Validator | None:
    """A classmethod that builds its class at every return, from names (``return cls(store=store,
    metadata=metadata)``), and raises: what it checks of those names before (``if metadata and
    not store: raise``) holds of every instance it builds, as a validator's would."""
    import libcst as cst

    from storegate.paths import dotted_name

    if not any(dotted_name(d.decorator) == "classmethod" for d in scope.decorators) or not raises(graph):
        return None
    found = exits(graph)
    if found.none or found.other or not found.objects:
        return None
    named: set[tuple[str, str]] = set()
    for _, edge in found.objects:
        value = edge.owner.value if isinstance(edge.owner, cst.Return) else None
        if not isinstance(value, cst.Call) or dotted_name(value.func) not in ("cls", class_name):
            return None
        named.update((arg.value.value, arg.keyword.value) for arg in value.args if arg.keyword is not None and isinstance(arg.value, cst.Name))
    return Validator(None, (), None, tuple(sorted(named))) if named else None


def validator(scope: cst.FunctionDef) -> Validator | None:
    """The validator a method's decorators make of it (pydantic v1 and v2), or ``None``."""
    import libcst as cst

    from storegate.paths import dotted_name, string_value

    params = [p.name.value for p in (*scope.params.posonly_params, *scope.params.params)]
    for decorator in scope.decorators:
        node = decorator.decorator
        call = node if isinstance(node, cst.Call) else None
        name = (dotted_name(call.func if call is not None else node) or "").rpartition(".")[2]
        if name not in _VALIDATORS or not params:
            continue
        args = call.args if call is not None else ()
        keywords = {a.keyword.value: string_value(a.value) for a in args if a.keyword is not None}
        fields = [string_value(a.value) for a in args if a.keyword is None and not a.star]
        if name == "model_validator" and keywords.get("mode") == "after":
            return Validator(params[0], (), None)
        rest = params[1:]  # after cls
        if name in ("field_validator", "validator"):
            if not rest:
                return None
            value = (rest[0], fields[0]) if len(fields) == 1 and fields[0] else None
            return Validator(None, tuple(rest[1:]), value)
        return Validator(None, tuple(rest), None)
    return None


def field_location(path: str, shape: Validator) -> str | None:
    """A validator's location as a field location (``data["store"]`` -> ``@.store``), or None."""
    root = root_name(path)
    rest = path[len(root) :]
    if root == shape.attributes:
        return FIELDS + rest if rest.startswith(".") else None
    for local, named in shape.named:
        if root == local:
            return f"{FIELDS}.{named}" + rest
    if shape.value is not None and root == shape.value[0]:
        return f"{FIELDS}.{shape.value[1]}" + _SEGMENT.sub(_ATTRIBUTE, rest)
    if root in shape.mappings:
        rest = rest[len(".data") :] if rest.startswith(".data[") else rest
        if rest.startswith("["):
            return FIELDS + _SEGMENT.sub(_ATTRIBUTE, rest) if _SEGMENT.match(rest) else None
    return None


def model_invariants(facts: Iterable[Clause], shape: Validator, flags: Iterable[Flag]) -> tuple[Clause, ...]:
    """What a validator guarantees of every instance: its exit facts on its data, as field
    locations. ``isinstance(data, ...)`` of the data is taken as true (pydantic's input)."""
    from storegate.flags import is_location

    tests = {f"?!isinstance({name}" for name in (*shape.mappings, shape.attributes) if name}
    kept = []
    for clause in facts:
        literals = []
        for path, mask in clause:
            if any(path.startswith(test) for test in tests):
                if mask & TRUE:
                    break  # satisfied by the assumption: says nothing
                continue  # false by the assumption: the rest of the clause holds
            literals.append((path, mask))
        else:
            if literals:
                kept.extend(rename([tuple(literals)], lambda p: field_location(p, shape)))
    flags = list(flags)
    return tuple(sorted(c for c in set(kept) if any(is_location(p, f) for p, _ in c for f in flags)))


def returned_clauses(facts: Iterable[Clause], local: str) -> frozenset[Clause]:
    """The clauses only about ``local``'s locations, read as the returned object's (``RETURNED``)."""
    about = [c for c in set(facts) if all(not p.startswith("?") and root_name(p) == local for p, _ in c)]
    return frozenset(rename(about, lambda p: rerooted(p, {local: RETURNED})))


def parameter_clauses(facts: Iterable[Clause], params: Iterable[str]) -> tuple[Clause, ...]:
    """The clauses only about locations rooted at ``params``."""
    names = set(params)
    return tuple(sorted(c for c in set(facts) if all(not p.startswith("?") and root_name(p) in names for p, _ in c)))
