"""Callbacks: a function passed as a value for a parameter that is called later.

A callback is a parameter called in its function (``on_done(r)``), or an attribute called in a
method (``self.store_callback(r)``) that a method of the class keeps from a parameter
(``self.store_callback = store_callback``: ``FunctionSummary.keeps``) or that is a field of the
class (a dataclass), or each element of a list of them (``for cb in self.success_callbacks:
cb(r)``: ``summary.EACH``), filled anywhere by ``.append(f)`` or ``.insert(i, f)`` on an
attribute or a global of that name (``router.success_callbacks.append(log_to_db)``), or made
with them written out (``self._steps = [self._observe, self._export]``). An object built
where it is passed (``subscribe("done", QualitySampler(blobs))``) is its class's ``__call__``;
each element of such a list passed to a helper that calls it (``for handler in
self._subscribers.get(topic, ()): self._dispatch(handler, event)``) is every function the list
is filled with (``_pass_elements``). Each call
of it is a call of every function the project passes for it, resolved where it is passed (one
level: a callback passed on is not followed); but a parameter that a function without a flag
only hands its arguments to (``_run(fn, *args, **kwargs)`` over an executor) is called where
each caller passes it, with what that caller forwards (``_handed``). Works on the summaries
only, like ``project.py``, and imports nothing that parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from storegate.summary import BUILT, EACH, Argument, FunctionSummary, ModuleSummary, Site, Span

if TYPE_CHECKING:
    from storegate.project import Project, _Function

# ``Site.qualified`` of the call of a callback, one copy per function passed for it: this prefix,
# then the function's qualified name (``Project.resolve`` reads it).
PASSED = "<passed>"

# Where a callback is passed: ("param", function fq, parameter), ("field", class fq, field) or
# ("each", "", the list's attribute or global name).
Slot = tuple[str, str, str]

# The methods that put a function in a list of callbacks, and the position of the function.
_FILLS = {"append": 0, "insert": 1}


@dataclass
class Callbacks:
    """What the pre-filter must read for the callbacks (``Project.unresolved``): the words the
    calls that pass a function's callbacks contain (fq -> words), and the functions passed for a
    callback that no module read defines (the caller and the value as a call site)."""

    words: dict[str, frozenset[str]] = field(default_factory=dict)
    unresolved: list[tuple[_Function, Site]] = field(default_factory=list)
    filled: frozenset[str] = frozenset()  # the names of the lists of callbacks called: where they are filled

    def joined(self, other: Callbacks) -> Callbacks:
        """Both what this and ``other`` need read (``dispatch.py``'s tables and this module's callbacks)."""
        words = dict(self.words)
        for fq, more in other.words.items():
            words[fq] = words.get(fq, frozenset()) | more
        return Callbacks(words, [*self.unresolved, *other.unresolved], self.filled | other.filled)


def add_callbacks(project: Project) -> Callbacks:
    """Replace each call of a callback in the project's summaries by one copy per function the
    project passes for it (``run(on_done=save)``, ``Worker(store_callback=self._save)``), each
    resolved to it (``PASSED``); what the pre-filter must read for them."""
    found = Callbacks()
    kept = _kept(project)
    receivers = _receivers(project, kept)
    if not receivers:
        return found
    for fq, calls in receivers.items():
        found.words[fq] = frozenset(_called_as(slot) for _, slot in calls if slot[0] != "each")
    found.filled = frozenset(slot[2] for calls in receivers.values() for _, slot in calls if slot[0] == "each")
    handed = _handed(project, receivers)
    slots = {slot for calls in receivers.values() for _, slot in calls}
    sources = _element_sources(project, slots, kept)
    passed, where, aliases, listed = _passed(project, slots | sources, found, handed, kept)
    _pass_on(project, slots, where, aliases, found)
    _pass_elements(slots, sources, listed, passed, found)
    targets: dict[str, dict[Site, set[str] | None]] = {}  # fq -> its calls of callbacks -> the functions (None: handed)
    for fq, calls in receivers.items():
        for site, slot in calls:
            mine = targets.setdefault(fq, {})
            if slot in handed:
                mine.setdefault(site, None)
            else:
                mine[site] = (mine.get(site) or set()) | passed.get(slot, set())
    rewritten: dict[str, FunctionSummary] = {}
    for fq in sorted(set(targets) | set(where)):
        if fq not in project.functions:
            continue  # a module's or a class's own statements: no function of the project
        function = project.functions[fq].summary
        called, handing = targets.get(fq, {}), where.get(fq, {})
        sites: list[Site] = []
        for site in function.sites:
            if site in called:  # a handed callback's call runs where its caller passes it (``where``)
                sites.extend(replace(site, qualified=PASSED + target) for target in sorted(called[site] or ()))
            else:
                sites.append(site)
            sites.extend(handing.get(site, ()))
        rewritten[fq] = replace(function, sites=tuple(sites))
    install(project, rewritten)
    return found


def _handed(project: Project, receivers: dict[str, list[tuple[Site, Slot]]]) -> set[Slot]:
    """The parameters a function only hands its arguments to (``def _run(self, fn, *args,
    **kwargs)``, calling ``fn(*args, **kwargs)`` or handing ``partial(fn, *args, **kwargs)`` to an
    executor), in a function without a flag, where no parameter of its own switches the call:
    a call of the function is a call of what it is passed there (``Site`` copies in the
    callers: ``_passed``), with the arguments it forwards, not of everything passed for it
    anywhere in the project."""
    slots: dict[Slot, bool] = {}
    for fq, calls in receivers.items():
        summary = project.functions[fq].summary
        for site, slot in calls:
            if slot[0] == "param":
                forwards = not summary.flags and not summary.closure_flags and not site.gates and all(arg.star for arg in site.args)
                slots[slot] = slots.get(slot, True) and forwards
    return {slot for slot, forwards in slots.items() if forwards}


def _called_as(slot: Slot) -> str:
    """The word the calls that pass for a slot contain: the function's name (``run`` of
    ``app.runner.run``), or the class's for its ``__init__`` and its fields."""
    kind, owner, _ = slot
    return (owner if kind == "field" else owner.removesuffix(".__init__")).rpartition(".")[2]


