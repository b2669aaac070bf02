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
    """Flag names, and a literal word of each route (``responses`` of ``POST /v1/responses``)."""
    words = {flag.name for flag in config.flags}
    for route in config.routes:
        runs = [run for run in re.split(r"[^A-Za-z0-9_]+", route.rpartition(" ")[2]) if run]
        words.add(max(runs, key=len) if runs else "/")
    return frozenset(words)


def mentions(source: str, words: frozenset[str] | None) -> bool:
    """Whether ``source`` holds one of ``words`` as a whole identifier (``store``, not ``restore``)."""
    if words is None:
        return True
    return _pattern(words).search(source) is not None


@lru_cache(maxsize=8)
def _pattern(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])")
