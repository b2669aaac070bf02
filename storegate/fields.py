"""Fields that carry the flag under another name: a plan or an options object that the code
builds from the request (``ResponsePlan(persist=req.store is not False, ...)``, ``Options(rid,
keep)`` with ``keep = body.get("store", True)``) and tests later (``if plan.persist:``).

A class's field carries a flag when every construction of the class that a request makes gives
the field a value whose truth implies that the flag permits storing (``Argument.implies``: a
location of the flag, a copy or a comparison of one, ``False``), or another field that carries
it (``HookContext(persist=plan.persist)``). A request makes it in a function with the flag, a
route's handler, or a function handed the request; a construction elsewhere builds the object
from something else (a stored row, a default, a ``from_stored`` constructor, a background run of
a kept response switched on with ``True``) and does not count. A field left out that is off by
default (``background: bool = False``) is never true.

A site that runs only where such a field of a local or a parameter (or of an object it holds) is
true (``Site.tested``), or a method of it that returns that field (``if not plan.should_save():
return`` with ``def should_save(self): return self.persist``: ``FunctionSummary.true_fields``),
when every class the path may hold is one whose field carries the flag, is gated by the flag:
its verdicts say so before any chain is derived (``add_field_gates``), so a write behind ``if
plan.persist:`` is judged like one behind ``if store:``, in a function with the flag or without
it. Plain data, without libcst.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from storegate.summary import NEGATED, TESTED_CALL, Argument, FunctionSummary, ModuleSummary, Site, Verdict

if TYPE_CHECKING:
    from storegate.project import Project, _Function


def add_field_gates(project: Project) -> None:
    """Mark gated, for each flag a field carries, the sites that run only where it is true."""
    gates = _FieldGates(project)
    rewritten: dict[str, FunctionSummary] = {}
    for fq, function in sorted(project.functions.items()):
        if not any(site.tested for site in function.summary.sites):
            continue
        sites = tuple(gates.gated(function, site) for site in function.summary.sites)
        if any(new is not old for new, old in zip(sites, function.summary.sites)):
            rewritten[fq] = replace(function.summary, sites=sites)
    if rewritten:
        from storegate.callbacks import install

        install(project, rewritten)


class _FieldGates:
    """What the project's constructions say of its classes' fields, each asked once."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._carried: dict[tuple[str, str], frozenset[str]] = {}  # (class, field) -> the flags it carries
        self._classes: dict[tuple[str, str], list[str]] = {}  # (function, local) -> the classes it may hold
        self._own: dict[str, list[tuple[ModuleSummary, FunctionSummary, Site]]] | None = None

    def gated(self, function: _Function, site: Site) -> Site:
        """``site`` with a gated verdict for each flag that a field it runs under carries."""
        flags: set[str] = set()
        for path in site.tested:
            called = TESTED_CALL.fullmatch(path)  # ``if not plan.should_save(): return``
            owner, _, name = (called.group(1) if called else path).rpartition(".")
            key = (function.fq, owner)
            if key not in self._classes:
                self._classes[key] = self.project.classes_of(function.module, function.summary, owner.split("."), frozenset(), None)
            classes = self._classes[key]
            carries = self._tells if called else self._carries
            if classes and all(class_fq in self.project.classes for class_fq in classes):
                flags.update(frozenset.intersection(*(carries(class_fq, name) for class_fq in classes)))
        if not flags:
            return site
        verdicts = [replace(v, gated=True, gated_if_permitted=True, trace=(), trace_if_permitted=()) if v.flag in flags else v for v in site.verdicts]
        verdicts.extend(Verdict(flag, True, True) for flag in sorted(flags - {v.flag for v in site.verdicts}))
        return replace(site, verdicts=tuple(verdicts))

    def _tells(self, class_fq: str, method: str) -> frozenset[str]:
        """The flags the truth of a method of ``class_fq`` implies: those the fields its every
        true return is made of carry (``def should_save(self): return self.persist``)."""
        fq = self.project._method(class_fq, method, set())
        function = self.project.functions.get(fq) if fq is not None else None
        fields = function.summary.true_fields if function is not None else ()
        return frozenset().union(*(self._carries(class_fq, field) for field in fields))

    def _carries(self, class_fq: str, name: str) -> frozenset[str]:
        """The flags that every construction of ``class_fq`` a request makes gives its field
        ``name`` a value implying (none for a field no such construction gives)."""
        key = (class_fq, name)
        if key not in self._carried:
            self._carried[key] = frozenset()  # a cycle of fields given one another carries nothing
            fields = self.project._fields.get(class_fq, ())
            found: frozenset[str] | None = None
            if name in fields:
                by_position = f"{class_fq}.__init__" not in self.project.functions  # a dataclass's, a NamedTuple's
                for module, function, site in [*self.project._constructions.get(class_fq, ()), *self._own_constructions().get(class_fq, ())]:
                    argument = _given(site.args, fields if by_position else (), name)
                    implied = self._implied(key, module, function, site, argument)
                    if implied is None:
                        continue
                    found = implied if found is None else found & implied
                    if not found:
                        break
            self._carried[key] = found or frozenset()
        return self._carried[key]

    def _implied(
        self, key: tuple[str, str], module: ModuleSummary, function: FunctionSummary, site: Site, argument: Argument | None
    ) -> frozenset[str] | None:
        """The flags what one construction gives the field implies; None when the construction
        does not count (no request made it, or it leaves off a field that is off by default)."""
        passed = self._passed_field(module, function, argument) if argument is not None and not argument.implies else None
        if passed is not None:  # ``HookContext(persist=plan.persist)``: what that field carries
            return passed
        # in a handler, or a function handed the request, a constant that switches the field on ignores the client
        handed = bool(self.project.routes(module, function)) or _takes_request(self.project, module, function)
        if (not function.flags and not handed) or _remade(function):
            return None  # built from elsewhere (a stored row, a default), not from a request
        if argument is not None and argument.path == "True" and not handed:
            return None  # switched on for work of the server's own (a stored response run in the background)
        if argument is None and key in self.project._off_fields and not any(a.star for a in site.args):
            return None  # left out, and off by default (``background: bool = False``): never true from here
        return frozenset() if argument is None else frozenset(f for f in argument.implies if not f.startswith(NEGATED))

    def _passed_field(self, module: ModuleSummary, function: FunctionSummary, argument: Argument | None) -> frozenset[str] | None:
        """The flags a field passed on carries (``persist=plan.persist``, where ``plan`` holds a
        class whose ``persist`` carries the flag); None when the argument is no field of a
        project's object."""
        parts = argument.path.split(".") if argument is not None and argument.path is not None else []
        if not 1 < len(parts) <= 3 or not all(part.isidentifier() for part in parts) or parts[0] in ("self", "cls"):
            return None
        classes = self.project.classes_of(module, function, parts[:-1], frozenset(), None)
        if not classes or any(class_fq not in self.project.classes for class_fq in classes):
            return None
        return frozenset.intersection(*(self._carries(class_fq, parts[-1]) for class_fq in classes))

    def _own_constructions(self) -> dict[str, list[tuple[ModuleSummary, FunctionSummary, Site]]]:
        """Class fq -> the calls of ``cls(...)`` in its own methods (``from_request``, a
        classmethod that builds the plan from the request)."""
        if self._own is None:
            self._own = {}
            for function in self.project.functions.values():
                owner = function.summary.class_name
                if owner is None or "." in function.summary.name[len(owner) + 1 :]:
                    continue
                made = [(function.module, function.summary, site) for site in function.summary.sites if site.kind == "call" and site.text == "cls"]
                if made:
                    self._own.setdefault(f"{function.module.module}.{owner}", []).extend(made)
        return self._own


