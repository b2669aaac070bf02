"""Sinks that another module's constant decides: ``conn.execute(queries.INSERT_TURN, ...)`` or
``conn.execute(INSERT_TURN, ...)`` imported, where ``queries.py`` holds the SQL.

A sink with an argument regex (raw SQL that writes) is matched against the argument's text. The
summary of the calling module reads a literal, its own constants and its locals bound once to a
literal (``sinks._argument_texts``); a constant it imports, it cannot. It records the call with
the sink it would be and the constant as written (``Site.pending``), and the project, which holds
every module's string constants (``ModuleSummary.constants``), makes it that sink when the
constant's text matches (``add_statement_sinks``), before any chain is derived. A constant that
no module read defines leaves the call as it is: the pre-filter reads the module it names
(``Project.unresolved``). Plain data, without libcst.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from storegate.linear_regex import LinearRegex

if TYPE_CHECKING:
    from storegate.project import Project
    from storegate.summary import FunctionSummary, ModuleSummary, Site


def add_statement_sinks(project: Project) -> None:
    """Make each pending call (``Site.pending``) of the project's functions the sink it waits
    for, when the text of the constant it passes matches that sink's argument regex."""
    regexes: dict[str, list[LinearRegex]] = {}
    for sink in project.config.sinks:
        if sink.argument:
            regexes.setdefault(sink.pattern, []).append(LinearRegex(sink.argument))
    rewritten: dict[str, FunctionSummary] = {}
    for fq, function in sorted(project.functions.items()):
        if not any(site.pending for site in function.summary.sites):
            continue
        sites = tuple(_decided(project, function.module, site, regexes) for site in function.summary.sites)
        if any(new is not old for new, old in zip(sites, function.summary.sites)):
            rewritten[fq] = replace(function.summary, sites=sites)
    if rewritten:
        from storegate.callbacks import install

        install(project, rewritten)


def _decided(project: Project, module: ModuleSummary, site: Site, regexes: dict[str, list[LinearRegex]]) -> Site:
    if site.pending is None or site.sink is not None:
        return site
    pattern, kind, constant = site.pending
    text = project._constant(module, constant, [])
    if text is None or not any(regex.search(text) for regex in regexes.get(pattern, ())):
        return site
    return replace(site, sink=pattern, sink_kind=kind)


def wanted(project: Project, module: ModuleSummary, site: Site, modules: set[str]) -> None:
    """Where the constant a pending call passes may be, when no module read defines it: the
    qualified names tried (``Project._constant``), for the pre-filter to read."""
    if site.pending is not None and site.sink is None:
        trail: list[str] = []
        if project._constant(module, site.pending[2], trail) is None:
            modules.update(trail)
