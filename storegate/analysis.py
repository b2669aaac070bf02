"""The must-analysis of each scope over its CFG, condensed into a per-module summary.

A site is gated by a flag when, on every path from the scope's entry to it, the facts imply
that a location of the flag holds a permitted value. Facts flow forward; joins keep what holds
on both sides. Each function with the flag as a parameter is solved twice: with nothing known
at entry, and with the flag known to permit storing (what its callers may guarantee; the
project stage decides which applies).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import heapq
import json
import re
import sys
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import cast, overload
from dataclasses import dataclass, field, replace

import libcst as cst

from storegate import cfg as cfglib
from storegate import contracts as contractlib
from storegate import facts as F
from storegate import flags as flaglib
from storegate import guards
from storegate import handoffs
from storegate import pieces
from storegate import receivers as receiverslib
from storegate import retention
from storegate import state as statelib
from storegate import typefacts, typegather
from storegate import witness as witnesslib
from storegate.annotations import annotated_class
from storegate.errors import SourceError
from storegate.model import ANY, CONSTANTS, FALSE, NONE, TRUE, Config, Flag
from storegate.paths import access_path, callee_path, dotted_name, is_under, literal_text, partial_function, read_default, read_key, root_name, string_value
from storegate.positions import Locator, Outline
from storegate.reads import annotation_kind, attribute_evidence, reads
from storegate import routes as routelib
from storegate.sinks import MUTATING_METHODS, ContainerSinks, MatchContext, SinkMatcher, constant_written, qualify
from storegate.lazy import lazy_writes
from storegate.transient import transient_writes
from storegate.summary import ANY_FIELD, DICT_ENTRY, EACH, MODULE_CONSTANTS, NEGATED, PARAMETER, REBOUND, STAR, TESTED_CALL, Argument, FunctionSummary, ModuleSummary, Param, Site, Verdict, gate_parameters

# A block visited more often than this joins by plain intersection, which always terminates.
_EXACT_JOIN_VISITS = 8
_PER_EDGE_BLOCKS = 200  # the longest function whose exceptions' edges are joined one by one (``solve``)
# The analysis work allowed for one file, in steps (see ``facts.Work``; about 2 million a second):
# past it the file is a one-line error. No stdlib file needs more than 460,000 (traceback.py,
# with five common names as flags and every call a sink), 40 times less.
MAX_STEPS = 20_000_000
_EMPTY_MODULE = cst.Module(body=[])
# The stdlib parser's default depth bound (CPython 3.11+ refuses an AST about three times deeper).
_AST_RECURSION_LIMIT = 1000
# The deepest AST handed to libcst. Real code stays far below (the deepest module of the stdlib
# and a large site-packages: 569 levels, a generated sympy table); libcst's time and memory grow
# faster than the square of a chain's depth (``a[0][0]...``, ``- - -...``, nested lambdas or
# conditional expressions at CPython's own bound of ~3,000: 13 s to 72 s and up to 1.7 GB a line).
MAX_DEPTH = 1000
# How CPython says that a file is nested deeper than it parses (3.10 to 3.13).
_NESTING_ERRORS = ("too many nested parentheses", "too many levels of indentation", "too complex", "recursion")
_BUILTINS = frozenset(dir(builtins))
TOO_DEEP = "too deeply nested to parse"


def parse(source: str, stdlib_error: SyntaxError | None = None, tree: ast.Module | None = None) -> cst.Module:
    """Parse with libcst; a syntax error becomes a one-line ``SourceError`` with its line.

    Call it only with what ``parse_ast`` let through (on storegate's deep-stack thread): libcst's
    native parser overflows the stack or eats memory on deep nesting. Where the stdlib parser
    failed too, its line and column are the ones shown: libcst's are off by one for an error at
    the end of a line. With the stdlib's ``tree``, a large text is parsed in pieces (``pieces``),
    which bounds the parser's memory.
    """
    try:
        with _unvalidated():
            if tree is not None and len(source) > pieces.LARGE_CHARS:
                module = pieces.parse_in_pieces(source, tree)
                if module is not None:
                    return module
            return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        line, column = exc.raw_line, exc.raw_column + 1
        if stdlib_error is not None and stdlib_error.lineno:
            line, column = stdlib_error.lineno, stdlib_error.offset or 1
        raise SourceError(f"cannot parse: {exc.message} (line {line}, column {column})", line) from None
    except RecursionError:
        raise SourceError(TOO_DEEP) from None


_VALIDATE = cst.CSTNode.__post_init__


@contextlib.contextmanager
def _unvalidated() -> Iterator[None]:
    """libcst checks every node as it is made (``CSTNode.__post_init__``), a tenth of a parse:
    a parsed tree holds only what the grammar let through, so the parser's nodes are left
    unchecked (libcst's own comment there names this cost). On again after, as imported: a node
    built by hand (the fixer's) is always checked."""
    setattr(cst.CSTNode, "__post_init__", _unchecked)
    try:
        yield
    finally:
        setattr(cst.CSTNode, "__post_init__", _VALIDATE)


def _unchecked(self: cst.CSTNode) -> None:
    pass


def syntax_error(source: str) -> SourceError | None:
    """The parse error of a file that is not analyzed, found cheaply (stdlib ``ast`` first; libcst
    only for a syntax error that newer syntax than this Python's could explain)."""
    try:
        _, stdlib_error = stdlib_parse(source)
        if stdlib_error is not None:
            parse(source, stdlib_error)
    except SourceError as exc:
        return exc
    return None


def stdlib_parse(source: str) -> tuple[ast.Module | None, SyntaxError | None]:
    """The stdlib parse, which guards libcst from pathological nesting.

    ``(tree, None)``, or ``(None, error)`` for a syntax error that libcst may still accept (syntax
    newer than this Python's). A one-line ``SourceError`` when CPython finds the file nested too
    deeply (libcst never sees it), or when a file CPython rejects is nested deeper than libcst
    can take.
    """
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_AST_RECURSION_LIMIT)  # CPython's own depth bound for the AST
    error: SyntaxError | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source), None
    except (RecursionError, MemoryError):
        raise SourceError(TOO_DEEP) from None
    except SyntaxError as exc:
        if any(text in str(exc.msg).lower() for text in _NESTING_ERRORS):
            raise SourceError(TOO_DEEP, exc.lineno) from None
        error = exc
    except ValueError:  # NUL bytes (on some versions): libcst says where
        pass
    finally:
        sys.setrecursionlimit(limit)
    if _token_depth(source) > MAX_DEPTH:
        raise SourceError(TOO_DEEP)
    return None, error


def parse_ast(source: str) -> tuple[ast.Module | None, SyntaxError | None]:
    """``stdlib_parse``, and a tree deeper than ``MAX_DEPTH`` refused before libcst sees it."""
    tree, error, _ = _outlined(source)
    return tree, error


def _outlined(source: str) -> tuple[ast.Module | None, SyntaxError | None, Outline | None]:
    """``parse_ast``, with the tree's ``Outline`` (the walk that measures its depth gathers what
    the ``Locator`` needs)."""
    tree, error = stdlib_parse(source)
    if tree is None:
        return None, error, None
    outline = Outline(tree)
    if outline.depth > MAX_DEPTH:
        raise SourceError(TOO_DEEP)
    return tree, error, outline


_CHAIN_TOKENS = frozenset({"not", "lambda", "if", "await", "yield"})


def _token_depth(source: str) -> int:
    """An upper bound of the nesting of a file CPython cannot parse, from its tokens.

    Each open bracket is a level, and so is each operator or chaining keyword since the last
    comma at the same bracket level (``a[0][0]``, ``- - x``, ``lambda: lambda: x``). Tokens
    after a tokenizer error (this Python may not know the file's syntax) are not seen.
    """
    import tokenize
    from io import StringIO

    chains, total = [0], 0  # per open bracket, the chain since its last comma; their sum
    try:
        for token in tokenize.generate_tokens(StringIO(source).readline):
            kind, text = token.type, token.string
            if kind == tokenize.OP and text in "([{":
                chains[-1] += 1
                chains.append(0)
                total += 1
            elif kind == tokenize.OP and text in ")]}":
                if len(chains) > 1:
                    total -= chains.pop()
            elif text in (",", ";") or kind == tokenize.NEWLINE:
                total -= chains[-1]
                chains[-1] = 0
            elif (kind == tokenize.OP and text != ":") or (kind == tokenize.NAME and text in _CHAIN_TOKENS):
                chains[-1] += 1
                total += 1
            if len(chains) + total > MAX_DEPTH:
                return MAX_DEPTH + 1
    except (SyntaxError, tokenize.TokenError) as exc:
        if isinstance(exc, SyntaxError) and any(text in str(exc.msg).lower() for text in _NESTING_ERRORS):
            return MAX_DEPTH + 1
    return len(chains) + total


def summarize(
    source: str, path: str, config: Config, module: str, contracts: dict | None = None, namespace: str = ""
) -> ModuleSummary:
    """The summary of one file. Raises ``SourceError`` if it does not parse.

    ``contracts``: what others guarantee inside its functions (``Project.contracts``).
    ``namespace``: the directories without ``__init__.py`` above its package (``collect_imports``)."""
    tree, stdlib_error, outline = _outlined(source)
    return Summarizer(source, parse(source, stdlib_error, tree), path, config, module, outline, contracts, namespace).run()


_last_matcher: tuple[tuple, SinkMatcher] | None = None
_SHARED_CHARS = 2_000  # a longer string constant is for no other module (``shared_constants``)


def _matcher(config: Config) -> SinkMatcher:
    """The configuration's sink matcher, compiled once for all the files a process summarizes
    with an equal configuration (every file of a run): compiling the patterns and argument
    regexes of the default packs cost a tenth of a small file's summary. It holds no state of a
    file (its regexes' caches are of what they matched, whatever the file)."""
    global _last_matcher
    key = (config.sinks, config.state)
    if _last_matcher is None or _last_matcher[0] != key:
        _last_matcher = (key, SinkMatcher(config.sinks, config.state))
    return _last_matcher[1]


@dataclass
class _SiteFacts:
    """What one site looked like on every reachable copy (``finally`` bodies are duplicated)."""

    node: cst.CSTNode
    text: str
    kind: str
    sink: str | None
    sink_kind: str | None  # the name of the sink kind that matched (``sinks.SINK_KINDS``)
    args: list[cst.Arg]
    # a sink's pattern and kind, and another module's constant its argument regex must match (``sinks.SinkMatch``)
    pending: tuple[str, str, str] | None = None
    handed: bool = False  # the call of a function handed off (``handoffs.handed``), made later
    # (keyword, count) of each known dict passed by keyword, whose keywords end ``args``
    packed: list[tuple[str, int]] = field(default_factory=list)
    gated: dict[str, list[bool]] = field(default_factory=dict)  # flag -> [empty entry, permitted entry]
    forbidden: dict[str, bool] = field(default_factory=dict)  # flag -> reached only where it forbids (``Verdict``)
    traces: dict[str, list[tuple]] = field(default_factory=dict)
    permits: list[dict[str, list[bool]]] = field(default_factory=list)  # per argument
    implies: list[dict[str, bool]] = field(default_factory=list)  # per argument: its truth implies the flag permits
    gates: dict[str, bool] = field(default_factory=dict)  # gate parameter -> true on every copy (``Site.gates``)
    tested: dict[str, bool] = field(default_factory=dict)  # an object's field tested -> true on every copy (``Site.tested``)


class Summarizer:
    def __init__(
        self,
        source: str,
        tree: cst.Module,
        path: str,
        config: Config,
        module: str,
        outline: Outline | None = None,
        contracts: dict | None = None,
        namespace: str = "",
    ) -> None:
        self.tree = tree
        self.path = path
        self.module = module
        self.config = config
        self.matcher = _matcher(config)
        self.small_statements = _all_small_statements(tree.body)  # every one, nested ones too
        self.imports = collect_imports(tree, module, path.replace("\\", "/").endswith("__init__.py"), namespace, self.small_statements)
        # the module's containers that outlive the request, and what the current scope sees of them
        self.state = statelib.collect(tree, self.imports, config.state, frozenset(f.name for f in config.flags)) if config.state is not None else None
        self._scope_state: statelib.ScopeState | None = None
        # the types of ``self.x`` per class, for sinks named by a receiver's type (``receivers.py``)
        self.classes = receiverslib.module_types(tree, self.imports) if self.matcher.typed else None
        self._receivers: receiverslib.Receivers | None = None
        self.locator = Locator(source, tree, outline)
        self.witnesses = witnesslib.Witnesses(self.locator)  # of the scope being summarized
        self.fixed = _declared_global(source)  # names another scope may rebind
        self._held: dict[int, frozenset[str]] = {}  # nested scope -> flag-named objects it may read
        self._outer_self: dict[int, str] = {}  # nested scope -> the class of the method's ``self`` it may read
        self._outer_aliases: dict[int, dict[str, str]] = {}  # nested scope -> its enclosing functions' aliases (``_closed_aliases``)
        self._aliases: dict[str, str] = {}  # the scope being summarized's (``_Context.aliases``)
        self._outer_truths: dict[int, dict[str, tuple[F.Clause, ...]]] = {}  # nested scope -> ``_conjoined_copies`` around it
        self._closed_truths: dict[str, tuple[F.Clause, ...]] = {}  # the scope being summarized's (``_install_closed``)
        self._factory_state: dict[int, frozenset[str]] = {}  # nested scope -> an app factory's containers it may write
        self._statement_calls: frozenset[int] | None = None
        self.truths: dict[int, tuple[cst.CSTNode, F.Formula]] = {}  # ``_Context.truths``
        self.contracts = contracts
        self._given = contractlib.Given()  # what others guarantee in the scope being summarized
        names = routelib.Names.of(tree)
        self.route_names = names if config.routes else routelib.NO_NAMES
        # module-level string constants (no other scope rebinds them: ``global``)
        self.strings = {name: path.text for name, path in names.constants.items() if name not in self.fixed}
        # what another module's route spelled with them means (``Project._named``), or its call of
        # a sink with an argument regex (``statements.add_statement_sinks``: SQL that writes)
        self.shared_constants = tuple(sorted((name, text) for name, text in self.strings.items() if len(text) <= _SHARED_CHARS))
        self._strings: dict[str, str] = {}  # what the names of the scope being summarized spell
        self._params: frozenset[str] = frozenset()  # its parameters (``statements.PASSED``)
        self._transient: frozenset[int] = frozenset()  # its writes undone on every way out (``transient``)
        self._lazy: frozenset[int] = frozenset()  # what it runs only to fill a long-lived name still empty (``lazy``)
        self._loops: dict[str, tuple[str, str | None]] = {}  # its names bound only by a loop over a location, and its key (``_loop_names``)
        self._chosen: dict[str, tuple[str, str]] = {}  # bound once to a table's element (``handoffs.chosen_names``)
        self._made_locals: dict[str, cst.BaseExpression] = {}  # bound once to a call's value (``handoffs.made``)
        self.types = typegather.Gatherer()  # what names and attributes hold (``Project.classes_of``)
        self.typed: frozenset[str] = frozenset()  # the names typed in the scope being summarized
        self.params: frozenset[str] = frozenset()  # its other parameters: they hold what the callers pass
        # what ``self.<flag>`` holds by the module's assignments and annotations (``reads``)
        self._flag_names = frozenset(flag.name for flag in config.flags)
        self._by_name = {flag.name: flag for flag in config.flags}
        self.attributes = attribute_evidence(tree, source, list(self._flag_names))

    def run(self) -> ModuleSummary:
        functions: list[FunctionSummary] = []
        classes: list[tuple[str, tuple[str, ...]]] = []
        self._class_fields: list[tuple[str, tuple[str, ...]]] = []
        self._off_fields: list[tuple[str, str]] = []
        self._field_defaults: list[tuple[str, str, bool, int, int]] = []
        self._flag_fields: list[tuple[str, str]] = []
        # (scope, qualified name, kind, class it belongs to, defined inside a function)
        stack: list[tuple[cfglib.Scope, str, str, str | None, bool]] = [(self.tree, "<module>", "module", None, False)]
        F.WORK.start(MAX_STEPS)
        try:
            self._scopes(stack, functions, classes)
        finally:
            F.WORK.limit = None
        functions.sort(key=lambda f: f.name)
        return ModuleSummary(
            path=self.path,
            module=self.module,
            imports=tuple(sorted(self.imports.items())),
            classes=tuple(sorted(classes)),
            functions=tuple(functions),
            class_fields=tuple(sorted(self._class_fields)),
            off_fields=tuple(sorted(self._off_fields)),
            field_defaults=tuple(sorted(self._field_defaults)),
            flag_fields=tuple(sorted(self._flag_fields)),
            types=self.types.facts(),
            constants=self.shared_constants,
        )

    def _scopes(self, stack: list, functions: list[FunctionSummary], classes: list) -> None:
        """Summarize every scope, the nested ones too; a scope past the work budget ends the file."""
        while stack:
            scope, name, kind, class_name, nested = stack.pop()
            graph = cfglib.build(scope)
            if isinstance(scope, cst.ClassDef):
                classes.append((name, tuple(_code(arg.value) for arg in scope.bases)))
                self._class_fields.append((name, _annotated_names(scope)))
                self._off_fields.extend((name, field_name) for field_name in _off_defaults(scope))
                for field_name, value, node in _boolean_defaults(scope, self._flag_names):
                    span = self.locator.span(node)
                    self._field_defaults.append((name, field_name, value, span.line, span.column))
                self._flag_fields.extend((name, field_name) for field_name in _boolean_fields(scope, self._flag_names))
            elif isinstance(scope, cst.Module):  # a module's table of defaults (``DEFAULTS = {"store": True}``)
                for table, key, value, node in _dict_defaults(scope, self._flag_names):
                    span = self.locator.span(node)
                    self._field_defaults.append((table + DICT_ENTRY, key, value, span.line, span.column))
                for constant_name, value, node in _constant_defaults(scope, self._flag_names):  # and its constants (``DEFAULT_STORE = True``)
                    span = self.locator.span(node)
                    self._field_defaults.append((MODULE_CONSTANTS, constant_name, value, span.line, span.column))
            # the names whose calls may resolve: those the code types, and the parameters, which
            # hold what the callers pass (``Project._passed``)
            self.typed = self.types.scope(graph, name, class_name)
            self.params = frozenset(graph.params) - self.typed
            try:
                self._given = contractlib.Given.of(self.contracts, name)
                functions.append(self._with_contract(self.function(graph, name, kind, class_name, nested), graph))
            except F.TooMuchWork:
                where = "the module body" if kind == "module" else f"{'class' if kind == 'class' else 'function'} '{name}'"
                line = self.locator.line(scope) if kind != "module" else None
                raise SourceError(f"analysis too large: more than {MAX_STEPS:,} steps in {where}", line) from None
            prefix = "" if kind == "module" else name + "."
            inside_function = kind in ("function", "method", "lambda") or nested
            for child in reversed(graph.nested):
                if isinstance(child, cst.Lambda):
                    stack.append((child, prefix + "<lambda>", "lambda", None, inside_function))
                elif isinstance(child, cst.ClassDef):
                    stack.append((child, prefix + child.name.value, "class", None, inside_function))
                else:
                    child_kind = "method" if kind == "class" else "function"
                    stack.append((child, prefix + child.name.value, child_kind, name if kind == "class" else None, inside_function))

    def _copied(self, flag: Flag) -> bool:
        """Whether the module's objects keep their request's flag as ``self.<flag>``
        (``flags.copied_attribute``): their methods read it there."""
        return not flag.self_attribute and flaglib.copied_attribute(self.attributes.get(f"self.{flag.name}", ()))

    def _own_predicate(self, graph: cfglib.CFG, class_name: str, kind: str, flag: Flag) -> bool:
        """Whether a method is a predicate (``def wants_persistence(self) -> bool``:
        ``_boolean_returns``) of a class that declares the flag a boolean field: its
        ``self.<flag>`` is the client's answer, which its callers test through it (``if
        body.wants_persistence():``: ``Project._given``); or a builder of a plan from its own
        fields (``_builds_plan``), whose field given ``self.<flag>`` carries it (``fields.py``)."""
        if kind != "method" or not isinstance(graph.scope, cst.FunctionDef) or (class_name, flag.name) not in self._flag_fields:
            return False
        found = contractlib.exits(graph)
        return _boolean_returns(graph.scope, [*found.objects, *found.other]) or _builds_plan(found)

    # -- one scope ------------------------------------------------------------------------

    def function(self, graph: cfglib.CFG, name: str, kind: str, class_name: str | None, nested: bool) -> FunctionSummary:
        scope = graph.scope
        read = reads(graph)
        own = {*graph.params, *_bound_names(graph)}
        evidence = dict(read.evidence)
        if class_name is not None:
            for path, kinds in self.attributes.items():
                evidence[path] = evidence.get(path, frozenset()) | kinds
        inherited = self._held.pop(id(scope), frozenset()) - own  # objects of enclosing scopes
        for held in inherited:
            evidence[held] = evidence.get(held, frozenset()) | {flaglib.OBJECT}
        for local in self._predicate_locals(graph):  # ``store = should_store(req)``: a boolean
            evidence[local] = evidence.get(local, frozenset()) | {flaglib.BOOLEAN}
        helper_reads = _helper_reads(graph, self._by_name)
        for local, _ in helper_reads.values():  # ``persist = read_bool(body, "store", True)``: one too
            evidence[local] = evidence.get(local, frozenset()) | {flaglib.BOOLEAN}
        inline = {formula[1] for formula in _inline_reads(graph, self._by_name).values()}  # ``Options(retain=_as_bool(body, "store", False))``
        for location in inline:
            evidence[location] = evidence.get(location, frozenset()) | {flaglib.BOOLEAN}
        self._aliases = {**self._closed_aliases(scope, own), **_aliases(graph, self.fixed, helper_reads)}
        self._closed_truths = {name: told for name, told in self._outer_truths.pop(id(scope), {}).items() if name not in own}
        alias = _Context(self._aliases).alias
        # an object that keeps its request's flag (``self.store = req.store``) reads it as ``self.store``
        # and so does a model's predicate of its own flag field (``return self.store is True``)
        seen_flags = [
            replace(f, self_attribute=True) if class_name is not None and (self._copied(f) or self._own_predicate(graph, class_name, kind, f)) else f
            for f in self.config.flags
        ]
        sights = [(f, flaglib.sight(f, graph.params, read.names, read.accessed | inline, evidence, alias)) for f in seen_flags]
        patterns = self.config.routes
        owner = class_name if kind == "method" else None  # a controller's ``path`` comes before its methods'
        routes = routelib.handler_routes(scope, patterns, self.route_names, owner) if isinstance(scope, cst.FunctionDef) else ()
        if self._given and not routes and contractlib.runs_in_background(name) and not any(_reads_background(path) for path in read.accessed):
            self._given = self._given.in_background()  # a worker of background requests, that does not tell them apart itself
        # a flag is seen through a predicate's call too (``if should_store(request):``, ``tests``),
        # through what a call's value is known to hold (``req = Request.parse(body)``, ``binds``),
        # and by a route's handler through what its request model's validators guarantee at its
        # entry (``if body.background:`` where background requires store: ``entry``)
        told = {path for given in (self._given.tests, self._given.binds) for clauses in given.values() for clause in clauses for path, _ in clause}
        told.update(path for clause in self._given.entry for path, _ in clause)
        told.update(path for clauses in self._closed_truths.values() for clause in clauses for path, _ in clause)
        flags = [f for f, sight in sights if sight.locations or any(flaglib.is_location(path, f) for path in told)]
        # the flag read through a parameter (``request.store``): its callers decide it, as they do
        # a parameter named like it (``Project.permitted_entries``)
        through_params = {
            path
            for f, sight in sights
            for path in (*sight.locations, *told)
            if path != f.name and root_name(path) in graph.params and root_name(path) not in ("self", "cls") and flaglib.is_location(path, f)
        }
        objects = frozenset(path for _, sight in sights for path in sight.objects)
        # Nested scopes read an object named like the flag from here (a class body's own names
        # are not its methods').
        passed = inherited if kind == "class" else inherited | {f.name for f in self.config.flags if alias(f.name) in objects}
        closed = {**self._aliases, **self._predicate_aliases(graph, flags)} if graph.nested and kind != "class" else None
        truths = {**self._closed_truths, **self._conjoined_copies(graph, flags, closed)} if closed is not None else {}
        for child in graph.nested:
            self._held[id(child)] = passed
            if closed is not None:
                self._outer_aliases[id(child)] = closed
                self._outer_truths[id(child)] = truths
        # whose ``self`` it sees: a method's class, and in a function nested in a method (which
        # binds no ``self`` of its own) the method's (``async def persist(): self._turns[k] = v``)
        outer = self._outer_self.pop(id(scope), None)
        self_class = class_name if class_name is not None else (outer if "self" not in own else None)
        if self_class is not None and kind != "class":
            for child in graph.nested:
                self._outer_self[id(child)] = self_class
        registered = routelib.registered_routes(graph, patterns, self.route_names)
        mounted = routelib.mounted_routes(scope, patterns, self.route_names) if isinstance(scope, cst.FunctionDef) else ()
        named = routelib.named_routes(scope, graph, patterns, self.route_names)
        includes = routelib.included_routers(graph, self.route_names) if patterns else ()
        if routes and isinstance(scope, cst.FunctionDef):
            flags = [routelib.with_route_default(scope, f, self.config.route_defaults, self.route_names, owner) for f in flags]
        elif self._given.defaults:  # a route that reaches it by a call, a mount or a handler (``Project._route_defaults``)
            flags = [replace(f, none_means=self._given.defaults[f.name]) if f.name in self._given.defaults else f for f in flags]
        app_factory = kind != "class" and bool(graph.nested) and routelib.defines_handlers(graph, self.route_names)
        self._scope_state = self._state_of(graph, name, kind, self_class, own, app_factory)
        self._strings = _scope_strings(graph, self.strings)
        self._params = frozenset(graph.params) - {"self", "cls"}
        self._receivers = receiverslib.scope(scope, self.imports, self.classes, self_class) if self.classes is not None else None
        closure = tuple(f.name for f in flags if nested and f.name not in own and f.name not in objects)
        params = _params(scope)
        # a function's boolean parameters that may switch its writes on; in one with the flag,
        # those other than the flag (``persist`` of ``_finalize(request, persist=should_store(request))``)
        gates = () if kind == "class" else tuple(name for name in gate_parameters(params) if name not in {f.name for f in flags})
        sites = self.sites(graph, flags, entry_flags={*graph.params, *closure, *through_params} - objects, objects=objects, gates=gates)
        keeping_reads, fills = self._keeping_reads(graph, flags)
        return FunctionSummary(
            name=name,
            kind=kind,
            class_name=class_name,
            params=tuple(replace(p, holds_object=True) if p.name in objects else p for p in params),
            flags=tuple(f.name for f in flags),
            closure_flags=closure,
            routes=routes,
            registered=registered,
            mounted=mounted,
            includes=includes,
            named=named,
            sites=sites,
            nested=nested,
            returns=_returned_class(scope),
            keeps=handoffs.kept(graph) if class_name is not None else (),
            tables=handoffs.tables(graph) if kind != "class" else (),
            locals=tuple(sorted({*graph.params, *_bound_names(graph, imports=False)} - {"self", "cls"})) if kind != "class" else (),
            app_factory=app_factory,
            keeping_reads=keeping_reads,
            fills=fills,
            true_fields=_true_fields(graph) if kind == "method" and graph.params == ("self",) else (),
        )

    def _closed_aliases(self, scope: cst.CSTNode, own: set[str]) -> dict[str, str]:
        """The aliases of the enclosing functions that a nested one reads as they are
        (``persist = request.store``, then ``if persist:`` in a streaming generator defined
        there): the names it does not bind, to locations whose root it does not bind either."""
        outer = self._outer_aliases.pop(id(scope), {})
        return {name: path for name, path in outer.items() if name not in own and root_name(path) not in own}

    def _predicate_aliases(self, graph: cfglib.CFG, flags: list[Flag]) -> dict[str, str]:
        """The locals bound once to a predicate whose truth is one flag location's
        (``persist = should_store(req)``: ``req.store``), as that location, for the functions
        nested in the scope: where they test the local, they test the flag."""
        found: dict[str, str] = {}
        if not self._given.tests or not flags:
            return found
        for name, value in handoffs.bound_once(graph).items():
            value = value.expression if isinstance(value, cst.Await) else value
            clauses = self._given.tests.get(_where(self.locator, value)) if isinstance(value, cst.Call) else None
            if clauses and len(clauses) == 1 and len(clauses[0]) == 1:
                path = clauses[0][0][0]
                if any(flaglib.is_location(path, f) for f in flags):
                    found[name] = path
        return found

    def _conjoined_copies(self, graph: cfglib.CFG, flags: list[Flag], closed: dict[str, str]) -> dict[str, tuple[F.Clause, ...]]:
        """The locals bound once to a conjunction with the flag or a copy of it (``record =
        persist and settings.resume``, ``persist`` a copy in ``closed``; a predicate's call,
        ``Given.tests``): name -> what its truth tells of the flag, for the functions nested in
        the scope (``_install_closed``). Where one tests it true the flag permits; its falsity
        tells nothing (unlike a copy's, which is an alias)."""
        found: dict[str, tuple[F.Clause, ...]] = {}
        if not flags:
            return found
        context = _Context(closed)
        for name, value in handoffs.bound_once(graph).items():
            if not isinstance(value, cst.BooleanOperation) or not isinstance(value.operator, cst.And):
                continue
            clauses: list[F.Clause] = []
            for conjunct in _conjuncts(value):
                call = conjunct.expression if isinstance(conjunct, cst.Await) else conjunct
                tested = self._given.tests.get(_where(self.locator, call)) if isinstance(call, cst.Call) else None
                formula = F.rename(guards.truth(conjunct), context.path)
                if tested:
                    clauses.extend(tested)
                elif formula[0] == "lit" and any(flaglib.is_location(formula[1], f) for f in flags):
                    clauses.append(((formula[1], formula[2]),))
            if clauses:
                found[name] = tuple(clauses)
        return found

    def _predicate_locals(self, graph: cfglib.CFG) -> set[str]:
        """The names the scope binds to a predicate's value (what others say its call tells where
        it is true: ``Given.tests``): a boolean, not an object a call made, in the scope and in
        the functions nested in it (``if store:`` in an ``emit`` closure)."""
        if not self._given.tests:
            return set()
        found = set()
        for name, value in statelib.name_assignments(graph):
            value = value.expression if isinstance(value, cst.Await) else value
            if isinstance(value, cst.Call) and _where(self.locator, value) in self._given.tests:
                found.add(name)
        return found

    def _keeping_reads(self, graph: cfglib.CFG, flags: list[Flag]) -> tuple[tuple[tuple[str, int, str, str], ...], tuple[tuple[str, str], ...]]:
        """``(flag, line, text, fallback)`` of each read of a flag, by key or ``getattr``, whose
        default keeps (``payload.get("store", True)``, ``getattr(request, "store", True)``, a
        coercion's ``as_bool(payload.get("store"), default=True)``), or of a conditional that
        fills in an omitted flag from a setting (``_filled_omissions``), and whose value leaves
        the function (``_held_reads``). ``fallback``: "" for such a
        constant; else the attribute path the default is read from, which the project looks up
        (``settings.persistence.store_by_default``: ``Project.keeping_defaults``). A reading
        helper asked for a flag by name (``read_bool(payload, "store", True)``) counts in any
        function; the other forms only in one that reads the flag (``flags``). Second: ``(flag,
        parameter)`` of each such read whose default is a parameter of the function
        (``opt_bool(payload, "store", default_store)``): its callers decide what an omission keeps
        (``FunctionSummary.fills``)."""
        by_name = {flag.name: flag for flag in (flags or self.config.flags)}
        found: list[tuple[cst.CSTNode, str, str]] = []
        fills: set[tuple[str, str]] = set()
        for block in graph.blocks if by_name else ():
            for event in block.events:
                if not isinstance(event, cfglib.CallEvent):
                    continue
                call = event.node
                func, args = call.func, call.args
                flag, default = None, None
                if flags:
                    if type(func) is cst.Name and func.value == "getattr" and len(args) > 1:
                        key = string_value(args[1].value)
                    else:
                        key = read_key(call)
                    flag = by_name.get(key) if key is not None else None
                    default = read_default(call) if flag is not None else None
                    if flag is None:  # ``_as_bool(payload.get("store"), default=True)``: a coercion's default
                        flag, default = _coerced_read(call, by_name)
                if flag is None:  # ``read_bool(payload, "store", True)``: a reading helper's
                    flag, default = _helper_read(call, by_name)
                fallback = _fallback(default, flag) if flag is not None and default is not None else None
                if flag is not None and fallback is not None:
                    found.append((call, flag.name, fallback))
                elif flag is not None and type(default) is cst.Name and default.value in graph.params:
                    fills.add((flag.name, default.value))
        if not by_name or not isinstance(graph.scope, cst.FunctionDef):
            return (), ()
        if flags:
            found.extend(_filled_omissions(graph.scope, by_name))
        if not found:
            return (), tuple(sorted(fills))
        held = _held_reads(graph.scope)  # (a walk of the function's tree: only when a read was found)
        reads = {(name, self.locator.span(node).line, _code(node), fallback) for node, name, fallback in found if id(node) not in held}
        return tuple(sorted(reads)), tuple(sorted(fills))

    def _state_of(
        self, graph: cfglib.CFG, name: str, kind: str, class_name: str | None, own: set[str], app_factory: bool
    ) -> statelib.ScopeState | None:
        """What the scope sees of the state that outlives the request; hands its nested scopes the
        containers of an app factory (a function that defines route handlers: its locals live as
        long as the application), less the names each binds itself."""
        factory = self._factory_state.pop(id(graph.scope), frozenset())
        if kind != "class":
            factory -= own
        if self.state is None:
            return None
        if kind == "class" and name not in self.state.classes:  # a class defined in a function or class
            assert isinstance(graph.scope, cst.ClassDef)
            self.state.add_class(name, graph.scope)
        passed = factory
        if app_factory:
            passed = factory | statelib.bound_in(graph, self.state)
        for child in graph.nested:
            self._factory_state[id(child)] = passed
        return self.state.scope(graph, class_name, self.fixed, factory)

    def sites(
        self, graph: cfglib.CFG, flags: list[Flag], entry_flags: set[str], objects: frozenset[str] = frozenset(),
        gates: tuple[str, ...] = (),
    ) -> tuple[Site, ...]:
        """Every call or write that may matter, judged for each flag under both entry assumptions
        (what the guard forms say is known at entry: ``guards.entry``).

        ``entry_flags``: the flags whose value callers can guarantee (parameters, and the flags a
        nested function reads from its enclosing function). ``objects``: the locations named like a
        flag that hold an object (``flags.sight``). ``gates``: the parameters of a function without
        a flag that may switch its writes on (``gate_parameters``): each site says which of them
        are true wherever it runs (``Site.gates``).
        """
        context = _context(graph, flags, self.fixed, objects, self.truths, self._aliases)
        # In a function with a flag, writes to state that outlives it are sites too, sink or not:
        # the project learns from the gated ones (``Project.learned_sinks``).
        own = frozenset({*graph.params, *_bound_names(graph)} - {"self", "cls"}) if flags else None
        dicts = handoffs.Dicts(graph)
        self._transient = transient_writes(graph.scope)
        once = handoffs.bound_once(graph)
        self._loops = _loop_names(graph, once)
        self._chosen = handoffs.chosen_names(once)
        self._made_locals = {name: value for name, value in once.items() if isinstance(value, (cst.Call, cst.Await))}  # ``job = MemoryJob(...)``
        self._lazy = lazy_writes(graph.scope)
        shapes = [[self._site_shapes(event, context, own, dicts) for event in block.events] for block in graph.blocks]
        if not any(shape for row in shapes for shape in row):
            return ()
        self.witnesses.clear()
        groups = [*_install(graph, context, self._given, self.locator), *_install_closed(graph, context, self._closed_truths)]
        gate_flags = [Flag(name) for name in gates]
        context.relevant = relevant_paths(graph, [*flags, *gate_flags, *retention.conditions(self.config, flags)], context, groups)
        tested = _tested_fields(graph, context, flags)
        if tested and not flags:
            context.buffers = _buffers(graph)  # (a plan's field may gate them too)
        if tested:  # and what goes with them, farther than anything of a flag's: the first facts the bound drops
            far = max(2, *context.relevant.values()) + 1 if context.relevant else 2
            near = relevant_paths(graph, [Flag(path) for path in tested], context, groups)
            context.relevant = {**{path: far + distance for path, distance in near.items()}, **context.relevant}
        entry_facts = guards.entry(guards.EntryScope(graph, flags, frozenset(entry_flags), self._given.entry))
        if flags or gate_flags or tested:
            empty_states = solve(graph, entry_facts.known, context)
            permitted_states = {name: solve(graph, facts, context) for name, facts in entry_facts.if_permitted.items()}
        else:  # nothing to judge: only which blocks are reached matters (most scopes)
            empty_states = dict.fromkeys(reached_blocks(graph, context), frozenset())
            permitted_states = {}
        found: dict[tuple[int, str], _SiteFacts] = {}
        for block, row in zip(graph.blocks, shapes):
            entry = empty_states.get(block.index)
            if entry is None:
                continue  # unreachable
            states = {flag.name: [entry, permitted_states.get(flag.name, empty_states).get(block.index)] for flag in flags}
            if gates or tested:  # only the facts with nothing known at entry
                states[""] = [entry, None]
            for event, event_shapes in zip(block.events, row):
                for shape in event_shapes:
                    record = found.get((id(shape[0]), shape[1]))
                    if record is None:
                        record = found[(id(shape[0]), shape[1])] = _SiteFacts(*shape)
                        record.permits = [{} for _ in record.args]
                        record.implies = [{} for _ in record.args]
                    self._judge(record, graph, block, flags, states, empty_states, permitted_states, context)
                    here = states[""][0] if gates or tested else None
                    for name in gates:  # true wherever the site runs
                        record.gates[name] = record.gates.get(name, True) and here is not None and F.entails(here, context.path(name), TRUE)
                    for path in tested:
                        record.tested[path] = record.tested.get(path, True) and here is not None and F.entails(here, path, TRUE)
                for pair in states.values():
                    for which, facts in enumerate(pair):
                        if facts is not None:  # the first (no assumption) is: the block is reachable
                            pair[which] = transfer(facts, event, context)
        bound = _bound_calls(graph)
        branches = self._flag_branches(graph, context, flags) if flags else []
        return tuple(self._site(record, context, bound.get(id(record.node)), branches) for record in found.values())

    def _flag_branches(self, graph: cfglib.CFG, context: _Context, flags: Sequence[Flag]) -> list[tuple[int, int]]:
        """The line ranges of the ``if`` statements whose test reads a flag or a local assigned
        or tested together with one (``should_store = store and ...``); not another field of the
        request that a rule ties to it (``if req.background:`` where background requires store:
        what runs there is done for background requests, not because the client asked to keep)."""
        near = context.relevant or {}
        out = set()
        for block in graph.blocks:
            for edge in block.edges:
                if isinstance(edge.owner, cst.If) and edge.test is not None:
                    paths = F.formula_paths(context.formula(edge.test))
                    if any(near.get(p, 2) <= 1 and (p.isidentifier() or any(flaglib.is_location(p, flag) for flag in flags)) for p in paths):
                        span = self.locator.span(edge.owner)
                        out.add((span.line, span.end_line))
        return sorted(out)

    def _site_shapes(self, event: cfglib.Event, context: _Context, own: frozenset[str] | None, dicts: handoffs.Dicts) -> list[tuple]:
        """The sites of one event: its own (``_site_shape``), and for a hand-off the call of the
        function it hands off (``handoffs.handed``), judged where the hand-off is. A ``**kw``
        of a dict the scope builds passes the keys it holds (``handoffs.Dicts``)."""
        shape = self._site_shape(event, context, own)
        shapes = [] if shape is None else [shape]
        if not isinstance(event, cfglib.CallEvent):
            return shapes
        found = handoffs.handed(event.node, self.imports)
        if found is not None:
            function, args = found
            later = cfglib.CallEvent(cst.Call(func=function, args=args))
            handed = self._site_shape(later, context, own)
            if handed is not None:
                shapes.append((event.node, *handed[1:], True))
        out = []
        for node, text, kind, sink, sink_kind, args, pending, *handed_off in shapes:
            args = dicts.expand(args, event.node)
            packed = dicts.packed(args, event.node)
            extra = [arg for _, held in packed for arg in held]
            out.append((node, text, kind, sink, sink_kind, args + extra, pending, bool(handed_off), [(k, len(h)) for k, h in packed]))
        return out

    def _site_shape(self, event: cfglib.Event, context: _Context, own: frozenset[str] | None = None) -> tuple | None:
        """``(node, text, kind, sink pattern, sink kind, args, pending)`` for a call or write that
        may matter; ``pending``: a sink that another module's constant decides (``_SiteFacts``).

        A callee that is a local alias (``save = self.store.save``) is read as what it denotes.
        With ``own`` (the locals of a function that has a flag), a write into a container that is
        not one of them (``self._turns[k] = v``, ``_TURNS.append(v)``) is a site without a sink.
        A write that the function undoes on every way out (``transient``) is none, and so is
        what it runs only to fill a long-lived name still empty (``lazy``)."""
        if isinstance(event, cfglib.CallEvent):
            call = event.node
            if id(call) in self._transient or id(call) in self._lazy:
                return None
            written = callee_path(call.func)
            matched = self.matcher.match(
                event, MatchContext(self.imports, context.alias(written) if written else None, self._scope_state, self._receivers, self._strings, self._params)
            )
            if matched is not None and matched.constant is not None:
                return call, matched.text, "call", None, None, list(call.args), (matched.sink.pattern, matched.kind, matched.constant)
            if matched is not None:
                return call, matched.text, "call", matched.sink.pattern, matched.kind, list(call.args), None
            text = _callee_name(call.func) or self._item_callee(call)
            text = context.alias(text) if text is not None else None
            if text in self._loops:  # ``for cb in self.success_callbacks: cb(r)``: each element called
                text = self._loops[text][0] + EACH
            elif text in self._chosen:  # ``handler = self._handlers.get(job.kind)``, then ``handler(job)``
                text = self._chosen[text][0] + EACH
            elif text is None and (table := handoffs.chosen(call.func)) is not None:  # ``self._handlers[type(job)](job)``
                text = table[0] + EACH
            if text is not None and (self._may_resolve(text) or _outlives(text, own, method=True)):
                return call, text, "call", None, None, list(call.args), None
            return None  # cannot name a function of the analyzed files
        if isinstance(event, cfglib.BindEvent) and (id(event.target) in self._transient or id(event.target) in self._lazy):
            return None
        matched = self.matcher.match(event, MatchContext(self.imports, state=self._scope_state, receivers=self._receivers, strings=self._strings))
        if matched is not None:
            return event.target, matched.text, "write", matched.sink.pattern, matched.kind, [], None
        if isinstance(event, cfglib.BindEvent) and event.kind in ContainerSinks.WRITES and isinstance(event.target, cst.Subscript):
            container = callee_path(event.target.value)
            if container is not None and _outlives(container, own, method=False):
                return event.target, container + "[...]", "write", None, None, [], None
        return None

    def _item_callee(self, call: cst.Call) -> str | None:
        """``current_app.extensions["storage"].save`` for a method of an item under a string of
        an imported name's attribute (a Flask application's extensions), or of an object's
        attribute when the method may be a library's sink (``self._mongo.db["usage"].insert_one``:
        the project types ``db``), as ``access_path`` writes it; or of an item under a constant
        (``request.app[CHAT_COMPLETIONS].insert``: aiohttp's typed application keys) or a string
        (``request.app["responses"].create``); else None."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        if isinstance(func.value, cst.Subscript) and (keyed := _keyed_item(func.value)) is not None:
            return f"{keyed}.{func.attr.value}"
        held = access_path(func.value)
        if held is None or "[" not in held:
            return None
        if typefacts.application_key(held) is not None:  # ``request.app["responses"].create``: aiohttp's
            return f"{held}.{func.attr.value}"
        root = root_name(held)
        if root not in self.imports and not (root in ("self", "cls") and self._untyped_sinks(call)):
            return None
        return f"{held}.{func.attr.value}"

    def _may_resolve(self, text: str) -> bool:
        """Whether a callee could name a function of the analyzed files (see ``project``):
        ``name()``, ``self.m()``, ``cls.m()``, ``module.f()``, ``Class.m()``, ``make().m()``,
        a method of a name whose type the module says (``store.save()``, ``app.state.svc.run()``)
        or of a parameter (``turns.remember()``: what the callers pass)."""
        root = text.partition(".")[0].partition("(")[0]
        if "." not in text:
            return text not in _BUILTINS or text in self.imports
        if root in ("self", "cls") or root in self.imports or root[:1].isupper() or "()." in text or root in self.typed:
            return True
        if root in self.params:  # what the callers pass: not a string's or a container's read
            return text.rpartition(".")[2] not in typefacts.PLAIN_METHODS
        return typefacts.state_attribute(text.split(".")) is not None

    def _judge(self, record, graph, block, flags, states, empty_states, permitted_states, context) -> None:
        """Fold what one reachable copy of a site shows into its record (every copy must be gated)."""
        for flag in flags:
            pair = states[flag.name]
            verdicts = record.gated.setdefault(flag.name, [True, True])
            traces = record.traces.setdefault(flag.name, [(), ()])
            retained = retention.allowing(self.config, flag, record, self.imports)  # writes that expire
            if pair[0] is not None:
                record.forbidden[flag.name] = record.forbidden.get(flag.name, True) and forbids(pair[0], flag)
            for which, facts in enumerate(pair):
                if facts is None:
                    continue  # unreachable under this assumption: nothing to judge
                if verdicts[which] and not permits(facts, flag) and not any(permits(facts, c) for c in retained):
                    block_states = empty_states if which == 0 else permitted_states.get(flag.name, empty_states)
                    trace = self.witnesses.find(graph, block_states, block, record.node, flag, context, retained)
                    if trace is not None:  # else every path that reaches it permits: gated after all
                        verdicts[which] = False
                        traces[which] = trace
        for arg, slot, implied in zip(record.args, record.permits, record.implies):
            value = arg.value
            negated = value.expression if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Not) else None  # ``ephemeral=not store``
            for flag in flags:
                pair = states[flag.name]
                current = slot.setdefault(flag.name, [True, True])
                for which, facts in enumerate(pair):
                    if facts is not None and current[which] and not argument_permits(facts, value, flag, context):
                        current[which] = False
                if pair[0] is not None and implied.get(flag.name, True) and not arg.star:
                    implied[flag.name] = truth_implies(pair[0], value, flag, context)
                if negated is not None and pair[0] is not None and implied.get(NEGATED + flag.name, True) and not arg.star:
                    implied[NEGATED + flag.name] = truth_implies(pair[0], negated, flag, context)

    def _site(self, record: _SiteFacts, context: _Context, bound: str | None, branches: list[tuple[int, int]]) -> Site:
        verdicts = tuple(
            Verdict(
                flag=name,
                gated=gated[0],
                gated_if_permitted=gated[1],
                trace=record.traces[name][0],
                trace_if_permitted=record.traces[name][1],
                forbidden=record.forbidden.get(name, False),
            )
            for name, gated in record.gated.items()
        )
        args = tuple(
            Argument(
                keyword=arg.keyword.value if arg.keyword is not None else None,
                star=arg.star if isinstance(arg.star, str) else "",
                permits=tuple([(name, values[0], values[1]) for name, values in slot.items()]) if slot else (),
                path=context.path(access_path(arg.value)) or partial_function(arg.value),  # (``partial(f, x)``: ``f``, for a callback)
                implies=tuple(name for name, holds in implied.items() if holds),
                literal=constant_written(arg.value),
                statement=self.matcher.statement(arg.value, self._strings) if not arg.star else None,
                made=handoffs.made(arg.value, self._made_locals, lambda value: self._parameter_path(value, context)) if not arg.star else (),
                each=self._loops[arg.value.value][0] if type(arg.value) is cst.Name and arg.value.value in self._loops and not arg.star else None,
            )
            for arg, slot, implied in zip(record.args, record.permits, record.implies)
        )
        packed = []
        for keyword, count in reversed(record.packed):
            args, held = args[: len(args) - count], args[len(args) - count :]
            packed.append((keyword, held))
        qualified = None
        if record.kind == "call":
            maker, made, method = record.text.partition("().")
            if "(" not in maker:
                qualified = qualify(maker, self.imports)
                if qualified is not None and made:
                    qualified = f"{qualified}().{method}"
        span = self.locator.span(record.node)
        return Site(
            span=span,
            text=record.text,
            kind=record.kind,
            sink=record.sink,
            sink_kind=record.sink_kind,
            pending=record.pending,
            untyped=self._untyped(record),
            qualified=qualified,
            args=args,
            verdicts=verdicts,
            bound=None if record.handed else bound,
            packed=tuple(reversed(packed)),
            in_flag_branch=any(first <= span.line <= last for first, last in branches),
            gates=tuple(sorted(name for name, true in record.gates.items() if true)),
            tested=tuple(sorted(path for path, true in record.tested.items() if true)),
            discarded=record.handed or (record.kind == "call" and id(record.node) in self.statement_calls),
            handed=record.handed,
            chosen=self._chosen_key(record),
        )

    def _parameter_path(self, value: cst.BaseExpression, context: _Context) -> str | None:
        """The location an expression reads when it is one of a parameter's (``kind.value``, or a
        local copying it), else None: what a job made here may be told by the callers."""
        path = context.path(access_path(value))
        return path if path is not None and root_name(path) in self._params else None

    def _chosen_key(self, record: _SiteFacts) -> str | None:
        """What the key of a call of a table's element reads of the item (``Site.chosen``)."""
        if record.kind != "call" or not record.text.endswith(EACH) or not isinstance(record.node, cst.Call):
            return None
        func = record.node.func
        if isinstance(func, cst.Name) and func.value in self._loops:
            return self._loops[func.value][1]
        table = self._chosen.get(func.value) if isinstance(func, cst.Name) else handoffs.chosen(func)
        return table[1] if table is not None else None

    def _untyped(self, record: _SiteFacts) -> tuple[tuple[str, str], ...]:
        """The library sinks a plain call is if the project finds its receiver holds their type
        (``Site.untyped``)."""
        if record.kind != "call" or record.sink is not None or record.pending is not None or record.handed or not isinstance(record.node, cst.Call):
            return ()
        return self._untyped_sinks(record.node)

    def _untyped_sinks(self, call: cst.Call) -> tuple[tuple[str, str], ...]:
        """The library sinks a call of this scope may be, once the project types its receiver."""
        return self.matcher.untyped(call, MatchContext(self.imports, state=self._scope_state, receivers=self._receivers, strings=self._strings))

    @property
    def statement_calls(self) -> frozenset[int]:
        """The calls (by node id) that are statements of their own, awaited or not: their value is
        thrown away, as a write's is (``self._save(r)``; not ``x = self._make(r)``,
        ``return self._error(...)``, ``int(time.time())``). Read from the statements only, once."""
        if self._statement_calls is None:
            found = set()
            for stmt in self.small_statements:
                if isinstance(stmt, cst.Expr):
                    value = stmt.value.expression if isinstance(stmt.value, cst.Await) else stmt.value
                    if isinstance(value, cst.Call):
                        found.add(id(value))
            self._statement_calls = frozenset(found)
        return self._statement_calls

    # -- contracts ------------------------------------------------------------------------

    def _with_contract(self, summary: FunctionSummary, graph: cfglib.CFG) -> FunctionSummary:
        """The summary with what the function guarantees its callers (``contracts.py``): solved
        once more, keeping every fact on its parameters, for the few functions that can
        guarantee something (a validator; a raise, returns of None and of objects, or what
        others guarantee inside it)."""
        scope = graph.scope
        if not isinstance(scope, cst.FunctionDef):
            return summary
        fields: dict = {"depends": tuple(name for d in scope.decorators for name in _dependencies(d))}
        plain = replace(summary, **fields) if fields["depends"] else summary  # (``replace`` is slow, and mostly idle)
        shape = contractlib.validator(scope) if summary.class_name is not None else None
        # a model's method that checks the instance (``def validate(self)``, raising unless
        # ``not self.background or self.store``): its rules are the model's, as a validator's
        checks_itself = shape is None and summary.kind == "method" and graph.params == ("self",) and contractlib.raises(graph)
        if checks_itself:
            shape = contractlib.Validator("self", (), None)
        elif shape is None and summary.class_name is not None and isinstance(scope, cst.FunctionDef):
            shape = contractlib.factory(scope, summary.class_name.rpartition(".")[2], graph)  # ``from_payload``'s checks
            checks_itself = shape is not None
        own = [p for p in graph.params if p not in ("self", "cls") and p not in _bound_names(graph)]
        found = contractlib.exits(graph)
        mixed = bool(found.none and found.objects and not found.other)
        returning = [*found.objects, *found.other]  # the exits that return a value
        predicate = bool(summary.flags) and _boolean_returns(scope, returning)  # ``if should_store(req):``
        seen = list(self.config.flags)
        if predicate and summary.class_name is not None and any(self._own_predicate(graph, summary.class_name, summary.kind, f) for f in seen):
            own.insert(0, "self")  # a model's predicate of its own field: ``if body.wants_persistence():``
            seen = [replace(f, self_attribute=True) for f in seen]
        made = _returned_locals(found)  # ``return req`` at every exit: a factory may check what it returns
        if shape is None and not ((own or made) and (mixed or predicate or self._given or contractlib.raises(graph))):
            return plain
        if contractlib.is_generator(graph):
            return plain
        context = _context(graph, seen, self.fixed, truths=self.truths, aliases=self._aliases)
        groups = [*_install(graph, context, self._given, self.locator), *_install_closed(graph, context, self._closed_truths)]
        if predicate:  # what its returns test is tested: ``return request.store is not False``
            groups.extend(F.formula_paths(context.formula(edge.owner.value)) for _, edge in returning)
        if shape is None:
            context.relevant = relevant_paths(graph, seen, context, groups)
            if not any(root_name(path) in own or root_name(path) in made for path in context.relevant):
                return plain
        states = solve(graph, frozenset(self._given.entry), context)
        at_exit = states.get(graph.exit.index)
        if at_exit is None:
            return plain  # never returns: nothing to promise after it
        if shape is not None:
            invariants = contractlib.model_invariants(at_exit, shape, self.config.flags)
            if checks_itself:  # only rules of two fields or more (``Project._checks``)
                invariants = tuple(clause for clause in invariants if len(clause) > 1)
            return replace(summary, invariants=invariants, **fields)
        if_none = None
        for block, edge in found.none if mixed else ():
            facts = states.get(block.index)
            if facts is not None:
                out, raised = block_exit(block, facts, context)
                if_none = F.meet(if_none, along(edge, raised, out, context))
        returned: F.Facts | None = None
        for block, edge in found.objects if made else ():
            facts = states.get(block.index)
            if facts is not None:
                out, raised = block_exit(block, facts, context)
                returned = F.meet(returned, contractlib.returned_clauses(along(edge, raised, out, context) or (), edge.owner.value.value))
        if_true, fills, settings = _if_true(returning, states, context, seen, own) if predicate else (F.EMPTY, (), [])
        kept = {(flag, fallback) for flag, _, _, fallback in summary.keeping_reads}
        filled = tuple((flag, self.locator.span(node).line, _code(node), fallback) for flag, node, fallback in settings if (flag, fallback) not in kept)
        return replace(
            summary,
            keeping_reads=tuple(sorted({*summary.keeping_reads, *filled})),
            guarantees=contractlib.parameter_clauses(at_exit, own) + tuple(sorted(returned or ())),
            if_none=contractlib.parameter_clauses(if_none or (), own),
            if_true=contractlib.parameter_clauses(if_true, own),
            fills=tuple(sorted({*fills, *summary.fills})),
            **fields,
        )


