"""SG003 lost-flag: a call, in a function that has the store flag, that does not pass it to a
callee which takes it with a default that permits storing, or to a class it builds whose field
named like it defaults to keep and gates writes elsewhere (``Project.unpassed_field``)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from storegate.checks.base import At, Code
from storegate.model import Finding


def decide(at: At) -> Iterable[Finding]:
    unpassed = at.project.unpassed_field(at.module, at.function, at.site, at.flag)
    if unpassed is not None and not _permitted(at):
        field, value, path, line = unpassed
        where = os.path.basename(path) if path == at.module.path else path
        message = f"'{at.flag.name}' is not passed to '{at.site.text}', whose {field} then defaults to {value} ({where}:{line})"
        return (at.finding(CODE.code, message),)
    rebound = at.passes_rebound_flag() or at.project.rebound_field(at.module, at.function, at.site, at.flag)
    if rebound is not None:
        name = at.site.text.rpartition(".")[2]
        message = f"'{at.flag.name}' passed to '{name}' is not the client's: '{rebound}' was rebound to a value that may keep what the client asked not to"
        return (at.finding(CODE.code, message),)
    if not at.drops_flag():
        return ()
    target = at.target
    param = target.summary.param(at.flag.name) if target is not None else None
    assert target is not None and param is not None, "drops_flag() holds only for a resolved callee with the flag"
    name = target.fq.rpartition(".")[2]
    default = param.default
    message = f"'{at.flag.name}' is not passed to '{name}', which then defaults to {default}"
    return (at.finding(CODE.code, message),)


def _permitted(at: At) -> bool:
    """Whether the construction runs only where the flag permits storing (every caller
    permits, ``At.entry_permitted``: a background job where background requires ``store``; or
    every path checks it): the default that keeps then keeps what the client allowed."""
    verdict = at.site.verdict(at.flag.name)
    if at.entry_permitted:
        return verdict is None or verdict.gated_if_permitted
    return verdict is not None and verdict.gated


CODE = Code(
    code="SG003",
    name="lost-flag",
    summary="the store flag is not passed to a function that takes it",
    what=(
        "Reports a call that does not pass the flag to a function that takes it as a "
        "parameter and gates its writes on it (or passes it on), when the parameter's "
        "default permits storing: the callee then stores whatever the caller was asked. A "
        "callee that takes the flag only to record it is judged inside itself. So is a "
        "construction of a class whose field named like the flag defaults to keep "
        "(`store: bool = True`) without it, where the project gates writes on that field "
        "(`GenerateReqInput(text=...)` handed to an engine that checks `obj.store`), unless "
        "the flag is known to permit storing there (checked on every path, or by every caller). "
        "And a call that passes such a callee, for the flag, a copy the caller rebound to a value "
        "that may keep where the client's did not (`store = req.store or settings.keep_all`, "
        "then `_record(c, store=store)`), or for the field of a class the project gates writes on "
        "(`ResponseCreateRequest(..., store=store)`): the callee checks a value that is not the client's."
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
    decide=decide,
    fix="keyword",
)
