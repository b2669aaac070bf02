"""Per-module summaries: what the project stage needs to know of one file, as plain data.

A summary is computed from one file alone (parse once, then throw the tree away); it is what
crosses process boundaries with ``--jobs`` and what the cache stores as JSON. Everything that
depends on other files (which calls persist, what callers guarantee) is decided later, in
``project.py``, from these summaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storegate.model import TraceStep

_IDENTIFIER = re.compile(r"(?:[a-z0-9_]*_)?ids?")  # ``id``, ``ids``, ``response_id``; not ``rid``, ``paid``


def names_an_identifier(name: str) -> bool:
    """Whether a name, an attribute or a key says it holds an identifier (``completion_id``,
    ``response.id``, ``item["id"]``): which request or object, not what it said."""
    return _IDENTIFIER.fullmatch(name.lower()) is not None

# A clause of ``facts``: ``((location, mask), ...)``, sorted by location (see ``contracts.py``).
Clause = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a site is gated by one flag, under each assumption about the function's entry.

    ``gated``: nothing is known at entry. ``gated_if_permitted``: every caller passes a value
    that permits storing (call-site facts). A witness trace goes with each ungated verdict.
    ``forbidden``: with nothing known at entry, the site is reached only where the flag forbids
    storing (``if store is False: adapt(...)``): what it calls is done when nothing is kept, so
    the codebase does not treat it as persistence (``Project.learned_sinks``).
    """

    flag: str
    gated: bool
    gated_if_permitted: bool
    trace: tuple[TraceStep, ...] = ()
    trace_if_permitted: tuple[TraceStep, ...] = ()
    forbidden: bool = False


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of a call: how it is passed and whether it permits storing, per flag."""

    keyword: str | None
    star: str  # "", "*" or "**"
    # (flag, permits with nothing known at entry, permits when the entry is permitted)
    permits: tuple[tuple[str, bool, bool], ...] = ()
    path: str | None = None  # the location passed (``request``, ``body["x"]``), aliases resolved
    # the flags whose permission its truth implies (``enabled=should_store``, ``False``): what a
    # callee's gate parameter bound to it switches on is gated (``Site.gates``, ``analysis.truth_implies``);
    # marked ``NEGATED``, whose permission its falsity implies (``ephemeral=not request.store``)
    implies: tuple[str, ...] = ()
    literal: bool = False  # a constant written out (``"completed"``, ``1``, ``None``) or named (``DONE``): nothing of the request
    # the text of a string passed that some sink's argument regex matches (``"INSERT INTO ..."``):
    # what a parameter that reaches such a sink is given (``statements.add_passed_statement_sinks``)
    statement: str | None = None
    # what made the value passed: a call's callee as written, then ``keyword=constant`` of each
    # constant it is given (``Job(kind="upload")``: ``('Job', 'kind="upload"')``; by position:
    # ``Job("upload")``: ``('Job', '0="upload"')``), through a
    # local bound once; a string written out, as JSON (``'"upload"'``). What a dispatch table's
    # key is matched with (``dispatch.py``).
    made: tuple[str, ...] = ()
    # the location a name passed is bound to each element of, by a loop over it (``for handler in
    # self._subscribers.get(topic, ()): self._dispatch(handler, event)``): ``callbacks.py``
    each: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """A call or a container write inside a function."""

    span: Span
    text: str  # the callee (or container) as written
    kind: str  # "call" or "write"
    sink: str | None  # the configured sink pattern it matches, if any
    qualified: str | None  # import-qualified callee name, if imported
    args: tuple[Argument, ...] = ()
    verdicts: tuple[Verdict, ...] = ()  # one per flag available in the function
    sink_kind: str | None = None  # the kind of sink that matched ("call", "container": ``sinks.SINK_KINDS``)
    bound: str | None = None  # the local the call's value is assigned to (``err = self._validate(r)``)
    # Inside an ``if``/``elif``/``else`` whose test reads a flag (or a location correlated with
    # it): a site gated by a branch of its own, not by an early return (``Project.learned_sinks``).
    in_flag_branch: bool = False
    discarded: bool = False  # a call that is a statement of its own (awaited or not): its value is not used
    # keyword -> the keywords of a dict the function built and passes by it (``Item(kwargs=kw)``):
    # what a consumer's ``f(**item.kwargs)`` passes (``Project.permitted_entries``)
    packed: tuple[tuple[str, tuple[Argument, ...]], ...] = ()
    # ``(sink pattern, sink kind, constant as written)``: a call that is that sink if the text of
    # another module's constant (``queries.INSERT_TURN``) matches the sink's argument regex, which
    # only the project can read (``statements.add_statement_sinks``); ``sink`` is None until then.
    pending: tuple[str, str, str] | None = None
    # ``(sink pattern, sink kind)`` of each library sink this call is if its receiver holds that
    # library's object, which the summary could not tell (``push(redis, e)``: ``redis.lpush``);
    # the sink's argument and key were checked here. The project decides (``inherited.Inherited.held``).
    untyped: tuple[tuple[str, str], ...] = ()
    # In a function without a flag: its boolean parameters that are true wherever the site runs
    # (``if not enabled: return``): the site persists only for a caller that passes a true value
    # (``analysis.gate_parameters``, ``Project.param_gated``).
    gates: tuple[str, ...] = ()
    # The fields of a local or a parameter, or of an object it holds, tested true wherever the
    # site runs (``plan.persist`` of ``if plan.persist:``, ``req.options.persist``): where the
    # project knows a field carries the flag (``fields.py``), the site is gated by it.
    tested: tuple[str, ...] = ()
    # The call of a function handed off (``handoffs.handed``), made later by the hand-off whose
    # own call is the site of the same span (``transaction.on_commit``).
    handed: bool = False
    # A call of the element a key chooses from a location (text ending ``EACH``:
    # ``self._handlers[type(job)](job)``): what the key reads of the item, "type" for its class
    # (``type(job)``), an attribute's or a key's name (``job.kind``: "kind"), "" for anything else
    # (``dispatch.py``). None for every other call.
    chosen: str | None = None

    def verdict(self, flag: str) -> Verdict | None:
        for verdict in self.verdicts:
            if verdict.flag == flag:
                return verdict
        return None


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: str | None  # the default's code, if any
    positional: bool  # may be passed by position
    annotation: str | None = None  # the annotation's code, if any
    holds_object: bool = False  # named like a flag but a storage object (``flags.sight``): not the flag


@dataclass(frozen=True, slots=True)
class FunctionSummary:
    name: str  # qualified within the module: "Class.method", "outer.inner", "<module>"
    kind: str  # "module", "class", "function", "method", "lambda"
    class_name: str | None  # the class a method belongs to
    params: tuple[Param, ...]
    flags: tuple[str, ...]  # flags available inside
    closure_flags: tuple[str, ...]  # flags a nested function reads from its enclosing function
    routes: tuple[str, ...]  # "POST /v1/responses" for HTTP handlers (by their decorators)
    sites: tuple[Site, ...]  # reachable calls and writes that may matter
    nested: bool  # defined inside another function: every caller is in that function
    returns: str | None = None  # the class named by the return annotation, as written
    # What the function guarantees its callers (``contracts.py``), over its parameters' locations:
    # at every normal exit; at the exits returning None when the others return an object; and,
    # for a model validator, of every instance (locations under ``contracts.FIELDS``); and, for a
    # predicate, wherever it returns a truthy value (``if should_store(request):``).
    guarantees: tuple[Clause, ...] = ()
    if_none: tuple[Clause, ...] = ()
    invariants: tuple[Clause, ...] = ()
    if_true: tuple[Clause, ...] = ()
    depends: tuple[str, ...] = ()  # ``dependencies=[Depends(f)]`` of its route decorators: ``f``
    # Handlers its calls register by name: ``(route, handler as written)`` for
    # ``app.add_api_route("/v1/responses", create, methods=["POST"])`` (``Project.routes``).
    registered: tuple[tuple[str, str], ...] = ()
    # Routes a router mounted elsewhere may give it (``routes.mounted_routes``): ``(router, method,
    # path text, path glob)``; and the routers its calls mount (``routes.included_routers``):
    # ``(router as written, prefix text, prefix glob, receiver as written)``.
    mounted: tuple[tuple[str, str, str, str], ...] = ()
    includes: tuple[tuple[str, str, str, str], ...] = ()
    # Registrations on a path other modules' constants spell (``routes.named_routes``): ``(router,
    # method, path text, the names in it space-separated, handler)`` for ``@router.post(
    # paths.RESPONSES)`` (handler ``""``: this function) and ``app.add_api_route(paths.RESPONSES, create)``.
    named: tuple[tuple[str, str, str, str, str], ...] = ()
    # ``(attribute, parameter, key)`` of each ``self.attribute = parameter``: what an object keeps
    # of the arguments it was given (a callback called later as ``self.attribute(...)``:
    # ``handoffs``); key: the parameter it is kept under (``self._handlers[kind] = handler``), or "".
    keeps: tuple[tuple[str, str, str], ...] = ()
    # ``(location, key, value)`` of each function a table is written out with, under a constant
    # (``self._handlers = {UsageJob: self._usage}``, ``HANDLERS["usage"] = record_usage``), as
    # written; a string key as JSON (``dispatch.py``).
    tables: tuple[tuple[str, str, str], ...] = ()
    # the names it binds other than by ``import``, and its parameters (``*args`` too): never a
    # global another module defines (``Project.unresolved`` searches no file for them)
    locals: tuple[str, ...] = ()
    # registers route handlers (``routes.defines_handlers``): its locals live as long as the app
    app_factory: bool = False
    # ``(flag, line, text, fallback)`` of each read of the flag whose default keeps
    # (``payload.get("store", True)``), or may (``fallback``: the path of a setting it is filled
    # in from, ``self._settings.store_by_default``): what an omitted flag becomes, wherever the
    # value goes (``Project.keeping_defaults``)
    keeping_reads: tuple[tuple[str, int, str, str], ...] = ()
    # ``(flag, parameter)`` of each parameter a predicate returns where the flag was omitted (``if
    # req.store is None: return default``): what each call passes for it decides what an omitted
    # flag means there (``Project.keeping_defaults``)
    fills: tuple[tuple[str, str], ...] = ()
    # the fields of ``self`` that a method's every true return implies (``return self.keep_record``,
    # ``return self.persist and self.conversation_id is not None``): a test of its call tests them
    # (``if not plan.should_save(): return``: ``fields.py``)
    true_fields: tuple[str, ...] = ()

    def param(self, name: str) -> Param | None:
        for param in self.params:
            if param.name == name:
                return param
        return None


def gate_parameters(params: tuple[Param, ...]) -> tuple[str, ...]:
    """The parameters that may switch a function's writes on: booleans by their default or their
    annotation (``enabled=True``, ``persist: bool``), or, unannotated and without a default, by a
    word of their name (``keep``, ``persist_items``). A write that runs only where one is true
    persists only for a caller that passes a true value (``Project.param_gated``)."""
    return tuple(
        p.name
        for p in params
        if p.default in ("True", "False")
        or (p.annotation is not None and p.annotation.replace(" ", "") in _BOOLEAN_ANNOTATIONS)
        or (p.annotation is None and p.default is None and not _SWITCH_WORDS.isdisjoint(p.name.lower().split("_")))
    )


_BOOLEAN_ANNOTATIONS = frozenset({"bool", "Optional[bool]", "bool|None", "None|bool", "typing.Optional[bool]"})
# The words of a parameter's name that make it a switch of what a function keeps (``gate_parameters``).
_SWITCH_WORDS = frozenset("keep persist retain enabled".split())


# The key of ``ModuleSummary.imports`` that stands for ``from m import *`` (its value: ``m``).
STAR = "*"
# The end of a flag location that its scope rebinds to a value that may permit where the
# client's did not (``store = req.store or settings.keep_all``), as ``Argument.path`` shows it.
REBOUND = ".<rebound>"
# ``ModuleSummary.field_defaults``: the owner of the entries of a module's table of defaults
# (``DEFAULTS = {"store": True}``: ``DEFAULTS[]``), which a read's fallback names as ``DEFAULTS["store"]``.
DICT_ENTRY = "[]"
# ``Argument.made`` of a method of an object built on the spot (``Indexer(repo).on_completed``):
# ``Indexer().on_completed``.
BUILT = "()."
# ``ModuleSummary.field_defaults``: the owner of a module's boolean constants named as settings
# (``DEFAULT_STORE = True``), which a read's fallback names by themselves.
MODULE_CONSTANTS = "<module>"
# The end of a call's text that calls each element of a location (``self.success_callbacks[*]``
# for ``for cb in self.success_callbacks: cb(r)``: ``callbacks.py``); in a type fact, what each
# element of a collection holds (``plugins[*]`` of ``plugins: list[Plugin]``: ``typegather``).
EACH = "[*]"
# The atom of a call of an object's method without arguments that a branch tests
# (``?!plan.should_save()``: ``facts.IMPURE``, then the call), as ``Site.tested`` holds it: its
# truth may be a field's (``FunctionSummary.true_fields``); group 1 is the method's path.
TESTED_CALL = re.compile(r"\?!(\w+(?:\.\w+){1,2})\(\)")
# The mark of a label of ``Argument.made`` that is a parameter's location, not a constant
# (``Job(kind=key)`` where ``key = kind.value``: ``kind=*kind.value``).
LOCATED = "*"
# The mark of ``Site.chosen`` for an element chosen by a parameter of the scope itself, not by
# the item (``for h in self._hooks.get(event, ())`` in ``emit(self, event, payload)``: ``=event``).
PARAMETER = "="
# The mark of a flag in ``Argument.implies`` that the argument's falsity implies.
NEGATED = "!"

# A class field that stands for any name: a model that keeps fields it does not declare.
ANY_FIELD = "*"


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    path: str
    module: str
    imports: tuple[tuple[str, str], ...]  # local name -> qualified name
    classes: tuple[tuple[str, tuple[str, ...]], ...]  # class qualname -> base names as written
    functions: tuple[FunctionSummary, ...]
    # class qualname -> the names annotated in its body (the fields of a pydantic model, a
    # dataclass, a TypedDict), and ``ANY_FIELD`` if it keeps undeclared ones too (``extra="allow"``):
    # whether a request model carries the flag (``Project.receives_flag``)
    class_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # ``(class qualname, field)`` for each class-body field whose default is ``False`` or ``None``
    # (``background: bool = False``): a construction that leaves it out leaves it off (``fields.py``)
    off_fields: tuple[tuple[str, str], ...] = ()
    # ``(class qualname, field, default, line, column)`` for each class-body field named like a flag,
    # or with a flag among its words (``store_by_default``), whose default is a boolean constant
    # (``store: bool = True``, ``Field(default=True)``): what an omitted flag becomes in a request
    # model, or from a setting (``Project.keeping_defaults``)
    field_defaults: tuple[tuple[str, str, bool, int, int], ...] = ()
    # ``(class qualname, field)`` for each class-body field named like a flag and annotated as a
    # boolean (``store: bool``, ``Optional[bool] = None``): an object of that class carries the
    # client's flag to whatever takes it (``Project.carriers``)
    flag_fields: tuple[tuple[str, str], ...] = ()
    # what names and attributes may hold: ``(scope, name, value, where)`` (``typefacts.Fact``)
    types: tuple[tuple[str, str, str, str], ...] = ()
    # ``(name, text)`` of each string constant at its top level or in its classes' bodies (up to
    # 2,000 characters), which another module may use: a path (``RESPONSES = "/v1/responses"``,
    # ``Paths.RESPONSES``: what a route spelled with it means, ``Project._named``) or a statement
    # (``INSERT_TURN = "INSERT ..."``: what a sink's argument regex reads, ``statements.add_statement_sinks``)
    constants: tuple[tuple[str, str], ...] = ()
    # The longer names ``import`` may give the module through namespace packages (``files.namespace_names``):
    # set by the run from where the file is, not part of the summary's JSON (the cache keeps none).
    aliases: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """Plain data for JSON, written out field by field: a worker encodes every summary it
        makes, and a generic walk over the dataclasses cost several times as much. Sites, their
        arguments and verdicts, and parameters are lists in their fields' order (``from_json``
        reads them back in that order): a module has thousands, and their keys were half of
        the text to write, keep and read."""

        # Witness traces as indices into one table of distinct traces, each a list of indices
        # into one table of distinct steps: the sites of a long function share most of their
        # steps and often their whole trace, which a list of dicts per trace repeated
        # (megabytes for one function of thousands of statements).
        # Keyed by identity: the summarizer makes each step once (``witness.Witnesses``), and
        # hashing the steps' fields cost more than the rest of the encoding.
        step_table: list[list] = []
        step_index: dict[int, int] = {}
        traces: list[list[int]] = []
        trace_index: dict[tuple[int, ...], int] = {}

        def trace(steps: tuple[TraceStep, ...]) -> int:
            key = tuple(map(id, steps))
            number = trace_index.get(key)
            if number is None:
                number = trace_index[key] = len(traces)
                indices = []
                for step in steps:
                    index = step_index.get(id(step))
                    if index is None:
                        index = step_index[id(step)] = len(step_table)
                        step_table.append([step.line, step.text, step.relevant])
                    indices.append(index)
                traces.append(indices)
            return number

        def clauses(items):
            return [[list(literal) for literal in clause] for clause in items]

        def argument(a: Argument) -> list:
            return [a.keyword, a.star, [list(p) for p in a.permits], a.path, list(a.implies), a.literal, a.statement, list(a.made), a.each]

        def site(s: Site) -> list:
            span = s.span
            return [
                span.line,
                span.column,
                span.end_line,
                span.end_column,
                s.text,
                s.kind,
                s.sink,
                s.sink_kind,
                s.qualified,
                [argument(a) for a in s.args],
                [[keyword, [argument(a) for a in held]] for keyword, held in s.packed],
                s.bound,
                s.in_flag_branch,
                s.discarded,
                [[v.flag, v.gated, v.gated_if_permitted, trace(v.trace), trace(v.trace_if_permitted), v.forbidden] for v in s.verdicts],
                list(s.pending) if s.pending else None,
                [list(u) for u in s.untyped],
                list(s.gates),
                s.handed,
                s.chosen,
                list(s.tested),
            ]

        functions = [
            {
                "name": f.name,
                "kind": f.kind,
                "class_name": f.class_name,
                "params": [[p.name, p.default, p.positional, p.annotation, p.holds_object] for p in f.params],
                "flags": list(f.flags),
                "closure_flags": list(f.closure_flags),
                "routes": list(f.routes),
                "sites": [site(s) for s in f.sites],
                "nested": f.nested,
                "app_factory": f.app_factory,
                "keeping_reads": [list(r) for r in f.keeping_reads],
                "fills": [list(fill) for fill in f.fills],
                "true_fields": list(f.true_fields),
                "returns": f.returns,
                "guarantees": clauses(f.guarantees),
                "if_none": clauses(f.if_none),
                "invariants": clauses(f.invariants),
                "if_true": clauses(f.if_true),
                "depends": list(f.depends),
                "registered": [list(r) for r in f.registered],
                "mounted": [list(m) for m in f.mounted],
                "includes": [list(i) for i in f.includes],
                "named": [list(n) for n in f.named],
                "keeps": [list(k) for k in f.keeps],
                "tables": [list(t) for t in f.tables],
                "locals": list(f.locals),
            }
            for f in self.functions
        ]
        return {
            "path": self.path,
            "module": self.module,
            "imports": [list(i) for i in self.imports],
            "classes": [[name, list(bases)] for name, bases in self.classes],
            "class_fields": [[name, list(fields)] for name, fields in self.class_fields],
            "off_fields": [list(off) for off in self.off_fields],
            "field_defaults": [list(default) for default in self.field_defaults],
            "flag_fields": [list(declared) for declared in self.flag_fields],
            "types": [list(fact) for fact in self.types],
            "constants": [list(constant) for constant in self.constants],
            "functions": functions,
            "steps": step_table,
            "traces": traces,
        }

    @classmethod
    def from_json(cls, data: dict, shared: dict | None = None) -> ModuleSummary:
        """The summary ``to_json`` gave. ``shared`` (one dict for many summaries) makes equal
        strings and arguments one object: a project's summaries repeat them a lot."""
        table = shared if shared is not None else {}

        def one(value):
            """The object equal to ``value`` that the table already holds (None stays None)."""
            return table.setdefault(value, value)

        steps = [TraceStep(line, one(text), relevant) for line, text, relevant in data.get("steps", ())]
        traces = [tuple(steps[i] for i in indices) for indices in data.get("traces", ())]
        trace = traces.__getitem__

        def argument(a):
            keyword, star, permits, path, implies, literal, statement, made, each = a
            return one(Argument(one(keyword), star, tuple(tuple(p) for p in permits), one(path), tuple(implies), literal, statement, tuple(made), one(each)))

        def site(d):
            line, column, end_line, end_column, text, kind, sink, sink_kind, qualified, args, packed, bound, in_flag_branch, discarded, verdicts, pending, untyped, gates, handed, chosen, tested = d
            return Site(
                span=Span(line, column, end_line, end_column),
                text=one(text),
                kind=kind,
                sink=one(sink),
                sink_kind=one(sink_kind),
                qualified=one(qualified),
                args=tuple(argument(a) for a in args),
                verdicts=tuple(Verdict(flag, gated, if_permitted, trace(on), trace(on_if), forbidden) for flag, gated, if_permitted, on, on_if, forbidden in verdicts),
                bound=bound,
                in_flag_branch=in_flag_branch,
                discarded=discarded,
                packed=tuple((keyword, tuple(argument(a) for a in held)) for keyword, held in packed),
                pending=(pending[0], pending[1], pending[2]) if pending else None,
                untyped=tuple((one(pattern), one(kind)) for pattern, kind in untyped),
                gates=tuple(gates),
                handed=handed,
                chosen=chosen,
                tested=tuple(one(path) for path in tested),
            )

        def clauses(items):
            return tuple(tuple((path, mask) for path, mask in clause) for clause in items)

        functions = tuple(
            FunctionSummary(
                name=f["name"],
                kind=f["kind"],
                class_name=f["class_name"],
                params=tuple(Param(*p) for p in f["params"]),
                flags=tuple(f["flags"]),
                closure_flags=tuple(f["closure_flags"]),
                routes=tuple(f["routes"]),
                sites=tuple(site(s) for s in f["sites"]),
                nested=f["nested"],
                app_factory=f.get("app_factory", False),
                keeping_reads=tuple((str(flag), int(line), str(text), str(fallback)) for flag, line, text, fallback in f.get("keeping_reads", ())),
                fills=tuple((str(flag), str(param)) for flag, param in f.get("fills", ())),
                true_fields=tuple(str(name) for name in f.get("true_fields", ())),
                returns=f.get("returns"),
                guarantees=clauses(f.get("guarantees", ())),
                if_none=clauses(f.get("if_none", ())),
                invariants=clauses(f.get("invariants", ())),
                if_true=clauses(f.get("if_true", ())),
                depends=tuple(f.get("depends", ())),
                registered=tuple((route, handler) for route, handler in f.get("registered", ())),
                mounted=tuple(tuple(m) for m in f.get("mounted", ())),
                includes=tuple(tuple(i) for i in f.get("includes", ())),
                named=tuple(tuple(n) for n in f.get("named", ())),
                keeps=tuple((attribute, param, key) for attribute, param, key in f.get("keeps", ())),
                tables=tuple((location, key, value) for location, key, value in f.get("tables", ())),
                locals=tuple(f.get("locals", ())),
            )
            for f in data["functions"]
        )
        return cls(
            path=data["path"],
            module=data["module"],
            imports=tuple(tuple(i) for i in data["imports"]),
            classes=tuple((name, tuple(bases)) for name, bases in data["classes"]),
            functions=functions,
            class_fields=tuple((name, tuple(fields)) for name, fields in data.get("class_fields", ())),
            off_fields=tuple((str(owner), str(name)) for owner, name in data.get("off_fields", ())),
            field_defaults=tuple(
                (str(owner), str(name), bool(value), int(line), int(column))
                for owner, name, value, line, column in data.get("field_defaults", ())
            ),
            flag_fields=tuple((str(owner), str(name)) for owner, name in data.get("flag_fields", ())),
            types=tuple((scope, name, value, where) for scope, name, value, where in data.get("types", ())),
            constants=tuple((name, text) for name, text in data.get("constants", ())),
        )