def _true_fields(graph: cfglib.CFG) -> tuple[str, ...]:
    """The fields of ``self`` that every value a method returns is the conjunction of, among other
    things (``return self.keep_record``, ``return self.persist and self.conversation_id is not
    None``, ``bool(self.keep)``): where its call is true, they are (``FunctionSummary.true_fields``)."""
    found = contractlib.exits(graph)
    common: set[str] | None = None
    for _, edge in [*found.objects, *found.other]:
        value = edge.owner.value
        if isinstance(value, cst.Call) and dotted_name(value.func) == "bool" and len(value.args) == 1:
            value = value.args[0].value
        fields = {c.attr.value for c in _conjuncts(value) if isinstance(c, cst.Attribute) and isinstance(c.value, cst.Name) and c.value.value == "self"}
        common = fields if common is None else common & fields
        if not common:
            return ()
    return tuple(sorted(common or ()))


def _returned_locals(found: contractlib.Exits) -> frozenset[str]:
    """The locals a function returns when every exit returns one (``return req``), else none."""
    if found.none or found.other or not found.objects:
        return frozenset()
    values = [edge.owner.value for _, edge in found.objects]
    return frozenset(v.value for v in values) if all(isinstance(v, cst.Name) for v in values) else frozenset()


def _boolean_returns(scope: cst.FunctionDef, returns: list) -> bool:
    """Whether a function is a predicate: it returns values, each a test (a comparison, ``and``,
    ``or``, ``not``, ``bool(...)``, ``True``/``False``), or it is annotated ``-> bool``."""
    if not returns:
        return False
    if scope.returns is not None and dotted_name(scope.returns.annotation) in ("bool", "builtins.bool"):
        return True
    return all(_is_test(edge.owner.value) for _, edge in returns)


