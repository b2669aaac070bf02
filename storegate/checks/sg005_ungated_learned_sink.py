"""SG005 ungated-learned-sink: a call or container write, in a function that has the store flag,
with the flag unchecked on some path, to something the codebase itself gates by the flag
elsewhere (a learned sink, ``Project.learned_sinks``): no configuration names it."""

from __future__ import annotations

import os
from collections.abc import Iterable

from storegate.checks.base import At, Code
from storegate.model import Finding, TraceStep, constants_only


def decide(at: At) -> Iterable[Finding]:
    if at.site.sink is not None or at.derived_chain() is not None:
        return ()  # a configured sink is SG001's, a derived one SG002's
    if at.switched_off():
        return ()  # gated where the callee's own parameter switches its writes on
    if _constants_only(at):
        return ()  # only constants under a key (``cache.set(marker, "completed")``): nothing of the request
    gated = at.project.learned_at(at.module, at.function, at.site, at.flag)
    chain = None
    if gated is None:  # a helper that writes it (``Project.learned_chains``)
        chain, gated = _helper_chain(at)
        if gated is None:
            return ()
    trace = at.ungated()
    if trace is None:
        return ()
    path, line = gated
    where = os.path.basename(path) if path == at.module.path else path
    noun, step = ("call to", "call") if at.site.kind == "call" else ("write to", "write")
    gate = at.flag.gate_text
    if chain is None:
        message = f"{noun} '{at.site.text}' is not gated by '{gate}' (gated by '{gate}' at {where}:{line})"
        return (at.finding(CODE.code, message, (*trace, TraceStep(at.site.span.line, f"{step} {at.site.text}")), "learned"),)
    short = " -> ".join(text for _, _, text in chain)
    message = f"call to '{at.site.text}' persists (-> {short}) and is not gated by '{gate}' (gated by '{gate}' at {where}:{line})"
    return (at.finding(CODE.code, message, (*trace, *at.call_trace(chain)), "learned"),)


def _constants_only(at: At) -> bool:
    """Whether a call writes only constants under its key (``model.constants_only``)."""
    arguments = [(arg.keyword, bool(arg.star), arg.literal) for arg in at.site.args]
    return at.site.kind == "call" and constants_only(arguments)


def _helper_chain(at: At) -> tuple[tuple | None, tuple[str, int] | None]:
    """The chain from the site's callee to a write the codebase gates elsewhere, and where it is
    gated; ``(None, None)`` if the callee writes none within the bound."""
    if at.site.kind != "call" or at.target is None:
        return None, None
    chains = at.project.learned_chains(at.flag)
    for target in at.project.resolve_all(at.module, at.function, at.site):
        found = chains.get(target.fq)
        if found is not None:
            return found
    return None, None


CODE = Code(
    code="SG005",
    name="ungated-learned-sink",
    summary="a write that the code gates by the store flag elsewhere is not gated here",
    what=(
        "Reports a call or container write, in a function that has the flag, that is not gated "
        "by it, when the same function, the same receiver and method (`self.cache.put`, or "
        "another method named for writing of a receiver whose writing method is gated), or the "
        "same container (`self._turns[...]`, a module's `TURNS`) is written only under the flag "
        "somewhere else in the codebase: the code itself says it is persistence. So is the "
        "ungated call of a helper without the flag that makes such a write within "
        "`max-call-depth` calls (a streaming helper ending `self.archive.put(r)`). The message "
        "names where it is gated. Values the code uses (`data = self._serialize(r)`), callees "
        "that take the flag or hand it on to one that checks it, functions that write nothing but their own attributes "
        "(`record.set_snapshot(r)`), names that read or log (`get_*`, `load_*`, `list_*`, "
        "`fetch_*`, `logger.info`, `metrics.inc`), what a function also runs where the flag "
        "forbids storing (`if store is False: adapt(...)`), and what a constructor does to its "
        "own attributes (`self.tools.append(t)` in `__init__`) are never learned; a call that "
        "writes only constants under its key (`cache.set(marker, \"completed\", timeout=TTL)`) "
        "is not reported."
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
