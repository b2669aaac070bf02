"""The byte pre-filter: which files can matter, decided before they are parsed.

Every finding is about a function that can see a flag, or about an HTTP handler of a
store-bearing route, so the first round takes the files that mention a flag or a route. What
such a function calls may persist in another file: each later round takes the files that
mention a name called (directly or through other called functions) from the functions found so
far, until no new file is selected. A file that no round selects cannot change a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storegate.model import Config
from storegate.summary import ModuleSummary


def initial_words(config: Config) -> frozenset[str]:
    """Flag names, and a literal word of each route (``responses`` of ``POST /v1/responses``)."""
    words = {flag.name for flag in config.flags}
    for route in config.routes:
        runs = [run for run in re.split(r"[^A-Za-z0-9_]+", route.rpartition(" ")[2]) if run]
        words.add(max(runs, key=len) if runs else "/")
    return frozenset(words)


def mentions(source: str, words: frozenset[str] | None) -> bool:
    return words is None or any(word in source for word in words)


def called_words(summaries: Iterable[ModuleSummary]) -> frozenset[str]:
    """Names that the functions which can matter call, transitively, among the known summaries.

    A function matters if it sees a flag or handles a route, or if a function that matters calls
    something of its name. Base classes of their classes and private functions with the flag
    (whose callers decide what they may assume) are wanted too.
    """
    functions = [(summary, function) for summary in summaries for function in summary.functions]
    by_name: dict[str, list] = {}
    for item in functions:
        by_name.setdefault(item[1].name.rpartition(".")[2], []).append(item)
    bases = {
        (summary.module, name): [base.rpartition(".")[2] for base in class_bases]
        for summary in summaries
        for name, class_bases in summary.classes
    }
    wanted: set[str] = set()
    reached = [item for item in functions if item[1].flags or item[1].routes]
    seen = {id(item[1]) for item in reached}
    while reached:
        summary, function = reached.pop()
        if function.flags:
            wanted.add(function.name.rpartition(".")[2])  # its callers may hold call-site facts
        if function.class_name is not None:
            wanted.update(bases.get((summary.module, function.class_name), ()))
        for site in function.sites:
            for name in _names(site.text):
                if name in wanted:
                    continue
                wanted.add(name)
                for item in by_name.get(name, ()):
                    if id(item[1]) not in seen:
                        seen.add(id(item[1]))
                        reached.append(item)
    return frozenset(wanted)


def _names(callee: str) -> list[str]:
    """``a.b.c`` -> ``c`` (and ``a``, a module or class it may come through); ``make().m`` -> both."""
    maker, _, method = callee.partition("().")
    names = [maker.rpartition(".")[2]]
    if "." in maker:
        names.append(maker.partition(".")[0])
    if method:
        names.append(method)
    return [name for name in names if name not in ("self", "cls")]
