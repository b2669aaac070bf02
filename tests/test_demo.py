"""What ``storegate demo`` tells someone who never heard of the bug: the promise, the steps, what the API
answered and (apart) what is in the database, the findings, what to try next; and no temporary path."""

from __future__ import annotations

import re
import sys
import tempfile

import click
import pytest

from click.testing import CliRunner

from storegate.cli import main
from storegate.demo import run_demo


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory):
    """The demo's lines (unstyled), run once in this process with its temporary folder under a folder
    of the test's own; (lines, that folder)."""
    where = tmp_path_factory.mktemp("demo-tmp")
    lines: list[str] = []
    saved, tempfile.tempdir = tempfile.tempdir, str(where)
    try:
        status = run_demo(echo=lambda text="", **_: lines.extend(click.unstyle(str(text)).splitlines() or [""]))
    finally:
        tempfile.tempdir = saved
    assert status == 0, "\n".join(lines)
    return lines, where


def section(lines: list[str], start: str, end: str) -> list[str]:
    """The lines from the first one that starts with ``start`` to the next one that starts with ``end``."""
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next(i for i in range(first + 1, len(lines)) if lines[i].startswith(end))
    return lines[first:last]


def test_it_starts_with_the_promise_then_the_steps(demo_output):
    lines, _ = demo_output
    promise = " ".join(lines[:2])
    assert promise.startswith("What `store: false` promises:") and promise.endswith(".")
    assert promise.count(". ") == 0, "one sentence"
    assert "keep nothing" in promise
    steps = section(lines, "This demo runs", "The leaky twin differs")
    assert [line.split()[0] for line in steps if re.match(r"\s+\d\.", line)] == ["1.", "2.", "3.", "4."]


@pytest.mark.parametrize("act", ["First, the leaky twin", "Then, the sample server"])
def test_each_act_shows_the_answers_then_apart_the_database_then_the_findings(demo_output, act):
    lines, _ = demo_output
    body = section(lines, act, "Then," if act.startswith("First") else "Summary:")
    api = section(body, "What the API answered:", "What is in the database")
    database = section(body, "What is in the database", "What storegate finds")
    findings = body[body.index(database[-1]) + 1 :]
    assert sum(line.lstrip().startswith("-> ") for line in api) == 4  # the four requests...
    assert sum(line.lstrip().startswith("<- ") for line in api) == 4  # ...and what the API answered
    assert not any(line.lstrip().startswith(("->", "<-")) for line in database + findings)
    assert not any(re.match(r"\s+(conversation_items|conversation_messages|responses): \{", line) for line in api)
    if act.startswith("First"):
        assert any("LEAK:" in line for line in database)
        assert [line.split()[0] for line in database if re.match(r"\s+\w+: \{", line)] == [
            "conversation_items:", "conversation_items:", "conversation_messages:"
        ]  # fmt: skip
        reported = [line.split()[:2] for line in findings if ": SG" in line]
        assert [code for _, code in reported] == ["SG002", "SG001"]
        assert all(re.fullmatch(r"responses_server/service\.py:\d+:\d+:", where) for where, _ in reported)
    else:
        assert database[1:] == ["  No row of the SQLite file holds the question or the answer."]
        assert re.fullmatch(r"0 findings in \d+ files", [line for line in findings if line.strip()][-1].strip())


def test_it_ends_with_the_next_thing_to_try(demo_output):
    lines, _ = demo_output
    tail = lines[lines.index(next(line for line in lines if line.startswith("Next:"))) :]
    assert "  storegate check --explain path/to/your/server" in tail
    assert "  [tool.storegate]" in tail and any(line.startswith("  sinks = [") for line in tail)
    assert lines[-1] == tail[-1]


def test_the_next_steps_work_as_written(demo_output, tmp_path):
    """The snippet is a valid configuration that adds its sinks, and the command runs with it: a call
    the default rule packs do not know as persistence is reported, with its witness path."""
    lines, _ = demo_output
    start = lines.index("  [tool.storegate]")
    snippet = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        snippet.append(line[2:])
    (tmp_path / "pyproject.toml").write_text("\n".join(snippet) + "\n", encoding="utf-8")
    (tmp_path / "server.py").write_text(
        "def answer(text, store, history):\n    history.remember(text)\n", encoding="utf-8"
    )
    command = next(line.split() for line in lines if line.startswith("  storegate check"))
    assert command[:3] == ["storegate", "check", "--explain"]
    unconfigured = CliRunner().invoke(main, ["check", "--isolated", str(tmp_path)], catch_exceptions=False)
    assert unconfigured.exit_code == 0, unconfigured.output  # the snippet is what makes it a sink
    done = CliRunner().invoke(main, [*command[1:-1], str(tmp_path)], catch_exceptions=False)
    assert done.exit_code == 1, done.output
    assert re.search(r"server\.py:2:\d+: SG001 persistence call 'history\.remember'", done.output), done.output
    assert "flag 'store': parameter" in done.output  # --explain: the witness path


def test_no_path_to_the_deleted_temporary_folder(demo_output):
    lines, where = demo_output
    text = "\n".join(lines)
    assert str(where) not in text and "storegate-demo-" not in text
    assert list(where.iterdir()) == [], "the demo left files behind"


@pytest.mark.parametrize("missing", ["fastapi", "uvicorn", "openai", "httpx"])
def test_without_the_extras_it_says_how_to_install_them(monkeypatch, missing):
    """From a wheel, ``pip install -e '.[demo]'`` means nothing: the message names the extra of the package."""
    monkeypatch.setitem(sys.modules, missing, None)  # what Python's import system takes for "not installed"
    for command in (["demo"], ["demo", "serve"]):
        done = CliRunner().invoke(main, command)
        assert done.exit_code == 1
        assert "pip install 'storegate[demo]'" in done.output and missing in done.output
