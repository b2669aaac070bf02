"""What a name or an attribute may hold (``storegate.typefacts``, gathered by ``storegate.typegather``): the facts each form of the
code gives, as a summary (and the cache) keeps them. Resolution through them is tested on the
fixture cases (``attribute_types.py``, ``variable_types.py``, ``state_types.py``,
``injected_*.py``, ``pkg_held``, ``pkg_injected``)."""

from __future__ import annotations

import json

import pytest

from storegate.analysis import summarize
from storegate.config import load_config
from storegate.summary import ModuleSummary
from storegate.typefacts import STATE

SOURCE = '''
from dataclasses import dataclass
from typing import Optional

repository = Ledger()
nothing = None


@dataclass
class Deps:
    ledger: Ledger
    cache: Optional["Cache"] = None


class Service:
    archive: "Ledger | None"

    def __init__(self, backup: Ledger, other, either: Ledger | Scratch):
        self.primary = Ledger()
        self.backup = backup
        self.mirror: Ledger = other
        self.kept = other
        self.declared: Ledger

    @property
    def current(self) -> Ledger:
        return self.primary

    async def run(self, entry):
        made = open_ledger()
        copied = self.primary
        built = self.factory.build()
        count = 3
        agent = Agent(Journal(), db=await connect(), name="a")


def startup(app):
    app.state.registry = Registry()
'''


@pytest.fixture(scope="module")
def summary() -> ModuleSummary:
    config = load_config(["."], isolated=True, flags=["store"], sinks=["save_*"])
    return summarize(SOURCE, "service.py", config, "service")


def test_each_form_gives_its_fact(summary: ModuleSummary) -> None:
    assert set(summary.types) == {
        ("", "repository", "Ledger()", "<module>"),
        ("Deps", "ledger", "Ledger", "Deps"),
        ("Deps", "cache", "Cache", "Deps"),
        ("Service", "archive", "Ledger", "Service"),
        ("Service.__init__", "backup", "Ledger", "Service.__init__"),
        ("Service.__init__", "either", "Ledger", "Service.__init__"),
        ("Service.__init__", "either", "Scratch", "Service.__init__"),
        ("Service", "primary", "Ledger()", "Service.__init__"),
        ("Service", "backup", "backup", "Service.__init__"),
        ("Service", "mirror", "Ledger", "Service.__init__"),
        ("Service", "kept", "other", "Service.__init__"),
        ("Service", "declared", "Ledger", "Service.__init__"),
        ("Service", "current", "Ledger", "Service.current"),
        ("Service.run", "made", "open_ledger()", "Service.run"),
        ("Service.run", "copied", "self.primary", "Service.run"),
        ("Service.run", "built", "self.factory.build()", "Service.run"),
        ("Service.run", "agent", "Agent()", "Service.run"),
        ("Service.run", "Agent(#0)", "Journal()", "Service.run"),
        ("Service.run", "Agent(db)", "connect()", "Service.run"),
        (STATE, "registry", "Registry()", "startup"),
    }
    assert list(summary.types) == sorted(summary.types)  # the same whatever the order of scopes


def test_the_cache_keeps_the_facts(summary: ModuleSummary) -> None:
    again = ModuleSummary.from_json(json.loads(json.dumps(summary.to_json())))
    assert again == summary