def _receivers(project: Project, kept: dict[tuple[str, str], list[Slot]]) -> dict[str, list[tuple[Site, Slot]]]:
    """Function fq -> its calls of callbacks, each with a slot the callback is passed for. Not
    ``cls(...)`` (a construction) nor a callback named for observing (``print_verbose(...)``,
    ``logger_fn(...)``): no chain goes through it (``project._observes``), so what is passed for
    it need not be known."""
    from storegate.project import _observes

    found: dict[str, list[tuple[Site, Slot]]] = {}
    for fq, function in sorted(project.functions.items()):
        summary = function.summary
        owner = f"{function.module.module}.{summary.class_name}" if summary.class_name else None
        for site in summary.sites:
            if site.kind != "call" or site.sink is not None:
                continue
            head, _, attribute = site.text.partition(".")
            slots: list[Slot] = []
            if site.text.endswith(EACH):
                slots.extend(_list_slots(site.text[: -len(EACH)], owner, kept))
            elif not attribute and head not in ("self", "cls") and summary.param(head) is not None:
                slots.append(("param", fq, head))
            elif head == "self" and owner is not None and attribute.isidentifier():
                slots.extend(kept.get((owner, attribute), ()))
                if attribute in project._fields.get(owner, ()):
                    slots.append(("field", owner, attribute))
            if slots and not _observes(site.text.split(".")) and project.resolve(function.module, summary, site) is None:
                found.setdefault(fq, []).extend((site, slot) for slot in slots)
    return found


def _kept(project: Project) -> dict[tuple[str, str], list[Slot]]:
    """(class fq, attribute) -> the parameters its methods keep in it (``FunctionSummary.keeps``:
    ``self._subscribers[topic].append(handler)`` in ``subscribe(self, topic, handler)``)."""
    kept: dict[tuple[str, str], list[Slot]] = {}
    for fq, function in sorted(project.functions.items()):
        class_name = function.summary.class_name
        for attribute, param, _ in function.summary.keeps if class_name else ():
            kept.setdefault((f"{function.module.module}.{class_name}", attribute), []).append(("param", fq, param))
    return kept


