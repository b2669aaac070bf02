"""Learned sinks (SG005) and why a finding's sink is persistence (``Finding.kind``), on the
real case files: each learned finding names where the codebase gates the same write, JSON and
SARIF carry the kind of every finding, and a finding's baseline identity ignores the kind."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from storegate import baseline
from storegate.api import check
from storegate.cli import main
from storegate.config import load_config
from storegate.model import Finding

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
LEARNED = CASES / "learned_sinks.py"
PACKAGE = CASES / "pkg_learned"


def _findings(path: Path) -> list[Finding]:
    return sorted(check([str(path)], load_config([str(path)])).findings, key=lambda f: f.sort_key)


def test_each_learned_finding_names_where_it_is_gated_in_the_same_file():
    found = [(f.line, f.message, f.kind) for f in _findings(LEARNED)]
    gate = "is not gated by 'store' (gated by 'store' at learned_sinks.py:{}".format
    assert found == [
        (33, f"call to 'self._remember' {gate(20)})", "learned"),
        (34, f"call to 'self.archive.put' {gate(21)})", "learned"),
        # a mutating method on a container written under the gate elsewhere
        (35, f"call to 'self._history.setdefault' {gate(22)})", "learned"),
        (36, f"write to '_TURNS[...]' {gate(23)})", "learned"),
        # another writing method of a receiver whose `put` is gated
        (42, f"call to 'self.archive.append_items' {gate(21)})", "learned"),
        # a helper that calls out; not the setters of a request's record beside it
        (134, f"call to 'self._push' {gate(127)})", "learned"),
        # an interface's method: what its implementations do
        (195, f"call to 'provider.create_response' {gate(191)})", "learned"),
        # a call named for writing, after an early return elsewhere
        (212, f"call to 'self.ledger.record_turn' {gate(206)})", "learned"),
        # gated beside a call that also runs where the flag forbids storing (never learned)
        (232, f"call to 'self.vault.keep' {gate(227)})", "learned"),
    ]


def test_a_learned_finding_in_another_module_names_the_gated_file():
    findings = _findings(PACKAGE)
    found = [(Path(f.path).name, f.line, f.message.rpartition(" at ")[2]) for f in findings]
    service = str(Path(findings[0].path).with_name("service.py"))  # as the run names files
    assert found == [
        ("handlers.py", 11, f"{service}:9)"),
        ("handlers.py", 12, f"{service}:10)"),
        ("handlers.py", 13, f"{service}:11)"),
        # a helper without the flag that writes the session log, called ungated
        ("streaming.py", 14, f"{service}:10)"),
    ]
    helper = findings[-1]
    assert helper.message.startswith("call to 'self._finish_stream' persists (-> self._log -> self.session_log.append_turn)")
    assert helper.trace[-1].text == "call self._finish_stream -> 27 self._log -> 30 self.session_log.append_turn"


def test_json_and_sarif_say_why_each_sink_is_persistence(tmp_path, monkeypatch):
    """A configured call sink, a configured container and a learned one, in one file."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.storegate]\nrules = []\nflags = [{name = "store", none-means = true}]\n'
        'sinks = ["save_response", "*.response_store[]"]\n'
    )
    (tmp_path / "app.py").write_text(
        "class Service:\n"
        "    def create(self, r, store=True):\n"
        "        save_response(r)\n"
        "        if store:\n"
        "            self.audit.put(r)\n"
        "\n"
        "    def keep(self, r, store=True):\n"
        "        self.response_store[r.id] = r\n"
        "\n"
        "    def again(self, r, store=True):\n"
        "        self.audit.put(r)\n"
    )
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", "app.py"], catch_exceptions=False)
    kinds = [(f["line"], f["code"], f["sink"], f["kind"]) for f in json.loads(out.stdout)["findings"]]
    assert kinds == [
        (3, "SG001", "save_response", "configured"),
        (8, "SG001", "self.response_store[...]", "container"),
        (11, "SG005", "self.audit.put", "learned"),
    ]
    out = CliRunner().invoke(main, ["check", "--no-cache", "--format", "sarif", "app.py"], catch_exceptions=False)
    results = json.loads(out.stdout)["runs"][0]["results"]
    assert [r["properties"] for r in results] == [
        {"sink": "save_response", "kind": "configured"},
        {"sink": "self.response_store[...]", "kind": "container"},
        {"sink": "self.audit.put", "kind": "learned"},
    ]


def test_the_kind_round_trips_and_leaves_the_baseline_identity_alone():
    finding = Finding("a.py", 3, 5, 3, 9, "SG005", "m", "self.audit.put", "store", "Service.again", kind="learned")
    data = finding.to_json()
    assert data["kind"] == "learned"
    assert Finding.from_json(data) == finding
    plain = Finding("a.py", 3, 5, 3, 9, "SG005", "m", "self.audit.put", "store", "Service.again")
    assert [key for _, key in baseline.identities([finding])] == [key for _, key in baseline.identities([plain])]


def test_state_that_outlives_the_request_is_a_container_kind():
    """The default ``state`` pack's writes (a module dict, ``self._sessions`` set up in
    ``__init__``) say they are container writes, like a configured ``[]`` sink."""
    found = _findings(CASES / "state" / "state_containers.py")
    assert found and {f.kind for f in found} == {"container"}
