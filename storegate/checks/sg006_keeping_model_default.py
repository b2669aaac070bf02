"""SG006 keeping-model-default: a write gated by the store flag, reached from the handler of a
route where an omitted flag keeps nothing (Chat Completions), whose request model (or the
handler's own parameter, or a read of the flag in what it calls: ``payload.get("store", True)``,
or a setting an omitted flag is filled in from) defaults the flag to keep (``store: bool = True``): the client that
never sent ``store`` gets the write. The fix is the default, not the gate
(``Project.keeping_defaults``)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from storegate.checks.base import At, Code
from storegate.model import Finding, TraceStep


def decide(at: At) -> Iterable[Finding]:
    default = at.project.keeping_defaults.get(f"{at.module.module}.{at.function.name}", {}).get(at.flag.name)
    if default is None or at.site.verdict(at.flag.name) is None or at.ungated() is not None:
        return ()  # an ungated write is SG001's or SG002's
    if at.site.sink is None and at.derived_chain() is None:
        return ()
    shown = os.path.basename(default.path) if default.path == at.module.path else default.path
    where = f" ({shown}:{default.line})" if default.line else ""
    value = not at.flag.inverted
    kind = "call" if at.site.kind == "call" else "write"
    message = (
        f"'{at.site.text}' keeps what a client omitting '{at.flag.name}' sends: {default.what} "
        f"defaults to {value}{where}, and an omitted '{at.flag.name}' keeps nothing on {', '.join(default.routes)}"
    )
    # the default's own line when it is in this file; else none (0), as for a request field
    here = default.line if default.path == at.module.path else 0
    trace = (
        TraceStep(here, f"{default.what} = {value} when omitted{where}"),
        TraceStep(at.site.span.line, f"{kind} {at.site.text}"),
    )
    return (at.finding(CODE.code, message, trace),)


CODE = Code(
    code="SG006",
    name="keeping-model-default",
    summary="a request model defaults the store flag to keep where an omitted flag keeps nothing",
    what=(
        "Reports a write gated by the flag (`if request.store:`) in the handler of a route where "
        "an omitted flag keeps nothing (Chat Completions, by the `openai` pack's routes) "
        "or in what that handler calls, when the request model of the handler, or of what it hands "
        "the body to (`create(self, body: ChatRequest)`), gives the flag a default "
        "that keeps (`store: bool = True`, `Field(default=True)`), or the handler takes the flag "
        "as a parameter with such a default (`store: bool = True`, `Body(True)`), or what the handler "
        "calls reads the flag with such a default (`payload.get(\"store\", True)` in the options "
        "parser it hands the body to, or `as_bool(payload.get(\"store\"), default=True)`), or "
        "fills in an omitted flag from a setting whose class defaults it to keep (`body.store if "
        "body.store is not None else self._settings.store_by_default`, with `store_by_default: "
        "bool = True`; or a predicate's `if body.store is None: return self._settings.default_store`), "
        "or from a module's table of defaults or constant that keeps (`read_bool(payload, \"store\", "
        "DEFAULTS[\"store\"])` with `DEFAULTS = {\"store\": True}`, `parse_bool(data.get(\"store\"), "
        "DEFAULT_STORE)` with `DEFAULT_STORE = True`), or calls a predicate that "
        "leaves an omitted flag to its caller (`if body.store is None: return default`) with a value "
        "that keeps (`should_store(body, default=True)`, a setting that defaults to keep, or the "
        "parameter's own default), or calls one that reads a table of defaults per API by the key it "
        "is given (`return _STORE_DEFAULTS[api]`) with a key whose entry keeps "
        "(`wants_storage(body, \"responses\")` in a Chat Completions handler, with `_STORE_DEFAULTS = "
        "{\"responses\": True, \"chat.completions\": False}`). The message names the model's field, the parameter, the read, "
        "the setting or the table's entry, and the routes."
    ),
    why=(
        "OpenAI's Chat Completions keep nothing unless the client sends `store: true`. A model "
        "that fills in `True` for a client that sent nothing turns the gate into a formality: "
        "every request that omits `store` is kept. The fix is the default (`False` or `None`), "
        "not the gate."
    ),
    bad="""\
class ChatRequest(BaseModel):
    messages: list
    store: bool = True


@app.post("/v1/chat/completions")
async def chat(request: ChatRequest):
    completion = await generate(request)
    if request.store:
        await state.inference_store.store_chat_completion(completion)
    return completion
""",
    good="""\
class ChatRequest(BaseModel):
    messages: list
    store: bool = False


@app.post("/v1/chat/completions")
async def chat(request: ChatRequest):
    completion = await generate(request)
    if request.store:
        await state.inference_store.store_chat_completion(completion)
    return completion
""",
    decide=decide,
    field_gated=True,
    unfixable="the default is the request model's or the parameter's: make it False or None",
)
