"""The registry of codes (storegate/checks/) and the modules agree, and each code's examples do
what its documentation says, run through the real command line on real files (like Fixit's
VALID/INVALID examples): the bad one yields the code once, the good one nothing, and ``--fix``
does what the code's fix strategy says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from storegate import checks
from storegate.checks import CODES
from storegate.cli import main

CHECKS_DIR = Path(checks.__file__).parent
# The package's other modules; any other file there must be a code's module.
SUPPORT = {"__init__.py", "base.py", "docs.py"}
CHECK = ["check", "--no-cache", "--isolated", "--rules", "openai", "--report-unused-ignores"]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_module_is_registered_under_its_own_name():
    modules = sorted(p.name for p in CHECKS_DIR.glob("*.py") if p.name not in SUPPORT)
    assert modules, "no code modules found"
    assert modules == [f"{c.code.lower()}_{c.name.replace('-', '_')}.py" for c in CODES.values()]


def test_codes_are_unique_sorted_and_documented():
    assert list(CODES) == sorted(CODES)
    names = [c.name for c in CODES.values()]
    assert len(set(names)) == len(names)
    for key, code in CODES.items():
        assert key == code.code and re.fullmatch(r"SG[0-9]{3}", key)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code.name), key
        assert all([code.summary, code.what, code.why, code.bad, code.good, code.suppress]), key
        assert code.bad != code.good, key
        assert code.level in ("error", "warning", "note"), key
        assert code.fix in (None, "gate", "keyword"), key
        assert code.scope in ("has_flag", "route_handler"), key
        assert code.decide is None or callable(code.decide), key
        assert code.unfixable.format(code=key, flag="store"), key


def test_registry_lookups():
    assert checks.get(" sg001 ") is CODES["SG001"] and checks.get("SG999") is None
    assert checks.fixed_by("gate") == ("SG001", "SG002", "SG005") and checks.fixed_by("keyword") == ("SG003",)
    assert checks.unfixable("SG004", "dry_run") == "no 'dry_run' in scope"
    assert checks.unfixable("XY1", "store") == "no automatic fix for XY1"


@pytest.mark.parametrize("code", list(CODES))
def test_examples_do_what_the_docs_say(tmp_path, monkeypatch, code):
    monkeypatch.chdir(tmp_path)
    doc = CODES[code]
    (tmp_path / "bad.py").write_text(doc.bad)
    (tmp_path / "good.py").write_text(doc.good)
    bad = run(*CHECK, "--format", "grouped", "-q", "bad.py")
    assert bad.exit_code == 1
    lines = bad.stdout.splitlines()
    assert lines[0] == "bad.py" and len(lines) == 2, bad.stdout
    assert lines[1].split()[1] == code
    good = run(*CHECK, "--format", "grouped", "-q", "good.py")
    assert (good.exit_code, good.stdout) == (0, "")


@pytest.mark.parametrize("code", list(CODES))
def test_fix_follows_the_fix_strategy(tmp_path, monkeypatch, code):
    """A code with a strategy has its bad example fixed (and clean after); one without is refused
    with the code's own reason."""
    monkeypatch.chdir(tmp_path)
    doc = CODES[code]
    (tmp_path / "bad.py").write_text(doc.bad)
    fixed = run(*CHECK, "--fix", "bad.py")
    if doc.fix is None:
        assert fixed.exit_code == 1
        assert "bad.py: fixed 0, remaining 1" in fixed.stderr
        assert f" {code} not fixed: {checks.unfixable(code, 'store')}\n" in fixed.stderr
        assert (tmp_path / "bad.py").read_text() == doc.bad
        return
    assert fixed.exit_code == 0, fixed.stdout + fixed.stderr
    assert "bad.py: fixed 1, remaining 0" in fixed.stderr
    after = (tmp_path / "bad.py").read_text()
    changed = [line for line in after.splitlines() if line not in doc.bad.splitlines()]
    if doc.fix == "keyword":  # the call passes the flag, nothing else moves
        assert len(changed) == 1 and "store=store" in changed[0], after
    else:  # a gate: a test of the flag above the call
        assert any(re.match(r"\s*(if|and) .*store", line) for line in changed), after
    assert run(*CHECK, "bad.py").exit_code == 0


def test_sg006_names_the_default_and_the_routes_and_shows_where_the_default_is():
    """The message names the model's field with its file:line and the routes; the trace starts
    at the default (its line when it is in the reported file, else none, with the place in the
    text) and ends at the write."""
    package = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "pkg_keeping_defaults"
    from storegate.api import check
    from storegate.config import load_config

    findings = sorted(check([str(package)], load_config([str(package)])).findings, key=lambda f: f.sort_key)
    first = next(f for f in findings if f.code == "SG006" and Path(f.path).name == "handlers.py")
    models = str(Path(first.path).with_name("models.py"))
    assert first.message == (
        "'state.inference_store.store_chat_completion' keeps what a client omitting 'store' sends: "
        f"ChatBody.store defaults to True ({models}:13), and an omitted 'store' keeps nothing on POST /v1/chat/completions"
    )
    assert [(step.line, step.text) for step in first.trace] == [
        (0, f"ChatBody.store = True when omitted ({models}:13)"),
        (first.line, "call state.inference_store.store_chat_completion"),
    ]
    parameter = next(f for f in findings if f.code == "SG006" and "parameter" in f.message)
    assert "parameter 'store' of chat_flag_parameter defaults to True, and" in parameter.message
    filled = sorted(f.message for f in findings if f.code == "SG006" and Path(f.path).name == "filled.py")
    settings = str(Path(first.path).with_name("settings.py"))
    conditional = (
        "PersistenceSettings.store_by_default, which FilledCompletions._prepare fills in an omitted 'store' from "
        f"(line 31), defaults to True ({settings}:9)"
    )
    predicate = (
        "PersistenceSettings.store_by_default, which FilledCompletions._effective_store fills in an omitted 'store' from "
        f"(line 38), defaults to True ({settings}:9)"
    )
    assert [conditional in message for message in filled].count(True) == 1
    assert [predicate in message for message in filled].count(True) == 2  # tested through a local, and directly
    table = next(f for f in findings if f.code == "SG006" and Path(f.path).name == "tables.py")
    defaults = str(Path(first.path).with_name("defaults.py"))
    assert f'CHAT_DEFAULTS["store"], which ChatOptions.from_payload fills in an omitted \'store\' from (line 28), defaults to True ({defaults}:4)' in table.message
