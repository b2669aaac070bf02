"""The ``storegate`` command line, through click's CliRunner and as a real subprocess.

Tests that expect findings or parse errors need the real analyzer (storegate.analysis).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import storegate
from storegate.cli import main

UNGATED = "def handler(store):\n    save_response(x)\n"
GATED = "def handler(store):\n    if store:\n        save_response(x)\n"
FINDING = "t.py:2:5: SG001 persistence call 'save_response' is not gated by 'store'"
ISOLATED = ["--isolated", "--flag", "store", "--sink", "save_response"]
REPO = Path(storegate.__file__).resolve().parent.parent


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- basics ---------------------------------------------------------------------------------


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert storegate.__version__ in result.stdout


def test_clean_directory_exits_zero(in_tmp):
    write(in_tmp / "a.py", "x = 1\n")
    write(in_tmp / "pkg/b.py", "y = 2\n")
    result = run("check", *ISOLATED)
    assert result.exit_code == 0, result.output
    assert result.stdout == "All checks passed (2 files checked).\n"
    assert result.stderr == ""


def test_quiet_leaves_out_the_summary(in_tmp):
    write(in_tmp / "a.py", "x = 1\n")
    result = run("check", "--quiet", *ISOLATED)
    assert result.exit_code == 0
    assert result.stdout == ""


def test_gated_code_exits_zero(in_tmp):
    write(in_tmp / "t.py", GATED)
    result = run("check", "t.py", *ISOLATED)
    assert result.exit_code == 0, result.output
    assert result.stdout == "All checks passed (1 file checked).\n"


# --- findings (need the real analyzer) ------------------------------------------------------


def test_ungated_sink_is_reported_and_exits_one(in_tmp):
    write(in_tmp / "t.py", UNGATED)
    result = run("check", "t.py", *ISOLATED)
    assert result.stdout.splitlines() == [FINDING, "Found 1 finding in 1 file (1 file checked)."]
    assert result.exit_code == 1


def test_exit_zero_keeps_the_report(in_tmp):
    write(in_tmp / "t.py", UNGATED)
    result = run("check", "--exit-zero", *ISOLATED)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == FINDING


def test_syntax_error_is_exit_two_and_other_files_are_still_checked(in_tmp):
    write(in_tmp / "bad.py", "x = 1\ndef broken(store:\n")
    write(in_tmp / "t.py", UNGATED)
    result = run("check", *ISOLATED)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0] == FINDING
    assert lines[1].startswith("bad.py:2:1: error: ")
    assert lines[2] == "Found 1 finding in 1 file and 1 error (2 files checked)."


def test_syntax_error_in_a_file_without_the_flag_is_still_reported(in_tmp):
    # A file that does not parse is an error whatever it mentions: "All checks passed" would
    # claim something about code storegate never read.
    write(in_tmp / "bad.py", "x = 1\ndef broken(:\n")
    result = run("check", *ISOLATED)
    assert result.stdout.splitlines()[0].startswith("bad.py:2:1: error: ")
    assert result.exit_code == 2


def test_json_format_with_findings(in_tmp):
    write(in_tmp / "t.py", UNGATED)
    result = run("check", "--format", "json", *ISOLATED)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert list(data) == ["findings", "errors", "files_checked"]
    assert data["files_checked"] == 1 and data["errors"] == []
    [finding] = data["findings"]
    assert list(finding) == [
        "path", "line", "column", "end_line", "end_column",
        "code", "message", "sink", "flag", "function", "trace", "kind", "related",
    ]
    assert finding["related"] == [] and finding["kind"] == "configured"
    assert (finding["path"], finding["line"], finding["column"], finding["code"]) == ("t.py", 2, 5, "SG001")
    assert finding["flag"] == "store" and finding["function"] == "handler"


def test_config_discovered_from_pyproject(in_tmp):
    write(
        in_tmp / "pyproject.toml",
        '[tool.storegate]\nrules = []\nflags = ["store"]\nsinks = ["save_response"]\n',
    )
    write(in_tmp / "t.py", UNGATED)
    result = run("check")
    assert result.stdout.splitlines()[0] == FINDING
    assert result.exit_code == 1


def test_subprocess_reports_a_finding(in_tmp):
    write(in_tmp / "t.py", UNGATED)
    proc = subprocess.run(
        [sys.executable, "-m", "storegate", "check", "t.py", *ISOLATED],
        cwd=in_tmp,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert proc.stdout.splitlines()[0] == FINDING
    assert proc.returncode == 1, proc.stderr


# --- errors ---------------------------------------------------------------------------------


def test_file_errors_exit_two_and_name_the_line(in_tmp):
    write(in_tmp / "a.py", "x = 1\n")
    (in_tmp / "nul.py").write_bytes(b"x = 1\ny = '\0'\n")
    result = run("check", ".", "missing.py", *ISOLATED)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        "missing.py: error: no such file or directory",
        "nul.py:2:1: error: source contains NUL bytes",
        "Found 2 errors (2 files checked).",
    ]


def test_exit_zero_does_not_hide_errors(in_tmp):
    result = run("check", "missing.py", "--exit-zero", *ISOLATED)
    assert result.exit_code == 2


def test_unknown_config_key_exits_two_naming_the_key(in_tmp):
    write(in_tmp / "pyproject.toml", "[tool.storegate]\nbogus-key = 1\n")
    write(in_tmp / "a.py", "x = 1\n")
    result = run("check")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("storegate: error: ")
    assert "'bogus-key'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_rule_pack_exits_two(in_tmp):
    result = run("check", "--isolated", "--rules", "nope")
    assert result.exit_code == 2
    assert "unknown rule pack 'nope'" in result.stderr


def test_bad_format_is_a_usage_error(in_tmp):
    result = run("check", "--format", "xml")
    assert result.exit_code == 2


# --- output options -------------------------------------------------------------------------


def test_json_format_shape(in_tmp):
    write(in_tmp / "a.py", "x = 1\n")
    result = run("check", "--format", "json", ".", "missing.py", *ISOLATED)
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "findings": [],
        "errors": [{"path": "missing.py", "message": "no such file or directory", "line": None}],
        "files_checked": 1,
    }


def test_output_file_gets_the_report_and_stdout_stays_empty(in_tmp):
    write(in_tmp / "a.py", "x = 1\n")
    result = run("check", "--output", "report.json", "--format", "json", "a.py", *ISOLATED)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads((in_tmp / "report.json").read_text())["files_checked"] == 1


def test_unwritable_output_exits_two(in_tmp):
    write(in_tmp / "a.py", "x = 1\n")
    result = run("check", "--output", "no/such/dir/report.txt", "a.py", *ISOLATED)
    assert result.exit_code == 2
    assert result.stderr.startswith("storegate: error: cannot write")


def test_config_discovery_applies_excludes(in_tmp):
    write(in_tmp / "pyproject.toml", '[tool.storegate]\nextend-exclude = ["generated"]\n')
    write(in_tmp / "generated/g.py", "x = 1\n")
    write(in_tmp / "src/a.py", "x = 1\n")
    result = run("check")
    assert result.exit_code == 0, result.output
    assert result.stdout == "All checks passed (1 file checked).\n"
    # --isolated ignores the config, so the excluded file is checked too
    assert run("check", "--isolated").stdout == "All checks passed (2 files checked).\n"


def test_force_exclude(in_tmp):
    write(in_tmp / "build/gen.py", "x = 1\n")
    assert run("check", "build/gen.py", *ISOLATED).stdout == "All checks passed (1 file checked).\n"
    result = run("check", "--force-exclude", "build/gen.py", *ISOLATED)
    assert result.exit_code == 0
    assert result.stdout == "All checks passed (0 files checked).\n"


def test_subprocess_version_and_clean_run(in_tmp):
    write(in_tmp / "t.py", GATED)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    version = subprocess.run(
        [sys.executable, "-m", "storegate", "--version"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert version.returncode == 0
    assert storegate.__version__ in version.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "storegate", "check", *ISOLATED],
        cwd=in_tmp, capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "All checks passed (1 file checked).\n"


def test_subprocess_config_error(in_tmp):
    write(in_tmp / "pyproject.toml", '[tool.storegate]\nrules = "openai"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "storegate", "check"],
        cwd=in_tmp, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("storegate: error: ")
    assert "'rules' must be a list" in proc.stderr