def _builds_plan(found: contractlib.Exits) -> bool:
    """Whether every exit of a method returns an object it builds of a class (``return
    ExecutionPlan(persist=self.store, ...)``): a request model's plan, made of its own fields."""
    returned = [edge.owner.value for _, edge in found.objects]
    return bool(returned) and not found.other and not found.none and all(
        type(value) is cst.Call and (dotted_name(value.func) or "").rpartition(".")[2][:1].isupper() for value in returned
    )


def _is_test(value: cst.BaseExpression) -> bool:
    if isinstance(value, (cst.Comparison, cst.BooleanOperation)):
        return True
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Not):
        return True
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return True
    return isinstance(value, cst.Call) and dotted_name(value.func) == "bool"


def _if_true(
    returning: list, states: dict, context: _Context, flags: Sequence[Flag], params: Sequence[str]
) -> tuple[F.Facts, tuple[tuple[str, str], ...], list[tuple[str, cst.BaseExpression, str]]]:
    """What holds where a function returns a truthy value (a predicate: ``return request.store
    is not False and ...``): at each return of a value (``returning``), what is known there and
    of the value's truth; a return of None or of a false constant is never truthy, and adds nothing.
    Nor does a return of a setting where the flag was omitted (``if req.store is None: return
    self.settings.default_store``): the server's setting decides what an omitted flag means,
    and SG006 reports the one whose default keeps: each ``(flag, value, setting)`` is returned
    (a keeping read: ``FunctionSummary.keeping_reads``); nor a return of a parameter there
    (``return default``): its callers decide, and each ``(flag, parameter)`` is returned
    (``FunctionSummary.fills``)."""
    known: F.Facts | None = None
    fills: set[tuple[str, str]] = set()
    settings: list[tuple[str, cst.BaseExpression, str]] = []
    for block, edge in returning:
        facts = states.get(block.index)
        if facts is None:
            continue
        out, raised = block_exit(block, facts, context)
        there = along(edge, raised, out, context)
        setting = _setting_for_omitted(there, edge.owner.value, flags) if there is not None else None
        if setting is not None:
            settings.append((setting[0], edge.owner.value, setting[1]))
            continue
        filled = _parameter_for_omitted(there, edge.owner.value, flags, params) if there is not None else None
        if filled is not None:
            fills.add(filled)
            continue
        truthy = F.assume(there, context.formula(edge.owner.value), context.relevant) if there is not None else None
        if truthy is not None:
            known = F.meet(known, truthy)
    return known or F.EMPTY, tuple(sorted(fills)), settings