def _list_slots(listed: str, owner: str | None, kept: dict[tuple[str, str], list[Slot]]) -> list[Slot]:
    """The slots a list of callbacks (``self._subscribers``, ``HOOKS``) is filled through: its
    ``append``s anywhere, and, for an attribute of the class ``owner``, an event bus's
    ``subscribe(topic, handler)`` that keeps its parameter there."""
    slots: list[Slot] = [("each", "", listed.rpartition(".")[2])]
    if owner is not None and listed.startswith("self.") and listed.count(".") == 1:
        slots.extend(kept.get((owner, listed[len("self.") :]), ()))
    return slots


def _pass_on(project: Project, slots: set[Slot], where: dict[str, dict[Site, list[Site]]], aliases: dict[Slot, set[Slot]], found: Callbacks) -> None:
    """A function that hands its own parameter off for a slot (``transaction(self, fn)`` running
    ``self._transaction(fn)`` on a thread, which calls ``fn(conn)``) only hands it on: each call of
    it is a call of the function passed there (``where``, as for a ``handed`` slot), a few levels
    up (``_PASSED_ON``); not of every function passed for it anywhere. Those calls are on the
    way from the flag to the callback: the pre-filter has read them already."""
    known = set(slots)
    for _ in range(_PASSED_ON):
        new = {source for sources in aliases.values() for source in sources} - known
        if not new:
            break
        known |= new
        _, handing, further, _ = _passed(project, new, found, new)
        for fq, handed_on in handing.items():
            for site, copies in handed_on.items():
                where.setdefault(fq, {}).setdefault(site, []).extend(copies)
        for slot, sources in further.items():
            aliases.setdefault(slot, set()).update(sources)


def _element_sources(project: Project, slots: set[Slot], kept: dict[tuple[str, str], list[Slot]]) -> set[Slot]:
    """The slots of the lists of callbacks whose elements a call passes for a parameter among
    ``slots`` (an event bus's ``for handler in self._subscribers.get(topic, ()):
    self._dispatch(handler, event)``, whose ``_dispatch`` calls ``handler(event)``): the list's
    ``append``s, and the ``subscribe(topic, handler)`` that keeps its parameter in it
    (``_list_slots``). Summarized with ``slots``, in the same pass (``_passed``)."""
    from storegate.project import _bound_argument

    params: dict[str, list[str]] = {}  # function fq -> its parameters called as callbacks
    for kind, owner, name in slots:
        if kind == "param":
            params.setdefault(owner, []).append(name)
    words = {owner.rpartition(".")[2] for owner in params}
    sources: set[Slot] = set()
    for module in project.summaries if words else ():
        for function in module.functions:
            for site in function.sites:
                if site.kind != "call" or site.text.rpartition(".")[2] not in words or all(arg.each is None for arg in site.args):
                    continue
                callee = project.resolve(module, function, site)
                if callee is None:
                    continue
                for name in params.get(callee.fq, ()):
                    bound = _bound_argument(site, callee, name)
                    if isinstance(bound, Argument) and bound.each is not None:
                        sources.update(_list_slots(bound.each, _owner(module, function), kept))
    return sources


def _owner(module: ModuleSummary, function: FunctionSummary) -> str | None:
    """The qualified name of the class ``function`` is a method of, if it is one."""
    return f"{module.module}.{function.class_name}" if function.class_name else None


def _pass_elements(slots: set[Slot], sources: set[Slot], listed: dict[Slot, set[Slot]], passed: dict[Slot, set[str]], found: Callbacks) -> None:
    """A slot passed each element of a list of callbacks is passed every function the list is
    filled with (``_element_sources``). The files that fill it are the pre-filter's to read
    (``found``): those that call the ``subscribe`` that keeps it, those that append to it."""
    for slot, slots_of in listed.items():
        for source in slots_of:
            passed.setdefault(slot, set()).update(passed.get(source, set()))
        if slot[0] == "param":
            words = {_called_as(source) for source in slots_of if source[0] != "each"}
            found.words[slot[1]] = found.words.get(slot[1], frozenset()) | words
    found.filled = found.filled | {source[2] for source in sources - slots if source[0] == "each"}


