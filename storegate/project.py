"""Across modules: resolve calls, derive sinks, carry call-site facts: the questions the checks
(``storegate.checks``) ask of the whole project.

Works only on ``ModuleSummary`` data, so the order in which files were read cannot matter:
every iteration below runs over sorted names.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, TypeVar

from storegate import callbacks as callbacklib
from storegate import dispatch as dispatchlib
from storegate import contracts as contractlib
from storegate import fields as fieldlib
from storegate import guards
from storegate import inherited as inheritedlib
from storegate import signals as signallib
from storegate import statements as statementlib
from storegate import typefacts
from storegate.model import CONSTANTS, Config, Finding, Flag
from storegate.prefilter import DEFINED, SUBCLASSES, mentions, route_words
from storegate.summary import (
    ANY_FIELD,
    DICT_ENTRY,
    EACH,
    MODULE_CONSTANTS,
    NEGATED,
    REBOUND,
    STAR,
    Argument,
    Clause,
    FunctionSummary,
    ModuleSummary,
    Param,
    Site,
    Span,
    gate_parameters,
    names_an_identifier,
)

if TYPE_CHECKING:
    from storegate.routes import RoutePath


# A router mounted in many places has at most this many prefixes (each one a route to match).
_MOST_PREFIXES = 32

# A chain of calls from a derived sink down to a configured sink: (path, line, callee text).
Chain = tuple[tuple[str, int, str], ...]
# Where the pre-filter should look for what a typed call needs: ``(words, modules)`` (``unresolved``).
Wanted = tuple[set[str], set[str]]
_T = TypeVar("_T")
# The longest attribute path through which a type is followed (``self.a.b.c.m()``), and the most
# facts one resolution follows in a row (``x = y``, ``y = self.z``, ...).
_MAX_PATH = 6
_MAX_HOPS = 12
# Modules whose names annotate without saying what an object is (``Any``, ``Optional``):
# never a library's object (``Project._library``).
_TYPING = frozenset({"typing", "typing_extensions", "builtins", "collections"})
# A route whose handler may be a class's view (``routes.VIEW``, named here: a warm run never imports routes).
_VIEW = "VIEW "
# The most imports followed from a name to what it re-exports (``pkg.Model`` -> ``pkg.models.Model``).
_MAX_REEXPORTS = 8


@dataclass(frozen=True)
class _Function:
    fq: str
    module: ModuleSummary
    summary: FunctionSummary


@dataclass(frozen=True)
class KeepingDefault:
    """A default for a flag, in a handler's request model or among its own parameters, or a read
    of it in what the handler calls, that keeps what a client omitting the flag sends (``store:
    bool = True``, ``payload.get("store", True)``), where the handler's ``routes`` keep nothing
    when it is omitted."""

    flag: str
    what: str  # the model's field (``ChatRequest.store``), the handler's parameter, or the read and its function
    path: str  # where the default is written
    line: int  # 0: not known (a parameter's)
    routes: tuple[str, ...]


class Project:
    def __init__(self, summaries: Iterable[ModuleSummary], config: Config) -> None:
        self.config = config
        # every file, for findings; by module name (the first of a name), for resolving calls
        self.summaries = _distinct_names(sorted(summaries, key=lambda s: (s.module, s.path)))
        self.modules: dict[str, ModuleSummary] = {}
        for summary in self.summaries:
            self.modules.setdefault(summary.module, summary)
        # a module's namespace-package names (``files.namespace_names``), where no module has the name itself
        self._aliases: dict[str, ModuleSummary] = {}
        for summary in self.summaries:
            for alias in summary.aliases:
                if alias not in self.modules:
                    self._aliases.setdefault(alias, summary)
        self.functions: dict[str, _Function] = {}
        self.classes: dict[str, tuple[ModuleSummary, tuple[str, ...]]] = {}
        for module in self.modules.values():
            for function in module.functions:
                if function.kind in ("module", "class", "lambda"):
                    continue
                fq = f"{module.module}.{function.name}"
                self.functions.setdefault(fq, _Function(fq, module, function))
            for name, bases in module.classes:
                self.classes.setdefault(f"{module.module}.{name}", (module, bases))
        self._fields = {f"{m.module}.{name}": fields for m in self.modules.values() for name, fields in m.class_fields}
        self._off_fields = {(f"{m.module}.{owner}", name) for m in self.modules.values() for owner, name in m.off_fields}
        self._receives: dict[tuple[str, str], bool] = {}
        self._boolean_fields = {(f"{m.module}.{owner}", name) for m in self.modules.values() for owner, name in m.flag_fields}
        self._carriers: dict[str, dict[str, str]] = {}
        self._asking: set[tuple[str, str, str]] = set()  # makers being typed (``_resolve``)
        self._consulted: dict[str, frozenset[str]] = {}  # flag -> ``_consulted_classes``
        self._resolved: dict[tuple[str, str, str], tuple[str, ...]] = {}
        self._by_type: set[tuple[str, str, str]] = set()  # resolved through type facts only
        self._stub_classes: set[str] = set()  # classes whose stubs were called: their subclasses are wanted
        self._stub_methods: set[str] = set()  # protocols' methods called: the files defining them are wanted
        self._overridden: set[str] = set()  # the methods of those classes called: what their subclasses must define
        # type facts (``typefacts.Fact``) by (module, scope, name); ``app.state.x`` by ("", STATE, x)
        self._facts: dict[tuple[str, str, str], list[tuple[ModuleSummary, str, str]]] = {}
        self._scopes: dict[tuple[str, str], FunctionSummary] = {}
        for module in self.modules.values():
            for function in module.functions:
                self._scopes[(module.module, function.name)] = function
            for scope, name, value, where in module.types:
                key = ("", scope, name) if scope == typefacts.STATE else (module.module, scope, name)
                self._facts.setdefault(key, []).append((module, value, where))
                if _names_path(value) and not name.endswith(EACH):  # ``self._plugins = plugins``: its elements are the path's
                    self._facts.setdefault((*key[:2], name + EACH), []).append((module, value + EACH, where))
        self._validators: dict[str, list[_Function]] | None = None  # class fq -> its validators
        self._checked: dict[str, list[Clause]] | None = None  # class fq -> the rules others check (``_checks``)
        self._learned: dict[str, dict[tuple[str, ...], tuple[str, int]]] = {}  # flag -> learned sinks
        self._learned_chains: dict[str, dict[str, tuple[Chain, tuple[str, int]]]] = {}  # flag -> ``learned_chains``
        self._sink_kinds: dict[tuple[str, int, str], str] | None = None  # (path, line, text) -> kind
        self.own_state: dict[str, set[str]] = {}  # flag -> derived sinks into their object's own containers
        self._caching: dict[str, set[str]] = {}  # flag -> derived sinks whose chain ends in a cache (``derived_sinks``)
        self._param_gated: dict[str, dict[str, tuple[frozenset[str], ...]]] = {}  # flag -> ``param_gated``
        self._fields_ruled: dict[str, list[tuple[str, list[Clause]]]] = {}  # class fq -> ``_field_rules``
        self._ruled_classes: dict[str, bool] = {}  # class fq -> ``_ruled``
        self._import_maps: dict[str, dict[str, str]] = {}  # path -> local name -> qualified (``_imports``)
        # ``_passed``'s answers, and the calls of each function (``_callers``)
        self._cuts = 0
        self._passed_known: dict[tuple[str, str], list[str]] = {}
        self._passed_wanting: dict[int, dict[tuple[str, str], list[str]]] = {}
        self._callers_of: dict[str, list[tuple[ModuleSummary, FunctionSummary, Site]]] = {}
        # calls that pass another module's SQL constant become the sinks it makes them (``statements.py``)
        statementlib.add_statement_sinks(self)
        # a queued job's handler, chosen from a table by the job's kind, is called where it is queued (``dispatch.py``)
        dispatched = dispatchlib.add_dispatch(self)
        # calls of callbacks become calls of the functions passed for them (``callbacks.py``)
        self._callbacks = callbacklib.add_callbacks(self).joined(dispatched)
        # a signal's receivers run where it is sent (``signals.py``)
        self._callbacks = self._callbacks.joined(signallib.add_signals(self))
        # calls of what a class inherits from a library's (``Turn.create``) become sinks (``inherited.py``)
        # (only the methods are kept: the ``Inherited`` holds this project, and a cycle would keep
        # each pre-filter round's project alive until a full collection)
        self._inherited_methods = inheritedlib.add_inherited(self).methods
        # calls that pass SQL that writes to a helper whose parameter reaches a sink become it
        statementlib.add_passed_statement_sinks(self)
        # sites that run only where a field carrying the flag is true are gated by it (``fields.py``)
        fieldlib.add_field_gates(self)

    # -- resolution -----------------------------------------------------------------------

    def resolve(self, module: ModuleSummary, function: FunctionSummary, site: Site) -> _Function | None:
        targets = self.resolve_all(module, function, site)
        return targets[0] if targets else None

    def resolve_all(self, module: ModuleSummary, function: FunctionSummary, site: Site) -> list[_Function]:
        """Every function a call may reach: the one its name gives, or else the method of each
        class its receiver may hold (``classes_of``), or else, for an item put on a queue, each
        function that takes items from it (``_queue_consumers``; of an attribute of ``self``,
        those of the same class when it has any): a call is a sink if any of them is."""
        if site.qualified is not None and site.qualified.startswith(callbacklib.PASSED):
            passed = self.functions.get(site.qualified[len(callbacklib.PASSED) :])  # a callback's function
            return [passed] if passed is not None else []
        key = (module.path, function.name, site.text)
        if key not in self._resolved:
            fq = self._resolve(module, function, site)
            if fq is not None:
                self._resolved[key] = (fq,)
            else:
                self._resolved[key] = self._typed(module, function, site.text, frozenset(), None) if site.kind == "call" else ()
                if self._resolved[key]:
                    self._by_type.add(key)
                elif (queue := _queue_end(site, _PUTS)) is not None:
                    consumers = self._queue_consumers.get(self._container_key(module, function, queue), ())
                    own = f"{module.module}.{function.class_name}." if function.class_name and queue.startswith(("self.", "cls.")) else None
                    if own is not None and any(fq.startswith(own) for fq in consumers):
                        consumers = tuple(fq for fq in consumers if fq.startswith(own))  # the class's own queue
                    self._resolved[key] = tuple(fq for fq in consumers if fq != f"{module.module}.{function.name}")
        return [self.functions[fq] for fq in self._resolved[key]]

    @cached_property
    def _queue_consumers(self) -> dict[str, tuple[str, ...]]:
        """A long-lived queue (``self._queue``, a module's ``_PENDING``) -> the functions that take
        items from it (``item = await self._queue.get()``): what is put on it is handed to them,
        as a write-behind worker takes the turns a handler queued. A ``get`` with a key, or on a
        local, is not a queue's."""
        found: dict[str, list[str]] = {}
        for fq, target in self.functions.items():
            summary = target.summary
            for site in summary.sites:
                queue = _queue_end(site, _GETS)
                head = queue.partition(".")[0] if queue is not None else ""
                if queue is not None and (head in ("self", "cls") or head not in summary.locals):
                    found.setdefault(self._container_key(target.module, summary, queue), []).append(fq)
        return {key: tuple(dict.fromkeys(fqs)) for key, fqs in found.items()}

    def _resolve(self, module: ModuleSummary, function: FunctionSummary, site: Site) -> str | None:
        if site.kind != "call":
            return None
        if "()." in site.text:  # `make().method`: a method of the class `make` is annotated to return
            maker, _, method = site.text.partition("().")
            held, _, method = method.rpartition(".")  # `services().chat.create`: of what an attribute holds
            built = self._known_class(module, maker, function.name)
            if built is not None:  # `Repo(session).save(x)`: a method of the class it builds
                return self._held_method([built], held, method)
            made = self._resolve(module, function, replace(site, text=maker, qualified=_qualify_prefix(site, maker)))
            asked = (module.path, function.name, maker)
            if made is None and "(" not in maker and asked not in self._asking:
                # a method of an attribute's class (``self._blobs.for_tenant(ctx).put(...)``); once
                # on the stack: what types the attribute may ask for this very call
                self._asking.add(asked)
                try:
                    typed = self._typed(module, function, maker, frozenset(), None)
                finally:
                    self._asking.discard(asked)
                made = typed[0] if len(typed) == 1 else None
            if made is None:
                return None
            returns = self.functions[made].summary.returns
            if returns is None:
                return None
            return self._held_method(self._class_candidates(self.functions[made].module, returns), held, method)
        parts = site.text.split(".")
        if parts[0] in ("self", "cls") and len(parts) == 2:
            class_name = self._self_class(module, function, parts[0])
            if class_name is None:
                return None
            return self._method(f"{module.module}.{class_name}", parts[1], set())
        if len(parts) == 1:
            name = parts[0]
            scope = function.name if function.kind not in ("module", "class") else ""
            # nested functions of this one, then of the enclosing functions, then the module
            while scope:
                candidate = f"{module.module}.{scope}.{name}"
                if candidate in self.functions:
                    return candidate
                scope = scope.rpartition(".")[0]
            candidate = f"{module.module}.{name}"
            if candidate in self.functions:
                return candidate
        if site.qualified:
            return self._lookup(site.qualified, 0)
        candidate = f"{module.module}.{site.text}"  # Class.method of this module
        return candidate if candidate in self.functions else None

    def _held_method(self, classes: list[str], held: str, method: str) -> str | None:
        """The first of ``classes`` whose attributes ``held`` (dotted, or "") hold a class with
        ``method``: ``services().chat.create`` of a factory annotated ``-> Services``."""
        for attribute in held.split(".") if held else ():
            classes = [found for owner in classes for found in self._attribute(owner, attribute, frozenset(), None)]
        for option in classes:
            found = self._method(option, method, set())
            if found is not None:
                return found
        return None

    # -- types: what a name or an attribute may hold (``typefacts``) ---------------------------

    def _typed(self, module: ModuleSummary, function: FunctionSummary, text: str, seen: frozenset, wanted: Wanted | None) -> tuple[str, ...]:
        """The methods a call ``a.b.m`` reaches through the classes ``a.b`` may hold."""
        parts = text.split(".")
        if "(" in text or len(parts) < 2:
            return ()
        found: dict[str, None] = {}
        for class_fq in self.classes_of(module, function, parts[:-1], seen, wanted):
            fq = self._method(class_fq, parts[-1], set())
            if fq is not None:
                found[fq] = None
                held = len(parts) > 2 or self._long_lived(module, function, parts[0])
                if not self.functions[fq].summary.sites and (held or (function.param(parts[0]) is not None and _names_storage(class_fq))):
                    # a stub (abstract, a protocol's) of a service the object or module holds, or
                    # that an object holds (``agent.memory.add_items``), or of a storage interface a
                    # parameter is annotated with (``backend: StorageBackend``): what overrides it runs
                    found.update(dict.fromkeys(self._overrides(class_fq, parts[-1], wanted is not None)))
            elif wanted is not None:
                self._unknown_bases(class_fq, set(), *wanted)
        return tuple(found)

    def _abstract(self, target: _Function) -> bool:
        """Whether a method is an interface's: no call or write in it, in a protocol or an abstract
        class, or overridden by a subclass of the project (what runs is an implementation's)."""
        summary = target.summary
        if summary.sites or summary.class_name is None:
            return False
        class_fq = f"{target.module.module}.{summary.class_name}"
        if self._interface(class_fq):
            return True
        return bool(self._overrides(class_fq, summary.name.rpartition(".")[2], False))

    def _long_lived(self, module: ModuleSummary, function: FunctionSummary, root: str) -> bool:
        """Whether a path rooted at ``root`` names what an object or a module holds (``self.store``,
        a module's ``store``, ``app.state.store``), a local fetched from one by a call (``tool =
        self.agent.tool_named(name)``, ``handler = REGISTRY.get(kind)``: one of its services), or
        an element of one (``for plugin in self._plugins``, the plugins a server runs; ``for cb in
        self._callbacks``, the loggers a gateway registered); not a parameter or another local: an abstract parameter
        (``context: ConversationContext``) is most often the request's own object, and so is what
        a constructor made here."""
        if self._holder(function, root):
            return True
        if function.param(root) is not None:
            return False
        facts = self._facts.get((module.module, function.name, root), ())
        return bool(facts) and all(
            (value.endswith(EACH) or (value.endswith("()") and "." in value))
            and self._holder(function, value.partition(".")[0].removesuffix(EACH))
            for _, value, _ in facts
        )

    def _interface(self, class_fq: str) -> bool:
        """Whether a class of the project names ``Protocol`` or ``ABC`` among its bases."""
        _, bases = self.classes.get(class_fq, (None, ()))
        return any(base.rpartition(".")[2] in ("Protocol", "ABC") for base in bases)

    @staticmethod
    def _holder(function: FunctionSummary, root: str) -> bool:
        """Whether ``root`` is an object's or a module's own name in ``function``: ``self``, ``cls``,
        or a global (neither a parameter nor a local)."""
        return root in ("self", "cls") or (function.param(root) is None and root not in function.locals)

    def _overrides(self, class_fq: str, name: str, wanting: bool) -> list[str]:
        """The methods ``name`` of the project's subclasses of ``class_fq``, at any depth: a
        receiver typed with an abstract class or a protocol (``store: ResponseStore``) holds one
        of them. ``wanting``: the pre-filter is still reading, and the files whose classes name
        these among their bases may define more of them (``_stub_classes``)."""
        found: list[str] = []
        queue, seen = [class_fq], {class_fq}
        while queue:
            current = queue.pop(0)
            if wanting:
                self._stub_classes.add(current.rpartition(".")[2])
                self._overridden.add(name)
                if current in self._implementers:  # and the files that define the method: an implementer need not name it
                    self._stub_methods.add(name)
            for sub in (*self._subclasses.get(current, ()), *self._implementers.get(current, ())):
                if sub not in seen:
                    seen.add(sub)
                    queue.append(sub)
                    if f"{sub}.{name}" in self.functions:
                        found.append(f"{sub}.{name}")
        return found

    @cached_property
    def _implementers(self) -> dict[str, list[str]]:
        """Protocol fq -> the project's other classes that define every method it declares (not
        its dunders): a ``typing.Protocol`` is implemented without being named among the bases."""
        methods: dict[str, set[str]] = {}
        for fq in self.functions:
            owner, _, name = fq.rpartition(".")
            if owner in self.classes and not name.startswith("__"):
                methods.setdefault(owner, set()).add(name)
        found: dict[str, list[str]] = {}
        owners = sorted(methods)
        for class_fq, (_, bases) in sorted(self.classes.items()):
            declared = methods.get(class_fq)
            if declared and any(base.rpartition(".")[2] == "Protocol" for base in bases):
                found[class_fq] = [other for other in owners if other != class_fq and declared <= methods[other]]
        return found

    @cached_property
    def _subclasses(self) -> dict[str, list[str]]:
        """Class fq -> the project's classes that name it among their bases, in a stable order."""
        found: dict[str, list[str]] = {}
        for class_fq, (module, bases) in sorted(self.classes.items()):
            where = class_fq[len(module.module) + 1 :].rpartition(".")[0]
            for base in bases:
                known = self._known_class(module, base, where)
                if known is not None and known != class_fq:
                    found.setdefault(known, []).append(class_fq)
        return found

    def classes_of(self, module: ModuleSummary, function: FunctionSummary, parts: list[str], seen: frozenset, wanted: Wanted | None) -> list[str]:
        """The project's classes (fq) the path ``parts`` may hold in ``function``, in a stable
        order: through ``app.state.x``, else its root (``self``, a local or parameter, a global of
        this module or of the module it is imported from), then each attribute in turn."""
        if len(parts) > _MAX_PATH:
            return []
        if len(seen) > _MAX_HOPS:
            return self._cut()
        keyed = _keyed_part(parts)  # ``request.app[CHAT_COMPLETIONS]``: the class its key names
        held = self._evaluate(module, function.name, keyed[1], seen, wanted) if keyed is not None else []
        named = _namespace_name(function, parts)
        if keyed is not None and any(key.startswith(typefacts.KEYED) for key in held):
            classes = [key[len(typefacts.KEYED) :] for key in held if key.startswith(typefacts.KEYED)]
            rest = parts[keyed[0] + 1 :]
        elif named is not None:
            index, name = named
            classes = self._held(("", typefacts.STATE, name), seen, wanted)
            if wanted is not None:
                wanted[0].add(name)  # any file that sets ``app.state.<name>`` or ``app["<name>"]``
            rest = parts[index + 1 :]
        elif typefacts.namespace(parts):  # ``request.app.state`` itself, handed to a helper
            return [typefacts.STATE]
        else:
            classes, rest = self._root(module, function, parts, seen, wanted)
        for attribute in rest:
            classes = list(dict.fromkeys(c for owner in classes for c in self._item_or_attribute(owner, attribute, seen, wanted)))
        return classes

    def _item_or_attribute(self, owner: str, attribute: str, seen: frozenset, wanted: Wanted | None) -> list[str]:
        """``_attribute``; for an item under a key (``db["usage"]``) that no fact names, an item
        of what the attribute holds, when that is a library's object (a database's collection)."""
        found = self._attribute(owner, attribute, seen, wanted)
        if found or not attribute.endswith("]"):
            return found
        return _library_objects(self._attribute(owner, attribute.partition("[")[0], seen, wanted), "[]")

    def _root(self, module: ModuleSummary, function: FunctionSummary, parts: list[str], seen: frozenset, wanted: Wanted | None) -> tuple[list[str], list[str]]:
        """The classes the first names of ``parts`` hold, and the attributes left to follow."""
        name = parts[0]
        if name in ("self", "cls"):
            class_name = self._self_class(module, function, name)
            return ([f"{module.module}.{class_name}"] if class_name else []), parts[1:]
        local = (module.module, function.name, name)
        parameter = function.param(name) is not None
        if local in self._facts:
            held = self._held(local, seen, wanted)
            if held or not parameter:
                return held, parts[1:]
        if parameter:  # untyped, or typed with no class of the project's (``Any``): what callers pass
            if function.class_name is not None and function.name == f"{function.class_name}.__init__":
                return self._constructed(module, function, name, seen, wanted), parts[1:]
            return self._passed(module, function, name, seen, wanted), parts[1:]
        enclosing = self._enclosing_fact(module, function, name)
        if enclosing is not None:
            return self._held(enclosing, seen, wanted), parts[1:]
        if (module.module, "", name) in self._facts:
            return self._held((module.module, "", name), seen, wanted), parts[1:]
        imported = self._imports(module).get(name)
        if imported is None:
            return [], parts[1:]
        if imported in typefacts.APPLICATION_PROXIES:  # ``current_app.store``
            return [typefacts.STATE], parts[1:]
        qualified = [*imported.split("."), *parts[1:]]  # ``g.store`` with ``import app.globals as g``
        if wanted is not None:  # the module that defines it may be any prefix not read yet
            _add_prefixes(".".join(qualified), wanted[1])
        for end in range(len(qualified) - 1, 0, -1):
            owner = ".".join(qualified[:end])
            key = (owner, "", qualified[end])
            if key in self._facts:
                return self._held(key, seen, wanted), qualified[end + 1 :]
        return [], []

    def _self_class(self, module: ModuleSummary, function: FunctionSummary, name: str) -> str | None:
        """The class ``self`` (or ``cls``) is an instance of in ``function``: its own class, or,
        in a function nested in a method that does not bind the name itself (a handler a
        server's ``register_routes`` method defines), the enclosing method's."""
        if function.class_name is not None or not function.nested or _binds(function, name):
            return function.class_name
        scope = function.name.rpartition(".")[0]
        while scope:
            enclosing = self._scopes.get((module.module, scope))
            if enclosing is not None and enclosing.class_name is not None:
                return enclosing.class_name
            if enclosing is None or enclosing.kind == "class" or _binds(enclosing, name):
                return None  # a class body, or a function binding the name: not a method's
            scope = scope.rpartition(".")[0]
        return None

    def _enclosing_fact(self, module: ModuleSummary, function: FunctionSummary, name: str) -> tuple[str, str, str] | None:
        """The key of the facts of ``name`` in the nearest enclosing function that has some, when
        ``function`` (nested) does not bind it: an app factory's ``log = TurnLog()`` used by its
        handlers. A class body on the way is skipped: its names are not its methods'."""
        if not function.nested or name in function.locals:
            return None
        scope = function.name.rpartition(".")[0]
        while scope:
            if f"{module.module}.{scope}" not in self.classes:
                key = (module.module, scope, name)
                if key in self._facts:
                    return key
            scope = scope.rpartition(".")[0]
        return None

    def _held(self, key: tuple[str, str, str], seen: frozenset, wanted: Wanted | None) -> list[str]:
        """The classes the facts of one name hold (each evaluated where it was written)."""
        if key in seen:
            return self._cut()
        seen = seen | {key}
        found: dict[str, None] = {}
        for module, value, where in self._facts.get(key, ()):
            found.update(dict.fromkeys(self._evaluate(module, where, value, seen, wanted)))
        return list(found)

    def _evaluate(self, module: ModuleSummary, where: str, value: str, seen: frozenset, wanted: Wanted | None) -> list[str]:
        """The classes a fact's value holds: a class it names or builds, what the function it
        calls is annotated to return, or what the path it names holds."""
        function = self._scopes.get((module.module, where))
        if function is None:
            return []
        if value.endswith("[]"):  # an item of what the path holds: of a library's object only
            held = self._evaluate(module, where, value[:-2], seen, wanted)
            return _library_objects(held, "[]")
        if value.endswith(EACH):  # an element of what a path holds (``for plugin in self._plugins``)
            return self.classes_of(module, function, value.split("."), seen, wanted)
        owner, _, method = value[:-2].rpartition(".") if value.endswith("()") else ("", "", "")
        if owner.endswith(("()", "[]")):  # a method of what a call built (``MongoClient().get_database()``): of a library's only
            held = self._evaluate(module, where, owner, seen, wanted)
            return _library_objects(held, f".{method}()")
        if value.endswith("]"):  # an item under a typed key (``request.app[RESPONSES]``): the key's class
            written = value[value.rindex("[") + 1 : -1]
            head = written.partition(".")[0]
            if head in function.locals or function.param(head) is not None:
                return []  # a key the function computes (``self.cache[key]``): no module's typed key
            keys = self._evaluate(module, where, written, seen, wanted)
            return [key[len(typefacts.KEYED) :] for key in keys if key.startswith(typefacts.KEYED)]
        if value.startswith(typefacts.CALLS):  # a factory: calling it makes the class (below)
            named = value[len(typefacts.CALLS) :]
            known = self._known_class(module, named, where) or self._library(module, function, named)  # (or a library's: ``Session``)
            if known is None and wanted is not None:
                self._want_name(module, named, wanted, function)
            return [typefacts.CALLS + known] if known is not None else []
        if value.startswith(typefacts.KEYED):
            named = value[len(typefacts.KEYED) :]
            known = self._known_class(module, named, where)
            if known is None and wanted is not None:
                self._want_name(module, named, wanted, function)
            return [typefacts.KEYED + known] if known is not None else []
        callee = value[:-2] if value.endswith("()") else value
        known = self._known_class(module, callee, where)
        if known is not None:
            return [known]
        if callee == value:
            held = self.classes_of(module, function, value.split("."), seen, wanted)
            if not held and wanted is not None:
                self._want_name(module, value, wanted, function)
            library = None if held else self._library(module, function, value)
            return held if library is None else [library]
        site = Site(Span(0, 0, 0, 0), callee, "call", None, _qualify(module, callee))
        fq = self._resolve(module, function, site)
        targets = (fq,) if fq is not None else self._typed(module, function, callee, seen, wanted)
        if not targets and ("." in callee or function.param(callee) is not None):  # an object or a factory called
            called = self.classes_of(module, function, callee.split("."), seen, wanted)
            made_by_call = _made_by_call(called)  # a factory annotated ``Callable[[], UnitOfWork]``
            if made_by_call:
                return made_by_call
            if "." in callee:  # an object held (``self._sessions()``): its class's ``__call__``
                targets = tuple(dict.fromkeys(m for m in (self._method(c, "__call__", set()) for c in called) if m is not None))
                libraries = _library_objects(called, "()")
                if not targets and libraries:  # a library's (a session factory held: ``async_sessionmaker()()``)
                    return libraries
        found: dict[str, None] = {}
        for target in (self.functions[t] for t in targets):
            returns = target.summary.returns
            made = self._known_class(target.module, returns) if returns is not None else None
            if made is None and returns is not None:  # or a library's (``-> Session``)
                made = self._library(target.module, target.summary, returns)
            if made is not None:
                found[made] = None
            elif returns is not None and wanted is not None:
                self._want_name(target.module, returns, wanted)
            elif returns is None:  # unannotated: the object it always builds, if it does (``typefacts.RETURN``)
                key = (target.module.module, target.summary.name, typefacts.RETURN)
                for holder, value, at in self._facts.get(key, ()):
                    built = self._known_class(holder, value[:-2], at)
                    if built is not None:
                        found[built] = None
        if not targets and wanted is not None:
            self._want_name(module, callee, wanted, function)
        library = None if targets else self._library(module, function, callee)
        return list(found) if library is None else [library]

    def _library(self, module: ModuleSummary, function: FunctionSummary, written: str) -> str | None:
        """``typefacts.LIBRARY`` and the qualified name of a class or function of another package
        that ``written`` names in ``module`` (``Redis``, ``redis.Redis``, ``aiosqlite.connect``):
        what it builds or returns is that library's object. None for a name of the project's, or
        one not imported (a local, a builtin)."""
        head, dot, rest = written.partition(".")
        if head in function.locals:  # a local (``redis = ...``) is not the module it shadows
            return None
        imported = self._imports(module).get(head)
        if imported is None or imported.partition(".")[0] in self._packages or imported.partition(".")[0] in _TYPING:
            return None
        if imported in typefacts.APPLICATION_PROXIES and rest in ("", "_get_current_object"):
            return typefacts.STATE  # ``current_app._get_current_object()``: the running application
        return typefacts.LIBRARY + imported + dot + rest

    @cached_property
    def _packages(self) -> frozenset[str]:
        """The first names of the project's modules (``app`` of ``app.db``): an import from one
        of them is the project's, never a library's."""
        return frozenset(name.partition(".")[0] for module in self.summaries for name in (module.module, *module.aliases))

    def _attribute(self, class_fq: str, name: str, seen: frozenset, wanted: Wanted | None) -> list[str]:
        """The classes an attribute of a class (or of its bases) may hold; of ``app.state``
        (``typefacts.STATE``, as a helper's parameter holds it), what is set on it."""
        if class_fq == typefacts.STATE or typefacts.application(class_fq):  # ``app.store``, a Flask or Quart app's
            if wanted is not None:
                wanted[0].add(name.partition("[")[0])  # any file that sets ``app.state.<name>``
            return self._held(("", typefacts.STATE, name), seen, wanted)
        if class_fq.startswith(typefacts.LIBRARY):  # what a library's object holds is of the library too
            return [f"{typefacts.LIBRARY}{typefacts.library_object(class_fq)}.{name}"]
        if class_fq not in self.classes:
            return []
        if ("class", class_fq, name) in seen:
            return self._cut()
        seen = seen | {("class", class_fq, name)}
        module, bases = self.classes[class_fq]
        key = (module.module, class_fq[len(module.module) + 1 :], name)
        if key in self._facts:
            return [self._described(held, wanted) for held in self._held(key, seen, wanted)]
        for base in bases:
            known = self._known_class(module, base)
            found = self._attribute(known, name, seen, wanted) if known is not None else []
            if found:
                return found
        if wanted is not None:
            self._unknown_bases(class_fq, set(), *wanted)
        return []

    def _described(self, class_fq: str, wanted: Wanted | None) -> str:
        """What reading an attribute that holds an object of ``class_fq`` gives: a descriptor's
        ``__get__`` returns it (``svc = ServiceAccessor()`` in a view's class body, ``def __get__(self,
        instance, owner) -> Services``: ``self.svc`` is a ``Services``); else the object itself."""
        getter = self.functions.get(f"{class_fq}.__get__")
        returns = getter.summary.returns if getter is not None else None
        if getter is None or returns is None:
            return class_fq
        described = self._known_class(getter.module, returns)
        if described is None and wanted is not None:
            self._want_name(getter.module, returns, wanted, getter.summary)
        return described or class_fq

    def _constructed(self, module: ModuleSummary, init: FunctionSummary, name: str, seen: frozenset, wanted: Wanted | None) -> list[str]:
        """The classes an unannotated ``__init__`` parameter may hold: what each construction
        of the class in the project passes for it (a path whose type is known there; ``None``
        or nothing passed holds nothing)."""
        class_fq = f"{module.module}.{init.class_name}"
        key = ("constructed", class_fq, name)
        if key in seen:
            return self._cut()
        seen = seen | {key}
        if wanted is not None:
            wanted[0].add(class_fq.rpartition(".")[2])  # a file that constructs it
        positional = [p.name for p in init.params if p.positional][1:]
        found: dict[str, None] = {}
        for caller_module, caller, site in self._constructions.get(class_fq, ()):
            parameter: str | int = name
            passed = [a for a in site.args if a.keyword == name]
            if not passed and name in positional:
                by_position = [a for a in site.args if a.keyword is None and not a.star]
                parameter = positional.index(name)
                passed = by_position[parameter : parameter + 1]
            path = passed[0].path if passed else None
            if path is not None:
                found.update(dict.fromkeys(self.classes_of(caller_module, caller, path.split("."), seen, wanted)))
            elif passed:  # built on the spot: ``Agent(session_db=SessionDB())``
                key = (caller_module.module, caller.name, typefacts.argument_name(site.text, parameter))
                found.update(dict.fromkeys(self._held(key, seen, wanted)))
        return list(found)

    def _passed(self, module: ModuleSummary, function: FunctionSummary, name: str, seen: frozenset, wanted: Wanted | None) -> list[str]:
        """The classes a parameter whose type the code does not say may hold: what each call of
        the function in the project passes for it, a path whose classes are known there. A
        helper handed the request's objects (``_stream(state, body)`` with ``state =
        request.app.state``, ``_save(db, turn)`` with ``db = self.db``) calls their methods.
        Only the calls its name resolves to it (``_callers``) are asked, not those through
        another receiver's type: each step stays a lookup; and only those that functions which
        see the flag or handle a route reach (``_rooted``), whose files the pre-filter reads.
        An answer no cycle or bound cut short is the same wherever it is asked, and is kept
        (``_cut``)."""
        fq = f"{module.module}.{function.name}"
        key = ("passed", fq, name)
        target = self.functions.get(fq)
        if target is None or _static(function):
            return []  # a static method's parameters: what its annotations say only (a helper of many classes)
        if key in seen:
            return self._cut()
        memo = self._passed_known if wanted is None else self._passed_wanting.setdefault(id(wanted[0]), {})
        if (fq, name) in memo:
            return memo[(fq, name)]
        cuts = self._cuts
        seen = seen | {key}
        found: dict[str, None] = {}
        for caller_module, caller, site in self._callers(fq):
            argument = _bound_argument(site, target, name)
            if isinstance(argument, Argument) and argument.path is not None and f"{caller_module.module}.{caller.name}" in self._rooted:
                found.update(dict.fromkeys(self.classes_of(caller_module, caller, argument.path.split("."), seen, wanted)))
        if self._cuts == cuts:
            memo[(fq, name)] = list(found)
        return list(found)

    @cached_property
    def _rooted(self) -> frozenset[str]:
        """The functions that see a flag or handle a route by their decorators, and those they
        call by name (``_resolve``), within ``max-call-depth`` calls: the pre-filter reads them,
        as it reads every function the flag's reach follows."""
        layer = [fq for fq, target in self.functions.items() if target.summary.flags or target.summary.routes]
        found = set(layer)
        for _ in range(self.config.max_call_depth or len(self.functions)):
            following = []
            for fq in layer:
                target = self.functions[fq]
                for site in target.summary.sites:
                    callee = self._resolve(target.module, target.summary, site) if site.kind == "call" else None
                    if callee is not None and callee not in found and callee in self.functions:
                        found.add(callee)
                        following.append(callee)
            if not following:
                break
            layer = following
        return frozenset(found)

    def _cut(self) -> list[str]:
        """Nothing, from a resolution a cycle or the bound stopped: what is found above it then
        depends on where it was asked, and is not kept (``_passed``)."""
        self._cuts += 1
        return []

    def _callers(self, fq: str) -> list[tuple[ModuleSummary, FunctionSummary, Site]]:
        """The calls in the project whose name resolves to the function ``fq`` (``_resolve``)."""
        found = self._callers_of.get(fq)
        if found is None:
            short = fq.rpartition(".")[2]
            found = self._callers_of[fq] = [
                (module, function, site) for module, function, site in self._calls_named.get(short, ()) if self._resolve(module, function, site) == fq
            ]
        return found

    @cached_property
    def _calls_named(self) -> dict[str, list[tuple[ModuleSummary, FunctionSummary, Site]]]:
        """A function's name (the last of a call's) -> the calls in the project written with it."""
        found: dict[str, list[tuple[ModuleSummary, FunctionSummary, Site]]] = {}
        for module in self.summaries:
            for function in module.functions:
                for site in function.sites:
                    if site.kind == "call":
                        found.setdefault(site.text.rpartition(".")[2], []).append((module, function, site))
        return found

    @cached_property
    def _constructions(self) -> dict[str, list[tuple[ModuleSummary, FunctionSummary, Site]]]:
        """Class fq -> the calls in the project that construct it."""
        found: dict[str, list[tuple[ModuleSummary, FunctionSummary, Site]]] = {}
        for name, calls in self._calls_named.items():
            if name[:1].isupper():
                for module, function, site in calls:
                    known = self._known_class(module, site.text, function.name) if "(" not in site.text else None
                    if known is not None:
                        found.setdefault(known, []).append((module, function, site))
        return found

    def _typed_local(self, module: ModuleSummary, function: FunctionSummary, name: str) -> bool:
        """Whether ``name`` is a local or parameter of ``function`` whose type the code says."""
        return function.kind not in ("module", "class") and (module.module, function.name, name) in self._facts

    def _known_class(self, module: ModuleSummary, name: str, where: str = "") -> str | None:
        """The project's class written as ``name`` in ``module`` (in the function ``where``), if it is one."""
        return next((c for c in self._class_candidates(module, name, where) if c in self.classes), None)

    def _want_name(self, module: ModuleSummary, name: str, wanted: Wanted, function: FunctionSummary | None = None) -> None:
        """Where a class or function written as ``name`` in ``module`` (in ``function``) may be defined."""
        head, _, rest = name.partition(".")
        imported = self._imports(module).get(head)
        if imported is not None:  # and where the packages on the way re-export it from, in turn
            trail: list[str] = []
            qualified = imported + ("." + rest if rest else "")
            if self._class_lookup(qualified, trail) is None:
                self._lookup(qualified, 0, trail)
            for tried in trail:
                _add_prefixes(tried, wanted[1])
        elif head not in ("self", "cls") and not (function is not None and self._own_name(module, function, head)):
            self._wanted_global(module, name, wanted[1])

    def _own_name(self, module: ModuleSummary, function: FunctionSummary, name: str) -> bool:
        """Whether ``name``, not imported, is bound in ``function`` (a local or parameter) or at
        the top of ``module`` without a star import (which may bind it too): then no other file
        defines what it holds."""
        if name in function.locals:
            return True
        top = self._scopes.get((module.module, "<module>"))
        return top is not None and name in top.locals and STAR not in self._imports(module)

    def _wanted_global(self, module: ModuleSummary, written: str, modules: set[str]) -> None:
        """Where a name that ``module`` neither imports nor defines (``helper`` of ``helper.run``)
        may be another module's: only in what its star import binds, the star-imported module or
        what that one re-exports (the modules ``_lookup`` tries). Without a star import it is a
        builtin (``list``), a global another module sets on it, or nothing: no file read for it
        could change a finding, a name being resolved in its own module or through its imports
        (``_resolve``, ``_class_candidates``). Not every file that defines such a name: in a
        large project, hundreds bind ``Logger = Any`` for the type checker."""
        star = self._imports(module).get(STAR)
        if star is None:
            return
        trail: list[str] = []
        self._lookup(f"{star}.{written}", 0, trail)
        modules.update(trail)

    def _class_candidates(self, module: ModuleSummary, name: str, where: str = "") -> list[str]:
        """Qualified names a class written as ``name`` in ``module`` may have: written in the
        function ``where``, a class defined in it or in an enclosing function comes first (an app
        factory's own classes)."""
        head, _, rest = name.partition(".")
        options = []
        while where and where != "<module>":
            options.append(f"{module.module}.{where}.{name}")
            where = where.rpartition(".")[0]
        options.append(f"{module.module}.{name}")
        imported = self._imports(module).get(head)
        if imported is not None:
            target = imported + ("." + rest if rest else "")
            options.append(target)
            looked_up = self._class_lookup(target)
            if looked_up:
                options.append(looked_up)
        return options

    def _imports(self, module: ModuleSummary) -> dict[str, str]:
        """A module's imports as a mapping, made once per file: every resolution step reads them."""
        found = self._import_maps.get(module.path)
        if found is None:
            found = self._import_maps[module.path] = dict(module.imports)
        return found

    def _lookup(self, qualified: str, depth: int, trail: list[str] | None = None) -> str | None:
        """A qualified name, following re-exports (``from .mod import f`` in a package).

        ``trail`` collects the names tried, for the pre-filter to look for.
        """
        if trail is not None:
            trail.append(qualified)
        qualified = self._canonical(qualified)
        if qualified in self.functions:
            return qualified
        if depth > _MAX_REEXPORTS:
            return None
        owner, _, name = qualified.rpartition(".")
        while owner:
            module = self.modules.get(owner)
            if module is not None:
                imports = self._imports(module)
                head, _, rest = name.partition(".")
                target = imports.get(head)
                if target is not None and target != qualified:
                    return self._lookup(target + ("." + rest if rest else ""), depth + 1, trail)
                if STAR in imports and imports[STAR] != owner:  # ``from .chat import *`` re-exports
                    return self._lookup(f"{imports[STAR]}.{name}", depth + 1, trail)
                return None
            owner, _, parent = owner.rpartition(".")
            name = f"{parent}.{name}"
        return None

    def _method(self, class_fq: str, name: str, seen: set[str]) -> str | None:
        if class_fq in seen or class_fq not in self.classes:
            return None
        seen.add(class_fq)
        candidate = f"{class_fq}.{name}"
        if candidate in self.functions:
            return candidate
        return self._base_method(class_fq, name, seen)

    def _base_method(self, class_fq: str, name: str, seen: set[str]) -> str | None:
        """The method ``name`` that the bases of ``class_fq`` define (in their order, depth first)."""
        module, bases = self.classes[class_fq]
        imports = self._imports(module)
        for base in bases:
            head, _, rest = base.partition(".")
            options = [f"{module.module}.{base}"]
            if head in imports:
                options.append(imports[head] + ("." + rest if rest else ""))
            for option in options:
                found = self._method(option, name, seen)
                if found is None and option not in self.classes:
                    target = self._class_lookup(option)
                    found = self._method(target, name, seen) if target else None
                if found is not None:
                    return found
        return None

    def _class_lookup(self, qualified: str, trail: list[str] | None = None) -> str | None:
        """The class ``qualified`` names: through a namespace-package name, or the imports that
        re-export it (``from .models import Model`` in a package, which the package above
        re-exports in turn: ``from .inference import Model``), at most ``_MAX_REEXPORTS`` of them.
        ``trail`` collects the names tried, for the pre-filter to look for."""
        for _ in range(_MAX_REEXPORTS):
            if trail is not None:
                trail.append(qualified)
            qualified = self._canonical(qualified)
            if qualified in self.classes:
                return qualified
            owner, _, name = qualified.rpartition(".")
            module = self.modules.get(owner)
            if module is None:
                return None
            imports = self._imports(module)
            target = imports.get(name)
            if target is None and STAR in imports:  # ``from .chat import *`` re-exports
                target = f"{imports[STAR]}.{name}"
            if target is None or target == qualified:
                return None
            qualified = target
        return None

    def _canonical(self, qualified: str) -> str:
        """``qualified`` with a namespace-package name of its module (``app.db.save`` when
        ``app/`` has no ``__init__.py``) replaced by the module's own name (``db.save``)."""
        if not self._aliases:
            return qualified
        owner, _, name = qualified.rpartition(".")
        while owner and owner not in self.modules:
            module = self._aliases.get(owner)
            if module is not None:
                return f"{module.module}.{name}"
            owner, _, parent = owner.rpartition(".")
            name = f"{parent}.{name}"
        return qualified

    def calls(self) -> Iterable[tuple[_Function | None, ModuleSummary, FunctionSummary, Site, _Function | None]]:
        """Every site of every function (module and class bodies too) with its resolved callee."""
        for module in self.summaries:
            for function in module.functions:
                fq = f"{module.module}.{function.name}"
                caller = self.functions.get(fq)
                for site in function.sites:
                    yield caller, module, function, site, self.resolve(module, function, site)

    def unresolved(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """What the functions which can matter call but no known module defines: ``(words,
        modules, mentioned)``; ``modules`` are qualified names, any prefix of which may be the
        module wanted (the pre-filter reads the longest that is one: ``pipeline._Run._targets``);
        ``mentioned`` are the words wanted where they are used, not where
        they are defined: the names of private functions with a flag, of callback receivers
        below the bound (as called: ``run(``, ``prefilter.mentions``), the fields of dicts passed
        on (their callers and producers), of classes whose methods declare routes (the classes
        implementing them), of queues put on whose consumers are not read yet (``_queue``).

        Functions that see a flag or handle a route matter, and so does every function they
        reach through resolved calls, up to ``Config.max_call_depth`` calls away (a deeper write
        is never reported: ``derived_sinks``), except through a call named for observing, which
        no chain goes through (``_observes``). A call that does not resolve may reach a module
        not read yet: by its import-qualified name (the modules it names and re-exports lead
        to), or, for a name that was not imported, what the module's star import binds
        (``_wanted_global``). Private functions with a flag are wanted by name too: their
        callers decide what they may assume at entry.
        """
        words: set[str] = set()
        modules: set[str] = set()
        reached = [
            f for f in self.functions.values() if f.summary.flags or f.summary.routes or f.fq in self._overriding or f.fq in self._named or self._takes_ruled_model(f)
        ]
        for module in self.modules.values():  # the modules whose constants spell a route's path or prefix
            for scope in module.functions:
                spelling = [*(names.split() for _, _, _, names, _ in scope.named), *(_placeholders(text) for _, text, _, _ in scope.includes)]
                for names in spelling:
                    for name in names:
                        trail: list[str] = []
                        if self._constant(module, name, trail) is None:
                            for qualified in trail:
                                _add_prefixes(qualified.rpartition(".")[0], modules)
        reached.extend(self._route_handlers(words, modules))
        reached.extend(
            _Function(f"{m.module}.{f.name}", m, f)
            for m in self.modules.values()
            for f in m.functions
            if f.kind in ("module", "class") and f.flags
        )
        for module in self.modules.values():
            for scope in module.functions:
                for router, *_ in scope.includes:
                    qualified = self._qualified_name(module, router)
                    if qualified.rpartition(".")[0] not in self.modules and self._may_lead_to_routes(qualified):
                        _add_prefixes(qualified, modules)  # a router mounted from here may hold handlers
        seen = {item.fq for item in reached}
        for caller, value in self._callbacks.unresolved:  # functions passed for a callback
            self._wanted_for(caller, value, words, modules)
        mentioned = self._passed_on_words()
        # the classes implementing an API protocol's routed methods name it among their bases,
        # which may be imported through modules not read yet
        mentioned.update(fq.rpartition(".")[0].rpartition(".")[2] for fq in self._declared_routes)
        routed = {fq.rpartition(".")[2] for fq in self._declared_routes}
        for class_fq in self.classes if routed else ():
            if any(f"{class_fq}.{name}" in self.functions for name in routed):
                self._unknown_bases(class_fq, set(), words, modules)
        mentioned.update(self._callbacks.filled)  # where a list of callbacks called is filled (``append(f)``)
        bound = self.config.max_call_depth or len(self.functions) + 1
        queue = deque((function, 0) for function in reached)  # breadth first: each at its least depth
        while queue:
            function, depth = queue.popleft()
            summary = function.summary
            if summary.flags and _callers_all_known(summary):
                mentioned.add(summary.name.rpartition(".")[2])
            for param in summary.params:  # a model's validators are what it may assume at entry
                model = contractlib.annotated_class(param.annotation)
                if model is not None and model not in _SCALARS and not _observes(model.split(".")):
                    self._wanted_class(function.module, model, words, modules)
            if depth == bound:
                continue  # what it calls, its callbacks too, is deeper than any chain reported
            # its callers pass its callbacks: the files that call it (``prefilter.mentions``)
            mentioned.update(f"{word}(" for word in self._callbacks.words.get(function.fq, ()))
            for *_, fallback in summary.keeping_reads:  # the classes of the settings an omitted flag is filled in from
                table = _TABLE_ENTRY.fullmatch(fallback) or _MODULE_CONSTANT.fullmatch(fallback)
                if table is not None:  # or the module of the table of defaults, of the constant
                    self._want_name(function.module, table.group(1), (words, modules), summary)
                elif fallback:
                    self.classes_of(function.module, summary, fallback.rpartition(".")[0].split("."), frozenset(), (words, modules))
            for site in summary.sites:
                statementlib.wanted(self, function.module, site, modules)  # the module of the SQL it passes
                if site.sink is None and not enters(function.fq, site, None):
                    continue  # never a chain (``derived_sinks``): where it leads need not be read
                targets = self.resolve_all(function.module, summary, site)
                if not targets or (function.module.path, summary.name, site.text) in self._by_type:
                    self._wanted_for(function, site, words, modules)
                if not targets and (put_on := _queue_end(site, _PUTS)) is not None:
                    mentioned.add(put_on.rpartition(".")[2])  # a queue's consumers: the files naming it
                for target in targets:
                    if not enters(function.fq, site, target):
                        continue
                    if target.fq not in seen:
                        seen.add(target.fq)
                        queue.append((target, depth + 1))
        # an abstract receiver's class: the files whose classes name it among their bases, and
        # where such a base is when it is imported through modules not read yet (``from api
        # import Inference``, which ``api/__init__.py`` re-exports): else no subclass is known
        words.update(SUBCLASSES + name for name in self._stub_classes)
        words.update(f"{DEFINED}{name}(" for name in self._overridden)  # (``prefilter.subclass_files``)
        mentioned.update(f"{DEFINED}{name}(" for name in self._stub_methods)
        for module, bases in self.classes.values() if self._stub_classes else ():
            for base in bases:
                if base.rpartition(".")[2] in self._stub_classes:
                    self._wanted_class(module, base, words, modules)
        return frozenset(words | mentioned), frozenset(modules), frozenset(mentioned)

    def _takes_ruled_model(self, function: _Function) -> bool:
        """Whether a parameter of ``function`` is annotated with a class whose rules, or whose
        fields' models' rules, name a flag (``req: ResponseCreateRequest`` refusing ``background``
        without ``store``, ``job: BackgroundJob`` holding one): the contracts give it the flag at
        its entry (``_given``), so the pre-filter follows it as it follows a function that reads
        the flag."""
        return any(
            option in self.classes and self._ruled(option) for _, model in _param_classes(function.summary) for option in self._class_candidates(function.module, model)
        )

    def _ruled(self, class_fq: str) -> bool:
        """Whether the rules of a class, or of the models its fields hold, name a flag (``_takes_ruled_model``)."""
        known = self._ruled_classes.get(class_fq)
        if known is None:
            flags = {flag.name for flag in self.config.flags}
            rules = [*self._invariants(class_fq, set()), *(clause for _, found in self._field_rules(class_fq) for clause in found)]
            known = self._ruled_classes[class_fq] = any(path.rpartition(".")[2] in flags for clause in rules for path, _ in clause)
        return known

    def _wanted_for(self, function: _Function, site: Site, words: set[str], modules: set[str]) -> None:
        if site.kind == "call":  # what the receiver's type facts name, in files not read yet
            self._typed(function.module, function.summary, site.text, frozenset(), (words, modules))
        maker = site.text.partition("().")[0]
        if maker != site.text:  # `make().m()`: the class `make` is annotated to return
            self._wanted_returned(function, site, maker, words, modules)
        parts = maker.split(".")
        receiver, _, method = site.text.rpartition(".")
        if receiver and method in self._inherited_methods:  # ``Turn.create``, ``turn.save``: what the class
            # inherits may come from a base not read yet (``inherited.py``)
            named = self._known_class(function.module, receiver.removesuffix("()"))
            holders = [named] if named is not None else self.classes_of(function.module, function.summary, receiver.split("."), frozenset(), None)
            for class_fq in holders:
                self._unknown_bases(class_fq, set(), words, modules)
        if self._typed_local(function.module, function.summary, parts[0]) or typefacts.state_attribute(parts) is not None:
            return  # its facts name what it needs (``request`` of ``request.app.state.x`` names nothing)
        if site.qualified is None and self._own_name(function.module, function.summary, parts[0]):
            return  # a local, a parameter, or a global of its module (``logger = get_logger()``)
        if parts[0] in ("self", "cls"):
            class_name = self._self_class(function.module, function.summary, parts[0])
            if class_name is not None and len(parts) == 2:
                self._unknown_bases(f"{function.module.module}.{class_name}", set(), words, modules)
            return
        qualified = site.qualified.partition("().")[0] if site.qualified else None
        if qualified is None:
            local = f"{function.module.module}.{parts[0]}"
            if function.summary.param(parts[0]) is not None:
                return  # a parameter, never a global: no other module defines it
            if local not in self.classes and local not in self.functions:
                self._wanted_global(function.module, parts[0], modules)  # not imported, not defined here
            return
        trail: list[str] = []
        self._lookup(qualified, 0, trail)
        modules.update(trail)  # the pre-filter reads the longest prefix of each that is a module

    def _wanted_returned(self, function: _Function, site: Site, maker: str, words: set[str], modules: set[str]) -> None:
        """Where the class a known maker returns may be (``_responses(request).create()`` where
        ``_responses`` is annotated ``-> ResponsesService``, a class of a module not read yet)."""
        made = self._resolve(function.module, function.summary, replace(site, text=maker, qualified=_qualify_prefix(site, maker)))
        maker_function = self.functions.get(made) if made is not None else None
        returns = maker_function.summary.returns if maker_function is not None else None
        if maker_function is not None and returns is not None:
            self._wanted_class(maker_function.module, returns, words, modules)

    def _wanted_class(self, module: ModuleSummary, written: str, words: set[str], modules: set[str]) -> None:
        """Where a class written as ``written`` in ``module`` may be, when no module read defines it."""
        if any(option in self.classes for option in self._class_candidates(module, written)):
            return
        head, dot, rest = written.partition(".")
        imported = self._imports(module).get(head)
        if imported is not None:
            trail: list[str] = []
            self._class_lookup(imported + dot + rest, trail)  # the packages that re-export it, in turn
            for name in trail:
                _add_prefixes(name, modules)
        else:
            self._wanted_global(module, written, modules)

    def _unknown_bases(self, class_fq: str, seen: set[str], words: set[str], modules: set[str]) -> None:
        """The modules (or names) where the bases of a class that are not known yet may be."""
        if class_fq in seen or class_fq not in self.classes:
            return
        seen.add(class_fq)
        module, bases = self.classes[class_fq]
        for base in bases:
            known = [c for c in self._class_candidates(module, base) if c in self.classes]
            if known:
                self._unknown_bases(known[0], seen, words, modules)
            else:
                self._wanted_class(module, base, words, modules)

    # -- routes ---------------------------------------------------------------------------

    def routes(self, module: ModuleSummary, function: FunctionSummary) -> tuple[str, ...]:
        """The store-bearing routes ``function`` handles: its decorators', and those of the calls
        anywhere in the project that register it by name (``app.add_api_route(path, create)``,
        ``Route(path, endpoint)``, ``router.add_post(path, handler)``)."""
        fq = f"{module.module}.{function.name}"
        more = (*self._registered.get(fq, ()), *self._mounted.get(fq, ()), *self._overriding.get(fq, ()), *self._named.get(fq, ()))
        found = tuple(dict.fromkeys((*function.routes, *more))) if more else function.routes
        if found and _observes_function(fq):  # a hook around every request named for observing (a quota's) serves none
            found = tuple(route for route in found if route not in self.config.routes)
        return found

    @cached_property
    def _declared_routes(self) -> dict[str, tuple[str, ...]]:
        """Method fq -> the routes its decorators give it, for the methods of classes."""
        return {fq: f.summary.routes for fq, f in self.functions.items() if f.summary.routes and fq.rpartition(".")[0] in self.classes}

    @cached_property
    def _overriding(self) -> dict[str, tuple[str, ...]]:
        """Method fq -> the routes of the base-class method it overrides: a route declared on a
        method of an API protocol (``@webmethod(route=..., method="POST")`` on
        ``Inference.chat_completion``) is handled by every class of the project implementing it."""
        declared = self._declared_routes
        names = {fq.rpartition(".")[2] for fq in declared}
        found: dict[str, tuple[str, ...]] = {}
        for fq in self.functions if names else ():
            owner, _, name = fq.rpartition(".")
            if name in names and owner in self.classes and fq not in declared:
                base = self._base_method(owner, name, {owner})
                if base in declared:
                    found[fq] = declared[base]
        return found

    @cached_property
    def _mounted(self) -> dict[str, tuple[str, ...]]:
        """Handler fq -> the store-bearing routes a router gives it once mounted under a prefix
        (``app.include_router(responses.router, prefix="/v1/responses")`` in another module,
        through routers mounted in routers)."""
        from storegate import routes as routelib  # here: a warm run never imports libcst (routes does)

        found: dict[str, dict[str, None]] = {}
        for module in self.summaries:
            for function in module.functions:
                for router, method, text, glob in function.mounted:
                    for prefix in self._prefixes(f"{module.module}.{router}", frozenset()):
                        path = prefix + routelib.RoutePath(text, glob)
                        if not routelib.known_path(path):
                            continue  # ``prefix=settings.PREFIX`` before ``@router.post("")``: any route
                        registration = routelib.Registration((method,), path, None)
                        routes = routelib.matching(registration, self.config.routes)
                        found.setdefault(f"{module.module}.{function.name}", {}).update(dict.fromkeys(routes))
        return {fq: tuple(routes) for fq, routes in found.items() if routes}

    @cached_property
    def _named(self) -> dict[str, tuple[str, ...]]:
        """Handler fq -> the store-bearing routes of its decorators whose path other modules'
        constants spell (``@router.post(paths.RESPONSES)``, ``routes.named_routes``), under the
        prefixes its router is mounted under, if any."""
        from storegate import routes as routelib  # here: a warm run never imports libcst (routes does)

        found: dict[str, dict[str, None]] = {}
        for module in self.summaries:
            for function in module.functions:
                for router, method, text, names, handler in function.named:
                    if handler:
                        continue  # a call's: ``_registrations``
                    path = self._spelled(module, text, names)
                    for prefix in self._prefixes(f"{module.module}.{router}", frozenset()) or [routelib.RoutePath("", "")]:
                        if routelib.known_path(prefix + path):
                            routes = routelib.matching(routelib.Registration((method,), prefix + path, None), self.config.routes)
                            found.setdefault(f"{module.module}.{function.name}", {}).update(dict.fromkeys(routes))
        return {fq: tuple(routes) for fq, routes in found.items() if routes}

    def _spelled(self, module: ModuleSummary, text: str, names: str) -> RoutePath:
        """A path as written in ``module`` (``{paths.RESPONSES}/cancel``) with each of ``names``
        (space-separated) that another module's constant spells replaced by its text."""
        from storegate.routes import RoutePath, route_glob

        for name in names.split():
            spelled = self._constant(module, name, [])
            if spelled is not None:
                text = text.replace("{" + name + "}", spelled, 1)
        return RoutePath(text, route_glob(text))

    def _constant(self, module: ModuleSummary, name: str, trail: list[str]) -> str | None:
        """The text of the string constant ``name`` as written in ``module`` (``paths.RESPONSES``,
        ``RESPONSES``, ``Paths.RESPONSES``) where another module defines it, through re-exports
        (``from .paths import RESPONSES`` in a package); ``trail`` collects the qualified names
        tried, which the pre-filter looks for when the module is not read yet."""
        for _ in range(_MAX_REEXPORTS):
            qualified = _qualify(module, name)
            if qualified is None:
                return None
            trail.append(qualified)
            owner, _, rest = self._canonical(qualified).rpartition(".")
            while owner and owner not in self.modules:  # ``Paths.RESPONSES``: a class's constant
                owner, _, outer = owner.rpartition(".")
                rest = f"{outer}.{rest}"
            if not owner:
                return None
            module, name = self.modules[owner], rest
            text = dict(module.constants).get(name)
            if text is not None:
                return text
        return None

    @cached_property
    def _includes(self) -> dict[str, list[tuple[RoutePath, str]]]:
        """Router (qualified) -> ``(prefix, what mounts it, qualified)`` for each call mounting it;
        a prefix spelled with another module's constants (``prefix=paths.V1``) as they spell it."""
        from storegate.routes import RoutePath

        found: dict[str, list[tuple[RoutePath, str]]] = {}
        for module in self.summaries:
            for function in module.functions:
                for router, text, glob, receiver in function.includes:
                    mounted_by = self._qualified_name(module, receiver)
                    names = _placeholders(text)
                    spelled = self._spelled(module, text, " ".join(names)) if names else None
                    prefix = spelled if spelled is not None and spelled.text != text else RoutePath(text, glob)
                    found.setdefault(self._qualified_name(module, router), []).append((prefix, mounted_by))
        return found

    def _prefixes(self, router: str, seen: frozenset[str]) -> list[RoutePath]:
        """The prefixes ``router`` is mounted under, outermost first; none when nothing mounts it."""
        from storegate.routes import RoutePath

        found: list[RoutePath] = []
        for prefix, mounted_by in self._includes.get(router, ()):
            if mounted_by in seen or len(seen) > 8:
                continue
            outer = self._prefixes(mounted_by, seen | {router}) or [RoutePath("", "")]
            found.extend(above + prefix for above in outer)
        return found[:_MOST_PREFIXES]

    def _may_lead_to_routes(self, router: str) -> bool:
        """Whether a router mounted here, in a module not read yet, may hold a handler of a
        store-bearing route: when a prefix it is mounted under spells a route's word or has a
        part not known here. Otherwise a route of its own would need that word in its own
        module, which the pre-filter's first round then takes (``prefilter.taken``): a path is
        made of literals and the module's constants (``routes.path_of``)."""
        words = route_words(self.config)
        if not words or "/" in words:
            return True  # a route without a literal word: any path may be one
        return any("*" in prefix.glob or mentions(prefix.text, words) for prefix in self._prefixes(router, frozenset()))

    @staticmethod
    def _qualified_name(module: ModuleSummary, written: str) -> str:
        """A module-level name as written in ``module`` (``responses.router``), qualified through
        the module's imports (``api.responses.router``)."""
        return _qualify(module, written) or f"{module.module}.{written}"

    @cached_property
    def _registered(self) -> dict[str, tuple[str, ...]]:
        """Handler fq -> the routes registrations give it, resolved like calls from where they are
        (a class's view: its methods, each on the route of its name, ``_view_methods``)."""
        found: dict[str, dict[str, None]] = {}
        for module, function, route, site in self._registrations():
            if route.startswith(_VIEW):
                for method, method_route in self._view_methods(module, function, route, site):
                    found.setdefault(method.fq, {})[method_route] = None
                continue
            target = self.resolve(module, function, site)
            if target is not None:
                found.setdefault(target.fq, {})[route] = None
        return {fq: tuple(routes) for fq, routes in found.items()}

    def _view_methods(self, module: ModuleSummary, function: FunctionSummary, route: str, site: Site) -> list[tuple[_Function, str]]:
        """The methods answering a ``VIEW`` route (``routes.VIEW``), when its handler is a class
        of the project: ``post`` on ``POST /v1/responses``, through its bases; none for a function."""
        from storegate import routes as routelib  # here: a warm run never imports libcst (routes does)

        class_fq = self._known_class(module, site.text, function.name)
        if class_fq is None:
            return []
        methods = {verb: self._method(class_fq, verb.lower(), set()) for verb in routelib.HTTP_METHODS}
        answered = {verb for verb, fq in methods.items() if fq is not None}
        found = []
        for method_route in routelib.view_routes(route, answered, self.config.routes):
            fq = methods[method_route.partition(" ")[0]]
            assert fq is not None  # only the answered methods have routes
            found.append((self.functions[fq], method_route))
        return found

    def _registrations(self) -> Iterable[tuple[ModuleSummary, FunctionSummary, str, Site]]:
        """Each registration by name, with the handler's name as a call site to resolve; on a path
        other modules' constants spell, once they are read (``_spelled``)."""
        from storegate import routes as routelib  # here: a warm run never imports libcst (routes does)

        for module in self.summaries:
            for function in module.functions:
                for route, handler in function.registered:
                    yield module, function, route, Site(Span(0, 0, 0, 0), handler, "call", None, _qualify(module, handler))
                for _, method, text, names, handler in function.named:
                    path = self._spelled(module, text, names) if handler else None
                    if path is not None and routelib.known_path(path):
                        site = Site(Span(0, 0, 0, 0), handler, "call", None, _qualify(module, handler))
                        for route in routelib.matching(routelib.Registration((method,), path, handler), self.config.routes):
                            yield module, function, route, site

    def _route_handlers(self, words: set[str], modules: set[str]) -> list[_Function]:
        """The handlers registrations name; for one not read yet, where it may be (into ``words``
        and ``modules``, as ``unresolved`` gives them); of a class's view, its methods."""
        found: list[_Function] = []
        for module, function, route, site in self._registrations():
            if route.startswith(_VIEW) and self._known_class(module, site.text, function.name) is not None:
                found.extend(method for method, _ in self._view_methods(module, function, route, site))
                continue
            target = self.resolve(module, function, site)
            if target is not None:
                found.append(target)
            else:
                self._wanted_for(_Function(f"{module.module}.{function.name}", module, function), site, words, modules)
        return found

    def receives_flag(self, module: ModuleSummary, function: FunctionSummary, flag: Flag) -> bool:
        """Whether a route handler may receive the flag in its request: unless its body model is a
        class of the project that has no field named like it (through its bases) and every other
        parameter is a scalar (a path or query parameter). A ``Request``, a ``dict`` or a model
        from elsewhere may carry it; so may one that reads ``await request.json()``."""
        key = (f"{module.module}.{function.name}", flag.name)
        if key not in self._receives:
            models = []
            for param in function.params:
                if param.name in ("self", "cls"):
                    continue
                model = contractlib.annotated_class(param.annotation)
                if model in _SCALARS:
                    continue
                has = None if model is None else self._has_field(module, model, flag.name, set())
                if has is not False:
                    break
                models.append(model)
            else:
                self._receives[key] = not models
                return not models
            self._receives[key] = True
        return self._receives[key]

    def carriers(self, flag: Flag) -> dict[str, str]:
        """Function fq -> what carries ``flag`` into it (``"ctx: RunContext.store"``), for a function
        that never reads the flag but takes an object whose class declares it a boolean field: a
        runner's ``_run_tool_calls(ctx: RunContext)``, an event hook's ``__call__(event:
        ResponseEvent)``, or that binds a local to what a parser makes of the request (``req =
        parse_responses_request(body)`` in a handler of an action on a response: ``_parsed_locals``).
        The client's answer is in its hands, so it judges its own writes: each
        one is unchecked unless every caller calls it where the flag permits storing
        (``permitted_entries``). Not a route's handler (SG004's), a constructor (the object keeps
        what it is given), one named for observing, or one that judges the flag after all by
        calling a check of it that raises (``require_store(request)``); nor one whose every caller
        judges the call: reads the flag (a repository's ``save(response: Response)``, of a
        response echoing ``store``, saved where the caller checked it), handles a route, or calls
        such a check, or is itself a carrier called only where such callers checked the flag
        (``if store: self._persist(response)``, whose ``self.repository.save(response)`` is judged);
        nor one carried by what a request made (``response: ResponseObject``) that has callers:
        its flag echoes a request's, which the callers' chains judge (a worker's
        ``repo.save(response)`` is reported where the job was handed off without the flag)."""
        if flag.name not in self._carriers:
            found: dict[str, str] = {}
            echoes: set[str] = set()  # carried by what a request made (``response: ResponseObject``)
            for fq, target in self.functions.items():
                summary = target.summary
                last = summary.name.rpartition(".")[2]
                if flag.name in summary.flags or summary.routes or summary.registered or _observes_function(fq):
                    continue
                if last.startswith("__") and last != "__call__":
                    continue
                for param, model in _param_classes(summary):
                    declared = self._flag_field(target.module, model, flag.name, set())
                    if declared is not None:
                        found[fq] = f"{param.name}: {declared}"
                        if _OUTCOME.search(model):
                            echoes.add(fq)
                        break
                else:
                    for local in self._parsed_locals.get((target.module.module, summary.name), ()):
                        declared = self._parsed_flag_field(target, local, flag.name)
                        if declared is not None:
                            found[fq] = f"{local}: {declared}"
                            break
            callers: dict[str, set[str]] = {fq: set() for fq in found}
            judging: set[str] = set()  # callers that read the flag, handle a route, or call a check of it
            ungated: set[str] = set()  # carriers called somewhere where the flag was not checked
            for caller, module, function, site, first in self.calls() if found else ():
                for target in self.resolve_all(module, function, site) if first is not None else ():
                    if caller is not None and target.fq in callers:
                        callers[target.fq].add(caller.fq)
                        verdict = site.verdict(flag.name)
                        if verdict is None or not verdict.gated:
                            ungated.add(target.fq)
                    checks = flag.name in target.summary.flags and bool(target.summary.guarantees)  # ``require_store(request)``
                    if caller is not None and (flag.name in function.flags or checks or self.routes(module, function)):
                        judging.add(caller.fq)
            while True:  # a carrier called only where its callers checked the flag judges its own calls
                judged = {fq for fq in found if fq not in judging and fq not in ungated and callers[fq] and callers[fq] <= judging}
                if not judged:
                    break
                judging |= judged
            found = {
                fq: carried
                for fq, carried in found.items()
                if fq not in judging and not (callers[fq] and (callers[fq] <= judging or fq in echoes))
            }
            self._carriers[flag.name] = found
        return self._carriers[flag.name]

    @cached_property
    def _parsed_locals(self) -> dict[tuple[str, str], list[str]]:
        """(module, function) -> the locals it binds to what a parser makes of a request
        (``req = parse_responses_request(body)``, ``Body.model_validate(payload)``: a call whose
        name begins with one of ``_PARSE_WORDS``): ``carriers``."""
        found: dict[tuple[str, str], list[str]] = {}
        for (module, scope, name), facts in self._facts.items():
            if module and EACH not in name and any(_parses(value) for _, value, _ in facts):
                found.setdefault((module, scope), []).append(name)
        return found

    def _parsed_flag_field(self, function: _Function, local: str, field: str) -> str | None:
        """``Class.field`` when a class the parsed ``local`` may hold declares the flag a boolean."""
        return self._first_in_classes(function, [local], lambda module, name: self._flag_field(module, name, field, set()))

    def _first_in_classes(self, function: _Function, parts: list[str], lookup: Callable[[ModuleSummary, str], _T | None]) -> _T | None:
        """The first answer ``lookup`` gives (of a class's module and its name there) for the
        classes the path ``parts`` may hold in ``function`` (``classes_of``)."""
        for class_fq in self.classes_of(function.module, function.summary, parts, frozenset(), None):
            if class_fq in self.classes:
                module, _ = self.classes[class_fq]
                found = lookup(module, class_fq[len(module.module) + 1 :])
                if found is not None:
                    return found
        return None

    def _flag_field(self, module: ModuleSummary, name: str, field: str, seen: set[str]) -> str | None:
        """``Class.field`` when the class ``name`` (as written in ``module``), or a base of it,
        declares ``field`` a boolean (``ModuleSummary.flag_fields``)."""
        for option in self._class_candidates(module, name):
            if option in seen or option not in self.classes:
                continue
            seen.add(option)
            if (option, field) in self._boolean_fields:
                owner, _ = self.classes[option]
                return f"{option[len(owner.module) + 1 :]}.{field}"
            owner, bases = self.classes[option]
            for base in bases:
                found = self._flag_field(owner, base, field, seen)
                if found is not None:
                    return found
        return None

    def _has_field(self, module: ModuleSummary, name: str, field: str, seen: set[str]) -> bool | None:
        """Whether the class ``name`` (as written in ``module``) or a base has ``field``; ``None``
        when a class on the way is not the project's (a base that adds no fields aside)."""
        for option in self._class_candidates(module, name):
            if option in seen or option not in self.classes:
                continue
            seen.add(option)
            fields = self._fields.get(option, ())
            if field in fields or ANY_FIELD in fields:
                return True
            owner, bases = self.classes[option]
            found: bool | None = False
            for base in bases:
                if base.rpartition(".")[2] in _FIELDLESS_BASES:
                    continue
                has = self._has_field(owner, base, field, seen)
                if has:
                    return True
                if has is None:
                    found = None
            return found
        return None

    # -- contracts ------------------------------------------------------------------------

    def contracts(self) -> dict[str, dict]:
        """Per file (by path), what others guarantee inside its functions, as plain sorted data
        for ``analysis.summarize``: at entry (the invariants of a parameter's model class, a
        dependency's guarantees), after a call (the callee's guarantees, on the arguments), and
        where an error-returning helper's value is assigned (its ``if_none``, unless the local
        holds the error). Files with nothing given are left out."""
        out: dict[str, dict] = {}
        if not promises(self.modules.values()):
            return out  # nothing promised anywhere: the common case costs one pass
        for module in self.summaries:
            functions = {}
            for function in module.functions:
                given = self._given(module, function)
                defaults = self._route_defaults.get(f"{module.module}.{function.name}", {}) if not function.routes else {}
                if defaults := {name: means for name, means in defaults.items() if name in function.flags}:
                    given["defaults"] = defaults
                if given:
                    functions[function.name] = given
            if functions:
                out[module.path] = {"functions": functions}
        return out

    @cached_property
    def _route_defaults(self) -> dict[str, dict[str, bool]]:
        """Function fq -> flag -> what the flag means omitted there when a route that keeps nothing
        by default reaches it (Chat Completions: ``store`` omitted is false), for a flag whose own
        default keeps: the handler of such a route however it is registered (a call from any
        module, a router mounted under a prefix: known only here), and what the handler calls, up
        to ``max_call_depth`` calls away (the service it hands the request to). The summarizer
        gives a decorator's route its default itself (``routes.with_route_default``). A function
        that routes of both defaults reach takes the one that keeps nothing."""
        keeping = {flag.name: flag for flag in self.config.flags if flag.none_means != flag.inverted}
        if not keeping or not self.config.route_defaults:
            return {}
        handlers: dict[tuple[str, ...], list[_Function]] = {}  # by the flags their routes keep nothing of
        for handler in self.functions.values():
            quiet = self._quiet_routes(handler)
            names = tuple(name for name in keeping if quiet.get(name))
            if names:
                handlers.setdefault(names, []).append(handler)
        found: dict[str, dict[str, bool]] = {}
        for names, sources in handlers.items():
            for function in self._within_calls(sources):
                found.setdefault(function.fq, {}).update((name, keeping[name].inverted) for name in names)
        return found

    def _quiet_routes(self, handler: _Function) -> dict[str, tuple[str, ...]]:
        """Flag name -> the routes of ``handler`` (``routes``) on which an omitted flag keeps
        nothing (Chat Completions' ``store``, by its route default or the flag's own)."""
        routes = self.routes(handler.module, handler.summary)
        if not routes:
            return {}
        from storegate.routes import none_means_on  # here: a warm run never imports libcst (routes does)

        found = {}
        for flag in self.config.flags:
            quiet = tuple(r for r in routes if none_means_on(r, flag, self.config.route_defaults) == flag.inverted)
            if quiet:
                found[flag.name] = quiet
        return found

    def _within_calls(self, sources: Iterable[_Function]) -> Iterator[_Function]:
        """``sources`` and every function they reach through resolved calls, up to
        ``max_call_depth`` calls away: breadth first from all of them, each once."""
        queue = deque((function, 0) for function in sources)
        seen = {function.fq for function, _ in queue}
        bound = self.config.max_call_depth or len(self.functions) + 1
        while queue:
            function, depth = queue.popleft()
            yield function
            if depth == bound:
                continue
            for site in function.summary.sites:
                for target in self.resolve_all(function.module, function.summary, site):
                    if target.fq not in seen:
                        seen.add(target.fq)
                        queue.append((target, depth + 1))

    @cached_property
    def keeping_defaults(self) -> dict[str, dict[str, KeepingDefault]]:
        """Function fq -> flag -> the default that keeps what a client omitting the flag sends, on a
        route where an omitted flag keeps nothing (``store: bool = True`` in the body model of a
        Chat Completions handler, or as the handler's own parameter): for the handler and what it
        reaches within ``max_call_depth`` calls; and a read of the flag with such a default in what
        the handler calls (``store=bool(payload.get("store", True))`` in the options parser it
        hands the body to), which the value carries on. A check of the flag there lets the
        omitted flag through (SG006)."""
        if not self.config.route_defaults:
            return {}
        sources: dict[KeepingDefault, list[_Function]] = {}
        # a predicate's default (``_should_store`` filling in an omitted flag, a call of one that
        # leaves it to its caller) keeps where its value decides: in the functions that call it
        # (or make the call), and what they hand the value to (``_decided_by``)
        decided: dict[KeepingDefault, list[_Function]] = {}
        by_name = {flag.name: flag for flag in self.config.flags}
        for handler in self.functions.values():
            quiet_routes = self._quiet_routes(handler)
            for flag in self.config.flags:
                quiet = quiet_routes.get(flag.name, ())
                for param in handler.summary.params if quiet else ():
                    if param.name == flag.name:  # the flag itself, a query or body parameter
                        value = contractlib.boolean_default(param.default)
                        found = None if value is None else (f"parameter '{param.name}' of {handler.summary.name}", value, handler.module.path, 0)
                        if found is not None and found[1] != flag.inverted:  # omitted, it permits storing
                            sources.setdefault(KeepingDefault(flag.name, found[0], found[2], found[3], quiet), []).append(handler)
            if not any(quiet_routes.values()):
                continue
            # the request model of the handler, or of what it hands the body to (``self._chat.create(
            # body: ChatRequest)`` after ``parse_body(request, ChatRequest)``), and the reads of the flag
            # with a keeping default there (``options = ChatOptions.from_payload(payload)``)
            for function in self._within_calls([handler]):
                for _, model in _param_classes(function.summary):
                    if _OUTCOME.search(model):
                        continue  # (what a request made, ``response: ResponseObject``, is no request's body)
                    for flag in self.config.flags:
                        quiet = quiet_routes.get(flag.name, ())
                        found = self._field_default(function.module, model, flag.name, set()) if quiet else None
                        if found is not None and found[1] != flag.inverted:
                            what, _, path, line = found
                            sources.setdefault(KeepingDefault(flag.name, what, path, line, quiet), []).append(handler)
                for name, line, text, fallback in function.summary.keeping_reads:
                    quiet = quiet_routes.get(name, ())
                    if quiet and not fallback:
                        what = f"{text} in {function.summary.name}"
                        sources.setdefault(KeepingDefault(name, what, function.module.path, line, quiet), []).append(handler)
                    elif quiet:  # filled in from a setting: as the setting's class defaults it
                        setting = self._setting_default(function, fallback)
                        if setting is not None and setting[1] != by_name[name].inverted:
                            field, _, path, field_line = setting
                            what = f"{field}, which {function.summary.name} fills in an omitted '{name}' from (line {line}),"
                            default = KeepingDefault(name, what, path, field_line, quiet)
                            if function.summary.if_true:  # a predicate's: where its callers test it
                                decided.setdefault(default, []).extend(self._callers_within(function, handler))
                            else:
                                sources.setdefault(default, []).append(handler)
                for site in function.summary.sites:
                    for target in self.resolve_all(function.module, function.summary, site) if site.kind == "call" else ():
                        for name, parameter in target.summary.fills:
                            quiet = quiet_routes.get(name, ())
                            filled = self._filled_by_caller(function, site, target, by_name[name], parameter) if quiet and name in by_name else None
                            # (a per-API table's entry travels on in what the caller builds: ``Options(keep=wants_storage(body, api))``)
                            if filled is not None and target.summary.if_true and not _KEYED_ENTRY.fullmatch(parameter):
                                decided.setdefault(KeepingDefault(name, *filled, quiet), []).append(function)
                            elif filled is not None:  # a parser's (``from_payload(payload, default_store=...)``): the value travels on
                                sources.setdefault(KeepingDefault(name, *filled, quiet), []).append(handler)
        reached: dict[str, dict[str, KeepingDefault]] = {}
        for default, callers in decided.items():  # first: where a predicate decides, it is what keeps
            for function in self._decided_by(callers, default.flag):
                reached.setdefault(function.fq, {}).setdefault(default.flag, default)
        for default, handlers in sources.items():
            for function in self._within_calls(handlers):
                reached.setdefault(function.fq, {}).setdefault(default.flag, default)
        return reached

    def _callers_within(self, predicate: _Function, handler: _Function) -> list[_Function]:
        """The functions a handler reaches that call ``predicate``."""
        return [
            function
            for function in self._within_calls([handler])
            if any(target.fq == predicate.fq for site in function.summary.sites if site.kind == "call" for target in self.resolve_all(function.module, function.summary, site))
        ]

    def _decided_by(self, callers: list[_Function], flag: str) -> Iterator[_Function]:
        """The functions where a predicate's value decides: those that call it, and what they
        reach that takes the flag as a parameter of its own (``self._finalize(request, response,
        store=store)``): not a sibling that tests the request's flag itself (a streaming
        generator's ``if request.store:``)."""
        calling = {function.fq for function in callers}
        for function in self._within_calls(callers):
            if function.fq in calling or function.summary.param(flag) is not None:
                yield function

    def _filled_by_caller(self, function: _Function, site: Site, target: _Function, flag: Flag, param: str) -> tuple[str, str, int] | None:
        """``(what, path, line)`` when a call of a predicate that returns its parameter ``param``
        where the flag was omitted (``FunctionSummary.fills``: ``should_store(req, default=...)``)
        gives it a value that keeps: its own default when nothing is passed, a constant, or a
        setting whose class defaults it to keep."""
        keeps = not flag.inverted
        short = target.summary.name.rpartition(".")[2]
        entry = _KEYED_ENTRY.fullmatch(param)
        if entry is not None:  # ``return _STORE_DEFAULTS[api]``: the entry the call's key names
            return self._entry_chosen(function, site, target, keeps, *entry.groups())
        bound = _bound_argument(site, target, param)
        if bound is None:
            declared = target.summary.param(param)
            default = contractlib.boolean_default(declared.default) if declared is not None and declared.default is not None else None
            return (f"parameter '{param}' of {short}", target.module.path, 0) if default is keeps else None
        if not isinstance(bound, Argument) or bound.star:
            return None
        if bound.literal:  # a constant (``default=True``)
            if any(name == flag.name and permits for name, permits, _ in bound.permits):
                return f"{short}'s '{param}', which {function.summary.name} passes as a constant,", function.module.path, site.span.line
            return None
        setting = self._setting_default(function, bound.path) if bound.path is not None else None
        if setting is None or setting[1] != keeps:
            return None
        field, _, path, line = setting
        return f"{field}, which {function.summary.name} passes for '{param}' of {short} (line {site.span.line}),", path, line

    def _entry_chosen(self, function: _Function, site: Site, target: _Function, keeps: bool, table: str, param: str) -> tuple[str, str, int] | None:
        """``(what, path, line)`` when a call of a predicate that returns the entry its parameter
        ``param`` keys of a module's ``table`` where the flag was omitted (``_STORE_DEFAULTS[api]``)
        names, by a string, an entry that keeps (``wants_storage(body, "responses")`` in a Chat
        Completions handler). A key not written at the call is left to the table's readers."""
        bound = _bound_argument(site, target, param)
        key = json.loads(bound.made[0]) if isinstance(bound, Argument) and bound.literal and bound.made[:1] and bound.made[0][:1] == '"' else None
        default = self._table_default(target.module, table, key) if isinstance(key, str) else None
        if default is None or default[1] != keeps:
            return None
        entry, _, path, line = default
        return f"{entry}, which {function.summary.name} names for {target.summary.name.rpartition('.')[2]} (line {site.span.line}),", path, line

    def _setting_default(self, function: _Function, fallback: str) -> tuple[str, bool, str, int] | None:
        """``(Class.field, default, path, line)`` of the boolean default of the setting an omitted
        flag is filled in from (``self._settings.persistence.store_by_default``), by the classes
        the path's owner may hold (``classes_of``): the first that declares one."""
        table = _TABLE_ENTRY.fullmatch(fallback)
        if table is not None:
            return self._table_default(function.module, table.group(1), table.group(2))
        if _MODULE_CONSTANT.fullmatch(fallback):
            return self._table_default(function.module, fallback, None)
        owner, _, field = fallback.rpartition(".")
        return self._first_in_classes(function, owner.split("."), lambda module, name: self._field_default(module, name, field, set()))

    def _table_default(self, module: ModuleSummary, table: str, key: str | None) -> tuple[str, bool, str, int] | None:
        """``(TABLE["key"], default, path, line)`` of the boolean entry of a module's table of
        defaults (``SAMPLING_DEFAULTS = {"store": True}``), or with no ``key`` of its boolean
        constant (``DEFAULT_STORE = True``: ``(DEFAULT_STORE, ...)``), in ``module`` or the module it
        imports the table from."""
        imported = self._imports(module).get(table)
        owner, name = (module, table) if imported is None else (self.modules.get(imported.rpartition(".")[0]), imported.rpartition(".")[2])
        if owner is None:
            return None
        wanted = (name + DICT_ENTRY, key) if key is not None else (MODULE_CONSTANTS, name)
        for owner_name, declared, value, line, _ in owner.field_defaults:
            if (owner_name, declared) == wanted:
                return (f'{name}["{key}"]' if key is not None else name), value, owner.path, line
        return None

    def unpassed_field(self, module: ModuleSummary, function: FunctionSummary, site: Site, flag: Flag) -> tuple[str, bool, str, int] | None:
        """``(Class.field, default, path, line)`` when ``site`` builds a project class whose
        field named like the flag defaults to keep, without passing it (by keyword, by position,
        or in a ``**`` dict), and the project gates writes on that field somewhere
        (``_consulted_classes``): ``GenerateReqInput(text=...)`` in a chat adapter, where the
        engine checks ``obj.store`` and the dataclass says ``store: bool = True`` (SG003)."""
        if site.kind != "call" or any(arg.star or arg.keyword == flag.name for arg in site.args):
            return None
        built = self._known_class(module, site.text, function.name)
        if built is None or built not in self._consulted_classes(flag):
            return None
        found = self._field_default(module, site.text, flag.name, set())
        if found is None or found[1] == flag.inverted:
            return None  # declared without a default, or one that keeps nothing
        fields = self._fields.get(built, ())
        positional = sum(1 for arg in site.args if arg.keyword is None)
        return None if flag.name in fields and fields.index(flag.name) < positional else found

    def rebound_field(self, module: ModuleSummary, function: FunctionSummary, site: Site, flag: Flag) -> str | None:
        """The flag location a construction passes for the field named like the flag of a class
        the project gates writes on (``_consulted_classes``), when the caller rebound it to a value
        that may permit where the client's did not (``store = overrides.store or
        session.store``, then ``ResponseCreateRequest(..., store=store)``): what checks the
        object's flag checks a value that is not the client's (``passes_rebound_flag``)."""
        if site.kind != "call":
            return None
        bound = next((arg for arg in site.args if arg.keyword == flag.name), None)
        if bound is None or bound.path is None or not bound.path.endswith(REBOUND):
            return None
        built = self._known_class(module, site.text, function.name)
        return bound.path[: -len(REBOUND)] if built is not None and built in self._consulted_classes(flag) else None

    def _consulted_classes(self, flag: Flag) -> frozenset[str]:
        """The project's classes whose objects some function takes as a parameter and gates
        writes on the flag they carry (it reads the flag through a parameter and consults it),
        or makes from what it is given and passes their flag on (a worker's ``job =
        Job.from_dict(payload)``, then ``capture.should_capture(store=job.store)``)."""
        if flag.name not in self._consulted:
            found: set[str] = set()
            for target in self.functions.values():
                summary = target.summary
                if flag.name not in summary.flags or not _read_through_argument(summary, flag) or not _consults(summary, flag):
                    continue
                for _, model in _param_classes(summary):
                    found.update(self._class_candidates(target.module, model))
                passed = {(arg.path or "").partition(".")[0] for site in summary.sites for arg in site.args if (arg.path or "").endswith("." + flag.name)}
                for site in summary.sites:
                    if site.kind == "call" and site.bound is not None and site.bound in passed:
                        found.update(self._made_models(target.module, summary, site, self.resolve(target.module, summary, site)))
            self._consulted[flag.name] = frozenset(found)
        return self._consulted[flag.name]

    def _field_default(self, module: ModuleSummary, name: str, field: str, seen: set[str]) -> tuple[str, bool, str, int] | None:
        """``(class.field, default, path, line)`` of the boolean default the class ``name`` (as
        written in ``module``) gives ``field``, its own or its first base's that declares it
        (``_has_field``)."""
        for option in self._class_candidates(module, name):
            if option in seen or option not in self.classes:
                continue
            seen.add(option)
            owner, bases = self.classes[option]
            if field in self._fields.get(option, ()):
                qualname = option[len(owner.module) + 1 :]
                for owner_name, declared, value, line, _ in owner.field_defaults:
                    if owner_name == qualname and declared == field:
                        return f"{qualname}.{field}", value, owner.path, line
                return None  # declared with no boolean default
            for base in bases:
                found = self._field_default(owner, base, field, seen)
                if found is not None:
                    return found
            return None
        return None

    def _given(self, module: ModuleSummary, function: FunctionSummary) -> dict:
        entry: list[Clause] = []
        for param in function.params:
            model = contractlib.annotated_class(param.annotation)
            if model is not None and not _observes(model.split(".")):  # a logging object is no request
                roots = {contractlib.FIELDS: param.name}
                for option in self._class_candidates(module, model):
                    entry.extend(contractlib.rename(self._invariants(option, set()), lambda p: contractlib.rerooted(p, roots)))
                    entry.extend(self._field_invariants(option, param.name))
        own = f"{module.module}.{function.class_name}" if function.kind == "method" and function.class_name else None
        if own is not None and not function.invariants and not function.name.rpartition(".")[2].startswith("__"):
            # a model's own method runs on an instance its validators checked (``def plan(self)`` of a
            # request that refuses ``background`` without ``store``); not a validator, nor ``__init__``
            entry.extend(contractlib.rename(self._invariants(own, set()), lambda p: contractlib.rerooted(p, {contractlib.FIELDS: "self"})))
        names = [*function.depends]
        for param in function.params:
            names.extend([*contractlib.dependencies(param.default), *contractlib.dependencies(param.annotation)])
        for name in names:
            entry.extend(self._dependency(module, function, name))
        calls: dict[str, list] = {}
        binds: dict[str, list] = {}
        tests: dict[str, list] = {}
        for site in function.sites:
            target = self.resolve(module, function, site)
            if site.bound is not None:  # a model's rules, of the instance a call makes (``body = Req(**data)``)
                rules = [c for made in self._made_models(module, function, site, target) for c in self._invariants(made, set())]
                if rules:
                    instance = {contractlib.FIELDS: site.bound}
                    binds[f"{site.span.line}:{site.span.column}"] = contractlib.as_data(
                        contractlib.rename(rules, lambda p: contractlib.rerooted(p, instance))
                    )
            if target is None or not (target.summary.guarantees or target.summary.if_none or target.summary.if_true):
                continue
            roots = {}
            for param in target.summary.params:
                bound = _bound_argument(site, target, param.name)
                if isinstance(bound, Argument) and bound.path is not None:
                    roots[param.name] = bound.path
            receiver = site.text.rpartition(".")[0]
            if target.summary.kind == "method" and receiver and all(part.isidentifier() for part in receiver.split(".")):
                roots.setdefault("self", receiver)  # a model's predicate of its own field (``body.wants_persistence()``)
            where = f"{site.span.line}:{site.span.column}"
            guaranteed = contractlib.rename(target.summary.guarantees, lambda p: contractlib.rerooted(p, roots))
            if guaranteed:
                calls[where] = contractlib.as_data(guaranteed)
            if site.bound is not None and target.summary.if_none:
                known = contractlib.rename(target.summary.if_none, lambda p: contractlib.rerooted(p, roots))
                if known := contractlib.unless_object(known, site.bound):
                    binds[where] = contractlib.as_data(known)
            if site.bound is not None and target.summary.guarantees:  # what a factory checked of what it returns
                made = {contractlib.RETURNED: site.bound}
                if known := contractlib.rename(target.summary.guarantees, lambda p: contractlib.rerooted(p, made)):
                    binds[where] = contractlib.as_data([*known, *(tuple(tuple(x) for x in c) for c in binds.get(where, ()))])
            if target.summary.if_true:
                if known := contractlib.rename(target.summary.if_true, lambda p: contractlib.rerooted(p, roots)):
                    tests[where] = contractlib.as_data(known)
        given = {"entry": contractlib.as_data(entry), "calls": calls, "binds": binds, "tests": tests}
        return {key: value for key, value in given.items() if value}

    def _field_invariants(self, class_fq: str, root: str) -> list[Clause]:
        """The rules of the models a class's fields hold, on ``root``'s fields: a job's
        ``request: ResponsesRequest`` keeps its model's rules in the worker given ``job: Job``."""
        found: list[Clause] = []
        for name, rules in self._field_rules(class_fq):
            roots = {contractlib.FIELDS: f"{root}.{name}"}
            found.extend(contractlib.rename(rules, lambda p: contractlib.rerooted(p, roots)))
        return found

    def _field_rules(self, class_fq: str) -> list[tuple[str, list[Clause]]]:
        """Each field of a class that holds a model with rules, with them (``_field_invariants``)."""
        known = self._fields_ruled.get(class_fq)
        if known is None:
            known = []
            for name in self._fields.get(class_fq, ()):
                for held in self._attribute(class_fq, name, frozenset(), None):
                    rules = self._invariants(held, set()) if held != class_fq else []
                    if rules:
                        known.append((name, rules))
            self._fields_ruled[class_fq] = known
        return known

    def _made_models(self, module: ModuleSummary, function: FunctionSummary, site: Site, target: _Function | None) -> list[str]:
        """The project's classes whose instance the call ``site`` returns: a class called
        (``Req(**data)``), a model's parsing classmethod (``Req.model_validate(data)``) or one of
        its own annotated to return it (``Req.from_payload(body) -> "Req"``), a function
        of the project that returns what its ``type[T]`` parameter is given (``read_body(request,
        Req)``, ``-> T``), or a decoder told the type (``msgspec.json.decode(raw, type=Req)``)."""
        written: str | None = None
        head, dot, method = site.text.rpartition(".")
        if self._known_class(module, site.text, function.name) is not None:
            written = site.text
        elif dot and method in _PARSING_METHODS and self._known_class(module, head, function.name) is not None:
            written = head
        elif dot and target is not None and _own_factory(target.summary):
            return [f"{target.module.module}.{target.summary.class_name}"]
        elif target is not None and target.summary.returns is not None:
            for param in target.summary.params:
                if param.annotation is not None and param.annotation.replace(" ", "") in (f"type[{target.summary.returns}]", f"Type[{target.summary.returns}]"):
                    bound = _bound_argument(site, target, param.name)
                    written = bound.path if isinstance(bound, Argument) else None
        elif target is None:
            written = next((arg.path for arg in site.args if arg.keyword == "type"), None)
        if written is None:
            return []
        return [c for c in self._class_candidates(module, written, function.name) if c in self.classes]

    def _invariants(self, class_fq: str, seen: set[str]) -> list[Clause]:
        """What the validators of a class and of its bases guarantee of every instance."""
        if class_fq in seen or class_fq not in self.classes:
            return []
        seen.add(class_fq)
        if self._validators is None:
            self._validators = {}
            for function in self.functions.values():
                if function.summary.invariants and function.summary.class_name is not None:
                    owner = f"{function.module.module}.{function.summary.class_name}"
                    self._validators.setdefault(owner, []).append(function)
        found = [clause for f in self._validators.get(class_fq, []) for clause in f.summary.invariants]
        found.extend(self._checks().get(class_fq, ()))
        module, bases = self.classes[class_fq]
        for base in bases:
            for option in self._class_candidates(module, base):
                found.extend(self._invariants(option, seen))
        return sorted(set(found))

    def _checks(self) -> dict[str, list[Clause]]:
        """class fq -> the rules between the flag and another field that functions checking an
        instance of it enforce: a function with a parameter annotated with the class that raises
        unless the rule holds (``def validate(request: Req)``: ``if request.background and not
        request.store: raise``). Servers check such a request once, where it enters, so the rule
        is read as the model's, like a validator's. Only rules of two fields or more: a check
        that the flag is true (``if not request.store: raise``) guards one path, not the model."""
        if self._checked is None:
            from storegate.flags import is_location  # not at the top: it loads libcst, which the project stage never needs otherwise

            self._checked = {}
            for function in self.functions.values():
                guarantees = function.summary.guarantees
                if not guarantees:
                    continue
                for param in function.summary.params:
                    model = contractlib.annotated_class(param.annotation)
                    if model is None or param.name in ("self", "cls"):
                        continue
                    rules = [
                        clause
                        for clause in guarantees
                        if len(clause) > 1
                        and all(contractlib.root_name(path) == param.name for path, _ in clause)
                        and any(is_location(path, flag) for path, _ in clause for flag in self.config.flags)
                    ]
                    if not rules:
                        continue
                    rules = contractlib.rename(rules, lambda path: contractlib.rerooted(path, {param.name: contractlib.FIELDS}))
                    for option in self._class_candidates(function.module, model):
                        self._checked.setdefault(option, []).extend(rules)
        return self._checked

    def _dependency(self, module: ModuleSummary, function: FunctionSummary, name: str) -> list[Clause]:
        """A FastAPI dependency's guarantees, on the handler's parameters of the same name (or
        else the same annotation): FastAPI gives both the same request value."""
        site = Site(Span(0, 0, 0, 0), name, "call", None, _qualify(module, name))
        target = self.resolve(module, function, site)
        if target is None:
            return []
        roots = {}
        for param in target.summary.params:
            same = [p for p in function.params if p.name == param.name]
            same = same or [p for p in function.params if param.annotation and p.annotation == param.annotation]
            if same:
                roots[param.name] = same[0].name
        return contractlib.rename(target.summary.guarantees, lambda p: contractlib.rerooted(p, roots))

    # -- fixpoints ------------------------------------------------------------------------

    def derived_sinks(self, flag: Flag) -> dict[str, Chain]:
        """Functions without the flag that persist on some path within ``Config.max_call_depth``
        calls: fq -> the shortest chain to the sink (breadth first, so each chain is a shortest
        one and the bound is the chain's length, whatever the order of the functions).

        A chain that ends in the object's own containers (``self._buffer.append``, sink kind
        ``instance``) and goes only through ``self.m()`` calls keeps the request as long as the
        object lives: a caller that made the object itself (``made_here``) keeps nothing through
        it; any other caller persists. Such functions are ``own_state[flag]``; a chain that
        persists otherwise replaces their chain."""
        derived: dict[str, Chain] = {}
        own: set[str] = set()
        self.own_state[flag.name] = own
        # Functions whose chain ends in a write to a container or a file: a lookup that fills one
        # on the way (``resolve_lora``, ``get_model``, ``load_plugin`` writing the plugin's code
        # to disk: ``_looks_up``) caches, it does not persist.
        caching: set[str] = set()
        self._caching[flag.name] = caching
        calls: dict[str, list[tuple[Site, list[_Function]]]] = {}  # fq -> its calls that resolve
        callers: dict[str, set[str]] = {}  # fq -> the functions that call it
        layer: list[str] = []
        carriers = self.carriers(flag)
        for fq in sorted(self.functions):
            function = self.functions[fq]
            if flag.name in function.summary.flags or fq in carriers:
                continue  # judged inside, with its own flag
            # (one named for observing or for credentials has its chains too, for those it is given
            # a piece of text: no other function's chain enters it, ``_callees``)
            for site in function.summary.sites:
                if _field_gated(site, flag):
                    continue
                if site.sink is not None:
                    if not _write_keeps(function, site) or (fq in derived and (fq not in own or site.sink_kind == "instance")):
                        continue
                    if fq not in derived:
                        layer.append(fq)
                    derived[fq] = ((function.module.path, site.span.line, site.text),)
                    _mark(fq, own, site.sink_kind == "instance")
                    _mark(fq, caching, site.sink_kind in _CACHE_KINDS)
                    continue
                targets = self._callees(function, site)
                if targets:
                    calls.setdefault(fq, []).append((site, targets))
                    for target in targets:
                        callers.setdefault(target.fq, set()).add(fq)
        for _ in range(1, self.config.max_call_depth or len(self.functions)):
            known = set(derived)  # the chains of this layer extend only those of the ones before
            mine = set(own)
            candidates = sorted({c for fq in layer for c in callers.get(fq, ()) if c not in derived or c in own})
            layer = []
            for fq in candidates:
                found = None
                for site, targets in calls[fq]:
                    extended = self._extended(fq, site, targets, known, mine, derived, caching)
                    if extended is not None and (found is None or (found[1] and not extended[1])):
                        found = extended
                    if found is not None and not found[1]:
                        break
                if found is None or (fq in derived and found[1]):
                    continue  # nothing, or only its own object again
                derived[fq] = found[0]
                _mark(fq, own, found[1])
                layer.append(fq)
            if not layer:
                break
        return derived

    def _callees(self, function: _Function, site: Site) -> list[_Function]:
        """The functions a call of ``function`` may run that can be a way to a sink
        (``derived_sinks``): never itself, nor a status's record (``records_status``), nor, from
        a function not named for observing, one named so (``_OUT_OF_SCOPE_WORDS``), unless it is
        given a piece of the request's text by name (``_passes_text``: ``usage.record(...,
        prompt=text)``); inside such a function, what it calls is followed."""
        if records_status(site) or not enters(function.fq, site, None):
            return []
        # (the call entered, only a callee named for observing is asked again: most are not)
        return [
            t
            for t in self.resolve_all(function.module, function.summary, site)
            if t.fq != function.fq and (not _observes_function(t.fq) or enters(function.fq, site, t))
        ]

    def ways(self, flag: Flag, derived: dict[str, Chain], fq: str, own_writes: bool = False, seen: frozenset[str] = frozenset()) -> list[Chain]:
        """Each way the derived sink ``fq`` persists through a site of its own, with its chain, one
        per write it ends at, through the ways of what it calls too (``seen``: the functions above,
        at most ``_WAY_DEPTH``): ``derived_sinks`` keeps the shortest only, and a report shows them
        all. Ways its parameters may close (``Site.gates``) are left out, and so are writes to the
        object's own containers unless ``own_writes`` (the caller holds an object that outlives
        the request): whether they keep anything depends on the caller."""
        seen = seen | {fq}
        function = self.functions[fq]
        own, caching = self.own_state.get(flag.name, set()), self._caching.get(flag.name, set())
        known = set(derived)
        found: dict[tuple[str, int, str], Chain] = {}  # the write a way ends at -> the way
        for site in function.summary.sites:
            if site.gates or _field_gated(site, flag):
                continue
            if site.sink is not None:
                if (site.sink_kind != "instance" or own_writes) and _write_keeps(function, site):
                    found.setdefault((function.module.path, site.span.line, site.text), ((function.module.path, site.span.line, site.text),))
                continue
            # a copy of ``caching``: what ``_extended`` learns on the way is ``derived_sinks``' to decide
            extended = self._extended(fq, site, self._callees(function, site), known, own, derived, set(caching))
            if extended is None or not (own_writes or not extended[1]):
                continue
            chain, _, target = extended
            below = self.ways(flag, derived, target.fq, seen=seen) if target.fq not in seen and len(seen) < _WAY_DEPTH else []
            for way in below or [chain[1:]]:  # (each write below the callee, or its shortest chain)
                found.setdefault(way[-1], (chain[0], *way))
        return list(found.values())

    def _extended(
        self, fq: str, site: Site, targets: list[_Function], known: set[str], own: set[str], derived: dict[str, Chain], caching: set[str]
    ) -> tuple[Chain, bool, _Function] | None:
        """The chain through the first of ``targets`` whose chain is ``known``, from ``site`` of
        ``fq``, whether it ends in the object's own containers still (``derived_sinks``), and that
        target (``ways`` follows it down); a chain through a caching lookup makes ``fq`` one too."""
        caller = self.functions[fq]
        for target in targets:
            if target.fq not in known:
                continue
            if _fills_cache(target, caching):
                continue
            if self.into_scratch(caller.module, caller.summary, site, target, derived[target.fq]):
                continue
            on_self = target.fq in own and site.text.split(".")[0] == "self" and site.text.count(".") == 1
            if target.fq in own and not on_self and (self.made_here(caller.module, caller.summary, site) or self.made_per_request(target)):
                continue  # an object made for this call: its containers are scratch
            if target.fq in caching:
                caching.add(fq)
            return ((caller.module.path, site.span.line, site.text), *derived[target.fq]), on_self, target
        return None

    def param_gated(self, flag: Flag, derived: dict[str, Chain]) -> dict[str, tuple[frozenset[str], ...]]:
        """The derived sinks that persist only where their own boolean parameters switch it on:
        fq -> for each of its ways to a sink, the parameters any of which, false, closes it.

        A way is a sink or a call of a derived sink; it is closed by the parameters true wherever
        it runs (``Site.gates``: ``if not enabled: return``), or, for a call of one of these
        functions, by the parameters of its own that it passes to the callee's (``persist=persist``),
        and none is needed where it passes a false constant. A least fixpoint: a function is taken
        only once each way of it is known to close (a cycle closes nothing)."""
        known = self._param_gated.get(flag.name)
        if known is not None:
            return known
        gated: dict[str, tuple[frozenset[str], ...]] = {}
        pending = sorted(fq for fq in derived if any(site.gates for site in self.functions[fq].summary.sites))
        while pending:
            taken = set()
            for fq in pending:
                needs = self._closing(self.functions[fq], derived, gated)
                if needs is not None:
                    gated[fq] = needs
                    taken.add(fq)
            if not taken:
                break
            # what calls one just taken may close now (``persist=persist``)
            pending = [fq for fq in sorted(derived) if fq not in gated and self._calls_any(self.functions[fq], taken)]
        self._param_gated[flag.name] = gated
        return gated

    def _calls_any(self, function: _Function, targets: set[str]) -> bool:
        return any(
            t.fq in targets for site in function.summary.sites if site.sink is None for t in self.resolve_all(function.module, function.summary, site)
        )

    def _closing(
        self, function: _Function, derived: dict[str, Chain], gated: dict[str, tuple[frozenset[str], ...]]
    ) -> tuple[frozenset[str], ...] | None:
        """For each way of ``function`` to a sink, the parameters that close it (``param_gated``);
        ``None`` if some way stays open whatever its parameters."""
        own = {p.name for p in function.summary.params}
        needs: list[frozenset[str]] = []
        for site in function.summary.sites:
            targets = [] if site.sink is not None else [t for t in self._callees(function, site) if t.fq in derived]
            if site.sink is None and not targets:
                continue
            if site.gates:
                needs.append(frozenset(site.gates))
                continue
            if not targets or any(t.fq not in gated for t in targets):
                return None
            for target in targets:
                for closing in gated[target.fq]:
                    passed = _passed_gates(site, target, closing, own)
                    if passed is None:
                        return None
                    if passed:
                        needs.append(passed)
        return tuple(needs)

    def closed(self, flag: Flag, derived: dict[str, Chain], site: Site, target: _Function, caller: _Function | None = None) -> bool:
        """Whether a call of ``target``, a derived sink, reaches no sink: for each way of it, a
        closing parameter gets a false constant, or an argument true only where ``flag`` permits
        (``Argument.implies``: ``log_prompt(body, enabled=should_store)``), or a parameter of the
        ``caller`` (private or nested) that every call of it binds to such an argument
        (``self._tools.run_all(calls, persist=persist_tools)`` in ``_generate(...,
        persist_tools=store)``)."""
        needs = self.param_gated(flag, derived).get(target.fq)
        if needs is None:
            return False

        def off(name: str) -> bool:
            bound = _bound_argument(site, target, name)
            if _switched_off(bound, target, name, flag):
                return True
            passed = bound.path if isinstance(bound, Argument) and bound.path is not None and "." not in bound.path else None
            return caller is not None and passed is not None and caller.summary.param(passed) is not None and self._passes_off(caller, passed, flag)

        return all(any(off(name) for name in closing) for closing in needs)

    def _passes_off(self, function: _Function, name: str, flag: Flag) -> bool:
        """Whether every call of ``function`` binds its parameter ``name`` to a false constant or
        an argument true only where ``flag`` permits. Its callers are all known when it is private
        or nested; a public one is asked too when the parameter defaults off (``persist_tools:
        bool = False``): a caller the project does not show keeps nothing unless it asks to."""
        if not _callers_all_known(function.summary) and not _off(None, function, name):
            return False
        calls = self._calls_reaching(function.fq)
        return bool(calls) and all(_switched_off(_bound_argument(call, function, name), function, name, flag) for _, _, call in calls)

    def _calls_reaching(self, fq: str) -> list[tuple[ModuleSummary, FunctionSummary, Site]]:
        """The calls in the project that may reach the function ``fq``: by its name, or through
        the classes a receiver may hold (``resolve_all``: ``self._streaming.stream(...)``)."""
        short = fq.rpartition(".")[2]
        return [
            (module, function, site)
            for module, function, site in self._calls_named.get(short, ())
            if any(target.fq == fq for target in self.resolve_all(module, function, site))
        ]

    def fills_cache(self, flag: Flag, target: _Function) -> bool:
        """Whether ``target`` is a lookup that fills a cache on the way (``_looks_up``): no chain is
        followed through it, from a function with the flag either (``derived_sinks``)."""
        return _fills_cache(target, self._caching.get(flag.name, set()))

    def into_scratch(self, module: ModuleSummary, function: FunctionSummary, site: Site, target: _Function, chain: Chain) -> bool:
        """Whether ``target``'s chain writes into an object the caller made for this call: it
        starts at a method of a parameter's object (``context.append_output(...)``) and ends in a
        container, and the caller passes, for that parameter, an object it built itself
        (``context = TurnContext(); self._generate(context)``): a request's own state, scratch."""
        root = chain[0][2].partition(".")[0]
        if root in ("self", "cls") or "." not in chain[0][2] or target.summary.param(root) is None:
            return False
        if self._end_kind(chain) != "container":
            return False
        bound = _bound_argument(site, target, root)
        path = bound.path if isinstance(bound, Argument) else None
        return path is not None and self._made_local(module, function, path)

    def made_here(self, module: ModuleSummary, function: FunctionSummary, site: Site) -> bool:
        """Whether the call ``site`` is a method of an object ``function`` made itself: a local
        bound only to a project class's constructor (``parser = StreamParser(); parser.feed(x)``)
        or to a helper that always returns a new one (``_fresh``), or such a call's value
        (``StreamParser().feed(x)``). What the method keeps in the
        object's own containers lives as long as the object, one call: scratch."""
        receiver, dot, _ = site.text.rpartition(".")
        if not dot or function.kind in ("module", "class"):
            return False
        if receiver.endswith("()"):
            return self._fresh(module, receiver[:-2], function.name)
        return self._made_local(module, function, receiver)

    def gate_passed(self, module: ModuleSummary, function: FunctionSummary, site: Site, flag: Flag) -> bool:
        """Whether ``site`` of a private or nested function runs only where a boolean parameter of
        it is true that every call of the function binds to an argument true only where ``flag``
        permits storing (``self._finalize(request, persist=should_store(request))``, then ``if
        persist:``): gated by its callers, though its own flag is never read (``_gate_passed``)."""
        fq = f"{module.module}.{function.name}"
        target = self.functions.get(fq)
        if target is None or not (_callers_all_known(function) or all(_off(None, target, name) for name in site.gates)):
            return False  # (a public one whose switches default off: a caller that omits them keeps nothing)
        calls = [(f"{caller_module.module}.{caller.name}", call, target) for caller_module, caller, call in self._calls_reaching(fq)]
        return _gate_passed(site, calls, flag)

    def made_per_request(self, method: _Function) -> bool:
        """Whether the object a method belongs to is made only while a request is handled: every
        construction of its class is in a function that has a flag, takes an object that carries
        one (``_takes_flag``) or handles a route (a
        ``ResponseBuilder`` a service's ``prepare(body)`` makes and hands on in the turn's
        context). What its methods keep in its own containers lives as long as the request."""
        if method.summary.class_name is None:
            return False
        made = self._constructions.get(f"{method.module.module}.{method.summary.class_name}", ())
        return bool(made) and all(function.flags or function.routes or self._takes_flag(module, function) for module, function, _ in made)

    def _takes_flag(self, module: ModuleSummary, function: FunctionSummary) -> bool:
        """Whether a function takes an object whose class declares a flag a boolean field (a
        ``ctx: RunContext`` of the turn), whether or not it reads it (``carriers``, unjudged)."""
        return any(
            self._flag_field(module, model, flag.name, set()) is not None for _, model in _param_classes(function) for flag in self.config.flags
        )

    def chosen_by_flag(self, module: ModuleSummary, function: FunctionSummary, site: Site, flag: Flag) -> bool:
        """Whether ``site`` calls a method of a local bound, before it, from a call that hands the
        flag to a function of the project that takes it and returns an object (``repo =
        self._selector.for_request(store=request.store)``, ``-> Repository``), reads it out of
        an argument (``self._sink_for(request)``), or that switches on one of its boolean
        parameters (``sessions.open(key, ephemeral=not request.store)``): the flag chose the
        object (one that discards what it is given where the flag forbids storing), so what is
        called on it was decided there, where the flag is judged."""
        receiver, dot, _ = site.text.partition(".")
        if not dot or receiver in ("self", "cls") or function.param(receiver) is not None:
            return False
        for other in function.sites:
            if other.bound != receiver or other.kind != "call" or other.span.line > site.span.line:
                continue
            target = self.resolve(module, function, other)
            if target is None or target.summary.returns in (None, *_PLAIN_RETURNS):
                continue
            if flag.name in target.summary.flags:
                if _read_through_argument(target.summary, flag) and any(arg.path for arg in other.args):
                    return True  # it reads the flag out of what it is handed (``sink_for(request)``)
                bound = _bound_argument(other, target, flag.name) if guards.caller_decides(target.summary, flag) else None
                if isinstance(bound, Argument) and flag.name in bound.implies:
                    return True
            for name in gate_parameters(target.summary.params):  # either way: the callee's choice is its own
                if name == flag.name:
                    continue  # the flag itself, judged above with its sense
                bound = _bound_argument(other, target, name)
                if isinstance(bound, Argument) and (flag.name in bound.implies or NEGATED + flag.name in bound.implies):
                    return True
        return False

    def _made_local(self, module: ModuleSummary, function: FunctionSummary, name: str) -> bool:
        """Whether ``name`` is a local of ``function`` bound only to objects made there
        (``made_here``), or of the function it is nested in (not an app factory, whose locals
        live as long as the app); a declared type beside them (``context: Context``, then
        ``context = TurnContext(...)``) binds nothing."""
        if name in ("self", "cls") or "." in name or function.param(name) is not None:
            return False
        enclosing = self._enclosing_fact(module, function, name)
        if enclosing is not None:  # a closure's: made by the enclosing call, unless it is an app factory's
            outer = self._scopes.get((module.module, enclosing[1]))
            return outer is not None and not outer.app_factory and self._made_local(module, outer, name)
        facts = self._facts.get((module.module, function.name, name), ())
        made = [(holder, value, where) for holder, value, where in facts if value.endswith("()")]
        declared = [(holder, value, where) for holder, value, where in facts if not value.endswith("()")]
        return (
            bool(made)
            and all(self._fresh(holder, value[:-2], where) for holder, value, where in made)
            and all(self._known_class(holder, value, where) is not None for holder, value, where in declared)
        )

    def _fresh(self, module: ModuleSummary, callee: str, where: str) -> bool:
        """Whether a call of ``callee`` in the function ``where`` builds a new object: a project
        class's constructor, or a function that always returns one it built
        (``def make_progress(): p = Progress(); ...; return p``)."""
        if self._known_class(module, callee, where) is not None:
            return True
        function = self._scopes.get((module.module, where))
        if function is None:
            return False
        fq = self._resolve(module, function, Site(Span(0, 0, 0, 0), callee, "call", None, _qualify(module, callee)))
        maker = self.functions.get(fq) if fq is not None else None
        if maker is None:
            return False
        made = self._facts.get((maker.module.module, maker.summary.name, typefacts.RETURN), ())
        return bool(made) and all(self._known_class(holder, value[:-2], at) is not None for holder, value, at in made)

    def permitted_entries(self, flag: Flag) -> set[str]:
        """Functions whose every caller passes a permitting flag (private and nested functions):
        by the argument for a parameter named like it, or, for a flag read through another
        parameter (``request.store``) or from the enclosing function, by a call that is itself
        gated (``_passes_permitted``)."""
        candidates = {
            fq
            for fq, function in self.functions.items()
            if (guards.caller_decides(function.summary, flag) and _callers_all_known(function.summary))
            or (flag.name in function.summary.flags and _read_through_argument(function.summary, flag))
        } | set(self.carriers(flag))
        # and the functions that run a call only where a boolean parameter of theirs is true
        # (``Site.gates``: ``if not persist: return``): their callers may pass the flag for it
        gating = {fq for fq, function in self.functions.items() if any(site.gates for site in function.summary.sites)}
        calls = [
            (f"{module.module}.{function.name}", site, target)
            for _, module, function, site, first in self.calls()
            for target in (self.resolve_all(module, function, site) if first is not None else ())
        ]
        # a worker that hands on an item it took from a queue (``job = await self._queue.get()``,
        # then ``await self._handler(job)``) passes what the queue's producers put: the functions
        # that put on it are asked, each as its callers decide when it does not see the flag
        taken = self._taken_items
        puts: dict[str, list[tuple[str, Site, _Function]]] = {}  # consumer fq -> the puts it takes
        for caller_fq, site, target in calls:
            if target.fq in taken and _queue_end(site, _PUTS) is not None:
                puts.setdefault(target.fq, []).append((caller_fq, site, target))
        relays = {
            put_fq
            for caller_fq, site, target in calls
            if target.fq in candidates and caller_fq in puts and site.verdict(flag.name) is None and _hands_on_item(site, taken[caller_fq])
            for put_fq, _, _ in puts[caller_fq]
            if flag.name not in self.functions[put_fq].summary.flags
        }
        incoming: dict[str, list[tuple[str, Site, _Function]]] = {fq: [] for fq in candidates | gating | relays}
        for caller_fq, site, target in calls:
            if target.fq in incoming:  # every class a receiver may hold: each is called here
                incoming[target.fq].append((caller_fq, site, target))
        permitted = {fq for fq in candidates | relays if incoming[fq]}

        def caller_permitted(caller_fq: str, site: Site) -> bool:
            if caller_fq in permitted:
                return True
            if caller_fq not in puts or not _hands_on_item(site, taken[caller_fq]):
                return False
            return all(_passes_permitted(put, consumer, flag, put_fq in permitted) for put_fq, put, consumer in puts[caller_fq])

        changed = True
        while changed:
            changed = False
            for fq in sorted(permitted):
                for caller_fq, site, target in incoming[fq]:
                    if _gate_passed(site, incoming.get(caller_fq, ()), flag):
                        continue
                    if not _passes_permitted(site, target, flag, caller_permitted(caller_fq, site), self._producers(site, permitted)):
                        permitted.discard(fq)
                        changed = True
                        break
        return permitted - (relays - candidates)

    @cached_property
    def _taken_items(self) -> dict[str, frozenset[str]]:
        """Function fq -> the locals it binds to an item taken from a long-lived queue
        (``job = await self._queue.get()``: ``_queue_consumers``)."""
        found: dict[str, frozenset[str]] = {}
        for fq in {fq for consumers in self._queue_consumers.values() for fq in consumers}:
            summary = self.functions[fq].summary
            items = frozenset(site.bound for site in summary.sites if site.bound and _queue_end(site, _GETS) is not None)
            if items:
                found[fq] = items
        return found


    def _passed_on_words(self) -> set[str]:
        """The fields of the dicts passed on to functions that take a flag from their callers,
        all known (``f(**job.kwargs)``: ``permitted_entries``' candidates), as a keyword
        (``kwargs=``): the files that pass one may hold producers (``_producers``)."""
        found: set[str] = set()
        for module in self.summaries:
            for function in module.functions:
                for site in function.sites:
                    fields = _passed_on(site)
                    target = self.resolve(module, function, site) if fields else None
                    if target is not None and _callers_all_known(target.summary) and any(
                        guards.caller_decides(target.summary, flag) for flag in self.config.flags if flag.name in target.summary.flags
                    ):
                        found.update(f"{field}=" for field in fields)
        return found

    def _producers(self, site: Site, permitted: set[str]) -> list[tuple[tuple[Argument, ...], bool]] | None:
        """For a call that passes a dict it was given (``f(**item.kwargs)``), what every producer
        put in it: the keywords of each dict passed as ``kwargs=`` anywhere in the project, and
        whether the producer's function is permitted at entry. ``None`` for any other call."""
        fields = _passed_on(site)
        if not fields:
            return None
        return [(held, caller in permitted) for caller, held in self._packed.get(fields[0], ())] or None

    @cached_property
    def _packed(self) -> dict[str, list[tuple[str, tuple[Argument, ...]]]]:
        """Keyword -> (function fq, keywords) of each known dict passed by it (``Site.packed``)."""
        found: dict[str, list[tuple[str, tuple[Argument, ...]]]] = {}
        for module in self.summaries:
            for function in module.functions:
                for site in function.sites:
                    for keyword, held in site.packed:
                        found.setdefault(keyword, []).append((f"{module.module}.{function.name}", held))
        return found

    # -- learned sinks ----------------------------------------------------------------------

    def learned_sinks(self, flag: Flag) -> dict[tuple[str, ...], tuple[str, int]]:
        """What the codebase itself treats as persistence: ``learned_key`` -> where it is gated.

        A call or container write that a function with the flag runs only when the flag permits
        storing, inside a branch that tests it (``if store: self._save_turn(r)``), is
        persistence wherever the same function, receiver and method, or container is written
        (SG005). What only an early return gates (``if not store: return`` gates every later
        call, writes or not) is learned only from a call named for writing
        (``self.archive.put(r)``, ``self._save_turn(r)``: ``_writes``); a value the code goes on
        to use (``data = self._serialize(r)``) never is: computed, not kept; nor is what is also
        run where the flag forbids storing (``Verdict.forbidden``), nor what a constructor does to
        its own attributes (``self.tools.append(t)`` in ``__init__``). The first gated place (by
        path and line) is the one a message names."""
        if flag.name not in self._learned:
            learned: dict[tuple[str, ...], tuple[str, int]] = {}
            # what a function runs only where the flag forbids storing is done when nothing is
            # kept (``if store is False: adapt(...)``): never persistence, wherever else it is gated
            vetoed = {
                self.learned_key(module, function, site, flag)
                for module in self.summaries
                for function in module.functions
                if flag.name in function.flags
                for site in function.sites
                if (verdict := site.verdict(flag.name)) is not None and verdict.forbidden
            }
            for module in self.summaries:
                for function in module.functions:
                    if flag.name not in function.flags:
                        continue
                    setup = function.name.rpartition(".")[2] in ("__init__", "__post_init__")
                    for site in function.sites:
                        verdict = site.verdict(flag.name)
                        if verdict is None or not verdict.gated or site.bound is not None:
                            continue
                        if setup and site.text.startswith("self."):
                            continue  # an object filling its own attributes as it is built
                        key = self.learned_key(module, function, site, flag)
                        if key in vetoed:
                            continue
                        if key is not None and not site.in_flag_branch:
                            # after an early return (``if not store: return``), which gates every
                            # later line: only a call named for writing says it writes
                            key = key if key[0] != "container" and _writes(key[-1].rpartition(".")[2]) else None
                        if key is not None:
                            where = (module.path, site.span.line)
                            learned[key] = min(learned.get(key, where), where)
                            if key[0] == "call" and _writes(key[2]):  # its receiver's other writing methods
                                learned[("writer", key[1])] = min(learned.get(("writer", key[1]), where), where)
            self._learned[flag.name] = learned
        return self._learned[flag.name]

    def learned_key(self, module: ModuleSummary, function: FunctionSummary, site: Site, flag: Flag) -> tuple[str, ...] | None:
        """What a site writes to, the same wherever it is written, if it may be persistence:
        a resolved function, a container (``self._turns``, a module's ``TURNS``), or a receiver
        and method (``self.cache.put``). ``None`` for a configured sink (SG001's), a call whose
        value is used (``return self._error(...)``, ``int(time.time())``: computed, not kept; only
        a call that is a statement of its own writes as a write does), a callee that takes the
        flag (it judges its own writes; SG003's), and names that read or log (``get_*``,
        ``logger.info``: ``_reads_or_logs``)."""
        if site.sink is not None or (site.kind == "call" and not site.discarded):
            return None
        if site.kind == "call" and not site.handed and any(other.handed and other.span == site.span for other in function.sites):
            return None  # a hand-off (``transaction.on_commit(lambda: save(r))``): what it hands off is what is gated
        if not _passed(site) and any(_passed(other) and other.span == site.span for other in function.sites):
            return None  # a call that makes calls of functions passed or registered (``callbacks.py``, ``dispatch.py``): they are what is gated
        if site.kind == "write":
            return ("container", self._container_key(module, function, site.text[: -len("[...]")]))
        target = self.resolve(module, function, site)
        if target is not None:
            if self._judges(target, flag, 2) or _reads_or_logs(target.fq.split(".")[-2:]) or not self._may_keep(target, set()):
                return None
            return ("function", target.fq)
        parts = site.text.split(".")
        if "(" in site.text or len(parts) < 2 or _reads_or_logs(parts) or self._typed_local(module, function, parts[0]):
            return None  # a local or parameter does not outlive the call
        if self._untyped_parameter(module, function, parts[0]):
            return None  # what the caller passed (``_passed``)
        return ("call", self._container_key(module, function, ".".join(parts[:-1])), parts[-1])

    def _on_parameter(self, target: _Function, site: Site) -> bool:
        """Whether an unresolved call is a method of a parameter whose type the code does not say
        (``items.append(x)``, ``tasks.add_task(f)``): what the caller passed, not a write of the
        function's own."""
        root = site.text.partition(".")[0]
        return root != site.text and self._untyped_parameter(target.module, target.summary, root)

    def _untyped_parameter(self, module: ModuleSummary, function: FunctionSummary, name: str) -> bool:
        """Whether ``name`` is a parameter of ``function`` (not ``self`` or ``cls``) whose type
        the code does not say: what it holds is what the callers pass (``_passed``)."""
        return name not in ("self", "cls") and function.param(name) is not None and not self._typed_local(module, function, name)

    def _judges(self, target: _Function, flag: Flag, depth: int) -> bool:
        """Whether a function checks the flag itself, or calls one that does within ``depth``
        calls (``_persist(ctx)`` calling ``_persist_io(ctx)``, which tests ``ctx.store``): it
        judges its own writes."""
        if flag.name in target.summary.flags or target.fq in self.carriers(flag):
            return True
        if depth == 0:
            return False
        return any(
            self._judges(callee, flag, depth - 1)
            for site in target.summary.sites
            if site.kind == "call" and site.args
            for callee in self.resolve_all(target.module, target.summary, site)
            if callee.fq != target.fq
        )

    def _may_keep(self, target: _Function, seen: set[str]) -> bool:
        """Whether a project function may write anything at all, as a learned sink must: a sink,
        a container write, a call made as a statement of its own (not a read or a log), or a
        call of a function that may keep. A setter of its own attributes (``record.set_snapshot(r)``:
        ``self.response = r``) keeps nothing, whichever gate it happens to be called under."""
        if target.fq in seen:
            return False  # a cycle: the other sites decide
        if len(seen) > _MAX_HOPS or self._abstract(target):
            return True  # too far to tell, or an interface's method: its implementations may
        seen.add(target.fq)
        for site in target.summary.sites:
            if not target.summary.flags and any(_field_gated(site, flag) for flag in self.config.flags):
                continue  # it keeps only where the caller's plan says to (``if not plan.keep: return``)
            if site.sink is not None or site.kind == "write":
                return True
            if site.kind != "call":
                continue
            callee = self.resolve(target.module, target.summary, site)
            if callee is not None:
                if self._may_keep(callee, seen):
                    return True
            elif site.discarded and not _reads_or_logs(site.text.split(".")) and not self._on_parameter(target, site):
                return True
        return False

    def learned_chains(self, flag: Flag) -> dict[str, tuple[Chain, tuple[str, int]]]:
        """Functions without the flag that write, within ``Config.max_call_depth`` calls, what
        the codebase gates by the flag elsewhere (a learned container, or receiver and method):
        fq -> the shortest chain to that write, and where it is gated. A streaming helper that
        ends ``self.archive.put(r)``, when ``create`` writes it only ``if store:``, persists
        whoever calls it ungated (SG005). A learned function is not an end: its own body says
        what it writes (``derived_sinks``), within the same bound."""
        if flag.name in self._learned_chains:
            return self._learned_chains[flag.name]
        chains: dict[str, tuple[Chain, tuple[str, int]]] = {}
        callers: dict[str, list[tuple[str, Site]]] = {}  # fq -> (caller, its call) for each resolved call
        layer: list[str] = []
        for fq in sorted(self.functions) if self.learned_sinks(flag) else ():
            function = self.functions[fq]
            if flag.name in function.summary.flags or fq in self.carriers(flag) or _observes_function(fq):
                continue  # judged inside, with its own flag; or never a chain
            for site in function.summary.sites:
                if site.sink is not None or _observes(site.text.split(".")):
                    continue
                key = self.learned_key(function.module, function.summary, site, flag)
                gated = self._learned_where(key, flag) if key is not None and key[0] != "function" else None
                if gated is not None and fq not in chains:
                    chains[fq] = (((function.module.path, site.span.line, site.text),), gated)
                    layer.append(fq)
                for target in self.resolve_all(function.module, function.summary, site):
                    if target.fq != fq:
                        callers.setdefault(target.fq, []).append((fq, site))
        for _ in range(1, self.config.max_call_depth or len(self.functions)):
            following = []
            for fq in layer:  # breadth first: each chain is a shortest one
                chain, gated = chains[fq]
                for caller, site in callers.get(fq, ()):
                    if caller not in chains:
                        module = self.functions[caller].module
                        chains[caller] = (((module.path, site.span.line, site.text), *chain), gated)
                        following.append(caller)
            if not following:
                break
            layer = following
        self._learned_chains[flag.name] = chains
        return chains

    def learned_at(self, module: ModuleSummary, function: FunctionSummary, site: Site, flag: Flag) -> tuple[str, int] | None:
        """Where the codebase gates what ``site`` writes to, if it is a learned sink. A method
        call on a container written under the gate elsewhere (``self._turns.append(t)`` after
        ``if store: self._turns[rid] = t``) writes to it too, unless its name reads; so does a
        method named for writing on a receiver another of whose writing methods is gated
        (``self.db.save_messages(m)`` after ``if store: self.db.save_response(r)``)."""
        key = self.learned_key(module, function, site, flag)
        return None if key is None else self._learned_where(key, flag)

    def _learned_where(self, key: tuple[str, ...], flag: Flag) -> tuple[str, int] | None:
        """Where the codebase gates what a site with ``key`` (``learned_key``) writes to, if it does."""
        learned = self.learned_sinks(flag)
        if key in learned:
            return learned[key]
        if key[0] == "call":
            return learned.get(("container", key[1])) or (learned.get(("writer", key[1])) if _writes(key[2]) else None)
        return None

    def _container_key(self, module: ModuleSummary, function: FunctionSummary, text: str) -> str:
        """An object that outlives the request, named the same wherever it is used: ``self.x``
        and ``cls.x`` as written (the same attribute of any service class), a module's global by
        its qualified name (``app.state.TURNS`` wherever it is imported)."""
        head, _, rest = text.partition(".")
        if head in ("self", "cls"):
            if not rest and function.class_name is not None:
                return f"{module.module}.{function.class_name}"  # ``self`` itself: one class
            return f"self.{rest}" if rest else text
        return self._qualified_name(module, text)

    def sink_kind(self, site: Site, chain: Chain | None) -> str:
        """Why a site (or the derived sink it calls, through ``chain``) is persistence: the
        ``Finding.kind`` of a finding on it."""
        if site.sink is not None:
            return _SINK_KIND_NAMES.get(site.sink_kind or "call", site.sink_kind or "configured")
        return self._end_kind(chain) if chain else "derived"

    def _end_kind(self, chain: Chain) -> str:
        """Why the sink a chain ends in is persistence (``sink_kind``)."""
        if self._sink_kinds is None:
            self._sink_kinds = {
                (m.path, s.span.line, s.text): _SINK_KIND_NAMES.get(s.sink_kind or "call", s.sink_kind or "configured")
                for m in self.summaries
                for f in m.functions
                for s in f.sites
                if s.sink is not None
            }
        return self._sink_kinds.get(chain[-1], "derived")


# Parameter annotations that are never a request body (path and query parameters).
_SCALARS = frozenset({"str", "int", "float", "bool", "bytes", "uuid.UUID", "UUID"})
# Bases that add no fields to a model (``Project.receives_flag``).
_FIELDLESS_BASES = frozenset({"BaseModel", "TypedDict", "object", "Generic", "Struct", "Protocol"})

# A queue's methods that put one item on it, and that take one (``Project._queue_consumers``).
_PUTS = {"put": 1, "put_nowait": 1}
_GETS = {"get": 0, "get_nowait": 0}


def _binds(function: FunctionSummary, name: str) -> bool:
    """Whether a function binds ``name`` itself (a parameter, or a local: ``locals`` leaves out
    ``self`` and ``cls``)."""
    return name in function.locals or function.param(name) is not None


def _queue_end(site: Site, methods: dict[str, int]) -> str | None:
    """The queue a call puts on or takes from (``self._queue`` of ``self._queue.put(item)``), when
    it calls one of ``methods`` with as many positional arguments as the method takes; else None."""
    receiver, _, method = site.text.rpartition(".")
    if site.kind != "call" or method not in methods or not receiver or "(" in receiver:
        return None
    if any(argument.star for argument in site.args):
        return None
    positional = sum(1 for argument in site.args if argument.keyword is None)
    return receiver if positional == methods[method] else None


# The sinks a lookup may fill on the way (``Project.derived_sinks``): a container, a file.
_CACHE_KINDS = frozenset({"state", "instance", "file"})
# A model's classmethods that parse input into an instance (pydantic v2 and v1, dataclass helpers).
_PARSING_METHODS = frozenset({"model_validate", "model_validate_json", "model_validate_strings", "parse_obj", "parse_raw", "from_dict", "from_json"})
# Return annotations of values, not of objects a flag may choose (``Project.chosen_by_flag``).
_PLAIN_RETURNS = ("bool", "str", "int", "float", "bytes", "dict", "list", "tuple", "set", "None", "Any", "object")
# A sink kind's name (``sinks.SINK_KINDS``) as a finding says it; other kinds keep their name.
# State that outlives the request (the ``state`` pack) is a container as much as a configured one.
_SINK_KIND_NAMES = {"call": "configured", "state": "container", "instance": "container"}

# The first words of a function that writes out what it is given (``_dump_failed_request``
# writing the request to a file): no lookup, whatever a call of ``json.dump`` reads as.
_DUMP_WORDS = frozenset({"dump"})
# The first words of a function that fetches something (``_fetches_for_itself``).
_FETCH_WORDS = frozenset("get list load fetch read find lookup retrieve refresh".split())
# Names that read, compute, remove or log, never learned as persistence even when gated by the
# flag: a function or method named so (``get_turns``, ``_load``), or with a word that removes
# (``streams.delete``, ``try_evict``: removing keeps nothing, nor does a tombstone of what was
# removed), or a call on a logger or metrics object.
_READ_WORDS = frozenset(
    "get load list fetch read find lookup search query count exists has is can should validate check "
    "detect infer probe estimate classify normalize ensure "
    "parse build make render format compute iter select retrieve resolve generate stream encode decode "
    "serialize deserialize copy to as dump dumps json dict keys values items".split()
)
# Of those, the words of what streams the response (``_looks_up``); not ``generate``: a model's
# generation fills the engine's own caches and request states.
_PRODUCE_WORDS = frozenset("stream iter".split())
# The objects an OpenAI-style API answers with: a function that generates one is the handler's.
_API_OBJECTS = frozenset("response responses completion completions chat reply answer".split())
# The first words of a method that has a model answer (``engine.generate``, ``backend.complete``).
_GENERATE_WORDS = frozenset("generate complete completion completions infer inference predict".split())
# The methods of an HTTP client that ask another server (``session.post(...)``, ``self._post(...)``).
_UPSTREAM_CALLS = frozenset("post request".split())
_REMOVE_WORDS = frozenset("delete deleted remove discard evict clear drop purge prune forget unregister close".split())
_LOG_METHODS = frozenset("debug info warning warn error exception critical log inc dec observe increment gauge timing labels".split())
_LOG_RECEIVERS = frozenset("stats console warnings".split())
# Words that name observing the server rather than keeping the request: logging, alerting,
# metrics, tracing. OpenAI's ``store`` keeps a response and its conversation for later retrieval;
# what a server logs or alerts about is out of its scope, so no chain is followed through a call
# on such an object (``proxy_logging.failure_hook``, ``self.alerting.send_alert``) or of a
# class or function named so (``SlackAlerting.digest``), though it may end in a container or a
# database. Token usage counted for billing is a measure too (``record_usage``), and so is what a
# server prints (``print_verbose``, a callback many functions take). A bare ``log``
# is left out: a ``conversation_log`` or ``log_turn`` may be the store.
_OBSERVE_WORDS = frozenset(
    "logger loggers logging alert alerts alerting alerter metric metrics telemetry tracer tracing statsd "
    "prometheus sentry otel opentelemetry monitoring span spans trace traces usage print verbose spend billing".split()
)
# Words that name the server's own credentials for other services: an OAuth session it refreshes,
# an upstream provider's credentials it renews. What it keeps of them is no part of a request.
_CREDENTIAL_WORDS = frozenset("oauth credential credentials".split())
# Words that name limiting the rate of requests (``_enforce_rate_limit``, ``RateLimiter.hit``,
# ``throttle``): its windows and counters keep how many, not what.
_THROTTLE_WORDS = frozenset("ratelimit ratelimiter ratelimiting throttle throttler throttling limiter quota quotas".split())
_RATE_WORDS = frozenset("limit limits limiting window windows".split())
# A word that names marking something as used (``touch_user``, ``touch_api_key``,
# ``session.touch()``, as ``touch`` and Redis's ``TOUCH`` do): it sets when, not what.
_ACCESS_WORDS = frozenset({"touch"})
_OUT_OF_SCOPE_WORDS = _OBSERVE_WORDS | _CREDENTIAL_WORDS | _THROTTLE_WORDS | _ACCESS_WORDS
# An inference engine's caches of model state: its KV cache and the blocks that hold it, a
# prefix (radix) cache of prompts. Prompt caching reuses what the model computed for a prompt,
# whatever ``store`` says (OpenAI's own does); it keeps no response for retrieval. A name is one
# only with a word of each kind (``store_kv_blocks``, ``PrefixCache``, ``token_to_kv_pool``),
# or as one word (``kvcache``; ``apc``, automatic prefix caching): a bare ``kv`` (``kv_store.put``) or ``cache``
# (``response_cache``) may be the store.
_MODEL_STATE_WORDS = frozenset("kv prefix radix".split())
_MODEL_CACHE_WORDS = frozenset("cache caches caching cached block blocks pool".split())
_MODEL_CACHE_NAMES = frozenset("kvcache prefixcache radixcache apc".split())


# The first word of a method named for writing: a receiver one of whose writing methods the
# codebase gates by the flag is written by the others too (``self.db.save_messages(m)`` beside
# ``if store: self.db.save_response(r)``: ``learned_at``).
_WRITE_WORDS = frozenset({"save", "store", "put", "add", "insert", "upsert", "append", "write", "persist", "record", "push"})


def _writes(method: str) -> bool:
    """Whether a method is named for writing (``_WRITE_WORDS``)."""
    return method.lstrip("_").lower().split("_")[0] in _WRITE_WORDS


def _reads_or_logs(parts: Sequence[str]) -> bool:
    """Whether a callee (its dotted name, split) reads, computes, removes or logs by its name."""
    name = parts[-1].lstrip("_").lower()
    receiver = parts[-2].lstrip("_").lower() if len(parts) > 1 else ""
    words = name.split("_")
    return words[0] in _READ_WORDS or not _REMOVE_WORDS.isdisjoint(words) or name in _LOG_METHODS or receiver in _LOG_RECEIVERS or _observes(parts)


def _write_keeps(function: _Function, site: Site) -> bool:
    """Whether the sink ``site`` of ``function`` keeps what it is given (``derived_sinks``): not a
    file of what it observes (``json.dump(usage, f)``, ``open(metrics_path, "a")``), nor a cache
    that a lookup fills (``_looks_up``), nor what a fetch that takes nothing keeps of what it
    fetched (``_fetches_for_itself``)."""
    if site.sink_kind == "file" and any(arg.path and _observes(arg.path.split(".")) for arg in site.args):
        return False
    return not (site.sink_kind in _CACHE_KINDS and _looks_up(function)) and not _fetches_for_itself(function)


def _fetches_for_itself(function: _Function) -> bool:
    """Whether a function named for fetching takes nothing from its caller (``ModelCatalog.list(self)``,
    ``refresh_models()``): what it writes on the way (the upstream's model list mirrored into a
    collection) is what it fetched for itself, not a request's."""
    words = function.fq.rpartition(".")[2].lstrip("_").lower().split("_")
    return words[0] in _FETCH_WORDS and all(param.name in ("self", "cls") for param in function.summary.params)


def _looks_up(function: _Function) -> bool:
    """Whether a function that writes a container or a file on the way is a lookup filling a
    cache (``_reads_or_logs``), or one named for observing that is given no piece of text
    (``_takes_text``), not one that streams the response or generates the API's
    object: what a ``stream_*`` or ``iter_*`` function writes is the request's, as any
    handler's is, and so is what ``_generate_response`` writes, or a ``_generate`` that has
    another object generate (``self._engine.generate(...)``, then a prompt cache's insert): a
    bare ``generate`` that does not is the engine's, which fills its own caches."""
    name = function.fq.rpartition(".")[2]
    words = name.lstrip("_").lower().split("_")
    if words[0] == "generate" and (not _API_OBJECTS.isdisjoint(words[1:]) or _delegates_generation(function.summary)):
        return False
    if _takes_text(function.summary):  # named for observing, and given a piece of text (a touch given a preview): by its other words
        named = words[0] in _READ_WORDS or not _REMOVE_WORDS.isdisjoint(words)
    else:
        named = _reads_or_logs([name]) or _observes_function(function.fq)
    return named and words[0] not in _PRODUCE_WORDS and words[0] not in _DUMP_WORDS


def _field_gated(site: Site, flag: Flag) -> bool:
    """Whether a site of a function without the flag runs only where a field carrying it is true
    (``fields.add_field_gates`` gave it a gated verdict): no way to a write of a derived sink."""
    verdict = site.verdict(flag.name) if site.tested else None
    return verdict is not None and verdict.gated


def _delegates_generation(function: FunctionSummary) -> bool:
    """Whether a function has another object generate (``self._engine.generate(...)``,
    ``client.generate_async(...)``, ``self.engine.complete(...)``,
    ``client.chat.completions.create(...)``) or posts to another server
    (``self._session.post(...)``, ``self._post(...)``): it is not the engine itself."""
    for site in function.sites:
        receiver, _, method = site.text.rpartition(".")
        if site.kind != "call" or not receiver:
            continue
        first = method.lstrip("_").lower().split("_")[0]
        if receiver not in ("self", "cls", "super()") and (first in _GENERATE_WORDS or receiver.endswith("completions") and first == "create"):
            return True
        if method.lstrip("_").lower() in _UPSTREAM_CALLS:
            return True
    return False


def _fills_cache(function: _Function, caching: set[str]) -> bool:
    """Whether a function whose chain ends in a cache (``caching``) is a lookup: no chain is
    followed through it (``derived_sinks``, ``fills_cache``)."""
    return function.fq in caching and _looks_up(function)


def _observes(parts: Sequence[str]) -> bool:
    """Whether a callee (its dotted name, split) is out of ``store``'s scope by the words of its
    name or its receiver's: it logs, alerts, measures or traces, keeps the server's own
    credentials, or fills the model's caches."""
    return any(_observing(part) for part in parts[-3:])


# How the name of a call that parses a request into a model begins (``_parses``); not a bare
# ``from_`` (``Response.from_row(row)`` makes a kept object again, not the client's request).
_PARSE_WORDS = ("parse", "validate", "model_validate", "from_request", "from_payload", "from_body")


def _parses(value: str) -> bool:
    """Whether a type fact's value is a parser's call (``parse_responses_request()``,
    ``ChatRequest.model_validate()``, ``Body.from_payload()``)."""
    if not value.endswith("()") or "()." in value:
        return False
    first = value[:-2].rpartition(".")[2].lstrip("_").lower()
    return first.startswith(_PARSE_WORDS)


def _param_classes(function: FunctionSummary) -> Iterator[tuple[Param, str]]:
    """Each parameter but ``self`` and ``cls`` annotated with a class that is no plain value
    (``ctx: RunContext``, ``obj: Optional[GenerateReqInput]``), with that class as written."""
    for param in function.params:
        model = contractlib.annotated_class(param.annotation) if param.name not in ("self", "cls") else None
        if model is not None and model not in _SCALARS:
            yield param, model


# The last word of a keyword or a parameter that names a piece of a request's text kept aside
# (``prompt``, ``prompt_excerpt``, ``preview``): a call named for observing or for bookkeeping
# (``usage.record``, ``conversations.touch``) that is given one keeps content after all.
_TEXT_WORDS = frozenset("prompt prompts preview excerpt snippet transcript sample".split())


def enters(caller: str, site: Site, target: _Function | None) -> bool:
    """Whether a chain goes from the function ``caller`` through its call ``site`` into
    ``target`` (None: into whatever the call runs, by the call's words alone): not, from a
    function not named for observing, into one named so, or through a call on such an object
    (``_OUT_OF_SCOPE_WORDS``), unless the call gives it a piece of the request's text by name
    (``_passes_text``: ``usage.record(..., prompt_excerpt=text)``); inside one, everywhere."""
    if _observes_function(caller):
        return True
    text = _passes_text(site)
    if _observes(site.text.split(".")) and not text:
        return False
    return target is None or not _observes_function(target.fq) or (text and _takes_text(target.summary))


def _passes_text(site: Site) -> bool:
    """Whether a call passes an argument by a keyword named for a piece of text."""
    return any(arg.keyword is not None and _names_text(arg.keyword) for arg in site.args)


def _takes_text(function: FunctionSummary) -> bool:
    """Whether a function has a parameter named for a piece of text."""
    return any(_names_text(param.name) for param in function.params)


def _names_text(name: str) -> bool:
    """Whether a keyword's or a parameter's last word is one of ``_TEXT_WORDS`` (``prompt_excerpt``, not ``prompt_tokens``)."""
    return name.rpartition("_")[2].lower() in _TEXT_WORDS


def _observes_function(fq: str) -> bool:
    """Whether a function of the project is out of ``store``'s scope by its name or its class's
    (``_observes``); a class named a logger is not, by that word alone: what it writes where it
    keeps (``DBLogger._write``, a transcript logger's file) is what its chain says."""
    owner, _, name = fq.rpartition(".")
    return _observing(name) or _observing(owner.rpartition(".")[2], _LOG_WORDS)


# A method named for a status, and what a failed status says of itself (``records_status``).
_STATUS = re.compile(r"(?:^|_)status(?:_|$)")
_STATUS_DETAILS = frozenset({"error", "reason", "code", "message"})  # what a failed status says of itself
# The classes that hold what a request made, by their last word (``ResponseObject``,
# ``ChatCompletionResponse``, ``ChatCompletion``): their flag echoes a request's; none is a body.
_OUTCOME = re.compile(r"(?:Object|Response|Completion|Result|Output|Record|Row)$")
# A read's fallback on an entry of a module's table of defaults (``SAMPLING_DEFAULTS["store"]``).
_TABLE_ENTRY = re.compile(r'(\w+)\["(\w+)"\]')
# The calls a report's chains follow down from a finding's callee to name each write (``Project.ways``).
_WAY_DEPTH = 6
# A predicate's return of the entry its parameter keys where the flag was omitted (``_STORE_DEFAULTS[api]``).
_KEYED_ENTRY = re.compile(r"(\w+)\[(\w+)\]")
# A read's fallback on a module's boolean constant (``parse_bool(body.get("store"), DEFAULT_STORE)``).
_MODULE_CONSTANT = re.compile(r"([A-Z][A-Z0-9_]*)")


def records_status(site: Site) -> bool:
    """Whether a call records where a stored object stands, nothing of the request: a method
    named for a status (``update_status``, ``set_status``, ``mark_status``) passed only constants,
    identifiers (``job.response_id``, ``"in_progress"``) and a failure's own details
    (``error=error``). What it updates was kept before, where the flag was judged."""
    if site.kind != "call" or not _STATUS.search(site.text.rpartition(".")[2]):
        return False
    return bool(site.args) and all(not arg.star and (arg.literal or arg.keyword in _STATUS_DETAILS or _identifier_path(arg.path)) for arg in site.args)


def _identifier_path(path: str | None) -> bool:
    """Whether a location passed ends in an identifier's name (``job.response_id``, ``item["id"]``)."""
    return path is not None and names_an_identifier(re.split(r"[.\[\]\"']+", path.strip("]\"'"))[-1])


# The words that name a logger (``_observes_function``).
_LOG_WORDS = frozenset({"logger", "loggers", "logging"})


@lru_cache(maxsize=4096)
def _observing(part: str, unless: frozenset[str] = frozenset()) -> bool:
    """Whether one name has a word of ``_OUT_OF_SCOPE_WORDS``, names a rate limit (``rate`` with
    ``limit`` or ``window``) or a model's cache (``_MODEL_STATE_WORDS``; ``snake_case`` and
    ``CamelCase`` words)."""
    words = _name_words(part) - unless
    if not words.isdisjoint(_OUT_OF_SCOPE_WORDS) or not words.isdisjoint(_MODEL_CACHE_NAMES):
        return True
    if "rate" in words and not words.isdisjoint(_RATE_WORDS):
        return True  # a rate limit (``bump_rate_window``)
    return not words.isdisjoint(_MODEL_STATE_WORDS) and not words.isdisjoint(_MODEL_CACHE_WORDS)


@lru_cache(maxsize=4096)
def _name_words(part: str) -> frozenset[str]:
    """The words of one name, ``snake_case`` and ``CamelCase`` (``StorageBackend``: storage, backend)."""
    return frozenset(word.lower() for word in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", part))


def findings(summaries: Sequence[ModuleSummary], config: Config, project: Project | None = None) -> list[Finding]:
    """The pipeline's step after the summaries: resolve the project, then run the checks on it.

    ``project``: one already built of exactly these summaries (the pre-filter's last round's),
    used as it is. The checks (``storegate.checks``) come after this module and are imported
    here only.
    """
    from storegate import checks

    return checks.run(project if project is not None else Project(summaries, config))


def promises(summaries: Iterable[ModuleSummary]) -> bool:
    """Whether some function guarantees anything, or handles or registers a route (which may give
    a route's default to it and to what it calls: ``Project._route_defaults``): without one, no
    file is given a contract, and no project need be built to find that out."""
    return any(
        f.guarantees or f.if_none or f.invariants or f.if_true or f.routes or f.registered or f.mounted or f.named
        for module in summaries
        for f in module.functions
    )


def unresolved_imports(summaries: Sequence[ModuleSummary], names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The imports of project modules that no checked file is: ``(qualified name, importing path)``.

    ``names``: every name of every file checked, summarized or not (``module_name`` and
    ``namespace_names``). An import is of the project when its top-level package is that of a
    file (relative imports are, within a package); it resolves when it is a file or a package
    around files (``import app`` of a namespace package), or a name in a file (``from pkg import
    helper``: ``pkg/__init__.py`` may define it). Third-party and stdlib imports share no
    top-level name with the project, so they are never counted."""
    known = set(names)
    packages: set[str] = set()
    for name in known:
        _add_prefixes(name, packages)
    tops = {name.partition(".")[0] for name in known}
    found = set()
    for summary in summaries:
        for _, target in summary.imports:
            if target.partition(".")[0] in tops and target not in packages and target.rpartition(".")[0] not in known:
                found.add((target, summary.path))
    return tuple(sorted(found))


def _library_objects(held: Iterable[str], rest: str) -> list[str]:
    """What ``rest`` (``[]``, ``()``, ``.get_database()``) gives of each library object ``held``
    holds (not a web application, whose items and calls are the project's): ``@lib:`` and the
    object's type with ``rest`` after it."""
    return [f"{typefacts.LIBRARY}{typefacts.library_object(h)}{rest}" for h in held if h.startswith(typefacts.LIBRARY) and not typefacts.application(h)]


def _names_path(value: str) -> bool:
    """Whether a type fact's value is a path that names another object (``plugins``,
    ``self._plugins``), not a class, a call, an item or a builtin type."""
    return (value[:1].islower() or value[:1] == "_") and value[-1:] not in (")", "]") and value not in _SCALARS


def _distinct_names(summaries: list[ModuleSummary]) -> list[ModuleSummary]:
    """The summaries (sorted), a module whose name an earlier one has renamed to its first
    namespace name that no module has (``app.models`` for ``app/models.py`` beside
    ``app/api/models.py``, both ``models``), so that calls resolve to each of them."""
    taken = {summary.module for summary in summaries}
    seen: set[str] = set()
    renamed = []
    for summary in summaries:
        if summary.module in seen:
            free = next((alias for alias in summary.aliases if alias not in taken), None)
            if free is not None:
                taken.add(free)
                summary = replace(summary, module=free)
        seen.add(summary.module)
        renamed.append(summary)
    return sorted(renamed, key=lambda s: (s.module, s.path))


def _qualify_prefix(site: Site, prefix: str) -> str | None:
    """The import-qualified name of the ``prefix`` of a call (``mod.make`` of ``mod.make().m``)."""
    if site.qualified is None or "()." not in site.qualified:
        return None
    return site.qualified.partition("().")[0]


def _qualify(module: ModuleSummary, name: str) -> str | None:
    """``name`` as its module imports it (``mod.f`` -> ``pkg.mod.f``), or None if not imported."""
    head, dot, rest = name.partition(".")
    imported = dict(module.imports).get(head)
    return imported + dot + rest if imported else None


def _mark(fq: str, members: set[str], member: bool) -> None:
    """Put ``fq`` in ``members`` or take it out."""
    if member:
        members.add(fq)
    else:
        members.discard(fq)


def _placeholders(text: str) -> list[str]:
    """The names in a path as written (``paths.V1`` of ``{paths.V1}/responses``, ``routes.path_of``)."""
    return re.findall(r"\{([A-Za-z_][\w.]*)\}", text) if "{" in text else []


def _add_prefixes(qualified: str, modules: set[str]) -> None:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: any of them may be the module that defines it."""
    parts = qualified.split(".")
    for end in range(1, len(parts) + 1):
        modules.add(".".join(parts[:end]))


def drops_flag(site: Site, target: _Function | None, flag: Flag) -> bool:
    """A call that does not pass the flag to a callee whose default for it permits storing.

    A callee whose parameter named like the flag holds an object does not take the flag
    (``flags.sight``), even where it reads the flag elsewhere (``_DEFAULTS.store``): leaving that
    parameter out loses nothing. Nor does it for a callee that neither gates a site on the flag
    nor passes it on (it takes ``store`` only to record it): its writes are judged inside it."""
    if target is None or site.kind != "call" or flag.name not in target.summary.flags or not _consults(target.summary, flag):
        return False
    param = target.summary.param(flag.name)
    if param is None or param.holds_object or param.default is None or not _default_permits(param.default, flag):
        return False
    return _bound_argument(site, target, flag.name) is None


def passes_rebound_flag(site: Site, target: _Function | None, flag: Flag) -> str | None:
    """The flag location a call passes for the callee's parameter named like the flag, when the
    caller rebound it to a value that may permit where the client's did not (``store =
    req.store or settings.keep_all`` then ``_record(c, store=store)``): the callee checks a
    value that is not the client's. Only for a callee whose writes depend on it (``_consults``)."""
    if target is None or site.kind != "call" or flag.name not in target.summary.flags or not _consults(target.summary, flag):
        return None
    param = target.summary.param(flag.name)
    if param is None or param.holds_object:
        return None
    bound = _bound_argument(site, target, flag.name)
    if isinstance(bound, Argument) and bound.path is not None and bound.path.endswith(REBOUND):
        return bound.path[: -len(REBOUND)]
    return None


def _consults(function: FunctionSummary, flag: Flag) -> bool:
    """Whether what ``function`` does depends on its flag: a site it gates on it, or a call it
    passes it to."""
    for site in function.sites:
        verdict = site.verdict(flag.name)
        if verdict is not None and verdict.gated:
            return True
        if any(arg.path == flag.name or (arg.path or "").endswith("." + flag.name) or arg.star for arg in site.args):
            return True
    return False


def _read_through_argument(function: FunctionSummary, flag: Flag) -> bool:
    """Whether a function that has the flag reads it through what a caller passes
    (``request.store``), not as a parameter of its name nor from an enclosing function, and is
    not a route's handler, which the framework calls: whether its flag permits is decided where
    each caller calls it, private or not (a service's ``start_background(request)``, called
    under ``if request.background:`` where background requires store)."""
    return (
        function.param(flag.name) is None
        and flag.name not in function.closure_flags
        and any(p.name not in ("self", "cls") for p in function.params)
        and not (function.routes or function.registered)
    )


def _callers_all_known(function: FunctionSummary) -> bool:
    last = function.name.rpartition(".")[2]
    private = last.startswith("_") and not (last.startswith("__") and last.endswith("__"))
    return function.nested or private


def _passed(site: Site) -> bool:
    """Whether a site is the call of a function passed for a callback or held by a dispatch
    table (``callbacks.PASSED``), beside the call that makes it."""
    return (site.qualified or "").startswith(callbacklib.PASSED)


def _own_factory(function: FunctionSummary) -> bool:
    """Whether a classmethod is annotated to return its own class (``-> "Req"``, ``-> Self``)."""
    returns = (function.returns or "").strip("'\"")
    return function.class_name is not None and bool(function.params) and function.params[0].name == "cls" and returns in (function.class_name, "Self")


def _static(function: FunctionSummary) -> bool:
    """Whether a method is static: its first parameter is no ``self`` or ``cls``."""
    return function.kind == "method" and (not function.params or function.params[0].name not in ("self", "cls"))


def _positional_offset(site: Site, target: _Function) -> int:
    """``self.m(a)`` binds ``a`` to the second parameter of ``m``; so do ``Cls(a)`` of
    ``Cls.__init__`` and ``callback(a)`` of a method passed for the callback (bound to its object).
    A static method binds ``a`` to its first."""
    if target.summary.kind != "method" or _static(target.summary):
        return 0
    passed = site.qualified is not None and site.qualified.startswith(callbacklib.PASSED)
    return 1 if "." in site.text or passed or target.fq.endswith(".__init__") else 0


def _made_by_call(held: list[str]) -> list[str]:
    """The classes calling a factory makes, of what a path holds (``typefacts.CALLS``: a
    parameter annotated ``Callable[[], UnitOfWork]``, or with an alias of that)."""
    return [held_class[len(typefacts.CALLS) :] for held_class in held if held_class.startswith(typefacts.CALLS)]


def _bound_argument(site: Site, target: _Function, name: str) -> Argument | str | None:
    """The argument bound to parameter ``name``; ``"splat"`` if unknown; ``None`` if not passed."""
    for arg in site.args:
        if arg.keyword == name:
            return arg
    if any(arg.star for arg in site.args):
        return "splat"
    positional = [p.name for p in target.summary.params if p.positional][_positional_offset(site, target) :]
    if name not in positional:
        return None
    index = positional.index(name)
    passed = [arg for arg in site.args if arg.keyword is None and not arg.star]
    return passed[index] if index < len(passed) else None


def _passed_gates(site: Site, target: _Function, closing: frozenset[str], own: set[str]) -> frozenset[str] | None:
    """The caller's parameters that close a way of ``target`` (``closing``: any of its
    parameters, false) by being passed to one of them (``persist=persist``); empty when a false
    constant is passed or left as the default; ``None`` when nothing it passes can close it."""
    passed: set[str] = set()
    for name in closing:
        bound = _bound_argument(site, target, name)
        if _off(bound, target, name):
            return frozenset()
        if isinstance(bound, Argument) and not bound.star and bound.path in own:
            passed.add(bound.path)
    return frozenset(passed) if passed else None


def _off(bound: Argument | str | None, target: _Function, name: str) -> bool:
    """Whether a gate parameter gets a false constant: passed, or its default."""
    if bound is None:
        param = next((p for p in target.summary.params if p.name == name), None)
        return param is not None and param.default in _FALSE_CONSTANTS
    return isinstance(bound, Argument) and not bound.star and bound.path in _FALSE_CONSTANTS


def _switched_off(bound: Argument | str | None, target: _Function, name: str, flag: Flag) -> bool:
    """Whether a gate parameter is false, or true only where ``flag`` permits (``Project.closed``)."""
    return _off(bound, target, name) or (isinstance(bound, Argument) and flag.name in bound.implies)


_FALSE_CONSTANTS = frozenset({"False", "None"})


def _gate_passed(site: Site, calls: Sequence[tuple[str, Site, _Function]], flag: Flag) -> bool:
    """Whether ``site`` runs only where a boolean parameter of its function is true
    (``Site.gates``) that every call of the function (``calls``) binds to an argument true only
    where ``flag`` permits storing (``self._finish(req, persist=should_store(req))``, then ``if
    not persist: return``), or to a false constant."""
    return bool(site.gates) and bool(calls) and all(
        any(_switched_off(_bound_argument(call, target, name), target, name, flag) for name in site.gates) for _, call, target in calls
    )


def _passes_permitted(
    site: Site,
    target: _Function,
    flag: Flag,
    caller_permitted: bool,
    producers: list[tuple[tuple[Argument, ...], bool]] | None = None,
) -> bool:
    """Whether the call makes the callee's flag permit storing (by argument, or by closure).

    ``producers``: for a call that passes a dict it was given (``f(**item.kwargs)``), the
    keywords every producer put in it, each with whether its function is permitted at entry:
    the flag permits if it does in what each of them passed (``Project._producers``)."""
    param = target.summary.param(flag.name)
    if flag.name in target.summary.closure_flags or param is None or param.holds_object:
        # from the enclosing function, or read through an argument (``self._finish(request)``
        # reading ``request.store``): the call itself is where the flag was checked
        verdict = site.verdict(flag.name)
        if verdict is None:  # a caller that carries the flag without reading it: as its own callers decide
            return caller_permitted
        return verdict.gated_if_permitted if caller_permitted else verdict.gated
    bound = _bound_argument(site, target, flag.name)
    if bound == "splat" and producers:
        return all(_argument_permits(_keyword(held, flag.name), target, flag, permitted) for held, permitted in producers)
    return _argument_permits(bound, target, flag, caller_permitted)


def _names_storage(class_fq: str) -> bool:
    """Whether a class is named for keeping things (``StorageBackend``, ``ResponseStore``,
    ``ConversationRepository``): an interface of storage, not the request's own object."""
    return not _name_words(class_fq.rpartition(".")[2]).isdisjoint(_STORAGE_WORDS)


_STORAGE_WORDS = frozenset("store storage backend repository repo database db dao persistence persister".split())


def _namespace_name(function: FunctionSummary, parts: list[str]) -> tuple[int, str] | None:
    """``(index, name)`` of the part of a path that names something the application's namespace
    holds: ``request.app["responses"]`` (aiohttp's item under a string: ``typefacts.application_item``),
    ``app.state.responses`` (``typefacts.state_attribute``), or ``state.responses`` of a
    parameter annotated as its ``State`` (a Litestar handler's ``state: State``); else None."""
    item = typefacts.application_item(parts)
    if item is not None:
        return item
    state = typefacts.state_attribute(parts)
    if state is not None:
        return state, parts[state]
    if len(parts) > 1 and not typefacts.namespace(parts):
        annotation = next((p.annotation for p in function.params if p.name == parts[0]), None)
        if annotation is not None and annotation.rpartition(".")[2] == "State":
            return 1, parts[1]
    return None


def _keyed_part(parts: list[str]) -> tuple[int, str] | None:
    """The index of the last part of a path written as an item under a module's constant
    (``app[CHAT_COMPLETIONS]``), with the constant; else None."""
    for index in range(len(parts) - 1, -1, -1):
        found = _KEYED_ITEM.fullmatch(parts[index]) if parts[index].endswith("]") else None
        if found is not None:
            return index, found.group(1)
    return None


_KEYED_ITEM = re.compile(r"\w+\[([A-Z][A-Z0-9_]+)\]")


def _hands_on_item(site: Site, items: frozenset[str]) -> bool:
    """Whether a call passes an item a worker took from a queue, or a part of it (``job``,
    ``job.request``)."""
    return any(argument.path is not None and argument.path.partition(".")[0].partition("[")[0] in items for argument in site.args)


def _passed_on(site: Site) -> list[str]:
    """The field of a dict a call passes on (``kwargs`` of ``f(**job.kwargs)``), if it does."""
    return [a.path.rpartition(".")[2] for a in site.args if a.star == "**" and a.path is not None and "." in a.path][:1]


def _keyword(args: Sequence[Argument], name: str) -> Argument | None:
    return next((arg for arg in args if arg.keyword == name), None)


def _argument_permits(bound: Argument | str | None, target: _Function, flag: Flag, caller_permitted: bool) -> bool:
    """Whether what is bound to the callee's flag (``_bound_argument``) permits storing."""
    if bound is None:
        param = target.summary.param(flag.name)
        return param is not None and param.default is not None and _constant_permits(param.default, flag)
    if isinstance(bound, str):
        return False
    for name, empty, permitted in bound.permits:
        if name == flag.name:
            return permitted if caller_permitted else empty
    return False


def _constant_permits(code: str, flag: Flag) -> bool:
    value = CONSTANTS.get(code)
    return value is not None and value & ~flag.permitted == 0


def _default_permits(code: str, flag: Flag) -> bool:
    """A default that is a constant forbidding writes loses nothing; anything else may permit."""
    value = CONSTANTS.get(code)
    return value is None or value & flag.permitted != 0

