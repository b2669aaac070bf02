"""One report per missing gate (issue 13 §4, ``storegate.related``): the analyzer runs on real
source (the motivating bug, the sample server's leaky twin, fixtures/cases/related_locations.py)
and the findings one gate would fix come out as one item with related locations, in every
format; the analysis, the baseline, ``--statistics`` and ``--fix`` still see every finding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from storegate.api import check
from storegate.cli import main
from storegate.config import load_config
from storegate.related import group
from storegate.twin import make_leaky_copy

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "cases"
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"  # the official SARIF 2.1.0 schema

M38 = "call to 'self._sync_response_to_conversation' persists (-> self.conversations_api.add_items) and is not gated by 'store'"
M39 = "persistence call 'self.responses_store.store_conversation_messages' is not gated by 'store'"


def analyze(path: Path):
    return check([path], load_config([path]), use_cache=False)


def shape(findings):
    """Each reported item as ((line, code), [(line, code) of its related locations])."""
    return [((g.primary.line, g.primary.code), [(f.line, f.code) for f in g.related]) for g in group(findings)]


def test_the_motivating_bug_is_one_item_and_still_two_findings():
    result = analyze(CASES / "motivating_bug.py")
    assert [(f.line, f.code) for f in result.findings] == [(38, "SG002"), (39, "SG001")]
    assert shape(result.findings) == [((38, "SG002"), [(39, "SG001")])]
    # the first in line order leads, whatever order the findings come in
    assert shape(reversed(result.findings)) == [((38, "SG002"), [(39, "SG001")])]


def test_the_leaky_twin_is_one_item(tmp_path):
    twin = make_leaky_copy(tmp_path / "twin")
    result = analyze(twin)
    assert result.errors == ()
    (item,) = group(result.findings)
    assert (item.primary.code, [f.code for f in item.related]) == ("SG002", ["SG001"])
    assert item.related[0].line == item.primary.line + 1


def test_independent_branches_and_other_functions_are_separate_items():
    result = analyze(CASES / "related_locations.py")
    assert shape(result.findings) == [
        ((10, "SG002"), [(11, "SG001"), (12, "SG001")]),  # finish: three calls under one `if conversation:`
        ((16, "SG001"), []),  # two_branches: `if conversation:` ...
        ((18, "SG001"), []),  # ... and `if response.background:`, each its own gate
        ((21, "SG001"), []),  # first
        ((24, "SG001"), []),  # second: the same (empty) path, another function
        ((27, "SG001"), [(28, "SG001")]),  # remember
        ((36, "SG002"), [(38, "SG002"), (39, "SG002")]),  # relay: one callee called on three paths, one item
    ]


def test_only_findings_a_gate_fixes_are_grouped():
    # the two SG003 of pkg_lost_flag's `create` share a file, function, flag and (empty) trace,
    # but each is fixed by its own `store=store`: two items
    result = analyze(CASES / "pkg_lost_flag")
    handlers = [f for f in result.findings if f.function == "create"]
    assert [f.code for f in handlers] == ["SG003", "SG003"]
    assert len(group(handlers)) == 2


# --- every format, on a copy of the motivating case ------------------------------------------


@pytest.fixture
def case(tmp_path, monkeypatch):
    shutil.copy(CASES / "motivating_bug.py", tmp_path / "bug.py")
    shutil.copy(CASES / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, ["check", "--no-cache", *args], catch_exceptions=False)


def test_text(case):
    result = run("bug.py")
    assert result.exit_code == 1
    assert result.stdout == (
        f"bug.py:38:27: SG002 {M38}\n"
        f"    also: bug.py:39 SG001 {M39}\n"
        "Found 1 finding (2 locations) in 1 file (1 file checked).\n"
    )
    explained = run("--explain", "-q", "bug.py").stdout.splitlines()
    assert explained[:2] == [f"bug.py:38:27: SG002 {M38}", f"    also: bug.py:39 SG001 {M39}"]
    assert explained[-1] == "    38 call self._sync_response_to_conversation -> 49 self.conversations_api.add_items"


def test_grouped(case):
    assert run("--format", "grouped", "bug.py").stdout == (
        "bug.py\n"
        f"  38:27  SG002  {M38}\n"
        f"      also: 39:27 SG001 {M39}\n"
        "\n"
        "Found 1 finding (2 locations) in 1 file (1 file checked).\n"
    )


def test_github(case):
    result = run("--format", "github", "-q", "bug.py")
    assert result.exit_code == 1
    assert result.stdout == (
        f"::error file=bug.py,line=38,col=27,endLine=38,endColumn=97,title=SG002::{M38}%0Aalso: bug.py:39 SG001 {M39}\n"
    )


def test_json(case):
    data = json.loads(run("--format", "json", "bug.py").stdout)
    (finding,) = data["findings"]
    assert (finding["line"], finding["code"], finding["message"]) == (38, "SG002", M38)
    assert finding["trace"][-1]["line"] == 38
    assert finding["related"] == [{"path": "bug.py", "line": 39, "column": 27, "code": "SG001", "message": M39}]


def test_sarif_related_locations_are_linked_from_the_message_and_validate(case):
    log = json.loads(run("--format", "sarif", "bug.py").stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (result,) = log["runs"][0]["results"]
    assert result["message"] == {"text": f"{M38} (also [line 39](1))"}
    assert result["relatedLocations"] == [{
        "id": 1,
        "physicalLocation": {
            "artifactLocation": {"uri": "bug.py", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 39, "startColumn": 27, "endLine": 39, "endColumn": 99},
        },
        "message": {"text": f"SG001 {M39}"},
    }]


def test_sarif_escapes_brackets_of_a_message_with_links(tmp_path, monkeypatch):
    shutil.copy(CASES / "related_locations.py", tmp_path / "rel.py")
    shutil.copy(CASES / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    log = json.loads(run("--format", "sarif", "rel.py").stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    texts = [r["message"]["text"] for r in log["runs"][0]["results"]]
    assert texts[-1] == "call to 'self._sync' persists (-> self.conversations_api.add_items) and is not gated by 'store' (also [line 38](1), [line 39](2))"
    assert texts[-2] == "persistence write 'self.response_store\\[...\\]' is not gated by 'store' (also [line 28](1))"
    assert texts[1] == "persistence call 'self.responses_store.store_response_object' is not gated by 'store'"  # no link: as is


# --- what stays per finding ------------------------------------------------------------------


def test_baseline_and_statistics_count_every_finding(case):
    recorded = run("--select", "SG001", "--write-baseline", "base.json", "bug.py")
    assert "recorded 1 finding" in recorded.stderr
    left = run("--baseline", "base.json", "bug.py")
    assert left.stdout == f"bug.py:38:27: SG002 {M38}\nFound 1 finding in 1 file (1 file checked).\n"
    stats = run("--statistics", "-q", "bug.py").stdout.splitlines()
    assert [line.split()[:2] for line in stats[-2:]] == [["1", "SG001"], ["1", "SG002"]]


def test_fix_fixes_every_finding_of_an_item(case):
    fixed = run("--fix", "bug.py")
    assert "bug.py: fixed 2, remaining 0" in fixed.stderr
    assert run("bug.py").stdout == "All checks passed (1 file checked).\n"
