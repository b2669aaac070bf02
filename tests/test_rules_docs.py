"""Rule documentation: one source (the registry, storegate/checks/) for the README, `storegate rules`
and `storegate rule CODE`. The examples are run in tests/test_checks.py."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from storegate.checks import CODES
from storegate.checks.docs import render_doc, render_markdown
from storegate.cli import check as check_command
from storegate.cli import main
from storegate.files import DEFAULT_EXCLUDES
from storegate.report import FORMATS

README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_readme_code_section_is_generated_from_the_registry():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- codes:start -->\n(.*?)<!-- codes:end -->", text, re.S)
    assert match, "README lost its codes markers"
    assert match.group(1) == render_markdown(), "regenerate with: storegate rules --markdown"
    assert run("rules", "--markdown").stdout == render_markdown()
    assert "| SG001 | `ungated-sink` | persistence call not gated by the store flag |" in match.group(1)


def test_rule_prints_the_full_doc():
    result = run("rule", "sg002")
    assert result.exit_code == 0
    assert result.stdout == render_doc(CODES["SG002"])
    lines = result.stdout.splitlines()
    assert lines[0] == "SG002 ungated-derived-sink: call to a function that persists (a derived sink), not gated by the store flag"
    for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "How to suppress"):
        assert heading in lines
    assert "                await self._sync_conversation(conversation, items)" in lines
    assert "  Put `# storegate: ignore[SG002]` (or `# noqa: SG002`) at the end of the reported line," in lines
    assert all(line == line.rstrip() for line in lines)


@pytest.mark.parametrize("code", ["SG999", "E501", "", "SG00"])
def test_unknown_rule_is_exit_two(code):
    result = run("rule", code)
    assert result.exit_code == 2
    assert result.stderr == f"storegate: error: unknown code {code!r} (known: {', '.join(CODES)})\n"


def test_rules_lists_codes_and_the_loaded_packs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "mine.toml").write_text(
        'name = "mine"\ndescription = "My pack"\nflags = [{name = "dry_run", inverted = true}]\n'
        'sinks = ["*.save", {pattern = "*.execute", argument = "^INSERT"}]\nroutes = ["POST /v1/y"]\n'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.storegate]\nrules = ["packs/mine.toml"]\nflags = [{name = "store", none-means = true}]\n'
        'sinks = ["app.db.persist"]\nroutes = ["POST /v1/x"]\n'
    )
    result = run("rules")
    assert result.exit_code == 0
    codes, configuration, packs = result.stdout.split("\n\n", 2)
    # one line a code, in registry order, the summaries aligned after the longest name
    width = max(len(c.name) for c in CODES.values())
    assert codes.splitlines() == [
        "Codes (storegate rule CODE for the full documentation):",
        *(f"  {c.code}  {c.name.ljust(width)}  {c.summary}" for c in CODES.values()),
    ]
    assert re.search(r"^  SG001  ungated-sink +persistence call not gated by the store flag$", codes, re.M)
    assert configuration.splitlines() == [
        "Configuration file: pyproject.toml",
        "Excludes (gitignore patterns, relative to .): " + ", ".join(DEFAULT_EXCLUDES),
    ]
    assert packs == (
        "Rule packs (pyproject.toml):\n"
        "  mine: My pack\n"
        "    flag   dry_run (inverted: writes need it false)\n"
        "    sink   *.save\n"
        "    sink   *.execute (first argument ~ ^INSERT)\n"
        "    route  POST /v1/y\n"
        "\n"
        "In effect (packs, configuration and command line):\n"
        "  flag   dry_run (inverted: writes need it false)\n"
        "  flag   store (None means true)\n"
        "  sink   *.save\n"
        "  sink   *.execute (first argument ~ ^INSERT)\n"
        "  sink   app.db.persist\n"
        "  route  POST /v1/y\n"
        "  route  POST /v1/x\n"
    )
    isolated = run("rules", "--isolated")
    assert "Rule packs (no configuration file):\n  openai: " in isolated.stdout
    assert "    sink   *.execute (first argument ~ (?i)^\\s*(insert|update|replace|upsert|merge)\\b)\n" in isolated.stdout
    # the default state pack is listed, with what makes a container and what is left out
    assert "\n  state: State that outlives the request" in isolated.stdout
    assert "\n    state  writes into module-level, class and service-object containers: dict, list, set, " in isolated.stdout
    assert "\n    state    not containers named *task*, " in isolated.stdout
    assert "\n    state    not the own containers of classes named *connection, *connections, " in isolated.stdout
    assert "\n    sink   redis.*()*.hset (kind library; key: argument 1)\n" in isolated.stdout
    assert "\n  state  writes into module-level" in isolated.stdout  # in effect
    assert "state  " not in run("rules", "--rules", "openai").stdout
    bad = run("rules", "--rules", "nope")
    assert bad.exit_code == 2 and bad.stderr == "storegate: error: unknown rule pack 'nope' (available: dry-run, libraries, openai, state)\n"


def test_rules_shows_retention_of_each_pack_and_in_effect(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.toml").write_text(
        'flags = ["store"]\n[[retention]]\nflag = "store"\nwhen = "background"\nexpiring = ["*.poll[]", "*.cache.set"]\n'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.storegate]\nrules = ["mine.toml"]\n'
        'retention = [{flag = "store", when = "background", expiry-arguments = ["ttl", "timeout"]}]\n'
    )
    lines = run("rules").stdout.splitlines()
    pack = "under background, writes that expire need no store: to *.poll[], *.cache.set"
    config = "under background, writes that expire need no store: ttl=, timeout="
    assert lines[lines.index("  mine") + 2] == f"    retain {pack}"
    assert lines[-2:] == [f"  retain {pack}", f"  retain {config}"]
    openai = run("rules", "--isolated").stdout
    assert "    retain under background, writes that expire need no store: ttl=, ex=, " in openai
    assert "; to *.background_responses[], *.poll_cache.set\n" in openai


def test_every_option_format_and_code_is_documented_in_the_readme():
    text = README.read_text(encoding="utf-8")
    for param in check_command.params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                if opt.startswith("--"):
                    assert f"`{opt}" in text, opt
    for name in FORMATS:
        assert f"`{name}`" in text, name
    for code in CODES:
        assert f"| {code} |" in text
    for option in ("--storegate-flags", "--storegate-sinks", "--storegate-rules", "--report-unused-ignores"):
        assert f"`{option}`" in text
    for command in ("storegate rules", "storegate rule CODE", "storegate rules --markdown", "# storegate: ignore[SG001]"):
        assert command in text
