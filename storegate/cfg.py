"""libcst -> control-flow graph of one scope (function, lambda, class body or module).

Blocks hold *events* in evaluation order (calls, bindings); edges carry the condition they
test and the outcome taken. ``and``, ``or``, ``not`` and ``x if c else y`` are split into
separate condition edges, so a guard inside a compound condition is just an edge and "gated"
means "dominated by the true edge of the guard". Nothing here knows about flags or sinks.

Nested functions, lambdas and classes are their own scopes: the builder lists them in
``CFG.nested`` and does not descend into them. ``CFG.evaluated`` lists the expressions the scope
evaluates (what a pass over the names and locations it reads walks: ``reads.py``).

A comprehension runs inline (a loop in the enclosing flow: an enclosing ``if store:`` gates its
calls), but its targets are its own names (Python 3): inside it, its tests and bindings read them
as other locations, spelled with ``LOCAL`` (``store·``), so ``for store in stores`` neither
rebinds nor tests the enclosing ``store``. A walrus in it binds the enclosing scope (PEP 572).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, Union, cast

import libcst as cst

from storegate.paths import dotted_name

Nested = Union[cst.FunctionDef, cst.ClassDef, cst.Lambda]  # a scope inside another
Scope = Union[cst.Module, Nested]
_E = TypeVar("_E", bound=cst.BaseExpression)


@dataclass(frozen=True)
class CallEvent:
    """A call is evaluated here (its callee and arguments were evaluated just before)."""

    node: cst.Call


@dataclass(frozen=True)
class BindEvent:
    """``target`` gets a new value: ``value`` when it is known, else ``None``.

    A comprehension's own name is spelled with ``LOCAL`` (``x·``), here and in the tests and
    walrus values inside it: a location other than the enclosing scope's ``x``.

    ``kind`` is one of assign, augassign, annassign, delete, for, with, except, import, def,
    walrus, match. For a ``Subscript`` target this is also a write into a container.
    """

    target: cst.BaseExpression
    value: cst.BaseExpression | None
    kind: str
    node: cst.CSTNode


Event = Union[CallEvent, BindEvent]


@dataclass(eq=False)
class Edge:
    target: Block
    test: cst.BaseExpression | None = None  # None: unconditional
    polarity: bool = True
    exceptional: bool = False
    owner: cst.CSTNode | None = None  # the statement whose evaluation branches here


@dataclass(eq=False)
class Block:
    index: int
    events: list[Event] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Block({self.index}, {len(self.events)} events, -> {[e.target.index for e in self.edges]})"


@dataclass(eq=False)
class CFG:
    scope: Scope
    entry: Block
    exit: Block  # normal completion and ``return``
    raise_exit: Block  # an exception leaves the scope
    blocks: list[Block]
    params: tuple[str, ...]
    nested: list[Nested]  # scopes defined directly inside this one
    # The expressions the builder evaluated from statements (conditions, values, decorators,
    # defaults, receivers of stores), outermost only: each is walked whole by ``reads.py``.
    evaluated: list[cst.CSTNode]


# Field names of libcst nodes that never hold an evaluated expression.
_SKIP_FIELD_PREFIXES = ("whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot", "lbrace", "rbrace", "lbracket", "rbracket", "operator", "header", "footer", "leading_lines")
_FIELDS_CACHE: dict[type, tuple[str, ...]] = {}

COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
COMPREHENSION_TYPES = frozenset(COMPREHENSIONS)
Comprehension = Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp]
# The suffix of a comprehension's own name inside it: an identifier (libcst's ``Name`` demands one)
# that no source spells, so ``store·`` is never the enclosing ``store`` nor a flag's name.
LOCAL = "\u00b7"
_LEAVES = frozenset({cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis})


def expr_fields(node_type: type) -> tuple[str, ...]:
    """The fields of a node type that may hold evaluated expressions, in declaration order."""
    names = _FIELDS_CACHE.get(node_type)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(node_type) if not f.name.startswith(_SKIP_FIELD_PREFIXES)
        )
        _FIELDS_CACHE[node_type] = names
    return names


def _concrete_node_types() -> frozenset[type]:
    found, stack = set(), [cst.CSTNode]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return frozenset(found)


# Exact-type tests: isinstance() against libcst's abstract base classes is slow in hot loops.
NODE_TYPES = _concrete_node_types()


def node_types_under(*bases: type) -> frozenset[type]:
    """The node types that derive from one of ``bases``, by their MRO: ``issubclass`` against
    libcst's abstract bases walks every subclass of the base for each type it rejects, which
    cost an import of the analysis some 40 ms."""
    return frozenset(kind for kind in NODE_TYPES if any(base in kind.__mro__ for base in bases))


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Child nodes that may hold evaluated expressions, in declaration (mostly lexical) order."""
    out = []
    names = _FIELDS_CACHE.get(type(node))
    for name in names if names is not None else expr_fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind in NODE_TYPES:
            out.append(value)
        elif kind is tuple or kind is list:
            for item in value:  # a loop, not a generator per sequence: every pass walks with this
                if type(item) in NODE_TYPES:
                    out.append(item)
    return out


