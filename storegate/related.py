"""Related locations: the findings that one missing gate explains, reported as one.

Two findings are related when one ``if <flag>:`` would fix both: both are of a code that
``--fix`` fixes with a gate (SG001, SG002), in the same file and function, for the same flag,
and their witnesses take the same unchecked path to the site: the same branch steps, compared by
line and text (the trace without its last step, which is the write or call itself). Sites on
two independent ungated branches have different paths and stay apart, unless they are calls of
one persisting function with the same chain (SG002, ``relay.push(event)`` after each event of a
stream: one gate inside it explains them all); the findings of two functions stay apart. A
witness is one path, not the branch structure: a write just after an ``if`` whose witness runs
through the ``if``'s body joins the body's item. The first of a group in line order (SG001
before SG002 on the same position) is the primary; the others are its related locations.

The pipeline keeps every finding (the baseline, ``--fix``, ``--select``, ``--statistics`` and
the flake8 plugin work per finding); only the reports group, with ``group``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from storegate.model import Finding


@lru_cache(maxsize=1)
def gate_codes() -> frozenset[str]:
    """The codes a gate fixes (``checks.fixed_by``), read from the registry when a finding is
    first grouped: a run without findings never imports it."""
    from storegate import checks

    return frozenset(checks.fixed_by("gate"))


@dataclass(frozen=True)
class Group:
    """One reported item: a finding, and the findings the same missing gate explains."""

    primary: Finding
    related: tuple[Finding, ...] = ()


def gate_key(finding: Finding) -> Hashable | None:
    """What the findings one gate would fix share; None for a finding no gate fixes."""
    if finding.code not in gate_codes():
        return None
    branches = tuple((step.line, step.text) for step in finding.trace[:-1])
    return (finding.path, finding.function, finding.flag, branches)


def call_key(finding: Finding) -> Hashable | None:
    """What the calls of one persisting function share, made in one function on several branches
    (``relay.push(...)`` after each event of a stream): one gate in the callee, or the same one at
    each call, fixes them all. None for a finding that is no such call (SG002's)."""
    if finding.code != "SG002":
        return None
    return (finding.path, finding.function, finding.flag, finding.message)


def group(findings: Iterable[Finding]) -> list[Group]:
    """``findings`` as groups, in the order of each group's first finding: those that share a
    ``gate_key`` or a ``call_key``, in turn."""
    listed = list(findings)
    leader = list(range(len(listed)))

    def find(index: int) -> int:
        while leader[index] != index:
            leader[index] = leader[leader[index]]
            index = leader[index]
        return index

    first: dict[Hashable, int] = {}
    for index, finding in enumerate(listed):
        for key in (("gate", gate_key(finding)), ("call", call_key(finding))):
            if key[1] is not None:
                joined = find(first.setdefault(key, index))
                leader[find(index)] = joined
    members: dict[int, list[Finding]] = {}
    for index, finding in enumerate(listed):
        members.setdefault(find(index), []).append(finding)
    groups = []
    for same in members.values():  # (each in the order of its first finding)
        same.sort(key=lambda f: f.sort_key)
        groups.append(Group(same[0], tuple(same[1:])))
    return groups