# How many functions up a callback passed on as a parameter is followed (``_pass_on``).
_PASSED_ON = 3


def _passed(
    project: Project, slots: set[Slot], found: Callbacks, handed: set[Slot], kept: dict[tuple[str, str], list[Slot]] | None = None
) -> tuple[dict[Slot, set[str]], dict[str, dict[Site, list[Site]]], dict[Slot, set[Slot]], dict[Slot, set[Slot]]]:
    """Slot -> the functions the project's calls pass for it (into ``found.unresolved``, those
    that no module read defines); for the ``handed`` slots, the caller's fq -> its call that
    passes one -> that call as a call of the function passed, with the arguments it forwards;
    slot -> the parameters of the callers that pass their own for it (``_pass_on``); and slot ->
    the slots of the lists of callbacks whose elements are passed for it (``_pass_elements``;
    ``kept``: ``_kept``)."""
    from storegate.project import _Function

    words: dict[str, list[tuple[str, int | None]]] = {}  # the word a call contains -> what it must bind (``_binds``)
    for slot in slots:
        if slot[0] != "each":
            words.setdefault(_called_as(slot), []).append(_binding(project, slot))
    lists = {slot[2] for slot in slots if slot[0] == "each"}
    by_target: dict[str, list[Slot]] = {}
    for slot in sorted(slots):
        if slot[0] != "each":  # filled by ``append`` wherever it is, whoever calls it
            by_target.setdefault(slot[1], []).append(slot)
    passed: dict[Slot, set[str]] = {}
    closures: dict[str, list[str]] = {}  # function fq -> its nested functions (``_closure``), once asked
    where: dict[str, dict[Site, list[Site]]] = {}
    aliases: dict[Slot, set[Slot]] = {}
    listed: dict[Slot, set[Slot]] = {}  # a slot passed each element of a list of callbacks -> the list's slots
    for module in project.summaries:
        for function in module.functions:
            for site in function.sites:
                if site.kind != "call":
                    continue
                owner_text, _, method = site.text.rpartition(".")
                filled = owner_text.rpartition(".")[2]
                if method in _FILLS and filled in lists:  # ``router.success_callbacks.append(f)``
                    candidates: list[Slot] = [("each", "", filled)]
                    callee = None
                elif method not in words or not _binds(site, words[method]):
                    continue  # (``d.get(key)`` for a ``get(self, key, factory)`` passes no callback: not resolved)
                else:
                    callee = project.resolve(module, function, site)
                    owner = None if callee is not None else _class_called(project, module, site.text, function.name)
                    if owner is not None:  # ``Cls(...)``: a call of its ``__init__``, and its fields
                        init = project._method(owner, "__init__", set())
                        callee = project.functions[init] if init is not None else None
                    candidates = [*(by_target.get(callee.fq, ()) if callee else ()), *by_target.get(owner or "", ())]
                for slot in candidates:
                    argument = _argument(site, callee, slot)
                    if argument is None:
                        continue
                    caller = f"{module.module}.{function.name}"
                    if argument.each is not None:  # each element of a list of callbacks, passed on
                        listed.setdefault(slot, set()).update(_list_slots(argument.each, _owner(module, function), kept or {}))
                        continue
                    if argument.path is None:  # ``subscribe("done", QualitySampler(blobs))``: its ``__call__``
                        closure = _closure(project, module, function, argument, closures)
                        if closure is not None:  # ``register("done", make_audit_hook(pool))``: the function it makes
                            passed.setdefault(slot, set()).add(closure)
                        elif _may_be_function(argument):  # (or ``Indexer(repo).on_completed``: that method)
                            built, _, method = argument.made[0].partition(BUILT)
                            class_fq = project._known_class(module, built, function.name)
                            called = project._method(class_fq, method or "__call__", set()) if class_fq is not None else None
                            if called is not None:
                                passed.setdefault(slot, set()).add(called)
                            elif class_fq is None:  # a class of a module not read yet
                                found.unresolved.append((_Function(caller, module, function), named_call(built, module)))
                        continue
                    value = argument.path
                    named = named_call(value, module)
                    target = project.resolve(module, function, named)
                    if target is None and site.handed and function.param(value) is not None and caller in project.functions:
                        aliases.setdefault(slot, set()).add(("param", caller, value))  # its own parameter, passed on
                    elif target is None:
                        found.unresolved.append((_Function(caller, module, function), named))
                    elif slot in handed and callee is not None:
                        handing = where.setdefault(caller, {}).setdefault(site, [])
                        handing.append(replace(site, text=value, qualified=PASSED + target.fq, args=_forwarded(site, callee), bound=None, packed=()))
                    else:
                        passed.setdefault(slot, set()).add(target.fq)
    for slot, made_with in _listed(project, lists):
        passed.setdefault(slot, set()).add(made_with)
    return passed, where, aliases, listed