_SPECIAL_VALUES = frozenset(
    {cst.Call, cst.BooleanOperation, cst.IfExp, cst.NamedExpr, cst.Lambda, cst.Attribute, *COMPREHENSIONS}
)


_CHAIN_TYPES = frozenset({cst.BinaryOperation, cst.ConcatenatedString})


def _flatten(expr: cst.BinaryOperation | cst.ConcatenatedString) -> list[cst.CSTNode]:
    """The operands of a chain of one binary node type, left to right."""
    kind = type(expr)
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, kind):  # no node type has subclasses: the same as ``type(node) is kind``
            stack.append(node.right)
            stack.append(node.left)
        else:
            out.append(node)
    return out


def inner_suites(stmt: cst.BaseCompoundStatement) -> Iterator[cst.CSTNode]:
    """The suites directly under a compound statement (an ``elif`` as its ``If``)."""
    if not isinstance(stmt, cst.Match):
        yield stmt.body
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield orelse
    elif orelse is not None:
        yield orelse.body
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    finalbody = getattr(stmt, "finalbody", None)
    if finalbody is not None:
        yield finalbody.body
    for case in getattr(stmt, "cases", ()):
        yield case.body


def suites(stmt: cst.BaseCompoundStatement) -> Iterator[cst.BaseSuite]:
    """Every suite under a compound statement, those of its ``elif``s included."""
    for suite in inner_suites(stmt):
        if isinstance(suite, cst.If):
            yield from suites(suite)
        else:
            yield cast(cst.BaseSuite, suite)


def descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it, nested scopes' too (no recursion: a tree may be deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


