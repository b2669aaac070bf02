"""Baselines through the CLI and the real analyzer: write, edit the file, check again."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from storegate import baseline
from storegate.cli import main
from storegate.model import Finding

ISOLATED = ["check", "--no-cache", "--isolated", "--flag", "store", "--sink", "save_response", "--sink", "save_audit"]

SOURCE = """\
class Service:
    def create(self, store):
        save_response(1)
        if store:
            save_response(2)
        save_response(3)
        save_audit(4)


def helper(store):
    save_response(5)
"""

M_RESPONSE = "persistence call 'save_response' is not gated by 'store'"
M_AUDIT = "persistence call 'save_audit' is not gated by 'store'"

EXPECTED_FILE = {
    "storegate-baseline": 1,
    "findings": [
        {"path": "app/service.py", "code": "SG001", "function": "Service.create", "sink": "save_audit",
         "occurrence": 0, "message": M_AUDIT},
        {"path": "app/service.py", "code": "SG001", "function": "Service.create", "sink": "save_response",
         "occurrence": 0, "message": M_RESPONSE},
        {"path": "app/service.py", "code": "SG001", "function": "Service.create", "sink": "save_response",
         "occurrence": 1, "message": M_RESPONSE},
        {"path": "app/service.py", "code": "SG001", "function": "helper", "sink": "save_response",
         "occurrence": 0, "message": M_RESPONSE},
    ],
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "service.py").write_text(SOURCE)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, [*ISOLATED, *args], catch_exceptions=False)


def test_write_baseline_records_the_findings_deterministically(project):
    result = run("app", "--write-baseline", "baseline.json")
    assert result.exit_code == 0
    assert result.stdout == "All checks passed (1 file checked).\n"
    assert result.stderr == "storegate: recorded 4 findings in baseline.json\n"
    text = (project / "baseline.json").read_text()
    assert json.loads(text) == EXPECTED_FILE
    assert text == json.dumps(EXPECTED_FILE, indent=2) + "\n"
    run("app", "--write-baseline", "baseline.json")
    assert (project / "baseline.json").read_text() == text


def test_paths_are_relative_to_the_baseline_file(project):
    (project / "ci").mkdir()
    run("app", "--write-baseline", "ci/base.json")
    data = json.loads((project / "ci" / "base.json").read_text())
    assert {entry["path"] for entry in data["findings"]} == {"../app/service.py"}
    assert run("app", "--baseline", "ci/base.json").exit_code == 0


def test_inserted_lines_report_nothing_new_and_rewrite_the_same_file(project):
    run("app", "--write-baseline", "baseline.json")
    before = (project / "baseline.json").read_text()
    shifted = '"""A docstring."""\n\nimport os\n\n\n' + SOURCE.replace("        save_response(3)\n", "        x = 1\n\n        save_response(3)\n")
    (project / "app" / "service.py").write_text(shifted)
    result = run("app", "--baseline", "baseline.json")
    assert (result.exit_code, result.stdout) == (0, "All checks passed (1 file checked).\n")
    run("app", "--write-baseline", "baseline.json")
    assert (project / "baseline.json").read_text() == before


def test_a_new_finding_is_exactly_the_one_reported(project):
    run("app", "--write-baseline", "baseline.json")
    (project / "app" / "service.py").write_text("import os\n" + SOURCE + "\n\ndef other(store):\n    save_audit(6)\n")
    result = run("app", "--baseline", "baseline.json")
    assert result.exit_code == 1
    assert result.stdout == f"app/service.py:16:5: SG001 {M_AUDIT}\nFound 1 finding in 1 file (1 file checked).\n"
    # A third ungated save_response in create: one more occurrence than recorded.
    (project / "app" / "service.py").write_text(SOURCE.replace("        save_audit(4)\n", "        save_audit(4)\n        save_response(7)\n"))
    result = run("app", "--baseline", "baseline.json")
    assert result.stdout == f"app/service.py:8:9: SG001 {M_RESPONSE}\nFound 1 finding in 1 file (1 file checked).\n"


def test_fixed_findings_shrink_nothing_else(project):
    run("app", "--write-baseline", "baseline.json")
    (project / "app" / "service.py").write_text(SOURCE.replace("        save_audit(4)\n", ""))
    assert run("app", "--baseline", "baseline.json").exit_code == 0


def test_write_baseline_respects_select(project):
    run("app", "--select", "SG002", "--write-baseline", "baseline.json")
    assert json.loads((project / "baseline.json").read_text())["findings"] == []
    assert run("app", "--baseline", "baseline.json").exit_code == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline file 'missing.json' not found"),
        ("{", "b.json: not a storegate baseline: invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[]", "b.json: not a storegate baseline (no 'storegate-baseline' key)"),
        ('{"storegate-baseline": 2, "findings": []}', "b.json: unsupported baseline version 2 (expected 1)"),
        ('{"storegate-baseline": 1}', "b.json: 'findings' must be a list"),
        ('{"storegate-baseline": 1, "findings": [3]}', "b.json: findings[0] must be an object"),
        ('{"storegate-baseline": 1, "findings": [{"path": "a", "code": "SG001", "function": "f"}]}',
         "b.json: findings[0].sink must be a string"),
        ('{"storegate-baseline": 1, "findings": [{"path": "a", "code": "SG001", "function": "f", "sink": "s", "occurrence": true}]}',
         "b.json: findings[0].occurrence must be an integer >= 0"),
    ],
)
def test_a_bad_baseline_is_a_clear_error(project, content, message):
    name = "missing.json" if content is None else "b.json"
    if content is not None:
        (project / name).write_text(content)
    result = run("app", "--baseline", name)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"storegate: error: {message}\n"


def test_a_baseline_that_is_a_directory_or_binary(project):
    (project / "d").mkdir()
    assert run("app", "--baseline", "d").stderr == "storegate: error: baseline 'd' is a directory\n"
    (project / "bin.json").write_bytes(b"\xff\xfe\x00")
    result = run("app", "--baseline", "bin.json")
    assert result.exit_code == 2 and result.stderr.startswith("storegate: error: cannot read baseline bin.json")


def test_unwritable_baseline_is_exit_two(project):
    result = run("app", "--write-baseline", "no/such/dir/b.json")
    assert result.exit_code == 2
    assert result.stderr.startswith("storegate: error: cannot write no/such/dir/b.json")


def test_occurrence_is_counted_in_line_order_per_function_and_sink():
    def f(line, function="f", sink="s"):
        return Finding("a.py", line, 1, line, 2, "SG001", "m", sink, "store", function)

    keys = [key for _, key in baseline.identities([f(9), f(3), f(5, sink="t"), f(4, function="g"), f(7)])]
    assert keys == [("a.py", "SG001", "f", "s", 0), ("a.py", "SG001", "g", "s", 0), ("a.py", "SG001", "f", "t", 0),
                    ("a.py", "SG001", "f", "s", 1), ("a.py", "SG001", "f", "s", 2)]
