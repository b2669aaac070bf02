"""Signals: the receivers connected to a library's signal run where the signal is sent.

A blinker or Django signal (``response_completed = Namespace().signal("response-completed")``,
``Signal()``) calls each function connected to it (``response_completed.connect(remember)``)
whenever it is sent (``response_completed.send(app, response=r, persisted=plan.persist)``),
with the sender and the keywords. Each ``send`` becomes a call of each receiver the project
connects, resolved where it is connected, as a callback's call does (``callbacks.py``): a
write a receiver makes is reached from where the signal is sent, with the flag as that place
knows it. A signal is a module's name bound to what such a library's ``signal``/``Signal``
makes; the pre-filter reads the files that name a signal sent, where its receivers are
connected (``Callbacks.filled``). Works on the summaries only, like ``project.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from storegate.callbacks import PASSED, Callbacks, install, named_call
from storegate.summary import FunctionSummary, Site

if TYPE_CHECKING:
    from storegate.project import Project

# The libraries whose signals call their receivers, and the names of what makes a signal.
_LIBRARIES = ("blinker", "django.dispatch")
_MAKERS = frozenset({"signal", "Signal", "NamedSignal"})
_SENDS = frozenset({"send", "send_async", "send_robust"})


def add_signals(project: Project) -> Callbacks:
    """Replace each ``send`` of a signal by one call of each function connected to it; what the
    pre-filter must read for them (the files naming a signal sent, the receivers not read yet)."""
    found = Callbacks()
    signals = _signals(project)
    if not signals:
        return found
    receivers: dict[str, set[str]] = {}
    sends: dict[str, list[Site]] = {}
    for fq, function in sorted(project.functions.items()):
        for site in function.summary.sites:
            signal, _, method = (site.qualified or "").rpartition(".")
            if site.kind != "call" or signal not in signals:
                continue
            if method in _SENDS:
                sends.setdefault(fq, []).append(site)
            elif method == "connect" and site.args and site.args[0].keyword is None and site.args[0].path:
                named = named_call(site.args[0].path, function.module)
                target = project.resolve(function.module, function.summary, named)
                if target is None:
                    found.unresolved.append((function, named))
                else:
                    receivers.setdefault(signal, set()).add(target.fq)
    found.filled = frozenset(site.qualified.rpartition(".")[0].rpartition(".")[2] for calls in sends.values() for site in calls if site.qualified)
    rewritten: dict[str, FunctionSummary] = {}
    for fq, calls in sends.items():
        summary = project.functions[fq].summary
        sites: list[Site] = []
        for site in summary.sites:
            connected = receivers.get((site.qualified or "").rpartition(".")[0], ()) if site in calls else ()
            sites.extend(replace(site, qualified=PASSED + receiver) for receiver in sorted(connected))
            if not connected:
                sites.append(site)
        if len(sites) != len(summary.sites) or any(new is not old for new, old in zip(sites, summary.sites)):
            rewritten[fq] = replace(summary, sites=tuple(sites))
    if rewritten:
        install(project, rewritten)
    return found


def _signals(project: Project) -> set[str]:
    """The qualified names of the module-level names bound to a signal library's signal, in the
    modules that import one (most projects have none: the facts are not read)."""
    importing = {name for name, module in project.modules.items() if any(qualified.startswith(_LIBRARIES) for _, qualified in module.imports)}
    found: set[str] = set()
    for (module_name, scope, name), facts in project._facts.items() if importing else ():
        if module_name not in importing or scope or not facts:
            continue
        if all(value.endswith("()") and value[:-2].rpartition(".")[2] in _MAKERS for _, value, _ in facts):
            found.add(f"{module_name}.{name}")
    return found
