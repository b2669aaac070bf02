"""Sinks that a project's classes inherit from a library's: an ORM model (``class Turn(Model)``,
``Model`` from ``tortoise.models``) creates rows with its class methods (``await
Turn.create(...)``) and saves with its instances' (``turn.save()``). A pack names them on the
library's class: ``tortoise.models.Model.create`` for the class, ``tortoise.models.Model().save``
for an instance (``receivers.py``'s form).

A summary cannot see it: the model is usually defined in another module, often under a base of
the project's own (``class Turn(Base)``, ``class Base(Model)``). So the project, once it holds
every class, marks these calls as sinks (``add_inherited``), before any chain is derived from
them. Plain data, without libcst (the globs are ``fnmatch``'s, which read a pack's ``*`` as
``sinks.glob_matcher`` does).

The same holds for a library object whose type is named by an alias in another module: FastAPI
apps name their injected session once (``SessionDep = Annotated[Session, Depends(get_db)]`` in
``deps.py``) and annotate handlers' parameters with it (``session: SessionDep``). The summary of
the handler's module cannot know what ``SessionDep`` is; the project can (``Inherited.aliased``).
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase
from collections.abc import Iterable
from typing import TYPE_CHECKING

from storegate import contracts, typefacts
from storegate.summary import FunctionSummary

if TYPE_CHECKING:
    from storegate.model import Sink
    from storegate.project import Project
    from storegate.summary import ModuleSummary, Site


def add_inherited(project: Project) -> Inherited:
    """Make a sink of each call of a method that a project class inherits from a library class a
    pack names (``Inherited.sink``), in every function of the project; what was found (its
    ``methods`` tell the pre-filter which calls may need a class's bases)."""
    inherited = Inherited(project)
    if not inherited.bases and not inherited.aliases and not inherited.untyped:
        return inherited
    rewritten: dict[str, FunctionSummary] = {}
    for fq, function in sorted(project.functions.items()):
        sites = tuple(inherited.marked(function.module, function.summary, site) for site in function.summary.sites)
        if any(new is not old for new, old in zip(sites, function.summary.sites)):
            rewritten[fq] = replace(function.summary, sites=sites)
    if rewritten:
        from storegate.callbacks import install

        install(project, rewritten)
    return inherited


def inheritable(sinks: Iterable[Sink]) -> list[Sink]:
    """The call sinks named on a library class: a dotted class name, then ``()`` for an
    instance, then the method (``tortoise.models.Model.create``, ``peewee.Model().save``). Not
    those that look at an argument (``pathlib.Path().open``'s mode): the project stage has
    only what the summaries kept of it."""
    found = []
    for sink in sinks:
        owner, dot, method = sink.pattern.rpartition(".")
        owner = owner.removesuffix("()")
        if not sink.is_container and sink.argument is None and dot and "." in owner and method and not any(c in sink.pattern for c in "*?[") and "(" not in owner:
            found.append(sink)
    return found


class Inherited:
    """The library bases of the project's classes, and the pack's sinks named on them."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.sinks = inheritable(project.config.sinks)
        self.methods = frozenset(sink.pattern.rpartition(".")[2] for sink in self.sinks)
        named = {sink.pattern.rpartition(".")[0].removesuffix("()") for sink in self.sinks}
        self.bases: dict[str, frozenset[str]] = {}  # class fq -> the library classes it derives from
        for class_fq in project.classes:
            found = self.library_bases(class_fq, set())
            if found & named:
                self.bases[class_fq] = frozenset(found)
        # the sinks named on a library instance's methods (``sqlalchemy.*Session()*.add``), for
        # the parameters annotated with another module's alias of such a class
        self.typed = [sink for sink in project.config.sinks if _instance_method(sink)]
        self.typed_methods = frozenset(sink.pattern.rpartition(".")[2] for sink in self.typed)
        self.aliases = self.library_aliases()
        # whether some call waits for its receiver's type (``held``)
        self.untyped = any(site.untyped for target in project.functions.values() for site in target.summary.sites)

    def library_bases(self, class_fq: str, seen: set[str]) -> set[str]:
        """The qualified names of the classes outside the project that ``class_fq`` derives from,
        through the project's own."""
        module, bases = self.project.classes[class_fq]
        found: set[str] = set()
        for base in bases:
            known = self.project._known_class(module, base)
            if known is not None:
                if known not in seen:
                    seen.add(known)
                    found |= self.library_bases(known, seen)
                continue
            head, dot, rest = base.partition(".")
            imported = self.project._imports(module).get(head)
            if imported is not None:
                found.add(imported + dot + rest)
        return found

    def library_aliases(self) -> dict[tuple[str, str], list[str]]:
        """(module, name) -> the library classes a top-level alias names (``SessionDep =
        Annotated[Session, ...]``, ``Store = redis.Redis``: a class, not an instance), for the
        classes a typed sink is named on."""
        owners = sorted({sink.pattern.partition("()")[0] for sink in self.typed})  # 29 of the default packs' 100
        found: dict[tuple[str, str], list[str]] = {}
        for (module_name, scope, name), values in self.project._facts.items():
            if scope != "" or module_name == "":
                continue
            for holder, value, _ in values:
                head, dot, rest = value.partition(".")
                imported = self.project._imports(holder).get(head)
                if value.endswith("()") or imported is None or self.project._known_class(holder, value) is not None:
                    continue  # an instance, a name of its own module, or a class of the project
                qualified = imported + dot + rest
                if any(fnmatchcase(qualified, owner) for owner in owners):
                    found.setdefault((module_name, name), []).append(qualified)
        return found

    def marked(self, module: ModuleSummary, function: FunctionSummary, site: Site) -> Site:
        """``site``, a sink if it calls a method its receiver's class inherits from a library
        class a pack names, and does not override; or one a library instance, typed by another
        module's alias, has (``aliased``)."""
        if site.sink is not None or site.kind != "call":
            return site
        receiver, dot, method = site.text.rpartition(".")
        if not dot or (method not in self.methods and method not in self.typed_methods and not site.untyped):
            return site
        if self.project.resolve(module, function, site) is not None:
            return site  # a method the project's class defines itself is judged by its own body
        sink = self.sink(module, function, receiver, method) if method in self.methods else None
        sink = sink or self.aliased(module, function, receiver, method)
        if sink is None and site.untyped:
            held = self.held(module, function, site)
            return site if held is None else replace(site, sink=held[0], sink_kind=held[1])
        return site if sink is None else replace(site, sink=sink.pattern, sink_kind=sink.kind or "call")

    def aliased(self, module: ModuleSummary, function: FunctionSummary, receiver: str, method: str) -> Sink | None:
        """The sink ``receiver.method`` is when ``receiver`` is a parameter annotated with an
        alias another module defines for a library class (``session: SessionDep``, or
        ``deps.SessionDep``, imported from ``app.deps``)."""
        param = function.param(receiver)
        written = contracts.annotated_class(param.annotation) if param is not None else None
        if written is None or not self.aliases:
            return None
        head, dot, rest = written.partition(".")
        imported = self.project._imports(module).get(head)
        if imported is None:
            return None
        for cls in self.aliases.get(self.defined(imported + dot + rest), ()):
            text = f"{cls}().{method}"
            found = next((sink for sink in self.typed if fnmatchcase(text, sink.pattern)), None)
            if found is not None:
                return found
        return None

    def held(self, module: ModuleSummary, function: FunctionSummary, site: Site) -> tuple[str, str] | None:
        """The library sink (pattern, kind) a call is when its receiver, which the summary could
        not type, holds a library's object (``Site.untyped``): one its callers pass for an
        unannotated parameter (``push(redis, entry)`` called as ``push(request.app.state.redis,
        ...)``), one set on ``app.state``, a global of another module (``Project.classes_of``,
        ``typefacts.LIBRARY``)."""
        receiver, _, method = site.text.rpartition(".")
        for held in self.project.classes_of(module, function, receiver.split("."), frozenset(), None):
            if held.startswith(typefacts.LIBRARY):
                text = f"{typefacts.library_object(held)}.{method}"
                found = next((sink for sink in site.untyped if fnmatchcase(text, sink[0])), None)
                if found is not None:
                    return found
        return None

    def defined(self, qualified: str) -> tuple[str, str]:
        """(module, name) where an imported name is bound, through the packages that re-export it
        (``from .core import SessionDep`` in ``app/deps/__init__.py``)."""
        owner, _, name = self.project._canonical(qualified).rpartition(".")
        for _ in range(8):
            holder = self.project.modules.get(owner)
            again = self.project._imports(holder).get(name) if holder is not None and (owner, name) not in self.aliases else None
            if again is None:
                break
            owner, _, name = self.project._canonical(again).rpartition(".")
        return owner, name

    def sink(self, module: ModuleSummary, function: FunctionSummary, receiver: str, method: str) -> Sink | None:
        """The sink a call of ``receiver.method`` is: on the class itself (``Turn.create``) or on
        one of its instances (``turn.save``, ``Turn(...).save``)."""
        for class_fq, instance in self.receiver_classes(module, function, receiver):
            for base in sorted(self.bases.get(class_fq, ())):
                text = f"{base}{'()' if instance else ''}.{method}"
                found = next((sink for sink in self.sinks if fnmatchcase(text, sink.pattern)), None)
                if found is not None:
                    return found
        return None

    def receiver_classes(self, module: ModuleSummary, function: FunctionSummary, receiver: str) -> list[tuple[str, bool]]:
        """The project classes a receiver names (``Turn``) or holds an instance of."""
        if receiver.endswith("()"):
            made = self.project._known_class(module, receiver[:-2])
            return [(made, True)] if made is not None else []
        named = self.project._known_class(module, receiver)
        if named is not None and function.param(receiver) is None:
            return [(named, False)]
        return [(c, True) for c in self.project.classes_of(module, function, receiver.split("."), frozenset(), None)]


def _instance_method(sink: Sink) -> bool:
    """A call sink on a library instance's method (``redis.*()*.hset``), that the project stage
    can judge: not one that reads an argument's text or a key (``receivers.py`` does, in the
    summary)."""
    owner, dot, method = sink.pattern.rpartition(".")
    return bool(dot and method) and sink.is_typed and not sink.is_container and sink.argument is None and sink.key is None and "." in owner