def _closure(project: Project, module: ModuleSummary, function: FunctionSummary, argument: Argument, closures: dict[str, list[str]]) -> str | None:
    """The function a factory called where it is passed makes (``make_audit_hook(pool,
    settings)``, which defines ``audit_prompt`` and returns it): its one nested function; None
    for anything else."""
    if not _may_make_function(argument):
        return None
    factory = project.resolve(module, function, named_call(argument.made[0], module))
    if factory is None:
        return None
    if not closures:
        for fq in project.functions:
            owner = fq.rpartition(".")[0]
            closures.setdefault(owner, []).append(fq)
    nested = closures.get(factory.fq, [])
    return nested[0] if len(nested) == 1 else None


def _binding(project: Project, slot: Slot) -> tuple[str, int | None]:
    """The name a call passes a slot's callback by, and the fewest positional arguments before
    it (a method called on its object binds one fewer: ``project._positional_offset``); None
    when only a keyword passes it (a field, a keyword-only parameter)."""
    kind, owner, name = slot
    target = project.functions.get(owner) if kind == "param" else None
    if target is None:
        return name, None
    positional = [param.name for param in target.summary.params if param.positional]
    return name, max(positional.index(name) - 1, 0) if name in positional else None


def _binds(site: Site, bindings: list[tuple[str, int | None]]) -> bool:
    """Whether a call may pass a function for one of the slots its name may call
    (``_binding``): a name or an instance (``_may_be_function``) by keyword, or by position with no star (a
    star's argument is not known: ``_argument``). Decided before the call is resolved, the costly part."""
    plain = [arg for arg in site.args if arg.keyword is None and not arg.star]
    star = any(arg.star for arg in site.args)
    for name, before in bindings:
        if any(arg.keyword == name and (_may_be_function(arg) or _may_make_function(arg)) for arg in site.args):
            return True
        if before is not None and not star and any(_may_be_function(arg) or _may_make_function(arg) for arg in plain[before : before + 2]):
            return True
    return False


def _may_make_function(arg: Argument) -> bool:
    """A call of a function named in lower case (``make_audit_hook(pool)``): a factory of a
    closure, perhaps (``_closure``)."""
    made = arg.made[0] if arg.made else ""
    return bool(made) and made[:1].islower() and "(" not in made and BUILT not in made


def _may_be_function(arg: Argument) -> bool:
    """A name (``self._save``), or an instance of a class built where it is passed
    (``QualitySampler(blobs)``, whose ``__call__`` is called: ``_passed``)."""
    return arg.path is not None or (bool(arg.made) and arg.made[0].partition(BUILT)[0].rpartition(".")[2][:1].isupper())


