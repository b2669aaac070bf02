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

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from storegate.linear_regex import LinearRegex, compiled

# A pending sink's constant that is a parameter of the calling function (``self._conn.execute(sql,
# params)`` in ``def _run(self, sql, params)``): its callers' statements decide
# (``add_passed_statement_sinks``).
PASSED = "param:"

if TYPE_CHECKING:
    from storegate.project import Project, _Function
    from storegate.summary import Argument, FunctionSummary, ModuleSummary, Site


def add_statement_sinks(project: Project) -> None:
    """Make each pending call (``Site.pending``) of the project's functions the sink it waits
    for, when the text of the constant it passes matches that sink's argument regex."""
    regexes = _regexes(project)
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


def add_passed_statement_sinks(project: Project) -> None:
    """Make a call the sink it leads to when it passes SQL that writes to a helper whose
    parameter reaches that sink: ``self._exec("INSERT INTO ...", ...)`` of ``def _exec(self, sql,
    *params)`` that runs ``asyncio.to_thread(self._run, sql, params)``, which runs
    ``self._conn.execute(sql, params)``. The helper itself is no sink (its ``SELECT`` callers
    keep nothing); each caller's statement (``Argument.statement``) decides. A parameter reaches
    the sink when the sink's call passes it (``Site.pending`` of ``PASSED``), or when the
    helper passes it on, as it is, to a parameter that does, at any depth."""
    regexes = _regexes(project)
    taking: dict[str, dict[str, tuple[str, str]]] = {}  # fq -> parameter -> (sink pattern, kind)
    for fq, function in project.functions.items():
        for site in function.summary.sites:
            if site.pending is not None and site.sink is None and site.pending[2].startswith(PASSED):
                name = site.pending[2][len(PASSED) :]
                if function.summary.param(name) is not None:
                    taking.setdefault(fq, {}).setdefault(name, site.pending[:2])
    if not taking:
        return
    calls: list[tuple[str, _Function, Site, _Function]] = []
    named: set[str] = set()  # the last names of the helpers known: only calls by them are resolved
    while len(named) < len({fq.rpartition(".")[2] for fq in taking}):
        new = {fq.rpartition(".")[2] for fq in taking} - named
        named |= new
        calls.extend(
            (fq, function, site, target)
            for fq, function in sorted(project.functions.items())
            for site in function.summary.sites
            if site.kind == "call" and site.sink is None and site.args and site.text.rpartition(".")[2] in new
            for target in project.resolve_all(function.module, function.summary, site)
        )
        changed = True
        while changed:  # a helper that passes its parameter on to one that takes SQL takes it too
            changed = False
            for fq, function, site, target in calls:
                for name, sink in list(taking.get(target.fq, {}).items()):
                    bound = _bound(site, target, name)
                    if bound is not None and bound.path is not None and function.summary.param(bound.path) is not None:
                        if bound.path not in taking.setdefault(fq, {}):
                            taking[fq][bound.path] = sink
                            changed = True
    rewritten: dict[str, FunctionSummary] = {}
    for fq, function, site, target in calls:
        for name, (pattern, kind) in taking.get(target.fq, {}).items():
            bound = _bound(site, target, name)
            text = bound.statement if bound is not None else None
            if text is not None and any(regex.search(text) for regex in regexes.get(pattern, ())):
                summary = rewritten.get(fq, function.summary)
                sites = tuple(replace(s, sink=pattern, sink_kind=kind) if s is site else s for s in summary.sites)
                rewritten[fq] = replace(summary, sites=sites)
                break
    if rewritten:
        from storegate.callbacks import install

        install(project, rewritten)


def _bound(site: Site, target: _Function, name: str) -> Argument | None:
    from storegate.project import _bound_argument

    bound = _bound_argument(site, target, name)
    return bound if not isinstance(bound, str) else None


def _regexes(project: Project) -> dict[str, list[LinearRegex]]:
    regexes: dict[str, list[LinearRegex]] = {}
    for sink in project.config.sinks:
        if sink.argument:
            regexes.setdefault(sink.pattern, []).append(compiled(sink.argument))
    return regexes