def _parameter_for_omitted(facts: F.Facts, value: cst.BaseExpression | None, flags: Sequence[Flag], params: Sequence[str]) -> tuple[str, str] | None:
    """``(flag, parameter)`` when a return gives a parameter (not one named like the flag) where
    the facts say the flag was omitted (``if req.store is None: return default``); or the entry a
    parameter keys of a module's table (``return _STORE_DEFAULTS[api]``): ``(flag,
    "_STORE_DEFAULTS[api]")``, each call's key chooses (``Project._filled_by_caller``)."""
    entry = _keyed_entry(value)
    parameter = value.value if isinstance(value, cst.Name) else entry[1] if entry is not None else None
    if parameter is None or parameter not in params:
        return None
    filled = f"{entry[0]}[{parameter}]" if entry is not None else parameter
    for flag in flags:
        if not flaglib.is_location(filled, flag) and _some_location_holds(facts, flag, NONE):
            return flag.name, filled
    return None


def _keyed_entry(value: cst.BaseExpression | None) -> tuple[str, str] | None:
    """``(table, name)`` of an entry of a module's table (an upper-case name) under a name:
    ``_STORE_DEFAULTS[api]``."""
    if not isinstance(value, cst.Subscript) or not isinstance(value.value, cst.Name) or len(value.slice) != 1:
        return None
    index = value.slice[0].slice
    key = index.value if isinstance(index, cst.Index) else None
    table = value.value.value
    return (table, key.value) if isinstance(key, cst.Name) and table.strip("_").isupper() else None