def _listed(project: Project, lists: set[str]) -> list[tuple[Slot, str]]:
    """The functions a list of callbacks is made with, written out (``self._steps =
    [self._observe, self._export_transcript]``, the list's element facts: ``typegather``), each
    resolved where the list is made."""
    found = []
    made = [(key, facts) for key, facts in project._facts.items() if key[2].endswith(EACH) and key[0] and key[2].removesuffix(EACH) in lists]
    for (_, _, name), facts in sorted(made):  # (only those sorted: the project has many facts)
        listed = name.removesuffix(EACH)
        for module, value, where in facts:
            function = project._scopes.get((module.module, where))
            if function is None or not value or value.endswith(("()", "]")):
                continue
            target = project.resolve(module, function, named_call(value, module))
            if target is not None:
                found.append((("each", "", listed), target.fq))
    return found


def _forwarded(site: Site, callee: _Function) -> tuple[Argument, ...]:
    """What a call hands on through a function that forwards ``*args, **kwargs`` to a callback:
    the arguments bound to none of its named parameters (a star argument, unknown, too)."""
    from storegate.project import _positional_offset

    names = {param.name for param in callee.summary.params}
    positional = [param.name for param in callee.summary.params if param.positional][_positional_offset(site, callee) :]
    plain = [arg for arg in site.args if arg.keyword is None and not arg.star]
    keywords = [arg for arg in site.args if arg.keyword is not None and arg.keyword not in names]
    return (*plain[len(positional) :], *keywords, *(arg for arg in site.args if arg.star))


def _argument(site: Site, callee: _Function | None, slot: Slot) -> Argument | None:
    """The argument a call passes for a slot (its ``path``: the function as written where it is
    passed, ``self._save``)."""
    from storegate.project import _bound_argument

    if slot[0] == "field":
        bound: Argument | str | None = next((a for a in site.args if a.keyword == slot[2]), None)
    elif slot[0] == "each":  # ``append(f)``, ``insert(0, f)``
        position = _FILLS[site.text.rpartition(".")[2]]
        plain = [a for a in site.args if a.keyword is None]
        bound = plain[position] if len(plain) > position else None
    else:
        bound = _bound_argument(site, callee, slot[2]) if callee is not None else None
    if not isinstance(bound, Argument) or bound.star:
        return None
    return bound


def _class_called(project: Project, module: ModuleSummary, text: str, where: str) -> str | None:
    """The project's class a call in the function ``where`` names (``Worker(...)``,
    ``jobs.Worker(...)``), if any."""
    return project._known_class(module, text, where)


def install(project: Project, rewritten: dict[str, FunctionSummary]) -> None:
    """Put the rewritten functions in the project, in every place that holds their module."""
    from storegate.project import _Function

    changes: dict[str, dict[str, FunctionSummary]] = {}
    for fq, summary in rewritten.items():
        changes.setdefault(project.functions[fq].module.path, {})[summary.name] = summary
    modules: dict[str, ModuleSummary] = {}
    for index, module in enumerate(project.summaries):
        if module.path in changes:
            new = replace(module, functions=tuple(changes[module.path].get(f.name, f) for f in module.functions))
            project.summaries[index] = modules[module.path] = new
    for name, module in project.modules.items():
        project.modules[name] = modules.get(module.path, module)
    for fq, function in project.functions.items():
        if function.module.path in modules:
            changed = changes[function.module.path]
            project.functions[fq] = _Function(fq, modules[function.module.path], changed.get(function.summary.name, function.summary))
    for fq, (module, bases) in project.classes.items():
        project.classes[fq] = (modules.get(module.path, module), bases)


def named_call(value: str, module: ModuleSummary) -> Site:
    """A call of a function passed as a value, as written in ``module`` (``self._save``): what
    ``Project.resolve`` resolves to the function passed."""
    return Site(Span(0, 0, 0, 0), value, "call", None, _qualify(value, dict(module.imports)))


def _qualify(name: str, imports: dict[str, str]) -> str | None:
    """``save`` -> ``app.db.save`` when ``from app.db import save`` (``sinks.qualify``, which
    this module cannot import: the warm path never loads libcst)."""
    head, dot, rest = name.partition(".")
    target = imports.get(head)
    return None if target is None else target + dot + rest
