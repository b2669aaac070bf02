"""The ``storegate`` command line, through click's CliRunner and as a real subprocess.

Tests that expect findings or parse errors need the real analyzer (storegate.analysis).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
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
    from storegate._version import __version__

    for option in ("--version", "-V"):
        result = run(option)
        assert result.exit_code == 0
        assert result.stdout == f"storegate, version {__version__}\n"


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


# --- excludes, config files, rules ------------------------------------------------------------


def test_exclude_replaces_and_extend_exclude_adds_comma_separated_and_repeatable(in_tmp):
    write(in_tmp / "a.py", "x = 1\n")
    write(in_tmp / "gen/g.py", "x = 1\n")
    write(in_tmp / "build/b.py", "x = 1\n")  # excluded by default
    assert run("check", *ISOLATED).stdout == "All checks passed (2 files checked).\n"
    assert run("check", "--extend-exclude", "gen", *ISOLATED).stdout == "All checks passed (1 file checked).\n"
    # --exclude replaces the defaults: build/ is checked again
    assert run("check", "--exclude", "gen", *ISOLATED).stdout == "All checks passed (2 files checked).\n"
    result = run("check", "--extend-exclude", "gen,a.py", "--extend-exclude", "other", *ISOLATED)
    assert result.stdout == "All checks passed (0 files checked).\n"
    assert result.stderr == "storegate: no Python files to check in .\n"
    assert result.exit_code == 0


def test_no_file_checked_is_a_warning_naming_the_paths(in_tmp):
    write(in_tmp / "docs/readme.txt", "not python\n")
    result = run("check", "docs", *ISOLATED)
    assert result.exit_code == 0
    assert result.stderr == "storegate: no Python files to check in docs\n"


def test_a_standalone_storegate_toml_is_found_and_rules_shows_it_and_the_excludes(in_tmp):
    write(in_tmp / "pyproject.toml", '[tool.storegate]\nflags = ["ignored"]\n')
    write(in_tmp / "storegate.toml", 'rules = []\nflags = ["store"]\nsinks = ["save_response"]\nextend-exclude = ["gen"]\n')
    write(in_tmp / "t.py", UNGATED)
    write(in_tmp / "gen/g.py", UNGATED)
    result = run("check")
    assert result.stdout.splitlines() == [FINDING, "Found 1 finding in 1 file (1 file checked)."]
    lines = run("rules").stdout.splitlines()
    assert "Configuration file: storegate.toml" in lines
    [excludes] = [line for line in lines if line.startswith("Excludes")]
    assert excludes.startswith("Excludes (gitignore patterns, relative to .): .git, ")
    assert excludes.endswith(", gen")
    assert "Configuration file: none (the defaults)" in run("rules", "--isolated").stdout


# --- colour -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "colored"),
    [
        ((), {}, False),  # a pipe
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (("--color", "always"), {"NO_COLOR": "1"}, True),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_follows_the_option_then_no_color_then_force_color(in_tmp, args, env, colored):
    write(in_tmp / "t.py", UNGATED)
    result = CliRunner(env={"NO_COLOR": None, "FORCE_COLOR": None, **env}).invoke(main, ["check", *args, *ISOLATED])
    assert ("\x1b[" in result.stdout) is colored
    assert click.unstyle(result.stdout).splitlines()[0] == FINDING
    if colored:
        assert click.style("SG001", fg="red", bold=True) in result.stdout


# --- --exit-zero --------------------------------------------------------------------------------


def test_exit_zero_reports_unparsable_files_without_failing_the_sarif_workflow(in_tmp):
    write(in_tmp / "bad.py", "def broken(store:\n")
    write(in_tmp / "t.py", UNGATED)
    result = run("check", "--format", "sarif", "--output", "out.sarif", "--exit-zero", *ISOLATED)
    assert result.exit_code == 0, result.output
    [sarif_run] = json.loads((in_tmp / "out.sarif").read_text())["runs"]
    assert [r["ruleId"] for r in sarif_run["results"]] == ["SG001"]
    [notification] = sarif_run["invocations"][0]["toolExecutionNotifications"]
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("bad.py")
    # without --exit-zero the unparsable file is exit 2; a usage error stays 2 with it
    assert run("check", *ISOLATED).exit_code == 2
    assert run("check", "--exit-zero", "--select", "XX1", *ISOLATED).exit_code == 2


# --- --stdin-filename -----------------------------------------------------------------------------

HELPER = "def keep(x):\n    save_response(x)\n"
CALLS_HELPER = "from helper import keep\n\n\ndef handler(store, x):\n    keep(x)\n"
GATED_CALL = "from helper import keep\n\n\ndef handler(store, x):\n    if store:\n        keep(x)\n"
DERIVED = "t.py:5:5: SG002 call to 'keep' persists (-> save_response) and is not gated by 'store'"


def run_stdin(text: str, *args: str):
    return CliRunner().invoke(main, ["check", *args, *ISOLATED, "--stdin-filename", "t.py", "-"], input=text)


def test_stdin_replaces_the_file_and_the_rest_of_the_project_is_read_from_disk(in_tmp):
    write(in_tmp / "helper.py", HELPER)  # the sink behind keep() is only on disk
    write(in_tmp / "t.py", GATED_CALL)
    write(in_tmp / "other.py", UNGATED)  # a finding of another file: not reported for t.py
    assert run("check", "t.py", "helper.py", *ISOLATED).exit_code == 0  # the cache knows t.py as gated
    result = run_stdin(CALLS_HELPER)
    assert result.stdout.splitlines() == [DERIVED, "Found 1 finding in 1 file (1 file checked)."]
    assert result.exit_code == 1
    # nothing of standard input was cached: the file on disk is gated, and so is its next text
    assert run("check", "t.py", "helper.py", *ISOLATED).stdout == "All checks passed (2 files checked).\n"
    write(in_tmp / "t.py", CALLS_HELPER)
    assert run("check", "t.py", "helper.py", *ISOLATED).exit_code == 1
    assert run_stdin(GATED_CALL).stdout == "All checks passed (1 file checked).\n"


def test_stdin_for_a_file_not_on_disk_and_its_errors(in_tmp):
    write(in_tmp / "helper.py", HELPER)
    result = run_stdin(CALLS_HELPER)
    assert result.stdout.splitlines()[0] == DERIVED
    result = run_stdin("def broken(:\n")
    assert result.stdout.splitlines()[0].startswith("t.py:1:1: error: ")
    assert result.exit_code == 2
    assert run_stdin("def broken(:\n", "--exit-zero").exit_code == 0
    excluded = run_stdin(UNGATED, "--force-exclude", "--extend-exclude", "t.py")  # as ruff, for pre-commit-like callers
    assert (excluded.exit_code, excluded.stdout) == (0, "All checks passed (0 files checked).\n")
    dash = run("check", *ISOLATED, "-")
    assert dash.exit_code == 2 and "--stdin-filename" in dash.stderr


def test_the_api_takes_unsaved_texts(in_tmp):
    from storegate.api import check
    from storegate.cache import open_cache
    from storegate.config import load_config

    write(in_tmp / "helper.py", HELPER)
    write(in_tmp / "t.py", GATED_CALL)
    config = load_config(["."], isolated=True, flags=["store"], sinks=["save_response"])
    result = check(["."], config, unsaved={in_tmp / "t.py": CALLS_HELPER}, cache_dir=in_tmp / "cache")
    assert [(f.path, f.line, f.code) for f in result.findings] == [("t.py", 5, "SG002")]
    cache = open_cache(in_tmp / "cache", config)
    assert cache.get(str(in_tmp / "helper.py")) is not None  # the files on disk are cached
    assert cache.get(str(in_tmp / "t.py")) is None and not cache.result  # the unsaved text never
    assert check(["."], config, cache_dir=in_tmp / "cache").findings == ()
    result = check(["."], config, unsaved={"new.py": UNGATED}, cache_dir=in_tmp / "cache")
    assert result.findings == () and result.files_checked == 2  # not named, not on disk: not checked
    result = check([".", "new.py"], config, unsaved={"new.py": UNGATED}, cache_dir=in_tmp / "cache")
    assert [(f.path, f.code) for f in result.findings] == [("new.py", "SG001")]


# --- progress -------------------------------------------------------------------------------------

# The command with no delay before the progress shows (a run of two files is over in well under
# the second that a real run waits for).
NO_DELAY = "import sys, storegate.cli as cli; cli.PROGRESS_DELAY = 0; sys.argv[0] = 'storegate'; cli.main()"


def progress_run(cwd: Path, *args: str, terminal: bool, **env: str) -> tuple[int, str, str]:
    """Run ``check`` with stderr on a pseudo-terminal (or a pipe); (exit code, stdout, stderr)."""
    import pty

    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "FORCE_COLOR")}
    environment.update(PYTHONPATH=str(REPO), **env)
    command = [sys.executable, "-c", NO_DELAY, "check", "--no-cache", *args, *ISOLATED]
    if not terminal:
        proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=environment, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr
    main_fd, child_fd = pty.openpty()
    try:
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=child_fd, env=environment, text=True)
        os.close(child_fd)
        out, _ = proc.communicate(timeout=60)
        err = b""
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(main_fd)
    return proc.returncode, out, err.decode()


def test_progress_shows_on_a_terminal_only(in_tmp):
    write(in_tmp / "t.py", UNGATED)
    write(in_tmp / "b.py", "x = 1\n")
    code, out, err = progress_run(in_tmp, terminal=True)
    assert code == 1 and out.splitlines()[0] == FINDING
    assert "\rstoregate: parsed 2/2 files" in err
    assert err.endswith("\r\x1b[K")  # erased before the report
    for terminal, env, args in ((False, {}, ()), (True, {"CI": "true"}, ()), (True, {}, ("--quiet",))):
        code, out, err = progress_run(in_tmp, *args, terminal=terminal, **env)
        assert code == 1 and out.splitlines()[0] == FINDING
        assert "parsed" not in err, (terminal, env, args)