def own_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Every statement of a body and of its compound statements' suites, outer first, with the
    small statements of each line after it; not those of nested functions and classes (scopes
    of their own). Statements only: no expression is entered, and they are most of a tree."""
    stack: list[cst.CSTNode] = list(reversed(body))
    while stack:
        statement = stack.pop()
        yield statement
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, cst.BaseCompoundStatement) and not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            for suite in suites(statement):
                if isinstance(suite, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                    stack.extend(reversed(suite.body))


def params_of(scope: Scope) -> tuple[str, ...]:
    if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        p = scope.params
        every = [*p.posonly_params, *p.params, *p.kwonly_params]
        for star in (p.star_arg, p.star_kwarg):
            if isinstance(star, cst.Param):
                every.append(star)
        return tuple(param.name.value for param in every)
    return ()


def build(scope: Scope) -> CFG:
    """Build the control-flow graph of ``scope``."""
    return _Builder(scope).run()


@dataclass
class _Frame:
    """A construct that ``return``/``break``/``continue`` must pass through or stop at."""

    kind: str  # "loop" or "finally"
    continue_to: Block | None = None
    break_to: Block | None = None
    finalbody: cst.BaseSuite | None = None
    depth: int = 0  # len(handlers) outside the try, for the inlined finally body


def _paired(target: cst.Tuple | cst.List, value: cst.BaseExpression | None) -> list[cst.BaseExpression | None]:
    """What each element of a tuple target is bound to: the element of a tuple display of as
    many plain elements (``state.pad, state.spare = Notepad(), Vault()``, ``self.redis, self.ttl =
    redis, ttl``), where each target is a name or an attribute of one that no value reads (``a, b
    = b, a`` swaps: each value is the other's old one); else nothing known."""
    unknown: list[cst.BaseExpression | None] = [None] * len(target.elements)
    if type(value) is not cst.Tuple or len(value.elements) != len(target.elements):
        return unknown
    if any(type(element) is not cst.Element for element in (*target.elements, *value.elements)):
        return unknown  # a starred element
    bound = {dotted_name(element.value) for element in target.elements}
    if None in bound or any(read in bound for element in value.elements for read in _reads(element.value)):
        return unknown
    return [element.value for element in value.elements]


def _reads(node: cst.CSTNode) -> Iterator[str]:
    """The dotted names an expression reads (``self.redis`` and ``self`` of ``self.redis.url``)."""
    stack = [node]
    while stack:
        current = stack.pop()
        dotted = dotted_name(current) if type(current) is cst.Name or type(current) is cst.Attribute else None
        if dotted is not None:
            yield dotted
        stack.extend(children(current))


class _Builder:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.blocks: list[Block] = []
        self.nested: list[Nested] = []
        self.evaluated: list[cst.CSTNode] = []
        self.handlers: list[Block] = []  # where an exception goes, innermost last
        self.frames: list[_Frame] = []
        self.entry = self._new_block()
        self.exit = self._new_block()
        self.raise_exit = self._new_block()
        self.current: Block | None = self.entry
        self.owner: cst.CSTNode | None = None
        self.local: frozenset[str] = frozenset()  # the names of the comprehensions being built

    # -- plumbing -------------------------------------------------------------------------

    def run(self) -> CFG:
        scope = self.scope
        if isinstance(scope, cst.Lambda):
            self._evaluate(scope.body)
        elif isinstance(scope, cst.Module):
            self._body(scope.body)
        else:
            self._suite(scope.body)
        self._goto(self.exit)
        return CFG(scope, self.entry, self.exit, self.raise_exit, self.blocks, params_of(scope), self.nested, self.evaluated)

    def _new_block(self) -> Block:
        block = Block(len(self.blocks))
        self.blocks.append(block)
        if self.handlers:
            block.edges.append(Edge(self.handlers[-1], exceptional=True, owner=self.owner))
        return block

    def _edge(self, source: Block | None, target: Block, test: cst.BaseExpression | None = None, polarity: bool = True) -> None:
        if source is not None:
            source.edges.append(Edge(target, test, polarity, owner=self.owner if test is not None else None))

    def _goto(self, target: Block) -> None:
        self._edge(self.current, target)
        self.current = None

    def _start(self, block: Block) -> Block:
        self.current = block
        return block

    def _emit(self, event: Event) -> None:
        if self.current is None:  # unreachable code still gets a block, never reached
            self.current = self._new_block()
        self.current.events.append(event)

    def _continue_in_new_block(self) -> None:
        """Start a new block; inside ``try`` this gives exception edges statement granularity."""
        block = self._new_block()
        if self.current is not None:
            self._edge(self.current, block)
            self.current = block
        else:
            self.current = block

    # -- statements -----------------------------------------------------------------------

    def _suite(self, suite: cst.BaseSuite) -> None:
        if isinstance(suite, cst.IndentedBlock):
            self._body(suite.body)
        else:  # `if x: a; b`
            assert isinstance(suite, cst.SimpleStatementSuite)  # the other BaseSuite
            for small in suite.body:
                self._small(small)

    def _body(self, statements: Sequence[cst.BaseStatement]) -> None:
        for stmt in statements:
            self.owner = stmt
            if self.handlers:
                self._continue_in_new_block()
            elif self.current is None:
                self.current = self._new_block()  # unreachable: analysed, never reached
            self._statement(stmt)

    def _statement(self, stmt: cst.BaseStatement) -> None:
        self.owner = stmt
        if type(stmt) is cst.SimpleStatementLine:
            for i, small in enumerate(stmt.body):
                if i and self.handlers:
                    self._continue_in_new_block()
                self._small(small)
            return
        handler = getattr(self, "_" + type(stmt).__name__, None)
        if handler is None:  # pragma: no cover - every compound statement is handled
            raise NotImplementedError(type(stmt).__name__)
        handler(stmt)

    def _small(self, small: cst.BaseSmallStatement) -> None:
        self.owner = small
        if type(small) is cst.Expr:
            self._evaluate(small.value)
        elif type(small) is cst.Assign:
            self._evaluate(small.value)
            for target in small.targets:
                self._bind(target.target, small.value, "assign", small)
        elif type(small) is cst.AnnAssign:
            if small.value is not None:
                self._evaluate(small.value)
                self._bind(small.target, small.value, "annassign", small)
        elif type(small) is cst.AugAssign:
            self._evaluate(small.target)
            self._evaluate(small.value)
            self._bind(small.target, None, "augassign", small)
        elif type(small) is cst.Del:
            self._bind(small.target, None, "delete", small)
        elif type(small) is cst.Return:
            if small.value is not None:
                self._evaluate(small.value)
            self._jump("return", small)
        elif type(small) is cst.Raise:
            if small.exc is not None:
                self._evaluate(small.exc)
            if small.cause is not None:
                self._evaluate(small.cause.item)
            self._goto(self.handlers[-1] if self.handlers else self.raise_exit)
        elif type(small) is cst.Assert:
            passed, failed = self._new_block(), self._new_block()
            self._test(small.test, passed, failed)
            self.current = failed
            if small.msg is not None:
                self._evaluate(small.msg)
            self._goto(self.handlers[-1] if self.handlers else self.raise_exit)
            self.current = passed
        elif type(small) is cst.Break:
            self._jump("break")
        elif type(small) is cst.Continue:
            self._jump("continue")
        elif type(small) is cst.Import:
            for alias in small.names:
                bound: cst.BaseExpression = alias.asname.name if alias.asname else _import_root(alias.name)
                self._bind(bound, None, "import", small)
        elif type(small) is cst.ImportFrom:
            if not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname else alias.name
                    self._bind(bound, None, "import", small)
        # Pass, Global, Nonlocal: no events

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None, kind: str, node: cst.CSTNode) -> None:
        if type(target) is cst.Name:  # exact types, the commonest first (``_value``)
            target = self._localized(target)
        elif type(target) is cst.Tuple or type(target) is cst.List:
            for element, paired in zip(target.elements, _paired(target, value)):
                self._bind(element.value, paired, kind, node)
            return
        elif type(target) is cst.StarredElement:
            self._bind(target.value, None, kind, node)
            return
        elif type(target) is cst.Attribute or type(target) is cst.Subscript:
            # the receiver (and the index) are evaluated before the store
            for child in children(target):
                if type(child) is not cst.Name or child is not getattr(target, "attr", None):
                    self._evaluate(child)
        self._emit(BindEvent(target, value, kind, node))

    def _If(self, stmt: cst.If) -> None:
        self.owner = stmt
        body, orelse, after = self._new_block(), self._new_block(), self._new_block()
        self._test(stmt.test, body, orelse)
        self.current = body
        self._suite(stmt.body)
        self._goto(after)
        self.current = orelse
        if isinstance(stmt.orelse, cst.If):
            self._If(stmt.orelse)
        elif isinstance(stmt.orelse, cst.Else):
            self._suite(stmt.orelse.body)
        self._goto(after)
        self.current = after

    def _While(self, stmt: cst.While) -> None:
        self.owner = stmt
        head, body, orelse, after = (self._new_block() for _ in range(4))
        self._goto(head)
        self.current = head
        self._test(stmt.test, body, orelse)
        self._loop_body(stmt.body, head, after, body)
        self.current = orelse
        if stmt.orelse is not None:
            self._suite(stmt.orelse.body)
        self._goto(after)
        self.current = after

    def _For(self, stmt: cst.For) -> None:
        self._evaluate(stmt.iter)
        head, body, orelse, after = (self._new_block() for _ in range(4))
        self._goto(head)
        self._edge(head, body)
        self._edge(head, orelse)
        self.current = body
        self._bind(stmt.target, None, "for", stmt)
        self._loop_body(stmt.body, head, after, self.current)
        self.current = orelse
        if stmt.orelse is not None:
            self._suite(stmt.orelse.body)
        self._goto(after)
        self.current = after

    def _loop_body(self, suite: cst.BaseSuite, head: Block, after: Block, start: Block | None) -> None:
        self.current = start
        self.frames.append(_Frame("loop", continue_to=head, break_to=after))
        self._suite(suite)
        self.frames.pop()
        self._goto(head)

    def _jump(self, kind: str, statement: cst.Return | None = None) -> None:
        """``return``, ``break`` or ``continue``: run the enclosing ``finally`` bodies on the way.
        The edge of a ``return`` to the exit is owned by the ``return`` statement (what it returns
        tells an error-returning helper's exits apart: ``contracts.py``)."""
        for position in range(len(self.frames) - 1, -1, -1):
            frame = self.frames[position]
            if frame.kind == "loop" and kind != "return":
                target = frame.break_to if kind == "break" else frame.continue_to
                assert target is not None  # a loop frame has both
                self._goto(target)
                return
            if frame.kind == "finally":
                self._inline_finally(frame, position)
                if self.current is None:  # the finally body itself left
                    return
        if self.current is not None:
            self.current.edges.append(Edge(self.exit, owner=statement))
        self.current = None

    def _inline_finally(self, frame: _Frame, position: int) -> None:
        assert frame.finalbody is not None  # a finally frame has its body
        saved_frames, saved_handlers = self.frames, self.handlers
        self.frames, self.handlers = saved_frames[:position], saved_handlers[: frame.depth]
        try:
            self._suite(frame.finalbody)
        finally:
            self.frames, self.handlers = saved_frames, saved_handlers

    def _Try(self, stmt: cst.Try | cst.TryStar) -> None:
        outer = self.handlers[-1] if self.handlers else self.raise_exit
        depth = len(self.handlers)
        after = self._new_block()
        exc_finally: Block | None = None
        finalbody = stmt.finalbody.body if stmt.finalbody is not None else None
        if finalbody is not None:
            # The exceptional path through ``finally``: run it, then re-raise outward.
            exc_finally = self._new_block()
            saved = self.current
            self.current = exc_finally
            self._suite(finalbody)
            self._goto(outer)
            self.current = saved
        after_handlers = exc_finally or outer
        dispatch = None
        if stmt.handlers:
            self.handlers.append(after_handlers)
            dispatch = self._new_block()
            self.handlers.pop()
        if finalbody is not None:
            self.frames.append(_Frame("finally", finalbody=finalbody, depth=depth))
        self.handlers.append(dispatch or after_handlers)
        self._continue_in_new_block()
        self._body(_statements(stmt.body))
        self.handlers.pop()
        self.handlers.append(after_handlers)
        if stmt.orelse is not None:
            self._suite(stmt.orelse.body)
        ends: list[Block] = []
        if self.current is not None:
            ends.append(self.current)
        if dispatch is not None:
            catch_all = False
            for handler in stmt.handlers:
                block = self._new_block()
                self._edge(dispatch, block)
                self.current = block
                if handler.type is None:
                    catch_all = True
                else:
                    self._evaluate(handler.type)
                    if _is_catch_all(handler.type):
                        catch_all = True
                if handler.name is not None:
                    self._bind(handler.name.name, None, "except", handler)
                self._suite(handler.body)
                if self.current is not None:
                    ends.append(self.current)
            if not catch_all:
                self._edge(dispatch, after_handlers)
        self.handlers.pop()
        if finalbody is not None:
            self.frames.pop()
            reached = False
            if ends:
                self.current = self._new_block()
                for end in ends:
                    self._edge(end, self.current)
                self._suite(finalbody)
                reached = self.current is not None
                self._goto(after)
        else:
            for end in ends:
                self._edge(end, after)
            reached = bool(ends)
        self.current = after if reached else None

    _TryStar = _Try

    def _With(self, stmt: cst.With) -> None:
        for item in stmt.items:
            self._evaluate(item.item)
            if item.asname is not None:
                self._bind(item.asname.name, None, "with", stmt)
        self._suite(stmt.body)

    def _FunctionDef(self, stmt: cst.FunctionDef) -> None:
        for decorator in stmt.decorators:
            self._evaluate(decorator.decorator)
        self._param_defaults(stmt.params)
        self.nested.append(stmt)
        self._bind(stmt.name, None, "def", stmt)

    def _ClassDef(self, stmt: cst.ClassDef) -> None:
        for decorator in stmt.decorators:
            self._evaluate(decorator.decorator)
        for arg in (*stmt.bases, *stmt.keywords):
            self._evaluate(arg.value)
        self.nested.append(stmt)
        self._bind(stmt.name, None, "def", stmt)

    def _Match(self, stmt: cst.Match) -> None:
        self._evaluate(stmt.subject)
        after = self._new_block()
        for case in stmt.cases:
            if self.current is None:
                break
            dispatch = self.current
            body, next_case = self._new_block(), self._new_block()
            self.owner = stmt
            test = _pattern_test(stmt.subject, case.pattern)
            self._edge(dispatch, body, test, True)
            irrefutable = _is_irrefutable(case.pattern) and case.guard is None
            if not irrefutable:
                self._edge(dispatch, next_case, test, False)
            self.current = body
            for name in _pattern_names(case.pattern):
                self._bind(name, None, "match", case)
            if case.guard is not None:
                self.owner = stmt
                guarded = self._new_block()
                self._test(case.guard, guarded, next_case)
                self.current = guarded
            self._suite(case.body)
            self._goto(after)
            self.current = next_case
        self._goto(after)
        self.current = after

    def _param_defaults(self, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                self._evaluate(param.default)

    # -- expressions ----------------------------------------------------------------------

    def _evaluate(self, expr: cst.CSTNode) -> None:
        """``_value`` for an expression of a statement: also listed in ``evaluated``."""
        self.evaluated.append(expr)
        self._value(expr)

    def _test(self, expr: cst.BaseExpression, if_true: Block, if_false: Block) -> None:
        """``_condition`` for the test of a statement: also listed in ``evaluated``."""
        self.evaluated.append(expr)
        self._condition(expr, if_true, if_false)

    def _condition(self, expr: cst.BaseExpression, if_true: Block, if_false: Block) -> None:
        """Evaluate ``expr`` for its truth and branch; ``current`` is ``None`` afterwards."""
        if isinstance(expr, cst.BooleanOperation):
            middle = self._new_block()
            if isinstance(expr.operator, cst.And):
                self._condition(expr.left, middle, if_false)
            else:
                self._condition(expr.left, if_true, middle)
            self.current = middle
            self._condition(expr.right, if_true, if_false)
        elif isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            self._condition(expr.expression, if_false, if_true)
        elif isinstance(expr, cst.IfExp):
            then, orelse = self._new_block(), self._new_block()
            self._condition(expr.test, then, orelse)
            self.current = then
            self._condition(expr.body, if_true, if_false)
            self.current = orelse
            self._condition(expr.orelse, if_true, if_false)
        else:
            self._value(expr)
            test = self._localized(expr.target if isinstance(expr, cst.NamedExpr) else expr)
            self._edge(self.current, if_true, test, True)
            self._edge(self.current, if_false, test, False)
            self.current = None

    def _value(self, expr: cst.CSTNode) -> None:
        """Evaluate ``expr`` for its value: emit its calls and bindings, split short circuits.

        Dispatched on the exact type (``type(expr) is``): isinstance against libcst's ABCs is
        slow when it fails, and this sees every node of every scope."""
        kind = type(expr)
        if kind in _LEAVES:
            return
        if kind in _CHAIN_TYPES:  # `a + b + ...`, `"a" "b" ...`: long chains, walked without recursion
            for operand in _flatten(cast(Union[cst.BinaryOperation, cst.ConcatenatedString], expr)):
                self._value(operand)
            return
        if kind not in _SPECIAL_VALUES:
            for child in children(expr):
                self._value(child)
            return
        if kind is cst.Attribute:
            self._value(cast(cst.Attribute, expr).value)
        elif kind is cst.Call:
            call = cast(cst.Call, expr)
            self._value(call.func)
            for arg in call.args:
                self._value(arg.value)
            self._emit(CallEvent(call))
        elif kind is cst.BooleanOperation:
            operation = cast(cst.BooleanOperation, expr)
            right, after = self._new_block(), self._new_block()
            if type(operation.operator) is cst.And:
                self._condition(operation.left, right, after)
            else:
                self._condition(operation.left, after, right)
            self.current = right
            self._value(operation.right)
            self._goto(after)
            self.current = after
        elif kind is cst.IfExp:
            choice = cast(cst.IfExp, expr)
            then, orelse, after = self._new_block(), self._new_block(), self._new_block()
            self._condition(choice.test, then, orelse)
            self.current = then
            self._value(choice.body)
            self._goto(after)
            self.current = orelse
            self._value(choice.orelse)
            self._goto(after)
            self.current = after
        elif kind is cst.NamedExpr:
            named = cast(cst.NamedExpr, expr)
            self._value(named.value)
            self._bind(named.target, self._localized(named.value), "walrus", named)
        elif kind is cst.Lambda:
            function = cast(cst.Lambda, expr)
            self._param_defaults(function.params)
            self.nested.append(function)
        else:
            assert kind in COMPREHENSION_TYPES  # the last of _SPECIAL_VALUES
            self._comprehension(cast(Comprehension, expr))

    def _comprehension(self, expr: Comprehension) -> None:
        """A comprehension is a loop inside the enclosing flow: ``[f(x) for x in xs if store]``.

        Its targets are its own: after the first iterable (evaluated in the enclosing scope), the
        tests and bindings read them as other locations (``_localized``)."""
        after = self._new_block()
        outer, inner = self.local, self.local | comprehension_names(expr)
        clause: cst.CompFor | None = expr.for_in
        first = True
        heads: list[Block] = []
        while clause is not None:
            self._value(clause.iter)  # the first iterable is evaluated once, the others per item
            self.local = inner
            head, body = self._new_block(), self._new_block()
            self._goto(head)
            self._edge(head, body)
            self._edge(head, after if first else heads[-1])
            heads.append(head)
            first = False
            self.current = body
            self._bind(clause.target, None, "for", clause)
            for condition in clause.ifs:
                passed = self._new_block()
                self._condition(condition.test, passed, head)
                self.current = passed
            clause = clause.inner_for_in
        if isinstance(expr, cst.DictComp):
            self._value(expr.key)
            self._value(expr.value)
        else:
            self._value(expr.elt)
        self._goto(heads[-1])
        self.local = outer
        self.current = after

    def _localized(self, expr: _E) -> _E:
        """``expr`` as a test or binding reads it here: a name of an enclosing comprehension
        (``self.local``) is that comprehension's own location, ``store`` -> ``store·``. The calls
        inside stay the source's nodes (they are events, with positions); this copy is only read."""
        if not self.local or not _mentions(expr, self.local):
            return expr
        return cast(_E, expr.visit(_Localize(self.local)))



def comprehension_names(expr: Comprehension) -> frozenset[str]:
    """The names a comprehension's ``for`` clauses bind: its own, not the enclosing scope's."""
    names: set[str] = set()
    clause: cst.CompFor | None = expr.for_in
    while clause is not None:
        stack: list[cst.BaseExpression] = [clause.target]
        while stack:
            target = stack.pop()
            if isinstance(target, cst.Name):
                names.add(target.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                stack.extend(element.value for element in target.elements)
            elif isinstance(target, cst.StarredElement):
                stack.append(target.value)
        clause = clause.inner_for_in
    return frozenset(names)


def _mentions(expr: cst.CSTNode, names: frozenset[str]) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) is cst.Name and node.value in names:
            return True
        stack.extend(children(node))
    return False


class _Localize(cst.CSTTransformer):
    """Renames ``names`` to their comprehension-local spelling, except where a name is no
    variable: an attribute (``x.store``) or a keyword (``f(store=...)``)."""

    def __init__(self, names: frozenset[str]) -> None:
        super().__init__()
        self.names = names

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if updated_node.value in self.names:
            return updated_node.with_changes(value=updated_node.value + LOCAL)
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)