def _remade(function: FunctionSummary) -> bool:
    """Whether a function makes an object again from what was kept (``Plan.from_stored(doc)``,
    ``from_row``): a ``from_`` constructor that parses no request (``from_request``)."""
    from storegate.project import _PARSE_WORDS

    last = function.name.rpartition(".")[2]
    return last.startswith("from_") and last not in _PARSE_WORDS


def _takes_request(project: Project, module: ModuleSummary, function: FunctionSummary) -> bool:
    """Whether a function is handed the client's flag: as a parameter, or in an object whose class
    declares it (``req: TurnRequest``), rather than making a request of its own."""
    names = {param.name for param in function.params}
    return any(flag.name in names for flag in project.config.flags) or project._takes_flag(module, function)


def _given(args: tuple[Argument, ...], fields: tuple[str, ...], name: str) -> Argument | None:
    """The argument a construction gives the field ``name``: by its keyword, or by its position
    among ``fields`` (a class's declared fields, when its constructor takes them in order); None
    when it is not given, or a ``*``/``**`` may give it."""
    positional = []
    for argument in args:
        if argument.star:
            return None
        if argument.keyword == name:
            return argument
        if argument.keyword is None:
            positional.append(argument)
    if name not in fields:
        return None
    index = fields.index(name)
    return positional[index] if index < len(positional) else None