def _setting_for_omitted(facts: F.Facts, value: cst.BaseExpression | None, flags: Sequence[Flag]) -> tuple[str, str] | None:
    """``(flag, setting)`` when a return gives a setting (``_fallback``'s path) where the facts
    say the flag was omitted."""
    for flag in flags if value is not None else ():
        fallback = _fallback(value, flag) if value is not None else None
        if fallback and _some_location_holds(facts, flag, NONE):
            return flag.name, fallback
    return None


def permits(facts: F.Facts, flag: Flag) -> bool:
    """Whether the facts imply that some location of ``flag`` allows writing."""
    return _some_location_holds(facts, flag, flag.permitted)


def forbids(facts: F.Facts, flag: Flag) -> bool:
    """Whether the facts imply that some location of ``flag`` forbids writing (``if store is
    False:``, ``if not store:``)."""
    return _some_location_holds(facts, flag, ANY & ~flag.permitted)


def _some_location_holds(facts: F.Facts, flag: Flag, mask: int) -> bool:
    """Whether the facts imply that some location of ``flag`` holds a value in ``mask``."""
    return any(F.entails(facts, p, mask) for p in F.paths_in(facts) if flaglib.is_location(p, flag))


def argument_permits(facts: F.Facts, expr: cst.BaseExpression, flag: Flag, context: _Context) -> bool:
    """Whether an argument expression is known to hold a value under which ``flag`` permits."""
    if isinstance(expr, cst.Name) and expr.value in CONSTANTS:
        return CONSTANTS[expr.value] & ~flag.permitted == 0
    path = context.path(access_path(expr))
    if path is not None:
        return F.entails(facts, path, flag.permitted)
    formula = context.formula(expr)
    if formula[0] == "lit" and formula[1].startswith("?"):
        return False
    # A boolean expression: permitted if its truth is implied (for an inverted flag, its falsity).
    wanted = F.negate(formula) if flag.inverted else formula
    return F.assume(facts, F.negate(wanted)) is None


def truth_implies(facts: F.Facts, expr: cst.BaseExpression, flag: Flag, context: _Context) -> bool:
    """Whether an argument is true only where ``flag`` permits storing (``enabled=should_store``):
    a callee that writes only when its parameter is true (``Site.gates``) then writes only when
    the client allows it. A false constant never switches it on."""
    if isinstance(expr, cst.Name) and expr.value in CONSTANTS:
        return CONSTANTS[expr.value] & TRUE == 0
    if isinstance(expr, _LITERALS) or not isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript, *_RELATABLE)):
        return False
    formula = context.formula(expr)
    if formula[0] == "lit" and flaglib.is_location(formula[1], flag):
        return not flag.inverted  # the flag itself (``remember=args.store``): true, it permits
    if not context.relevant or formula[0] == "lit" and (formula[1].startswith("?") or formula[1] not in context.relevant):
        return False  # unrelated to any flag location
    assumed = F.assume(facts, formula, context.relevant)
    return assumed is None or permits(assumed, flag)


_FORGED = REBOUND  # a flag location rebound by the scope is read as this other location
_OBJECT = ".<object>"  # the suffix of a location named like a flag that holds an object
_RELATABLE = (cst.BooleanOperation, cst.UnaryOperation, cst.Comparison, cst.IfExp, cst.Call, cst.NamedExpr)
_LITERALS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Integer, cst.Float, cst.Imaginary)


@dataclass(eq=False)
class _Context:
    """How the solver reads the locations of one scope.

    ``aliases``: a local assigned once, from a location that the scope never rebinds
    (``s = store``, ``save = self.responses_store.store_x``), holds the same value wherever it
    is read, so it is read as that location: chains of copies cost no clause and lose nothing.
    ``forged``: flag locations that the scope rebinds to a value that may permit where the
    client's did not (``store = store or "yes"``, ``store = True``): they no longer carry the
    client's choice, so they are read as another location, whose tests gate nothing.
    ``objects``: locations named like a flag that hold a storage object (``flags.sight``): they
    and what is reached through them are read as other locations, which are no flag's.
    ``relevant``: the locations whose facts are kept, by distance from the flag (``relevant_paths``).
    ``given``: what others guarantee after a call or an assignment; ``errors``: the locals bound
    from error-returning helpers, whose ``isinstance`` test reads as their truth (``_install``).
    """

    aliases: dict[str, str]
    forged: frozenset[str] = frozenset()
    objects: frozenset[str] = frozenset()
    relevant: F.Relevance | None = None
    order: dict[int, int] | None = None  # the blocks' reverse postorder, once computed
    # What others guarantee after a call or an assignment (by the call's or the target's node),
    # and the locals bound from error-returning helpers (``_install``).
    given: dict[int, F.Formula] = field(default_factory=dict)
    errors: frozenset[str] = frozenset()
    # What a predicate's call tells where its value is true, by the call's node (``_install``),
    # or a reading helper's (``_inline_reads``), with the flag locations those read.
    tests: dict[int, F.Formula] = field(default_factory=dict)
    inline: frozenset[str] = frozenset()
    # The locals bound to an empty container that only the scope fills (``_buffers``): empty
    # (false) until something is put in them (``pending.append(e)``: true).
    buffers: frozenset[str] = frozenset()
    _formulas: dict[int, tuple[cst.CSTNode, F.Formula | None]] = field(default_factory=dict)  # None: ``_passed_over``
    # ``guards.truth`` of each node, as read before renaming: shared by the contexts of a file
    # (``Summarizer.truths``), since an opaque test's text costs a code generation
    truths: dict[int, tuple[cst.CSTNode, F.Formula]] = field(default_factory=dict)
    _values: dict[int, tuple[cst.CSTNode, tuple | None]] = field(default_factory=dict)

    def alias(self, path: str) -> str:
        if not self.aliases:
            return path
        root = root_name(path)
        target = self.aliases.get(root)
        return path if target is None else target + path[len(root) :]

    @overload
    def path(self, path: str) -> str: ...
    @overload
    def path(self, path: None) -> None: ...
    @overload
    def path(self, path: str | None) -> str | None: ...

    def path(self, path: str | None) -> str | None:
        if path is None or not (self.aliases or self.forged or self.objects or self.errors):
            return path
        if self.errors and path.startswith("?"):
            return contractlib.instance_test(path, self.errors) or path
        path = self.alias(path)
        for held in self.objects:
            if is_under(path, held):
                return held + _OBJECT + path[len(held) :]
        return path + _FORGED if path in self.forged else path

    def formula(self, node: cst.BaseExpression) -> F.Formula:
        """``guards.truth(node)`` with locations read as above, memoised by node (the tree outlives it)."""
        cached = self._formulas.get(id(node))
        if cached is not None and cached[1] is not None:
            return cached[1]
        formula = self._truth(node) if not self.tests else self._tested(node)
        # (an opaque atom that ``value`` passed over: renamed, it is itself, and was charged)
        if cached is None and (self.aliases or self.forged or self.objects or self.errors):
            formula = F.rename(formula, self.path)
        self._formulas[id(node)] = (node, formula)
        return formula

    def _tested(self, node: cst.BaseExpression) -> F.Formula:
        """``guards.truth(node)``, where the truth of a predicate's call (``tests``) also tells
        what holds when it is true: ``("and", call, what it tells)``, under ``not``, ``and``,
        ``or`` and ``await``."""
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return ("not", self._tested(node.expression))
        if isinstance(node, cst.BooleanOperation):
            return ("and" if isinstance(node.operator, cst.And) else "or", self._tested(node.left), self._tested(node.right))
        call = node.expression if isinstance(node, cst.Await) else node
        told = self.tests.get(id(call))
        return self._truth(node) if told is None else ("and", self._truth(node), told)

    def _truth(self, node: cst.BaseExpression) -> F.Formula:
        """``guards.truth(node)``, read once per node for the file (``truths``)."""
        read = self.truths.get(id(node))
        if read is None:
            read = self.truths[id(node)] = (node, guards.truth(node))
        return read[1]

    def value(self, node: cst.BaseExpression | None) -> tuple | None:
        """What ``facts.bind`` knows of an assigned value: a constant, a copied location, a truth, or nothing."""
        if node is None:
            return None
        cached = self._values.get(id(node))
        if cached is None:
            source = access_path(node)
            value: tuple | None = None
            if isinstance(node, cst.Name) and node.value in CONSTANTS:  # `True` is no location
                value = ("values", CONSTANTS[node.value])
            elif source is not None:
                value = ("path", self.path(source))
            elif isinstance(node, _RELATABLE) or (isinstance(node, cst.Await) and id(node.expression) in self.tests):
                if not self.errors and F.opaque(node) and not self._tells(node):  # nothing to relate (``errors`` may read it: ``path``)
                    self._passed_over(node)
                else:
                    formula = self.formula(node)
                    if not (formula[0] == "lit" and formula[1].startswith("?")):  # opaque: nothing to relate
                        value = ("formula", formula)
            cached = self._values[id(node)] = (node, value)
        return cached[1]

    def _tells(self, node: cst.BaseExpression) -> bool:
        """Whether ``node`` is a predicate's call (``ok = should_store(request)``): its truth tells."""
        return bool(self.tests) and id(node.expression if isinstance(node, cst.Await) else node) in self.tests

    def _passed_over(self, node: cst.BaseExpression) -> None:
        """``formula(node)`` for an opaque atom whose text no one asked for yet: the step its
        renaming charges (the work counted is the same however the atom is reached), and its
        text only generated if ``formula`` is asked (a renamed opaque atom is itself)."""
        if id(node) not in self._formulas:
            if self.aliases or self.forged or self.objects:
                F.WORK.charge(1)  # ``facts.rename``'s
            self._formulas[id(node)] = (node, None)


def _context(
    graph: cfglib.CFG, flags: list[Flag], fixed: frozenset[str], objects: frozenset[str] = frozenset(), truths: dict | None = None,
    aliases: dict[str, str] | None = None,
) -> _Context:
    """The scope's context; ``aliases``: its own and those it reads from enclosing functions
    (``Summarizer._closed_aliases``), else its own."""
    context = _Context(_aliases(graph, fixed) if aliases is None else aliases, objects=objects, truths={} if truths is None else truths)
    if flags:
        context.forged = _forged(graph, flags, context)
        inline = _inline_reads(graph, {flag.name: flag for flag in flags})
        context.tests.update(inline)
        context.inline = frozenset(formula[1] for formula in inline.values())
        context.buffers = _buffers(graph)
    return context


def _aliases(graph: cfglib.CFG, fixed: frozenset[str], helper_reads: Mapping[int, tuple[str, str]] | None = None) -> dict[str, str]:
    """Locals of a function assigned once from a location the function never rebinds; a
    reading helper asked for a flag by name reads its location (``persist = read_bool(body,
    "store", True)``: ``body["store"]``, ``_helper_reads``)."""
    if not isinstance(graph.scope, cst.FunctionDef):
        return {}  # a class body or module reads an unassigned name from the globals
    bindings: dict[str, set[int]] = {}
    sources: dict[str, str] = {}
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                name = event.target.value
                bindings.setdefault(name, set()).add(id(event.target))
                if event.kind in ("assign", "annassign") and event.value is not None:
                    source = access_path(event.value) or callee_path(event.value) or (helper_reads or {}).get(id(event.value), (None, None))[1]
                    if source is not None and source not in CONSTANTS:
                        sources[name] = source
    params = set(graph.params)
    resolved: dict[str, str | None] = {}
    for start in sources:
        chain: list[str] = []
        name = start
        while name not in resolved:
            eligible = name in sources and name not in params and name not in fixed and len(bindings[name]) == 1
            if not eligible or name in chain:
                resolved[name] = None
                break
            chain.append(name)
            root = root_name(sources[name])
            if root not in bindings and root not in fixed:
                resolved[name] = sources[name]
                break
            name = root
        for link in reversed(chain):
            if link not in resolved:
                source = sources[link]
                root = root_name(source)
                base = resolved.get(root)
                resolved[link] = None if base is None else base + source[len(root) :]
    return {name: target for name, target in resolved.items() if target is not None}


def _forged(graph: cfglib.CFG, flags: list[Flag], context: _Context) -> frozenset[str]:
    """Flag locations that the scope rebinds to a value that may permit where the old one did not."""
    forged = set()
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and event.value is not None:
                path = context.path(access_path(event.target))
                if path is not None and path not in forged:
                    if any(flaglib.is_location(path, flag) and _forges(event.value, path, flag, context) for flag in flags):
                        forged.add(path)
    return frozenset(forged)


def _forges(value: cst.BaseExpression, path: str, flag: Flag, context: _Context) -> bool:
    if isinstance(value, cst.Name) and value.value == "None":
        return False  # what a client that sent nothing sends: the route's default decides it, as for an omitted flag
    if isinstance(value, cst.Name) and value.value in CONSTANTS:
        return CONSTANTS[value.value] & flag.permitted != 0
    if isinstance(value, _LITERALS):
        return True
    if not isinstance(value, _RELATABLE):
        return False  # a copy, or a new decision (`store = policy.allows(r)`): tested, it gates
    formula = context.formula(value)
    paths = F.formula_paths(formula)
    wanted = F.negate(formula) if flag.inverted else formula
    # Can the new value permit while the old one did not, or the client's flag it is made from
    # with ``or``? (`store or "yes"`, `store = req.store or req.background`: yes; `store and x`:
    # no; `req.store if req.has_store else True` fills in an omitted flag: below)
    made_from = [path] if path in paths else []
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        made_from += [p for p in paths if p != path and flaglib.is_location(p, flag)]
    if any(F.assume(frozenset({((p, ANY & ~flag.permitted),)}), wanted) is not None for p in made_from):
        return True
    # Where an omitted flag keeps nothing (Chat Completions), can the new value permit when the
    # flag it is made from was omitted? (`store = request.store if request.store is not None
    # else True`: a default that keeps, which a Responses route's omitted flag means anyway)
    omitted = [p for p in paths if flaglib.is_location(p, flag)] if not flag.permitted & NONE else []
    return bool(omitted) and F.assume(frozenset(((p, NONE),) for p in omitted), wanted) is not None


