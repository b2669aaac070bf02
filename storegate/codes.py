"""Every code storegate reports, with its documentation: the one source of the README's code table,
``storegate rules``, ``storegate rule CODE`` and the SARIF rule metadata.

Each example is checked by ``tests/test_rules_docs.py``: the bad one must produce the code under
the default configuration (the ``openai`` rule pack), the good one nothing.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str
    what: str
    why: str
    bad: str
    good: str

    @property
    def suppress(self) -> str:
        if self.code == "SG100":
            return (
                "Delete the comment, or the codes of it that are unused. SG100 is only reported with "
                "--report-unused-ignores; --ignore SG100 turns it off again."
            )
        return (
            f"Put `# storegate: ignore[{self.code}]` (or `# noqa: {self.code}`) at the end of the "
            f"reported line, pass `--ignore {self.code}`, or record the finding in a baseline "
            "(`--write-baseline FILE`, then `--baseline FILE`)."
        )


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
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
        ),
        Code(
            code="SG002",
            name="ungated-derived-sink",
            summary="call to a function that persists (a derived sink), not gated by the store flag",
            what=(
                "Reports a call, in a function that has the flag, to a function without the flag "
                "that persists (directly or further down, in any module of the project), when the "
                "call is not gated by the flag. The message shows the chain down to the sink."
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
        ),
        Code(
            code="SG003",
            name="lost-flag",
            summary="the store flag is not passed to a function that takes it",
            what=(
                "Reports a call that does not pass the flag to a function that takes it as a "
                "parameter and gates its writes on it, when the parameter's default permits "
                "storing: the callee then stores whatever the caller was asked."
            ),
            why=(
                "The callee checks the flag, but it sees its default (`store=True`, or `None`, "
                "which means the API default: store) instead of the client's `false`."
            ),
            bad="""\
def persist_response(db, response, store=True):
    if store:
        db.responses_store.store_response_object(response)


def create(db, response, store=True):
    persist_response(db, response)
""",
            good="""\
def persist_response(db, response, store=True):
    if store:
        db.responses_store.store_response_object(response)


def create(db, response, store=True):
    persist_response(db, response, store=store)
""",
        ),
        Code(
            code="SG004",
            name="unchecked-route-handler",
            summary="an HTTP handler of a store-bearing route persists without checking the flag",
            what=(
                "Reports a persisting call in the handler of a configured route (`routes`, e.g. "
                "`POST /v1/responses`) that never consults the flag: the flag lives in the request "
                "body, so the handler is the place that must read it."
            ),
            why=(
                "The route's request body carries `store`; a handler that writes without ever "
                "reading it ignores `store: false` for every request."
            ),
            bad="""\
@app.post("/v1/responses")
async def create_response(body: dict):
    response = await generate(body)
    state.responses_store.store_response_object(response)
    return response
""",
            good="""\
@app.post("/v1/responses")
async def create_response(body: dict):
    response = await generate(body)
    if body.get("store", True):
        state.responses_store.store_response_object(response)
    return response
""",
        ),
        Code(
            code="SG100",
            name="unused-suppression",
            summary="unused suppression",
            what=(
                "With `--report-unused-ignores`: reports a `# storegate: ignore` comment, or a "
                "`# noqa` comment naming storegate codes, that suppresses no finding on its line "
                "(each unused code is named). A bare `# noqa` is never reported: it may be meant "
                "for another tool."
            ),
            why=(
                "A suppression left behind after a fix would silently hide the next real finding "
                "on that line."
            ),
            bad="""\
def render(items):
    return "\\n".join(items)  # storegate: ignore[SG001]
""",
            good="""\
def render(items):
    return "\\n".join(items)
""",
        ),
    )
}


def get(code: str) -> Code | None:
    """The code named ``code`` (case-insensitive), or None."""
    return CODES.get(code.strip().upper())


def render_markdown() -> str:
    """The README's code section (between ``<!-- codes:start -->`` and ``<!-- codes:end -->``)."""
    lines = ["| code | name | summary |", "|---|---|---|"]
    lines += [f"| {c.code} | `{c.name}` | {c.summary} |" for c in CODES.values()]
    lines.append("")
    lines.append("`storegate rule CODE` prints the documentation of a code; it is repeated here.")
    for c in CODES.values():
        lines += [
            "",
            f"### {c.code} `{c.name}`",
            "",
            f"{c.summary[0].upper()}{c.summary[1:]}. {c.what}",
            "",
            f"**Why:** {c.why}",
            "",
            "```python",
            "# bad",
            c.bad.rstrip("\n"),
            "```",
            "",
            "```python",
            "# good",
            c.good.rstrip("\n"),
            "```",
            "",
            f"**Suppress:** {c.suppress}",
        ]
    return "\n".join(lines) + "\n"


def render_doc(code: Code, width: int = 88) -> str:
    """The full plain-text documentation of one code (``storegate rule CODE``)."""

    def para(text: str) -> str:
        return textwrap.fill(text, width=width, initial_indent="  ", subsequent_indent="  ")

    def block(text: str) -> str:
        return textwrap.indent(text.rstrip("\n"), "    ")

    parts = [
        f"{code.code} {code.name}: {code.summary}",
        "",
        "What it does",
        para(code.what),
        "",
        "Why is this bad?",
        para(code.why),
        "",
        "Example",
        block(code.bad),
        "",
        "Use instead",
        block(code.good),
        "",
        "How to suppress",
        para(code.suppress),
    ]
    return "\n".join(parts) + "\n"
