"""SG001 ungated-sink: a configured persistence call (a sink) that some path reaches with the
store flag unchecked, in a function that has the flag."""

from __future__ import annotations

from collections.abc import Iterable

from storegate.checks.base import At, Code
from storegate.model import Finding, TraceStep


def decide(at: At) -> Iterable[Finding]:
    if at.site.sink is None or at.scratch():
        return ()
    trace = at.ungated()
    if trace is None:
        return ()
    kind = "call" if at.site.kind == "call" else "write"
    noun = "persistence call" if kind == "call" else "persistence write"
    message = f"{noun} '{at.site.text}' is not gated by '{at.flag.gate_text}'"
    return (at.finding(CODE.code, message, (*trace, TraceStep(at.site.span.line, f"{kind} {at.site.text}"))),)


CODE = Code(
    code="SG001",
    name="ungated-sink",
    summary="persistence call not gated by the store flag",
    what=(
        "Reports a call to a configured persistence function (a sink) that some path from "
        "the start of its function reaches without a check that the store flag permits "
        "storing (`if store:`, `if not store: return`, `request.store`, an alias, ...)."
    ),
    why=(
        "A client that sends `store: false` asks the server to keep nothing of the request. "
        "A write that runs whatever the flag says keeps the request anyway: a privacy bug "
        "that no functional test notices, since the response is the same."
    ),
    bad="""\
class ResponsesService:
    async def create(self, request, store=True):
        response = await self.generate(request)
        await self.responses_store.store_response_object(response)
        return response
""",
    good="""\
class ResponsesService:
    async def create(self, request, store=True):
        response = await self.generate(request)
        if store:
            await self.responses_store.store_response_object(response)
        return response
""",
    decide=decide,
    fix="gate",
)
