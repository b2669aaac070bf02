"""Every output format on real fixtures (a copy of fixtures/cases/pkg_derived and pkg_lost_flag),
compared with the exact expected content; SARIF is validated against the official schema.

The four unconditional helper calls of ``ResponsesService.chain`` are one missing gate: every
format reports them as one finding with three related locations (``storegate.related``;
tests/test_related.py tests the grouping itself)."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import storegate
from storegate.cli import main
from storegate.checks import CODES
from storegate.model import FileError, Finding, Result, TraceStep
from storegate.report import FORMATS, github, grouped, sarif, text

ROOT = Path(__file__).resolve().parent.parent
# A run elsewhere may be writing a cache into the fixtures right now: never copy one.
NO_CACHE = shutil.ignore_patterns(".storegate_cache")
CASES = ROOT / "fixtures" / "cases"
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

SERVICE = "pkg_derived/shop/service.py"
HANDLERS = "pkg_lost_flag/handlers.py"
M13 = "call to 'self._sync_response_to_conversation' persists (-> self.conversations_api.add_items) and is not gated by 'store'"
M20 = "call to 'sync' persists (-> api.conversations_api.add_items) and is not gated by 'store'"
M21 = "call to 'helpers.sync_items' persists (-> api.conversations_api.add_items) and is not gated by 'store'"
M22 = "call to 'sync_twice' persists (-> sync_items -> api.conversations_api.add_items) and is not gated by 'store'"
M23 = "call to 'ping_pong' persists (-> pong -> save_audit) and is not gated by 'store'"
M7 = "'store' is not passed to '_persist_response', which then defaults to True"
M8 = "'store' is not passed to 'persist_messages', which then defaults to None"
SUMMARY = "Found 4 findings (7 locations) in 2 files (6 files checked).\n"

# (path, line, column, end_line, end_column, code, message, function, sink, trace)
EXPECTED = [
    (SERVICE, 13, 19, 13, 75, "SG002", M13, "ResponsesService.finish", "self._sync_response_to_conversation",
     [(11, "flag 'store': parameter"),
      (12, "if conversation -> true"),
      (13, "call self._sync_response_to_conversation -> pkg_derived/shop/base.py:6 self.conversations_api.add_items")]),
    (SERVICE, 20, 9, 20, 26, "SG002", M20, "ResponsesService.chain", "sync",
     [(19, "flag 'store': parameter"), (20, "call sync -> pkg_derived/shop/helpers.py:6 api.conversations_api.add_items")]),
    (SERVICE, 21, 9, 21, 40, "SG002", M21, "ResponsesService.chain", "helpers.sync_items",
     [(19, "flag 'store': parameter"), (21, "call helpers.sync_items -> pkg_derived/shop/helpers.py:6 api.conversations_api.add_items")]),
    (SERVICE, 22, 9, 22, 32, "SG002", M22, "ResponsesService.chain", "sync_twice",
     [(19, "flag 'store': parameter"), (22, "call sync_twice -> pkg_derived/shop/helpers.py:11 sync_items -> pkg_derived/shop/helpers.py:6 api.conversations_api.add_items")]),
    (SERVICE, 23, 9, 23, 30, "SG002", M23, "ResponsesService.chain", "ping_pong",
     [(19, "flag 'store': parameter"), (23, "call ping_pong -> pkg_derived/shop/helpers.py:23 pong -> pkg_derived/shop/helpers.py:28 save_audit")]),
    (HANDLERS, 7, 5, 7, 36, "SG003", M7, "create", "_persist_response", []),
    (HANDLERS, 8, 5, 8, 35, "SG003", M8, "create", "persist_messages", []),
]
# Why each sink of EXPECTED is persistence (``Finding.kind``, in JSON and SARIF): the
# SG002 chains end at configured call sinks; an SG003 callee persists on its own, under its flag.
KINDS = ["configured"] * 5 + ["derived"] * 2
# The reported items: (index of the first finding in EXPECTED, indices of its related ones).
GROUPS = [(0, ()), (1, (2, 3, 4)), (5, ()), (6, ())]


def also(index, where=None):
    """The ``also:`` line of EXPECTED[index] (``where`` in place of ``path:line``)."""
    p, line, _, _, _, code, message, *_ = EXPECTED[index]
    return f"    also: {where or f'{p}:{line}'} {code} {message}\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name in ("pkg_derived", "pkg_lost_flag"):
        shutil.copytree(CASES / name, tmp_path / name, ignore=NO_CACHE)
    shutil.copy(CASES / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, ["check", "--no-cache", *args, "pkg_derived", "pkg_lost_flag"], catch_exceptions=False)


def test_every_format_is_registered_with_the_common_signature():
    assert sorted(FORMATS) == ["github", "grouped", "html", "json", "sarif", "text"]
    empty = Result(files_checked=0)
    for name, render in FORMATS.items():
        assert isinstance(render(empty, quiet=True, explain=False), str), name
        assert isinstance(render(empty), str), name


def test_text(project):
    result = run()
    assert result.exit_code == 1
    expected = ""
    for first, related in GROUPS:
        p, l, c, _, _, code, m, *_ = EXPECTED[first]
        expected += f"{p}:{l}:{c}: {code} {m}\n" + "".join(also(i) for i in related)
    assert result.stdout == expected + SUMMARY


def test_text_explain_shows_the_witness_paths(project):
    result = run("--explain", "--select", "SG002", "-q")
    expected = ""
    for first, related in GROUPS[:2]:
        p, line, col, _, _, code, message, _, _, trace = EXPECTED[first]
        expected += f"{p}:{line}:{col}: {code} {message}\n" + "".join(also(i) for i in related)
        expected += "".join(f"    {n} {t}\n" for n, t in trace)
    assert result.stdout == expected


def test_json(project):
    result = run("--format", "json")
    data = json.loads(result.stdout)
    assert data["files_checked"] == 6
    assert data["errors"] == []
    def related(index):
        p, l, c, _, _, code, m, *_ = EXPECTED[index]
        return {"path": p, "line": l, "column": c, "code": code, "message": m}

    expected = []
    for first, others in GROUPS:
        p, l, c, el, ec, code, m, fn, sink, trace = EXPECTED[first]
        expected.append(
            {"path": p, "line": l, "column": c, "end_line": el, "end_column": ec, "code": code, "message": m,
             "sink": sink, "flag": "store", "function": fn, "trace": [{"line": n, "text": t, "relevant": True} for n, t in trace],
             "kind": KINDS[first], "related": [related(i) for i in others]}
        )
    assert data["findings"] == expected


def test_grouped(project):
    result = run("--format", "grouped")
    assert result.exit_code == 1
    assert result.stdout == (
        f"{SERVICE}\n"
        f"  13:19  SG002  {M13}\n"
        f"  20:9   SG002  {M20}\n"
        f"      also: 21:9 SG002 {M21}\n"
        f"      also: 22:9 SG002 {M22}\n"
        f"      also: 23:9 SG002 {M23}\n"
        "\n"
        f"{HANDLERS}\n"
        f"  7:5  SG003  {M7}\n"
        f"  8:5  SG003  {M8}\n"
        "\n" + SUMMARY
    )


def test_github(project):
    result = run("--format", "github")
    assert result.exit_code == 1
    lines = []
    for first, related in GROUPS:
        p, l, c, el, ec, code, m, *_ = EXPECTED[first]
        message = m + "".join(f"%0Aalso: {EXPECTED[i][0]}:{EXPECTED[i][1]} {EXPECTED[i][5]} {EXPECTED[i][6]}" for i in related)
        lines.append(f"::error file={p},line={l},col={c},endLine={el},endColumn={ec},title={code}::{message}")
    assert result.stdout == "".join(line + "\n" for line in lines) + SUMMARY
    quiet = run("--format", "github", "-q")
    assert quiet.stdout == "".join(line + "\n" for line in lines)


def test_github_escaping_and_multiline_findings():
    finding = Finding(
        path="a,b:c%d.py", line=3, column=2, end_line=5, end_column=4, code="SG001",
        message="50% of 'x'\r\nsaved, here: now", sink="x", flag="store", function="f",
        trace=(TraceStep(2, "if a -> true"), TraceStep(0, "entry")),
    )
    error = FileError(path="bad,file.py", message="invalid syntax: 'x' at 1:2", line=None)
    out = github.render(Result(findings=(finding,), errors=(error,), files_checked=2), quiet=True, explain=True)
    assert out == (
        "::error file=a%2Cb%3Ac%25d.py,line=3,endLine=5,title=SG001::"
        "50%25 of 'x'%0D%0Asaved, here: now%0A2 if a -> true%0Aentry\n"
        "::error file=bad%2Cfile.py,title=storegate::invalid syntax: 'x' at 1:2\n"
    )


def _rule(code):
    doc = CODES[code]
    return {
        "id": code,
        "name": doc.name,
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": doc.what},
        "help": {
            "text": f"{doc.why}\n\nSuppress: {doc.suppress}",
            "markdown": f"{doc.why}\n\nBad:\n\n```python\n{doc.bad}```\n\nGood:\n\n```python\n{doc.good}```\n\nSuppress: {doc.suppress}",
        },
        "helpUri": f"https://github.com/storegate/storegate#{code.lower()}-{doc.name}",
        "defaultConfiguration": {"level": "warning" if code in ("SG005", "SG100") else "error"},
    }


def test_sarif_matches_the_findings_field_by_field_and_validates(project):
    result = run("--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
    (run_,) = log["runs"]
    assert run_["tool"] == {
        "driver": {
            "name": "storegate",
            "version": storegate.__version__,
            "informationUri": "https://github.com/storegate/storegate",
            "rules": [_rule(code) for code in CODES],
        }
    }
    assert run_["originalUriBaseIds"] == {"%SRCROOT%": {"uri": project.resolve().as_uri() + "/"}}
    assert run_["columnKind"] == "unicodeCodePoints"
    assert run_["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    assert len(run_["results"]) == len(GROUPS)
    fingerprints = set()
    for got, (first, related) in zip(run_["results"], GROUPS):
        p, l, c, el, ec, code, m, fn, sink, trace = EXPECTED[first]
        artifact = {"uri": p, "uriBaseId": "%SRCROOT%"}
        expected = {
            "ruleId": code,
            "ruleIndex": list(CODES).index(code),
            "level": "error",
            "message": {"text": m},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": artifact,
                    "region": {"startLine": l, "startColumn": c, "endLine": el, "endColumn": ec},
                },
                "logicalLocations": [{"fullyQualifiedName": fn, "kind": "function"}],
            }],
            "partialFingerprints": got["partialFingerprints"],
            "properties": {"sink": sink, "kind": KINDS[first]},
        }
        if related:
            links = ", ".join(f"[line {EXPECTED[i][1]}]({n})" for n, i in enumerate(related, 1))
            expected["message"] = {"text": f"{m} (also {links})"}
            expected["relatedLocations"] = [
                {"id": n, "physicalLocation": {"artifactLocation": artifact, "region": {
                    "startLine": EXPECTED[i][1], "startColumn": EXPECTED[i][2], "endLine": EXPECTED[i][3], "endColumn": EXPECTED[i][4]}},
                 "message": {"text": f"{EXPECTED[i][5]} {EXPECTED[i][6]}"}}
                for n, i in enumerate(related, 1)
            ]
        if trace:
            expected["codeFlows"] = [{"threadFlows": [{"locations": [
                {"location": {"message": {"text": t},
                              "physicalLocation": {"artifactLocation": artifact, "region": {"startLine": n}}}}
                for n, t in trace
            ]}]}]
        assert got == expected
        (value,) = got["partialFingerprints"].values()
        assert len(value) == 32
        fingerprints.add(value)
    assert len(fingerprints) == len(GROUPS)


def test_sarif_fingerprints_survive_inserted_lines(project):
    before = [r["partialFingerprints"] for r in json.loads(run("--format", "sarif").stdout)["runs"][0]["results"]]
    service = project / SERVICE
    service.write_text("# a comment\n\n" + service.read_text())
    after = json.loads(run("--format", "sarif").stdout)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after][:2] == [15, 22]
    assert [r["partialFingerprints"] for r in after] == before


def test_sarif_errors_and_odd_paths_validate():
    findings = (
        Finding("/abs/dir with space/x.py", 1, 1, 1, 5, "SG001", "m", "save", "store", ""),
        Finding("../up/ü.py", 2, 3, 4, 1, "SG100", "unused suppression 'SG001'", "SG001", "", ""),
    )
    errors = (FileError("broken.py", "invalid syntax", 3), FileError("gone.py", "cannot read: denied", None))
    log = json.loads(sarif.render(Result(findings=findings, errors=errors, files_checked=4)))
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///abs/dir%20with%20space/x.py"}
    assert "logicalLocations" not in results[0]["locations"][0]
    assert results[1]["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "../up/%C3%BC.py", "uriBaseId": "%SRCROOT%"}
    assert (results[1]["level"], results[1]["ruleIndex"]) == ("warning", list(CODES).index("SG100"))
    assert "codeFlows" not in results[0]
    assert log["runs"][0]["invocations"] == [{
        "executionSuccessful": False,
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": "invalid syntax"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "broken.py", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 3}}}]},
            {"level": "error", "message": {"text": "cannot read: denied"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "gone.py", "uriBaseId": "%SRCROOT%"}}}]},
        ],
    }]


def test_grouped_lists_errors_under_their_file():
    findings = (Finding("b.py", 12, 5, 12, 9, "SG001", "m1", "s", "store", "f"),)
    errors = (FileError("a.py", "invalid syntax", 3), FileError("b.py", "too deeply nested to analyze", None))
    out = grouped.render(Result(findings=findings, errors=errors, files_checked=2))
    assert out == (
        "a.py\n"
        "  3:1  error  invalid syntax\n"
        "\n"
        "b.py\n"
        "  12:5  SG001  m1\n"
        "  -     error  too deeply nested to analyze\n"
        "\n"
        "Found 1 finding in 1 file and 2 errors (2 files checked).\n"
    )
    assert grouped.render(Result(files_checked=3)) == "All checks passed (3 files checked).\n"
    assert grouped.render(Result(files_checked=3), quiet=True) == ""


# --- selection, statistics, source, colour -----------------------------------------------------


def test_select_and_ignore_prefixes(project):
    def codes(*args):  # of every location, related ones too
        findings = json.loads(run("--format", "json", *args).stdout)["findings"]
        return [f["code"] for finding in findings for f in (finding, *finding["related"])]

    assert codes("--select", "SG003") == ["SG003", "SG003"]
    assert codes("--select", "SG00", "--ignore", "SG002") == ["SG003", "SG003"]
    assert codes("--ignore", "SG") == []
    assert codes("--select", "SG", "--ignore", "SG0") == []
    assert codes("--select", "SG002,sg003", "--ignore", "SG0") == ["SG002"] * 5 + ["SG003"] * 2  # longer wins
    assert codes("--select", "SG001", "--select", "SG004") == []
    result = run("--ignore", "SG002,SG003")
    assert (result.exit_code, result.stdout) == (0, "All checks passed (6 files checked).\n")


@pytest.mark.parametrize("bad", ["XY1", "SG9", "SG0011", "S-G"])
def test_unknown_selector_is_a_usage_error(project, bad):
    result = run("--select", bad)
    assert result.exit_code == 2
    assert result.stderr == f"storegate: error: unknown code or prefix {bad.upper()!r} (codes: {', '.join(CODES)})\n"
    assert run("--ignore", f"SG001,{bad}").exit_code == 2


def test_statistics(project):
    result = run("--statistics", "-q")
    lines = result.stdout.splitlines()
    assert lines[-2:] == [
        "5     SG002  call to a function that persists (a derived sink), not gated by the store flag",
        "2     SG003  the store flag is not passed to a function that takes it",
    ]
    assert len(lines) == 9
    machine = run("--statistics", "--format", "json")
    assert json.loads(machine.stdout)["files_checked"] == 6  # stdout stays parseable
    assert machine.stderr == "\n".join(lines[-2:]) + "\n"


def test_show_source_puts_a_caret_under_the_column(project):
    (project / "tabs.py").write_text("def f(store):\n\tif x:\n\t\tsave_response(1)\n")
    result = CliRunner().invoke(main, ["check", "--no-cache", "--show-source", "tabs.py", "pkg_lost_flag"], catch_exceptions=False)
    assert result.stdout == (
        f"{HANDLERS}:7:5: SG003 {M7}\n"
        "    _persist_response(db, response)  # expect: SG003\n"
        "    ^\n"
        f"{HANDLERS}:8:5: SG003 {M8}\n"
        "    persist_messages(db, messages)  # expect: SG003\n"
        "    ^\n"
        "tabs.py:3:3: SG001 persistence call 'save_response' is not gated by 'store'\n"
        "\t\tsave_response(1)\n"
        "\t\t^\n"
        "Found 3 findings in 2 files (3 files checked).\n"
    )


def test_colour_only_when_asked_and_exactly_styled():
    finding = Finding("a.py", 2, 5, 2, 9, "SG001", "msg", "s", "store", "f")
    result = Result(findings=(finding,), files_checked=1)
    assert text.render(result, color=True) == (
        "\x1b[1ma.py\x1b[0m:2:5: \x1b[31m\x1b[1mSG001\x1b[0m msg\n"
        "\x1b[31m\x1b[1mFound\x1b[0m 1 finding in 1 file (1 file checked).\n"
    )
    assert "\x1b" not in text.render(result) + grouped.render(result)


def _run_on_a_terminal(args, cwd, env):
    """Run the CLI with stdout on a pseudo-terminal; its output."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "storegate", *args], cwd=cwd, env=env,
                              stdout=follower, stderr=subprocess.PIPE, timeout=60)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return proc.returncode, b"".join(chunks).decode()
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)


def test_colour_on_a_terminal_but_not_with_no_color_nor_in_a_pipe_or_file(project):
    (project / "t.py").write_text("def f(store):\n    save_response(1)\n")
    args = ["check", "--no-cache", "--isolated", "--flag", "store", "--sink", "save_response", "t.py"]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    code, out = _run_on_a_terminal(args, project, env)
    assert code == 1
    assert "\x1b[31m\x1b[1mSG001\x1b[0m" in out
    code, out = _run_on_a_terminal(args, project, {**env, "NO_COLOR": "1"})
    assert code == 1 and "\x1b" not in out and "t.py:2:5: SG001" in out
    piped = subprocess.run([sys.executable, "-m", "storegate", *args], cwd=project, env=env, capture_output=True, text=True)
    assert "\x1b" not in piped.stdout and "t.py:2:5: SG001" in piped.stdout
    code, out = _run_on_a_terminal([*args, "--output", "report.txt"], project, env)
    assert "\x1b" not in (project / "report.txt").read_text()
