"""SG005 ungated-learned-sink: a call or container write, in a function that has the store flag,
with the flag unchecked on some path, to something the codebase itself gates by the flag
elsewhere (a learned sink, ``Project.learned_sinks``): no configuration names it."""

from __future__ import annotations

import os
from collections.abc import Iterable

from storegate.checks.base import At, Code
from storegate.model import Finding, TraceStep


def decide(at: At) -> Iterable[Finding]:
    if at.site.sink is not None or at.derived_chain() is not None:
        return ()  # a configured sink is SG001's, a derived one SG002's
    gated = at.project.learned_at(at.module, at.function, at.site, at.flag)
    if gated is None:
        return ()
    trace = at.ungated()
    if trace is None:
        return ()
    path, line = gated
    where = os.path.basename(path) if path == at.module.path else path
    noun, step = ("call to", "call") if at.site.kind == "call" else ("write to", "write")
    gate = at.flag.gate_text
    message = f"{noun} '{at.site.text}' is not gated by '{gate}' (gated by '{gate}' at {where}:{line})"
    return (at.finding(CODE.code, message, (*trace, TraceStep(at.site.span.line, f"{step} {at.site.text}")), "learned"),)


CODE = Code(
    code="SG005",
    name="ungated-learned-sink",
    summary="a write that the code gates by the store flag elsewhere is not gated here",
    what=(
        "Reports a call or container write, in a function that has the flag, that is not gated "
        "by it, when the same function, the same receiver and method (`self.cache.put`) or the "
        "same container (`self._turns[...]`, a module's `TURNS`) is written only under the flag "
        "somewhere else in the codebase: the code itself says it is persistence. The message "
        "names where it is gated. Values the code uses (`data = self._serialize(r)`), callees "
        "that take the flag or hand it on to one that checks it, functions that write nothing but their own attributes "
        "(`record.set_snapshot(r)`), and names that read or log (`get_*`, `load_*`, `list_*`, "
        "`fetch_*`, `logger.info`, `metrics.inc`) are never learned."
    ),
    why=(
        "Where one place writes only `if store:` and another writes the same thing "
        "unconditionally, one of them is wrong, and it is rarely the gated one: the ungated "
        "write keeps what a client sent with `store: false`, with no sink list naming it."
    ),
    bad="""\
class ResponsesService:
    async def create(self, request, store=True):
        response = await self.generate(request)
        if store:
            await self.archive.put(response.id, response)
        return response

    async def resume(self, request, store=True):
        response = await self.generate(request)
        await self.archive.put(response.id, response)
        return response
""",
    good="""\
class ResponsesService:
    async def create(self, request, store=True):
        response = await self.generate(request)
        if store:
            await self.archive.put(response.id, response)
        return response

    async def resume(self, request, store=True):
        response = await self.generate(request)
        if store:
            await self.archive.put(response.id, response)
        return response
""",
    decide=decide,
    level="warning",
    fix="gate",
)