def _statements(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    if isinstance(suite, cst.IndentedBlock):
        return suite.body
    assert isinstance(suite, cst.SimpleStatementSuite)  # the other BaseSuite
    return [cst.SimpleStatementLine(body=suite.body)]


def _import_root(name: cst.BaseExpression) -> cst.Name:
    while isinstance(name, cst.Attribute):
        name = name.value
    assert isinstance(name, cst.Name)
    return name


def _is_catch_all(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "BaseException"


def _is_irrefutable(pattern: cst.MatchPattern) -> bool:
    if isinstance(pattern, cst.MatchAs):
        return pattern.pattern is None or _is_irrefutable(pattern.pattern)
    if isinstance(pattern, cst.MatchOr):
        return any(_is_irrefutable(element.pattern) for element in pattern.patterns)
    return False


def _pattern_test(subject: cst.BaseExpression, pattern: cst.MatchPattern) -> cst.BaseExpression | None:
    """The comparison a value pattern makes, as a condition on the subject: ``case True:`` is
    ``subject is True``, ``case "x" | "y":`` is ``subject == "x" or subject == "y"``. ``None``
    for a pattern that is not only values (a capture, a class, a sequence, a mapping): its edges
    carry no test, as before."""
    if isinstance(pattern, cst.MatchAs) and pattern.pattern is not None:
        return _pattern_test(subject, pattern.pattern)
    if isinstance(pattern, cst.MatchSingleton):
        return cst.Comparison(subject, [cst.ComparisonTarget(cst.Is(), pattern.value)])
    if isinstance(pattern, cst.MatchValue):
        return cst.Comparison(subject, [cst.ComparisonTarget(cst.Equal(), pattern.value)])
    if isinstance(pattern, cst.MatchOr):
        tests = [_pattern_test(subject, element.pattern) for element in pattern.patterns]
        if not tests or any(test is None for test in tests):
            return None
        combined = tests[0]
        for test in tests[1:]:
            assert combined is not None and test is not None  # checked above
            combined = cst.BooleanOperation(combined, cst.Or(), test)
        return combined
    return None


def _pattern_names(pattern: cst.CSTNode) -> Iterator[cst.Name]:
    if isinstance(pattern, (cst.MatchAs, cst.MatchStar)) and pattern.name is not None:
        yield pattern.name
    if isinstance(pattern, cst.MatchMapping) and pattern.rest is not None:
        yield pattern.rest
    for child in children(pattern):
        if isinstance(child, cst.MatchPattern) or isinstance(child, (cst.MatchSequenceElement, cst.MatchMappingElement, cst.MatchKeywordElement, cst.MatchOrElement)) or isinstance(child, cst.MatchStar):
            yield from _pattern_names(child)