# The keyword not after a word character or a dot; the look-behind after the keyword's first
# letter, so that the pattern starts with a letter the regex engine can scan for (three times faster).
_DECLARATION = re.compile(r"(?:g(?<![\w.]g)lobal|n(?<![\w.]n)onlocal)[ \t]+([^\W\d]\w*(?:[ \t]*,[ \t\\\r\n]*[^\W\d]\w*)*)")


def _declared_global(source: str) -> frozenset[str]:
    """Names that a ``global`` or ``nonlocal`` statement may name anywhere in the module (read
    from the text: words after those keywords in comments and strings only add names)."""
    return frozenset(name for found in _DECLARATION.finditer(source) for name in re.findall(r"\w+", found.group(1)))


def transfer(facts: F.Facts, event: cfglib.Event, context: _Context) -> F.Facts:
    """The facts after ``event``; after a call (or the assignment of its value), what the callee
    guarantees (``context.given``)."""
    after = _moved(facts, event, context)
    if context.given:
        formula = context.given.get(id(event.node if isinstance(event, cfglib.CallEvent) else event.target))
        if formula is not None:
            learned = F.assume(after, formula, context.relevant)
            return after if learned is None else learned  # None: the callee never returns here
    return after


def _moved(facts: F.Facts, event: cfglib.Event, context: _Context) -> F.Facts:
    if isinstance(event, cfglib.CallEvent):
        return _filled(facts, event.node, context) if context.buffers else facts
    if isinstance(event, cfglib.BindEvent):
        target = event.target
        path = access_path(target)
        if path is not None:
            if path in context.aliases:
                return facts  # a synonym, read as what it copies
            # a forged flag's truth tells nothing of the client's (``store = request.store or
            # parent.store``: the stored parent's flag is no permission of this request)
            value = None if path in context.forged else context.value(event.value)
            if path in context.buffers and _empty_display(event.value):
                value = ("values", FALSE)  # ``pending = []``: false until something is put in it
            return F.bind(facts, context.path(path), value, context.relevant)
        if isinstance(target, (cst.Subscript, cst.Attribute)):
            base = context.path(access_path(target.value))
            if base is not None:
                return F.kill(facts, base)
    return facts


# The methods that put something in a container (it is then true), and the one that empties it.
_PUTS = frozenset({"append", "appendleft", "add", "insert"})
_EMPTIED = frozenset({"clear"})
_EMPTY_MAKERS = frozenset({"list", "dict", "set", "deque", "collections.deque", "OrderedDict", "collections.OrderedDict"})


def _filled(facts: F.Facts, call: cst.Call, context: _Context) -> F.Facts:
    """The facts after a call that may change a buffer (``context.buffers``): ``pending.append(e)``
    makes it true, ``pending.clear()`` false; any other method of it, or a call it is passed to
    (``collect(pending)``), may do either."""
    for arg in call.args:
        if type(arg.value) is cst.Name and arg.value.value in context.buffers:
            facts = F.kill(facts, arg.value.value)
    called = _buffer_call(call, context)
    if called is not None:
        name, method = called
        if method in _PUTS or method in _EMPTIED:
            return F.bind(facts, name, ("values", TRUE if method in _PUTS else FALSE), context.relevant)
        if method not in handoffs.READING_METHODS:
            return F.kill(facts, name)
    return facts



def _buffer_call(value: cst.BaseExpression, context: _Context) -> tuple[str, str] | None:
    """(the buffer, the method) of a call of a buffer's method (``pending.append(e)``), if it is one."""
    func = value.func if type(value) is cst.Call else None
    if type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value in context.buffers:
        return func.value.value, func.attr.value
    return None


def _empty_display(value: cst.BaseExpression | None) -> bool:
    """``[]``, ``{}``, ``list()``, ``set()``, ``deque()``: an empty container made here."""
    if isinstance(value, (cst.List, cst.Dict)):
        return not value.elements
    return isinstance(value, cst.Call) and not value.args and dotted_name(value.func) in _EMPTY_MAKERS


def _buffers(graph: cfglib.CFG) -> frozenset[str]:
    """The locals a function binds to an empty container (``pending = []``), only ever by
    assignment, that nothing else is bound to (``buf = pending``, ``self.items = pending``,
    ``batch = [pending]``: filled through that, it is filled here unseen) and no nested function
    names (one could fill it): what ``_filled`` follows."""
    if not isinstance(graph.scope, cst.FunctionDef):
        return frozenset()
    plain: dict[str, bool] = {}
    empty: set[str] = set()
    shared: set[str] = set()
    for block in graph.blocks:
        for event in block.events:
            if not isinstance(event, cfglib.BindEvent):
                continue
            value = event.value
            elements = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple, cst.Set)) else [value]
            shared.update(e.value for e in elements if type(e) is cst.Name)
            if isinstance(event.target, cst.Name):
                name = event.target.value
                plain[name] = plain.get(name, True) and event.kind in ("assign", "annassign")
                if _empty_display(value):
                    empty.add(name)
    found = {name for name in empty if plain[name] and name not in graph.params and name not in shared}
    for nested in graph.nested if found else ():
        found -= {node.value for node in cfglib.descendants(nested) if type(node) is cst.Name}
    return frozenset(found)


def _loop_names(graph: cfglib.CFG, once: Mapping[str, cst.BaseExpression]) -> dict[str, tuple[str, str | None]]:
    """The names a scope binds only as a ``for`` loop's target over a location (``for cb in
    self.success_callbacks``), a comprehension's too (``(h(e) for h in self._hooks)``), or over a
    local bound once to one (``handlers = self._handlers.get(event)``: ``once``): name -> that
    location, and the parameter of the scope whose value, or whose class, is the key of the entry
    looped over (``_chooser``: ``Site.chosen``), if one is. A call of such a name is a call of
    each element (``EACH``), which the project finds where the location is filled
    (``callbacks.py``), or, under a parameter's key, where the function is called (``dispatch.py``)."""
    bound: dict[str, list[cst.For | cst.CompFor | None]] = {}
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                node = event.node
                loop = node if event.kind == "for" and isinstance(node, (cst.For, cst.CompFor)) else None
                name = loop.target.value if isinstance(loop, cst.CompFor) and isinstance(loop.target, cst.Name) else event.target.value
                bound.setdefault(name, []).append(loop)
    found: dict[str, tuple[str, str | None]] = {}
    for name, loops in bound.items():
        first = loops[0]
        if len(loops) != 1 or first is None or name in graph.params:
            continue
        over, key = _collection(first.iter)
        if isinstance(over, cst.Name) and over.value in once:  # a local bound once to the entry
            over, key = _collection(once[over.value])
        path = access_path(over)
        if path is not None:
            found[name] = (path, _chooser(key, graph.params))
    return found


def _chooser(key: cst.BaseExpression | None, params: Sequence[str]) -> str | None:
    """``Site.chosen`` of a loop over the entry a parameter keys (``PARAMETER`` and its name), or
    its class keys (``type(event)``: ``PARAMETER`` and ``type(event)``, as an event bus dispatches
    by the event's class)."""
    if isinstance(key, cst.Name) and key.value in params:
        return PARAMETER + key.value
    if isinstance(key, cst.Call) and dotted_name(key.func) == "type" and len(key.args) == 1 and not key.args[0].star:
        typed = key.args[0].value
        if isinstance(typed, cst.Name) and typed.value in params:
            return f"{PARAMETER}type({typed.value})"
    return None


def _coerced_read(call: cst.Call, flags: Mapping[str, Flag]) -> tuple[Flag | None, cst.BaseExpression | None]:
    """The flag a call coerces, with the default it gives: a keyed read of the flag without a
    default of its own passed to a call with a ``default`` keyword (``_as_bool(payload.get("store"),
    default=True)``, ``parse_bool(body.get("store"), default=False)``), or followed by a boolean
    constant, or a module's, as the next positional argument (``parse_bool(data.get("store"),
    DEFAULT_STORE, field="store")``)."""
    named = next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == "default"), None)
    plain = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    for index, value in enumerate(plain):
        if isinstance(value, cst.Call):
            flag = flags.get(read_key(value) or "")
            if flag is None or read_default(value) is not None:
                continue
            if named is not None:
                return flag, named
            following = plain[index + 1] if index + 1 < len(plain) else None
            if isinstance(following, cst.Name) and (following.value in ("True", "False") or following.value.isupper()):
                return flag, following
    return None, None


def _helper_read(call: cst.Call, flags: Mapping[str, Flag]) -> tuple[Flag | None, cst.BaseExpression | None]:
    """The flag a reading helper is asked for by name, with the default it is given
    (``read_bool(payload, "store", True)``, ``_flag(body, "store", default=DEFAULTS["store"])``):
    a function called with a container, the flag's name and a default; not ``setattr``'s."""
    if (dotted_name(call.func) or "").rpartition(".")[2] in _NOT_READS:
        return None, None
    plain = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    named = next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == "default"), None)
    flag = flags.get(string_value(plain[1]) or "") if len(plain) > 1 else None
    default = plain[2] if len(plain) > 2 else named
    return (flag, default) if flag is not None and default is not None else (None, None)


def _helper_reads(graph: cfglib.CFG, flags: Mapping[str, Flag]) -> dict[int, tuple[str, str]]:
    """id of each value a local is bound to that a reading helper asked for by a flag's name
    makes -> (the local, the flag's location it reads: ``_helper_location``)."""
    found: dict[int, tuple[str, str]] = {}
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name) and type(event.value) is cst.Call:
                location = _helper_location(event.value, flags)
                if location is not None:
                    found[id(event.value)] = (event.target.value, location)
    return found


def _inline_reads(graph: cfglib.CFG, flags: Mapping[str, Flag]) -> dict[int, F.Formula]:
    """id of each call of a reading helper asked for a flag by name (``_helper_location``: a
    value passed on as it is, ``ChatOptions(retain=_as_bool(body, "store", False))``) -> what its
    truth tells of the flag's location: the client said true, or left it out where the default
    it is given is not a false constant."""
    found: dict[int, F.Formula] = {}
    for block in graph.blocks:
        for event in block.events:
            node = event.node if isinstance(event, cfglib.CallEvent) else None
            if type(node) is cst.Call and len(node.args) > 1 and type(node.args[1].value) is cst.SimpleString:  # (cheap first)
                flag, default = _helper_read(node, flags)
                location = _read_location(node, flag)
                if location is not None:
                    off = isinstance(default, cst.Name) and CONSTANTS.get(default.value, TRUE) & TRUE == 0
                    found[id(node)] = ("lit", location, TRUE if off else TRUE | NONE)
    return found


def _helper_location(value: cst.BaseExpression, flags: Mapping[str, Flag]) -> str | None:
    """The flag's location a reading helper is asked for (``_helper_read``): ``body["store"]``
    of ``read_bool(body, "store", True)``, where the container is a location."""
    return _read_location(value, _helper_read(value, flags)[0]) if type(value) is cst.Call else None


def _read_location(call: cst.Call, flag: Flag | None) -> str | None:
    """``body["store"]`` of a reading helper's call asked for ``flag`` (``read_bool(body, "store",
    True)``), where the container it is given first is a location."""
    container = access_path(call.args[0].value) if flag is not None and call.args[0].keyword is None else None
    return f"{container}[{json.dumps(flag.name)}]" if flag is not None and container is not None else None


_NOT_READS = frozenset({"setattr", "hasattr", "delattr", "getattr", "isinstance", "set", "put", "write", "update"})


def _collection(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression | None]:
    """What a loop goes over, through a copy of it (``list(x)``, ``tuple(x)``), a key's entry
    of it (``x[topic]``, ``x.get(topic, ())``, ``x.get(topic) or []``) or its values: ``x``; and
    that key, if there is one."""
    key: cst.BaseExpression | None = None
    while True:
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("list", "tuple") and len(expr.args) == 1:
            expr = expr.args[0].value
        elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("get", "values"):
            if expr.func.attr.value == "get" and expr.args and expr.args[0].keyword is None and not expr.args[0].star:
                key = expr.args[0].value
            expr = expr.func.value
        elif isinstance(expr, cst.Subscript):
            index = expr.slice[0].slice if len(expr.slice) == 1 else None
            key = index.value if isinstance(index, cst.Index) else None
            expr = expr.value
        elif isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
            expr = expr.left
        else:
            return expr, key


def _scope_strings(graph: cfglib.CFG, module_strings: dict[str, str]) -> dict[str, str]:
    """The literal text of the names a scope may pass for a string (SQL, a path): the module's
    string constants that it does not bind itself, and its locals bound once to a literal."""
    bound: dict[str, list[cst.BaseExpression | None]] = {}
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                bound.setdefault(event.target.value, []).append(event.value)
    strings = {name: text for name, text in module_strings.items() if name not in bound and name not in graph.params}
    for name, values in bound.items():
        text = literal_text(values[0]) if len(values) == 1 and values[0] is not None and name not in graph.params else None
        if text is not None:
            strings[name] = text
    return strings


def block_exit(block: cfglib.Block, entry: F.Facts, context: _Context) -> tuple[F.Facts, F.Facts]:
    """The facts after the block's events, given those at its entry, and those wherever an
    exception may leave it (for its exception edge): before any event, between two, or after
    the last (the rest of an expression, or the branch's test, may raise)."""
    out = raised = entry
    may_raise = any(edge.exceptional for edge in block.edges)
    for event in block.events:
        out = transfer(out, event, context)
        if may_raise:
            raised = F.meet(raised, out, relevant=context.relevant)
    return out, raised


def along(edge: cfglib.Edge, raised: F.Facts, out: F.Facts, context: _Context) -> F.Facts | None:
    """The facts that flow along ``edge`` (``raised``/``out``: where its block may raise and at
    its exit, from ``block_exit``); ``None`` if the edge cannot be taken."""
    if edge.exceptional:
        return raised
    if edge.test is None:
        return out
    formula = context.formula(edge.test)
    return F.assume(out, formula if edge.polarity else F.negate(formula), context.relevant)


def _tested_fields(graph: cfglib.CFG, context: _Context, flags: Sequence[Flag]) -> tuple[str, ...]:
    """The fields of a local or a parameter, or of an object it holds, that a branch tests (``if
    plan.persist:``, ``if not req.options.keep: return``), of an object other than one holding the
    flag (``request.stream``): a site that runs only where one is true keeps only where it is,
    and the project knows which fields carry the flag (``fields.py``)."""
    found: set[str] = set()
    # the objects that hold the flag (``request`` of ``request.store``): their other fields are the request's (``request.stream``)
    requests = {path.rpartition(".")[0] for path in context.relevant or () if any(flaglib.is_location(path, flag) for flag in flags)}
    for block in graph.blocks:
        for edge in block.edges:
            if edge.test is None:
                continue
            for path in F.formula_paths(context.formula(edge.test)):
                called = TESTED_CALL.fullmatch(path)  # ``if not plan.should_save(): return``: the call's atom
                if called and not _names_a_decision(called.group(1).rpartition(".")[2]):
                    continue  # (``if not chunk.strip():``, ``if event.is_set():``: no plan's predicate)
                parts = (called.group(1) if called else path).split(".")
                if 1 < len(parts) <= 3 and all(part.isidentifier() for part in parts) and parts[0] not in ("self", "cls") and ".".join(parts[:-1]) not in requests:
                    found.add(path)  # ``plan.persist``, ``req.options.persist``
    return tuple(sorted(found))


