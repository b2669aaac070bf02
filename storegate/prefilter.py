"""The byte pre-filter: which files can matter before any of them is parsed.

A file can hold a finding only if it mentions a flag, a sink, or a function that persists
(a derived sink, found in files read in an earlier round). Words are taken so that any callee
matching a sink pattern must contain one: the literal part of the pattern's last segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storegate.model import Config
from storegate.summary import ModuleSummary

Words = frozenset  # of str; an empty pattern word means "every file"


def sink_word(pattern: str) -> str:
    """The longest literal run a matching callee must contain ('' if there is none)."""
    pattern = pattern[:-2] if pattern.endswith("[]") else pattern
    last = pattern.rsplit(".", 1)[-1]
    for part in (last, pattern):
        runs = [run for run in re.split(r"[*?.]", part) if run]
        if runs:
            return max(runs, key=len)
    return ""


def initial_words(config: Config) -> frozenset[str] | None:
    """Flag names and sink words; ``None`` when some sink pattern could match any callee."""
    words = {flag.name for flag in config.flags}
    words.update(route.rsplit("/", 1)[-1] or "/" for route in config.routes)
    for sink in config.sinks:
        word = sink_word(sink.pattern)
        if not word:
            return None
        words.add(word)
    return frozenset(words)


def mentions(source: str, words: frozenset[str] | None) -> bool:
    return words is None or any(word in source for word in words)


def derived_words(summaries: Iterable[ModuleSummary], config: Config) -> frozenset[str]:
    """Names of functions that may persist: a superset of the derived sinks found so far."""
    persisting: set[str] = set()
    functions = [f for s in summaries for f in s.functions if f.kind in ("function", "method")]
    changed = True
    while changed:
        changed = False
        for function in functions:
            short = function.name.rpartition(".")[2]
            if short in persisting:
                continue
            for site in function.sites:
                if site.sink is not None or site.text.rpartition(".")[2] in persisting:
                    persisting.add(short)
                    changed = True
                    break
    return frozenset(persisting)
