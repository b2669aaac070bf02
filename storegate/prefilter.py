"""The byte pre-filter: which files can matter, decided before they are parsed.

Every finding is about a function that can see a flag, or about an HTTP handler of a
store-bearing route, so the first round takes the files that mention a flag or a route. What
such a function calls may persist in another file: each later round takes the files that
mention a name that the functions found so far reach but cannot resolve
(``Project.unresolved_names``), until no new file is selected. A file that no round selects
cannot change a finding. Words match whole identifiers only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from storegate.model import Config


def initial_words(config: Config) -> frozenset[str]:
    """Flag names, and a literal word of each route (``responses`` of ``POST /v1/responses``).

    A route word next to a wildcard is part of a longer word in the path (``resp`` of
    ``/v1/resp*``): it is marked with a ``*`` on that side, where it need not end a word.
    """
    words = {flag.name for flag in config.flags}
    for route in config.routes:
        path = route.rpartition(" ")[2]
        runs = list(re.finditer(r"[A-Za-z0-9_]+", path))
        if not runs:
            words.add("/")
            continue
        run = max(runs, key=lambda found: len(found.group()))
        left = "*" if path[run.start() - 1 : run.start()] in ("*", "?") else ""
        right = "*" if path[run.end() : run.end() + 1] in ("*", "?") else ""
        words.add(left + run.group() + right)
    return frozenset(words)


def mentions(source: str, words: frozenset[str] | None) -> bool:
    """Whether ``source`` holds one of ``words`` as a whole identifier (``store``, not ``restore``);
    a side marked ``*`` need not end the identifier."""
    if words is None:
        return True
    return _pattern(words).search(source) is not None


@lru_cache(maxsize=8)
def _pattern(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        before = "" if word.startswith("*") else "(?<![A-Za-z0-9_])"
        after = "" if word.endswith("*") and len(word) > 1 else "(?![A-Za-z0-9_])"
        alternatives.append(before + re.escape(word.strip("*") or word) + after)
    return re.compile("|".join(alternatives))