# The words of a plan's predicate (``should_save``, ``wants_history``, ``writes_conversation``,
# ``keeps_items``): what to do, or whether to keep.
_DECISION_WORDS = frozenset(
    "should must may can will wants needs allows allow keep keeps retain retains persist persists store stores save saves "
    "record records remember remembers write writes".split()
)


def _names_a_decision(method: str) -> bool:
    """Whether a method without arguments is named like a plan's predicate of what to do."""
    return not _DECISION_WORDS.isdisjoint(method.lstrip("_").lower().split("_"))


def relevant_paths(
    graph: cfglib.CFG, flags: list[Flag], context: _Context, given: list[set[str]] | None = None
) -> dict[str, int]:
    """The locations whose facts can bear on a flag, each with its distance from a flag location:
    flag locations (0) and what is tested or assigned together with them (transitively, one
    more for each step), or related by what others guarantee (``given``: the locations of each
    clause). Facts about anything else are not kept, which keeps joins small in long functions
    full of unrelated conditions; past the bounds, the farthest go first. With no flag there is
    no location to start from: none is relevant (most scopes, when every call is a site)."""
    if not flags:
        return {}
    groups: dict[object, set[str]] = {("given", index): group for index, group in enumerate(given or ())}
    groups.update({("inline", path): {path} for path in context.inline})  # read by a helper, and passed on
    statements: dict[int, list[set[str]]] = {}  # id(statement) -> the groups it tests or assigns
    for block in graph.blocks:
        for edge in block.edges:
            if edge.test is not None:
                key = id(edge.owner) if edge.owner is not None else id(edge)
                if key not in groups:
                    statements.setdefault(key, []).append(groups.setdefault(key, set()))
                groups[key].update(F.formula_paths(context.formula(edge.test)))
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and event.value is not None:
                target = context.path(access_path(event.target))
                if target is not None:
                    group = groups.setdefault(id(event), {target})
                    source = context.path(access_path(event.value))
                    group.update({source} if source is not None else F.formula_paths(context.formula(event.value)))
                    statements.setdefault(id(event.node), []).append(group)
    # A test is correlated with what is tested or assigned under it: after
    # ``if background: if not store: return``, ``not background or store`` holds.
    links: list[set[str]] = []
    for inner, outer in _nesting(graph.scope):
        if context.buffers and type(inner) is cst.Expr and id(inner) not in statements and (called := _buffer_call(inner.value, context)) and called[1] in _PUTS:
            statements[id(inner)] = [groups.setdefault(id(inner), {called[0]})]  # ``if store: pending.append(e)``
        for group in statements.get(id(inner), ()):
            for test in statements.get(id(outer), ()):
                if test is not group:
                    links.append(group | test)
    for number, link in enumerate(links):
        groups[-1 - number] = link
    # the groups connected to a flag location, found by a breadth-first walk over path -> groups
    by_path: dict[str, list[set[str]]] = {}
    for group in groups.values():
        for path in group:
            by_path.setdefault(path, []).append(group)
    relevant = {p: 0 for p in sorted(by_path) if any(flaglib.is_location(p, f) for f in flags)}
    pending = deque(relevant)
    walked: set[int] = set()  # a group walked from one of its paths has nothing new for the others
    while pending:
        near = pending.popleft()
        for group in by_path[near]:
            if id(group) in walked:
                continue
            walked.add(id(group))
            for path in sorted(group):
                if path not in relevant:
                    relevant[path] = relevant[near] + 1
                    pending.append(path)
        F.WORK.charge(1)
    return relevant


def _nesting(scope: cfglib.Scope) -> Iterator[tuple[cst.CSTNode, cst.CSTNode]]:
    """``(statement, compound statement it is nested in)`` for every pair in the scope (nested
    scopes aside); a small statement counts as nested where its line is."""
    if isinstance(scope, cst.Lambda):
        return
    stack: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(stmt, ()) for stmt in _body_of(scope)]
    while stack:
        stmt, outer = stack.pop()
        for compound in outer:
            yield stmt, compound
        F.WORK.charge(1 + len(outer))
        if isinstance(stmt, cst.SimpleStatementLine):
            stack.extend((small, outer) for small in stmt.body)
        elif isinstance(stmt, cst.BaseCompoundStatement) and not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            inner = (*outer, stmt)
            for suite in cfglib.inner_suites(stmt):
                if isinstance(suite, cst.If):  # elif
                    stack.append((suite, inner))
                else:
                    stack.extend((child, inner) for child in _body_of(suite))


def _body_of(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements of a module, a function or a suite."""
    if isinstance(node, cst.Module):
        return list(node.body)
    body = node.body if isinstance(node, (cst.FunctionDef, cst.ClassDef)) else node
    return list(body.body) if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else []


def solve(graph: cfglib.CFG, entry: F.Facts, context: _Context) -> dict[int, F.Facts]:
    """Facts at the entry of every reachable block (a forward must-analysis to a fixpoint).

    Blocks are taken in reverse postorder (a block after its predecessors, loops aside), so an
    acyclic stretch of code is visited once per block whatever its shape.
    """
    order = context.order = context.order or _reverse_postorder(graph)
    states: dict[int, F.Facts] = {graph.entry.index: entry}
    visits: dict[object, int] = {}
    # where a buffer is relevant (``_buffers``), in a function of moderate length, the edges an
    # exception takes are joined per edge (see below); anything else per block
    per_edge = (
        len(graph.blocks) <= _PER_EDGE_BLOCKS and bool(context.buffers) and any(name in (context.relevant or ()) for name in context.buffers)
    )
    work = [(order[graph.entry.index], graph.entry.index)]
    queued = {graph.entry.index}
    while work:
        _, index = heapq.heappop(work)
        block = graph.blocks[index]
        queued.discard(index)
        F.WORK.charge(1 + len(block.events) + len(block.edges))
        block_entry = states[index]
        out, raised = block_exit(block, block_entry, context)
        for edge in block.edges:
            incoming = along(edge, raised, out, context)
            if incoming is None:
                continue  # this outcome is impossible here
            target = edge.target.index
            old = states.get(target)
            # an exception's edges counted each on its own where a buffer is relevant: a handler
            # every statement of a ``try`` may raise into (a ``finally`` flushing what was
            # buffered) joins each of them exactly, and a loop's, again and again, goes over to the
            # plain intersection, which ends the fixpoint. Elsewhere per block: exact joins of
            # many edges double the time of a long handler, for nothing the flag needs.
            key = (target, index) if per_edge and edge.exceptional else target
            count = visits[key] = visits.get(key, 0) + 1
            new = F.meet(old, incoming, exact=count <= _EXACT_JOIN_VISITS, relevant=context.relevant)
            if old is None or new != old:
                states[target] = new
                if target not in queued:
                    queued.add(target)
                    heapq.heappush(work, (order[target], target))
    return states


def reached_blocks(graph: cfglib.CFG, context: _Context) -> set[int]:
    """The blocks ``solve`` reaches where no location is relevant (a scope without a flag), told
    without its facts: none is kept past a test then (``facts.assume`` keeps only the relevant
    clauses), so an edge is ruled out only by its test alone (``if False:``, the exit of
    ``while True:``) and the solver's joins decide nothing. Charged like ``solve``."""
    reached = {graph.entry.index}
    stack = [graph.entry]
    while stack:
        block = stack.pop()
        F.WORK.charge(1 + len(block.events) + len(block.edges))
        for edge in block.edges:
            target = edge.target.index
            if target in reached:
                continue
            if not edge.exceptional and edge.test is not None and not _opaque_test(edge.test, context):
                if F.cnf(context.formula(edge.test), edge.polarity) is None:
                    continue  # this outcome is impossible
            reached.add(target)
            stack.append(edge.target)
    return reached


def _opaque_test(test: cst.BaseExpression, context: _Context) -> bool:
    """Whether ``test`` is one opaque atom, which is true on one branch and false on the other
    whatever it holds: ``facts.opaque``, told without generating its text (unless a predicate's
    call may tell more: ``_Context.tests``)."""
    return not context.tests and F.opaque(test)


def _reverse_postorder(graph: cfglib.CFG) -> dict[int, int]:
    """Block index -> its position in a reverse postorder from the entry (unreached blocks last)."""
    post: list[int] = []
    seen = {graph.entry.index}
    stack = [(graph.entry, iter(graph.entry.edges))]
    while stack:
        block, edges = stack[-1]
        for edge in edges:
            target = edge.target
            if target.index not in seen:
                seen.add(target.index)
                stack.append((target, iter(target.edges)))
                break
        else:
            stack.pop()
            post.append(block.index)
    order = {index: position for position, index in enumerate(reversed(post))}
    for block in graph.blocks:
        order.setdefault(block.index, len(order))
    return order


def collect_imports(
    tree: cst.Module, module: str | None, is_package: bool = False, namespace: str = "", statements: list | None = None
) -> dict[str, str]:
    """Local name -> qualified name for every import statement of the module.

    A relative import is named from the module's package (``from . import m`` in ``pkg.x``:
    ``pkg.m``); one that climbs above its top package, into the directories without
    ``__init__.py`` around it (``namespace``, ``app.api`` for ``app/api/views.py``), by the name
    from the project root (``from .. import m`` there: ``app.m``, one of ``m``'s namespace names).
    ``statements``: the module's ``_all_small_statements``, when the caller has them."""
    imports: dict[str, str] = {}
    package = module if is_package else (module.rsplit(".", 1)[0] if module and "." in module else "")
    for stmt in _all_small_statements(tree.body) if statements is None else statements:
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None:
                    imports[dotted_name(alias.asname.name) or ""] = full
                else:
                    root = full.split(".", 1)[0]
                    imports[root] = root
        elif isinstance(stmt, cst.ImportFrom):
            base = (dotted_name(stmt.module) or "") if stmt.module is not None else ""
            if stmt.relative:
                parts = package.split(".") if package else []
                up = len(stmt.relative) - 1
                if up > len(parts) and namespace:
                    parts = [*namespace.split("."), *parts]
                parts = parts[: max(len(parts) - up, 0)]
                base = ".".join(p for p in [*parts, base] if p)
            if isinstance(stmt.names, cst.ImportStar):
                imports[STAR] = base  # its names are not known here: a global may be one of them
                continue
            for alias in stmt.names:
                name = dotted_name(alias.name) or ""
                local = (dotted_name(alias.asname.name) or name) if alias.asname is not None else name
                imports[local] = f"{base}.{name}" if base else name
    return imports


def _callee_name(func: cst.BaseExpression) -> str | None:
    """``a.b`` for a dotted callee (``getattr(a, "b")`` too); ``make().m`` for a method of what a
    named function returns, ``make().a.m`` for one of what an attribute of it holds."""
    name = callee_path(func)
    if name is not None:
        return name
    held: list[str] = []
    while isinstance(func, cst.Attribute):  # ``services().chat.create``: through what it holds
        held.insert(0, func.attr.value)
        if isinstance(func.value, cst.Call):
            inner = dotted_name(func.value.func)
            return f"{inner}().{'.'.join(held)}" if inner is not None else None
        func = func.value
    return None


def _keyed_item(item: cst.Subscript) -> str | None:
    """``request.app[CHAT_COMPLETIONS]`` for an item of a location under a module's constant (an
    aiohttp ``web.AppKey``, which names the class it holds: ``Project.classes_of``); else None."""
    base = access_path(item.value)
    index = item.slice[0].slice if len(item.slice) == 1 else None
    key = index.value if isinstance(index, cst.Index) else None
    if base is None or not isinstance(key, cst.Name) or not key.value.isupper() or len(key.value) < 2:
        return None
    return f"{base}[{key.value}]"


def _off_defaults(scope: cst.ClassDef) -> Iterator[str]:
    """The fields a class body defaults to ``False`` or ``None`` (``background: bool = False``,
    ``Field(default=None)``, ``field(default=False)``)."""
    for stmt in scope.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name) or small.value is None:
                continue
            value = small.value
            if isinstance(value, cst.Call) and (dotted_name(value.func) or "").rpartition(".")[2] in ("Field", "field"):
                value = next((arg.value for arg in value.args if arg.keyword is not None and arg.keyword.value == "default"), value)
            if isinstance(value, cst.Name) and value.value in ("False", "None"):
                yield small.target.value


def _annotated_names(scope: cst.ClassDef) -> tuple[str, ...]:
    """The names a class body annotates (``store: bool | None = None``): its fields; and
    ``ANY_FIELD`` for a model that accepts fields it does not declare (``_allows_extra``)."""
    names = tuple(
        small.target.value
        for stmt in scope.body.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)
    )
    return (*names, ANY_FIELD) if _allows_extra(scope) else names


def _fallback(default: cst.BaseExpression, flag: Flag) -> str | None:
    """What an omitted flag's default says (``_keeping_reads``): "" for a constant that keeps
    (``True``), the attribute path it is read from (``self._settings.store_by_default``),
    else None."""
    if type(default) is cst.Name and default.value in ("True", "False"):
        return "" if (default.value == "True") != flag.inverted else None
    if type(default) is cst.Name and default.value.isupper() and len(default.value) > 1:
        return default.value  # a module's constant (``DEFAULT_STORE``), which the project reads
    if isinstance(default, cst.Subscript) and isinstance(default.value, cst.Name) and len(default.slice) == 1:
        index = default.slice[0].slice
        key = string_value(index.value) if isinstance(index, cst.Index) else None  # ``DEFAULTS["store"]``: a module's table
        return f'{default.value.value}["{key}"]' if key is not None else None
    path = access_path(default) if isinstance(default, cst.Attribute) else None
    return path if path is not None and "[" not in path else None


