"""Retention the API itself documents: sink writes allowed whatever the flag says, because they expire.

OpenAI keeps a background response for about ten minutes so that the client can poll it, then
deletes it, even with ``store: false``. A pack declares this as a ``Retention``: under its
condition (``background``, ``request.background``, ``body["background"]``: the locations of a
flag of that name, ``flags.is_location``) a write to a sink that expires is allowed. A write
expires when it passes one of the rule's expiry arguments (``ttl=600``; a literal ``None``,
``0`` or ``False`` is no expiry) or goes to a sink that an ``expiring`` pattern names. A write
with no expiry under the condition, or an expiring write outside it, is still judged by the flag.

The analysis asks two things here: which conditions to keep facts about (``conditions``), and
under which conditions one site's write is retained (``allowing``); it checks the facts itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

import libcst as cst

from storegate.model import Config, Flag, Retention
from storegate.sinks import MatchContext, sink_glob

_CONTAINER_WRITE = "[...]"  # how a container write's text ends (``sinks.ContainerSinks``, ``StateSinks``)


class SiteShape(Protocol):
    """What a site shows of itself (``analysis._SiteFacts``)."""

    sink: str | None
    sink_kind: str | None
    text: str
    args: list[cst.Arg]


def conditions(config: Config, flags: Iterable[Flag]) -> list[Flag]:
    """The retention conditions of ``flags``, as flags: the solver must keep facts about their
    locations (``analysis.relevant_paths``)."""
    names = {flag.name for flag in flags}
    return [Flag(when) for when in dict.fromkeys(rule.when for rule in config.retention if rule.flag in names)]


def allowing(config: Config, flag: Flag, site: SiteShape, imports: Mapping[str, str]) -> list[Flag]:
    """The conditions under which ``site``'s write is allowed whatever ``flag`` says: those of
    the rules for ``flag`` whose write expires here. Only sinks: a helper may write elsewhere."""
    if site.sink is None:
        return []
    return [Flag(rule.when) for rule in config.retention if rule.flag == flag.name and expires(rule, site, imports)]


def expires(rule: Retention, site: SiteShape, imports: Mapping[str, str]) -> bool:
    """Whether the site's write expires by ``rule``: an expiry argument, or an expiring sink."""
    if any(arg.keyword is not None and arg.keyword.value in rule.expiry_arguments and _sets_expiry(arg.value) for arg in site.args):
        return True
    return any(_names(pattern, site, imports) for pattern in rule.expiring)


def _sets_expiry(value: cst.BaseExpression) -> bool:
    """An expiry argument's value sets one unless it is a literal ``None``, ``False`` or zero."""
    if isinstance(value, cst.Name):
        return value.value not in ("None", "False")
    if isinstance(value, (cst.Integer, cst.Float)):
        return value.evaluated_value != 0
    return True


def _names(pattern: str, site: SiteShape, imports: Mapping[str, str]) -> bool:
    """Whether an ``expiring`` sink pattern names the site's callee (or container, for ``[]``)."""
    text = site.text
    if pattern.endswith("[]"):
        if site.sink_kind not in ("container", "state", "instance"):
            return False
        # ``c[...]`` for an item write, ``c.append`` for a mutating method
        text = text[: -len(_CONTAINER_WRITE)] if text.endswith(_CONTAINER_WRITE) else text.rpartition(".")[0]
        pattern = pattern[:-2]
    elif site.sink_kind != "call":
        return False
    glob = sink_glob(pattern)
    return any(glob(name) for name in MatchContext(imports).names(text))
