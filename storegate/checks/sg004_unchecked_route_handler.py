"""SG004 unchecked-route-handler: the handler of a configured route (registered in any form
``routes.ROUTE_FORMS`` knows), without the store flag, that persists: a sink, a derived sink, or
a call that leaves a callee's flag to a default that permits storing; so does a hook run around
every request (``app.after_request(f)``, ``@app.middleware("http")``: ``routes.hook_routes``).
One finding per site,
naming every route the handler serves (one handler is often registered at `/v1/...` and
`/api/v1/...`); where its request cannot carry the flag, only the routes where an omitted flag
keeps nothing (Chat Completions)."""

from __future__ import annotations

from collections.abc import Iterable

from storegate.checks.base import At, Code, arrows
from storegate.model import Finding


def decide(at: At) -> Iterable[Finding]:
    if at.site.sink is None and at.derived_chain() is None and not at.drops_flag():
        return ()
    routes = at.project.routes(at.module, at.function)
    if not at.project.receives_flag(at.module, at.function, at.flag):
        # Its body model has no such field: the flag does not enter here, so the client never
        # asks. That permits storing only where an omitted flag means keep (Responses); a Chat
        # Completions handler keeps nothing unless asked.
        from storegate.routes import none_means_on

        routes = tuple(route for route in routes if not none_means_on(route, at.flag, at.project.config.route_defaults))
    if not routes:
        return ()
    if set(routes) <= set(at.project.config.routes):  # the patterns themselves: a hook around every request
        message = f"hook run around every request ({', '.join(routes)}) persists without checking '{at.flag.gate_text}'"
    else:
        message = f"handler for {', '.join(routes)} persists without checking '{at.flag.gate_text}'"
    chains = at.chains()
    if chains:
        message += f" (call to '{at.site.text}' {arrows(chains)})"
    return [at.finding(CODE.code, message, at.call_trace(chains[0] if chains else None, chains[1:]))]


CODE = Code(
    code="SG004",
    name="unchecked-route-handler",
    summary="an HTTP handler of a store-bearing route persists without checking the flag",
    what=(
        "Reports a persisting call in the handler of a configured route (`routes`, e.g. "
        "`POST /v1/responses`) that never consults the flag: the flag lives in the request "
        "body, so the handler is the place that must read it. A hook that the application runs "
        "around every request (Flask's and Quart's `before_request` / `after_request`, FastAPI's "
        "`@app.middleware(\"http\")`) serves those routes too, and so does an error handler, run for "
        "the request that raised (`@app.errorhandler(E)`, `@app.exception_handler(E)`, "
        "`exception_handlers={E: f}`): each is reported the same way. For "
        "a call, the message shows the chain down to each write it reaches through what it calls."
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
    decide=decide,
    scope="route_handler",
    unfixable="no '{flag}' in scope",
)