def _decided(project: Project, module: ModuleSummary, site: Site, regexes: dict[str, list[LinearRegex]]) -> Site:
    if site.pending is None or site.sink is not None or site.pending[2].startswith(PASSED):
        return site
    pattern, kind, constant = site.pending
    text = project._constant(module, constant, [])
    if text is None or counts_only(text) or not any(regex.search(text) for regex in regexes.get(pattern, ())):
        return site
    return replace(site, sink=pattern, sink_kind=kind)


def wanted(project: Project, module: ModuleSummary, site: Site, modules: set[str]) -> None:
    """Where the constant a pending call passes may be, when no module read defines it: the
    qualified names tried (``Project._constant``), for the pre-filter to read."""
    if site.pending is not None and site.sink is None and not site.pending[2].startswith(PASSED):
        trail: list[str] = []
        if project._constant(module, site.pending[2], trail) is None:
            modules.update(trail)


def counts_only(sql: str) -> bool:
    """Whether an SQL statement is an ``UPDATE`` that only counts or stamps (``SET hits = hits +
    1, last_hit_at = now()``, ``SET status = 'closed'``): each column set to itself plus or minus
    something, to the clock, or to a literal, or a column named for a status, a count, a time or a
    reason set to a parameter (``SET status = $1, closed_at = $2``). It keeps nothing of a request
    (a usage counter, a cache's hit count, a row's state), though the sink's regex takes every
    ``UPDATE``."""
    if not sql.lstrip()[:6].upper() == "UPDATE":
        return False
    found = _SET.search(sql)
    if found is None:
        return False
    rest = sql[found.end() :]
    end = _AFTER_SET.search(rest)
    assignments = _top_level(rest[: end.start()] if end else rest)
    return bool(assignments) and all(_counted(assignment) for assignment in assignments)


_SET = re.compile(r"\bSET\b", re.IGNORECASE)
_AFTER_SET = re.compile(r"\b(WHERE|RETURNING|FROM)\b", re.IGNORECASE)
_STAMPS = frozenset({"now()", "current_timestamp", "current_date", "localtimestamp", "datetime('now')", "null", "true", "false"})
_LITERAL = re.compile(r"-?\d+(\.\d+)?|'[^']*'")
# A statement's parameter: ``?``, ``$2``, ``%s``, ``%(name)s``, ``:name``.
_PARAMETER = re.compile(r"\?|\$\d+|%s|%\(\w+\)s|:\w+")
# Columns that say what happened to a row, not what it holds: a status, a count, a time, a reason
# (an error, what a failure says of itself).
_BOOKKEEPING = re.compile(r"^(status|state_code|reason|error|attempts|retries)$|_(status|count|at|reason|error|tokens|ms|seconds)$")


def bookkeeping_column(name: str) -> bool:
    """Whether a column is named for a status, a count, a time or a reason (``_BOOKKEEPING``)."""
    return _BOOKKEEPING.search(name.lower()) is not None


def _top_level(text: str) -> list[str]:
    """``text`` cut at its commas outside brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _counted(assignment: str) -> bool:
    """``col = col + x``, ``col = coalesce(col, 0) - x``, ``col = now()``, ``col = 'closed'``."""
    column, equals, value = assignment.partition("=")
    name = column.strip().rpartition(".")[2].strip('"`[] ').lower()
    value = " ".join(value.split()).lower()
    if not equals or not name:
        return False
    if value in _STAMPS or _LITERAL.fullmatch(value):
        return True
    if _PARAMETER.fullmatch(value) and bookkeeping_column(name):
        return True  # a status, a count or a time the caller passes (``status = $2``, ``closed_at = ?``)
    if bookkeeping_column(name) and value.startswith(("now()", "current_timestamp")) and value[len(value.split()[0]) :].lstrip()[:1] in ("+", "-"):
        return True  # a deadline (``next_run_at = now() + make_interval(secs => $3)``)
    for start in (name, f'"{name}"', f"coalesce({name}", f'coalesce("{name}"'):
        if value.startswith(start):
            after = value[len(start) :].lstrip()
            if start.startswith("coalesce"):
                after = after.partition(")")[2].lstrip()
            return after[:1] in ("+", "-")
    return False
