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
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase
from collections.abc import Iterable
from typing import TYPE_CHECKING

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
    if not inherited.bases:
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

    def marked(self, module: ModuleSummary, function: FunctionSummary, site: Site) -> Site:
        """``site``, a sink if it calls a method its receiver's class inherits from a library
        class a pack names, and does not override."""
        if site.sink is not None or site.kind != "call":
            return site
        receiver, dot, method = site.text.rpartition(".")
        if not dot or method not in self.methods or self.project.resolve(module, function, site) is not None:
            return site  # a method the project's class defines itself is judged by its own body
        sink = self.sink(module, function, receiver, method)
        return site if sink is None else replace(site, sink=sink.pattern, sink_kind=sink.kind or "call")

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
