"""SG002 ungated-derived-sink: a call, in a function that has the store flag, to a function
without it that persists (a derived sink, found by ``Project.derived_sinks``), with the flag
unchecked on some path."""

from __future__ import annotations

from collections.abc import Iterable

from storegate.checks.base import At, Code, arrows
from storegate.model import Finding


def decide(at: At) -> Iterable[Finding]:
    if at.site.sink is not None:
        return ()  # a configured sink is SG001's
    if at.derived_chain() is None:
        return ()
    trace = at.ungated()
    if trace is None:
        return ()
    chain, *others = at.chains()
    message = f"call to '{at.site.text}' persists ({arrows((chain, *others))}) and is not gated by '{at.flag.gate_text}'"
    return (at.finding(CODE.code, message, (*trace, *at.call_trace(chain, others))),)


CODE = Code(
    code="SG002",
    name="ungated-derived-sink",
    summary="call to a function that persists (a derived sink), not gated by the store flag",
    what=(
        "Reports a call, in a function that has the flag, to a function without the flag "
        "that persists (directly or further down, in any module of the project, at most "
        "`max-call-depth` calls deep: 6 unless configured), when the call is not gated by "
        "the flag. The message shows the chain down to the sink, and the chain to each other "
        "write the callee makes through a call or a write of its own."
    ),
    why=(
        "A helper that does not receive the flag cannot check it: whether it may store is "
        "decided by its caller. An ungated call to it stores data the client asked not to "
        "keep, one call away from where the flag is known."
    ),
    bad="""\
class ResponsesService:
    async def _sync_conversation(self, conversation, items):
        await self.conversations_api.add_items(conversation, items)

    async def finish(self, conversation, items, store=True):
        if conversation:
            await self._sync_conversation(conversation, items)
""",
    good="""\
class ResponsesService:
    async def _sync_conversation(self, conversation, items):
        await self.conversations_api.add_items(conversation, items)

    async def finish(self, conversation, items, store=True):
        if conversation and store:
            await self._sync_conversation(conversation, items)
""",
    decide=decide,
    fix="gate",
)
