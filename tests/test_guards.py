"""Guard forms as registered strategies (``storegate.guards``): the engine takes what is known at
a function's entry, keyed by location, from the entry forms, and reads conditions through the
condition forms. The test form below is what a future validator or dependency will plug in."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
import pytest

from storegate import cfg, guards
from storegate.analysis import summarize
from storegate.config import load_config

SOURCE = '''
def handler(request):
    save(request)

def helper(item, store):
    save(item)
'''


def _verdicts() -> dict[str, tuple[bool, bool]]:
    config = load_config(["."], isolated=True, flags=["store"], sinks=["save"])
    summary = summarize(SOURCE, "app.py", config, "app")
    out = {}
    for function in summary.functions:
        for site in function.sites:
            verdict = site.verdict("store")
            if verdict is not None:
                out[function.name] = (verdict.gated, verdict.gated_if_permitted)
    return out


class _KnownAtEntry(guards.EntryForm):
    """At ``handler``'s entry, ``request.store`` permits (as a validator that raises would say)."""

    name = "test"

    def facts(self, scope: guards.EntryScope) -> Iterable[guards.EntryFact]:
        if isinstance(scope.graph.scope, cst.FunctionDef) and scope.graph.scope.name.value == "handler":
            yield guards.EntryFact("request.store", scope.flags[0].permitted, always=True)


def test_callers_entry_is_the_flag_parameter_only() -> None:
    module = cst.parse_module(SOURCE)
    helper = module.body[1]
    assert isinstance(helper, cst.FunctionDef)
    config = load_config(["."], isolated=True, flags=["store"], sinks=["save"])
    (flag,) = config.flags
    entry = guards.entry(guards.EntryScope(cfg.build(helper), [flag], frozenset({"item", "store"})))
    assert entry.known == frozenset()
    assert entry.if_permitted == {"store": frozenset({(("store", flag.permitted),)})}
    assert _verdicts() == {"helper": (False, True)}  # handler cannot see the flag


def _handler_gated() -> tuple[bool, bool]:
    source_reads_flag = SOURCE.replace("save(request)", "save(request)\n    log(request.store)")
    config = load_config(["."], isolated=True, flags=["store"], sinks=["save"])
    summary = summarize(source_reads_flag, "app.py", config, "app")
    (handler,) = [f for f in summary.functions if f.name == "handler"]
    (site,) = [s for s in handler.sites if s.sink is not None]
    verdict = site.verdict("store")
    assert verdict is not None
    return verdict.gated, verdict.gated_if_permitted


def test_an_entry_form_keyed_by_location_gates_the_sites_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``request.store`` is read through a parameter: permitted where every caller's call is gated
    assert _handler_gated() == (False, True)
    monkeypatch.setattr(guards, "ENTRY_FORMS", (*guards.ENTRY_FORMS, _KnownAtEntry()))
    assert _handler_gated() == (True, True)


def test_conditions_are_read_by_the_registered_forms() -> None:
    assert [form.name for form in guards.CONDITIONS] == ["condition"]
    assert guards.truth(cst.parse_expression("store is False")) == guards.FlagCondition().formula(cst.parse_expression("store is False"))