def _filled_omissions(scope: cst.FunctionDef, flags: Mapping[str, Flag]) -> list[tuple[cst.CSTNode, str, str]]:
    """The conditionals of a scope that fill in an omitted flag from a setting (``req.store if
    req.store is not None else self._settings.store_by_default``, ``SETTING if req.store is None
    else req.store``, ``if req.store is None: return self.settings.default_store``), with the flag and the setting's path (``_fallback``). Not those of nested
    scopes, nor those that fill in a constant: judged where they are (``_forged``), they may sit
    in a branch for one API only (``True if req.store is None else req.store`` for Responses)."""
    found: list[tuple[cst.CSTNode, str, str]] = []
    stack: list[cst.CSTNode] = [scope.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(node.children)
        if not isinstance(node, (cst.IfExp, cst.If)) or not isinstance(node.test, cst.Comparison) or len(node.test.comparisons) != 1:
            continue
        target = node.test.comparisons[0]
        if not (isinstance(target.comparator, cst.Name) and target.comparator.value == "None"):
            continue
        omitted: cst.BaseExpression | None
        if isinstance(node, cst.If):  # ``if req.store is None: return self.settings.default_store`` (or ``store = ...``)
            omitted = _filled_in(node) if isinstance(target.operator, cst.Is) else None
        elif isinstance(target.operator, cst.IsNot):
            omitted = node.orelse
        elif isinstance(target.operator, cst.Is):
            omitted = node.body
        else:
            continue
        if omitted is None:
            continue
        path = access_path(node.test.left)
        flag = next((f for f in flags.values() if path is not None and flaglib.is_location(path, f)), None)
        fallback = _fallback(omitted, flag) if flag is not None else None
        if flag is not None and fallback:
            found.append((node, flag.name, fallback))
    return found


def _filled_in(branch: cst.If) -> cst.BaseExpression | None:
    """What the first statement of a branch taken where the flag is omitted returns or assigns
    (``return self.settings.default_store``, ``store = self._settings.store_by_default``)."""
    body = branch.body.body if isinstance(branch.body, cst.IndentedBlock) else ()
    first = body[0] if body and isinstance(body[0], cst.SimpleStatementLine) else branch.body
    small = first.body[0] if isinstance(first, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) and first.body else None
    if isinstance(small, cst.Return):
        return small.value
    return small.value if isinstance(small, cst.Assign) else None


def _held_reads(scope: cst.FunctionDef) -> frozenset[int]:
    """The reads (calls, conditionals) whose value the function keeps to itself: in the test of
    a branch or a loop (``if body.get("store", True):``, judged there), or bound to a local name
    that it neither passes to a call, returns, nor stores in an attribute or an item (``store =
    ...`` then only ``if store:``). What an options parser builds (``return cls(store=bool(p.get(
    "store", True)))``, or through a local) leaves it."""
    tested: set[int] = set()
    bound: dict[str, list[int]] = {}
    leaving: set[str] = set()

    def calls(expr: cst.CSTNode) -> list[int]:
        return [id(node) for node in cfglib.descendants(expr) if isinstance(node, (cst.Call, cst.IfExp))]

    def names(expr: cst.CSTNode | None) -> set[str]:
        return set() if expr is None else {node.value for node in cfglib.descendants(expr) if isinstance(node, cst.Name)}

    stack: list[cst.CSTNode] = [scope.body]  # no recursion: the tree may be deep
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue  # a scope of its own
        if isinstance(node, (cst.If, cst.While, cst.IfExp)):
            tested.update(calls(node.test))
        elif isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
            if all(isinstance(t, cst.Name) for t in targets):
                for target in targets:
                    bound.setdefault(cast(cst.Name, target).value, []).extend(calls(node.value))
            else:
                leaving.update(names(node.value))
        elif isinstance(node, cst.AnnAssign):
            if isinstance(node.target, cst.Name) and node.value is not None:
                bound.setdefault(node.target.value, []).extend(calls(node.value))
            else:
                leaving.update(names(node.value))
        elif isinstance(node, (cst.Arg, cst.Return)):
            leaving.update(names(node.value))
        stack.extend(node.children)
    kept = {call for name, found in bound.items() if name not in leaving for call in found}
    return frozenset(tested | kept)


def _boolean_fields(scope: cst.ClassDef, names: frozenset[str]) -> Iterator[str]:
    """The fields of ``names`` that the class body annotates as booleans (``store: bool``,
    ``store: Optional[bool] = None``): the client's flag, not a storage object."""
    for stmt in scope.body.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value in names:
                if annotation_kind(small.annotation.annotation) == flaglib.BOOLEAN:
                    yield small.target.value


def _boolean_defaults(scope: cst.ClassDef, names: frozenset[str]) -> Iterator[tuple[str, bool, cst.BaseExpression]]:
    """``(field, default, where)`` for each field of ``names``, or with one of them among the
    words of its name (a setting an omitted flag may be filled in from: ``store_by_default``),
    that the class body annotates with a boolean constant for default
    (``contracts.boolean_default``): ``store: bool = True``, pydantic's ``Field(True)`` and
    ``Field(default=True)``, a dataclass's ``field(default=True)``."""
    for stmt in scope.body.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                field = small.target.value
                if _names_setting(field, names):
                    value = contractlib.boolean_default(_code(small.value))
                    if value is not None:
                        yield small.target.value, value, small.value


def _names_setting(name: str, flags: frozenset[str]) -> bool:
    """Whether a field or a key may hold what an omitted flag becomes: a flag's name, or one
    with a flag or a word of keeping among its words (``store_by_default``, ``persist_completions``)."""
    words = name.lower().split("_")
    return name in flags or not flags.isdisjoint(words) or not _KEEPING_WORDS.isdisjoint(words)


_KEEPING_WORDS = frozenset({"persist", "keep", "retain", "save"})


def _dict_defaults(scope: cst.Module, names: frozenset[str]) -> Iterator[tuple[str, str, bool, cst.BaseExpression]]:
    """``(table, key, default, where)`` for each entry of a module-level dict written out
    (``SAMPLING_DEFAULTS = {"store": True, ...}``) under a key of ``names``, or with one among its
    words, whose value is a boolean constant: what an omitted flag becomes when a read of it
    falls back on the table (``read_bool(payload, "store", SAMPLING_DEFAULTS["store"])``). In a
    table named so, every such entry: one per API (``_STORE_DEFAULTS = {"responses": True,
    "chat.completions": False}``, read as ``_STORE_DEFAULTS[api]``: ``_parameter_for_omitted``)."""
    for table, value in _assigned(scope.body):
        per_key = _names_setting(table.strip("_"), names)
        for element in value.elements if isinstance(value, cst.Dict) else ():
            key = string_value(element.key) if isinstance(element, cst.DictElement) else None
            constant = element.value if isinstance(element, cst.DictElement) else None
            if key is not None and (per_key or _names_setting(key, names)):
                if isinstance(constant, cst.Name) and constant.value in ("True", "False"):
                    yield table, key, constant.value == "True", constant


def _constant_defaults(scope: cst.Module, names: frozenset[str]) -> Iterator[tuple[str, bool, cst.BaseExpression]]:
    """``(name, default, where)`` for each module-level constant named as a setting of ``names``
    (``DEFAULT_STORE = True``) whose value is a boolean constant: what an omitted flag becomes
    when a read of it falls back on the constant (``parse_bool(body.get("store"), DEFAULT_STORE)``)."""
    for name, value in _assigned(scope.body):
        if name.isupper() and _names_setting(name.lower(), names) and type(value) is cst.Name and value.value in ("True", "False"):
            yield name, value.value == "True", value


def _allows_extra(scope: cst.ClassDef) -> bool:
    """Whether a pydantic model keeps undeclared fields: ``class M(BaseModel, extra="allow")``,
    ``model_config = ConfigDict(extra="allow")`` (or a dict of it), pydantic 1's ``class Config:
    extra = "allow"`` (or ``Extra.allow``). Such a model carries a ``store`` the client sends."""
    if any(arg.keyword is not None and arg.keyword.value == "extra" and _allow(arg.value) for arg in scope.keywords):
        return True
    for stmt in scope.body.body:
        if isinstance(stmt, cst.ClassDef) and stmt.name.value == "Config":
            if any(_allow(value) for name, value in _assigned(stmt.body.body) if name == "extra"):
                return True
        for name, value in _assigned([stmt]):
            if name == "model_config" and _config_allows(value):
                return True
    return False


def _config_allows(value: cst.BaseExpression) -> bool:
    """Whether a ``model_config`` (``ConfigDict(extra="allow")``, ``{"extra": "allow"}``) says
    ``extra="allow"``."""
    items: list = list(value.args) if isinstance(value, cst.Call) else list(value.elements) if isinstance(value, cst.Dict) else []
    for item in items:
        key = item.keyword.value if isinstance(item, cst.Arg) and item.keyword is not None else None
        key = string_value(item.key) if isinstance(item, cst.DictElement) else key
        if key == "extra" and _allow(item.value):
            return True
    return False


def _assigned(statements: Sequence[cst.CSTNode]) -> Iterator[tuple[str, cst.BaseExpression]]:
    """``(name, value)`` of each plain ``name = value`` (or ``name: T = value``) among ``statements``."""
    for stmt in statements:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                yield small.targets[0].target.value, small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                yield small.target.value, small.value


def _allow(value: cst.BaseExpression) -> bool:
    """``"allow"`` or ``Extra.allow``."""
    return string_value(value) == "allow" or (dotted_name(value) or "").endswith("Extra.allow")


def _returned_class(scope: cfglib.Scope) -> str | None:
    """The class a function's return annotation names: ``-> Service``, ``-> "Service"``, ``-> Service | None``;
    of a context manager made of a generator (``@contextmanager``, ``-> Iterator[Session]``),
    what it yields: what ``with f() as s`` binds."""
    if not isinstance(scope, cst.FunctionDef) or scope.returns is None:
        return None
    annotation = scope.returns.annotation
    if any((dotted_name(d.decorator) or "").rpartition(".")[2] in _CONTEXT_MANAGERS for d in scope.decorators):
        if isinstance(annotation, cst.Subscript) and (dotted_name(annotation.value) or "").rpartition(".")[2] in _YIELDING:
            first = annotation.slice[0].slice if annotation.slice else None
            return annotated_class(first.value) if isinstance(first, cst.Index) else None
    return annotated_class(annotation)


_CONTEXT_MANAGERS = frozenset({"contextmanager", "asynccontextmanager"})
_YIELDING = frozenset({"Iterator", "Generator", "AsyncIterator", "AsyncGenerator"})


def _outlives(text: str, own: frozenset[str] | None, method: bool) -> bool:
    """Whether ``text`` (with ``method``: a mutating method's call, ``c.append``) names a
    container that is not a local of the function (``own``; ``None``: not asked)."""
    if own is None:
        return False
    if method:
        text, _, name = text.rpartition(".")
        if name not in MUTATING_METHODS or not text:
            return False
    return "(" not in text and root_name(text) not in own


def _bound_names(graph: cfglib.CFG, *, imports: bool = True) -> set[str]:
    """Names the scope assigns (so they are its own locals, not its enclosing function's);
    without those it imports if not ``imports`` (a module another file defines)."""
    return {
        event.target.value
        for block in graph.blocks
        for event in block.events
        if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name) and (imports or event.kind != "import")
    }


def _params(scope: cfglib.Scope) -> tuple[Param, ...]:
    if not isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        return ()
    p = scope.params
    out = []
    for positional, params in ((True, (*p.posonly_params, *p.params)), (False, p.kwonly_params)):
        for param in params:
            default = _code(param.default) if param.default is not None else None
            annotation = _code(param.annotation.annotation) if param.annotation is not None else None
            out.append(Param(param.name.value, default, positional, annotation))
    return tuple(out)


def _dependencies(decorator: cst.Decorator) -> list[str]:
    """``f`` of each ``Depends(f)`` in a decorator's ``dependencies=[...]`` (a FastAPI route)."""
    call = decorator.decorator
    if not isinstance(call, cst.Call):
        return []
    return [name for arg in call.args if arg.keyword is not None and arg.keyword.value == "dependencies"
            for name in contractlib.dependencies(_code(arg.value))]


def _bound_calls(graph: cfglib.CFG) -> dict[int, str]:
    """Call node -> the local its value is assigned to (``err = f()``, ``err = await f()``, walrus)."""
    bound = {}
    for block in graph.blocks:
        for event in block.events:
            if isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name):
                value = event.value.expression if isinstance(event.value, cst.Await) else event.value
                if isinstance(value, cst.Call) and event.kind in ("assign", "annassign", "walrus"):
                    bound[id(value)] = event.target.value
    return bound


def _install(graph: cfglib.CFG, context: _Context, given: contractlib.Given, locator: Locator) -> list[set[str]]:
    """Puts what others guarantee after the scope's calls into ``context`` (``transfer`` learns
    it); the locations of each clause given, which ``relevant_paths`` must keep."""
    groups = [{path for path, _ in clause} for clause in given.entry]
    if not (given.calls or given.binds or given.tests):
        return groups
    errors = set()
    for block in graph.blocks:
        for event in block.events:
            found: tuple | None = None
            node: cst.CSTNode | None = None
            if isinstance(event, cfglib.CallEvent) and given.tests:
                tested = given.tests.get(_where(locator, event.node))
                if tested:
                    context.tests[id(event.node)] = _conjunction(tested)
                    groups.extend({path for path, _ in clause} for clause in tested)
            if isinstance(event, cfglib.CallEvent) and given.calls:
                found, node = given.calls.get(_where(locator, event.node)), event.node
            elif isinstance(event, cfglib.BindEvent) and isinstance(event.target, cst.Name) and given.binds:
                value = event.value.expression if isinstance(event.value, cst.Await) else event.value
                if isinstance(value, cst.Call):
                    found, node = given.binds.get(_where(locator, value)), event.target
                    if found:
                        errors.add(event.target.value)  # None or the helper's error
            if found and node is not None:
                context.given[id(node)] = _conjunction(found)
                groups.extend({path for path, _ in clause} for clause in found)
    context.errors = frozenset(errors)
    context._formulas.clear()  # read again with the errors' ``isinstance`` tests
    return groups


def _install_closed(graph: cfglib.CFG, context: _Context, closed: dict[str, tuple[F.Clause, ...]]) -> list[set[str]]:
    """Puts what the truth of an enclosing function's conjunction with the flag tells
    (``Summarizer._conjoined_copies``) at each read of its name in the scope (``_Context.tests``);
    the locations of each clause, which ``relevant_paths`` must keep."""
    if not closed:
        return []
    for node in cfglib.descendants(graph.scope):
        if isinstance(node, cst.Name) and node.value in closed:
            context.tests[id(node)] = _conjunction(closed[node.value])
    context._formulas.clear()
    return [{path for path, _ in clause} for clauses in closed.values() for clause in clauses]


def _conjuncts(value: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The operands of a chain of ``and`` (``a and b and c``), in parentheses or not."""
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.And):
        yield from _conjuncts(value.left)
        yield from _conjuncts(value.right)
    else:
        yield value


def _reads_background(path: str) -> bool:
    """Whether a location read is a request's ``background`` field (``body.background``,
    ``payload["background"]``): a function that reads it tells background requests apart."""
    return path.rpartition(".")[2] == contractlib.BACKGROUND or path.endswith(f'["{contractlib.BACKGROUND}"]')


def _where(locator: Locator, call: cst.Call) -> str:
    """A call's key in a contract: ``line:column`` of its start (``Site.span``)."""
    span = locator.span(call)
    return f"{span.line}:{span.column}"


def _conjunction(clauses) -> F.Formula:
    """The formula of a conjunction of clauses."""
    formula: F.Formula = F.TRUE_F
    for clause in clauses:
        part: F.Formula = F.FALSE_F
        for path, mask in clause:
            part = ("or", part, ("lit", path, mask))
        formula = ("and", formula, part)
    return formula


def _code(node: cst.CSTNode) -> str:
    return " ".join(_EMPTY_MODULE.code_for_node(node).split())


def _all_small_statements(body) -> list[cst.BaseSmallStatement]:
    """Every small statement under ``body``, nested ones too, in the order of ``cfg.suites``: a
    list filled by one recursion per suite (generators nested as deep as the code passed each
    statement up through every level)."""
    out: list[cst.BaseSmallStatement] = []
    _gather_small_statements(body, out)
    return out


def _gather_small_statements(body, out: list[cst.BaseSmallStatement]) -> None:
    for stmt in body:
        if type(stmt) is cst.SimpleStatementLine:
            out.extend(stmt.body)
        else:
            for suite in cfglib.suites(stmt):
                if type(suite) is cst.IndentedBlock:
                    _gather_small_statements(suite.body, out)
                elif type(suite) is cst.SimpleStatementSuite:
                    out.extend(suite.body)
