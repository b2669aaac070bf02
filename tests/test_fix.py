"""The autofix engine (``storegate.fix``): golden files, idempotence, the leaky twin fixed.

Each ``fixtures/fixes/**/NAME.before.py`` is copied (with the ``pyproject.toml`` of its directory)
to a temporary directory, analyzed for real, planned and fixed; the result must equal
``NAME.after.py`` byte for byte, and ``summary()`` must equal ``NAME.summary.txt``. Re-checking the
fixed file reports none of the fixed findings, and fixing again changes nothing.

``STOREGATE_UPDATE_GOLDEN=1 python -m pytest tests/test_fix.py`` rewrites the golden files (review
the diff before committing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from storegate import fix
from storegate.api import check
from storegate.config import load_config
from storegate.model import Finding, Result

ROOT = Path(__file__).resolve().parent.parent
FIXES_DIR = ROOT / "fixtures" / "fixes"
BEFORE = ".before.py"
CASES = sorted(FIXES_DIR.rglob(f"*{BEFORE}"), key=lambda p: p.relative_to(FIXES_DIR).as_posix())
UPDATE = os.environ.get("STOREGATE_UPDATE_GOLDEN") == "1"


def _case_id(path: Path) -> str:
    return path.relative_to(FIXES_DIR).as_posix()[: -len(BEFORE)]


def _key(finding: Finding) -> tuple:
    """A finding's identity across a fix (its lines move): where, what, and which call."""
    return (finding.path, finding.function, finding.code, finding.sink, finding.flag)


def _run(name: str) -> tuple[Result, list[fix.FileFix]]:
    config = load_config([name])
    result = check([name], config, use_cache=False)
    assert result.errors == ()
    return result, fix.plan(result, config)


def test_there_are_golden_cases() -> None:
    names = {_case_id(p) for p in CASES}
    assert {"conjunct", "multiline_condition", "wrap", "nested_ifs", "request_store", "alias", "keyword"} <= names
    assert {"dry_run/inverted", "windows.crlf", "latin1", "bom", "refused"} <= names
    assert {"none_means", "dry_run_none/inverted", "mac.cr", "formfeed"} <= names


@pytest.mark.parametrize("before", CASES, ids=_case_id)
def test_golden(before: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stem = before.name[: -len(BEFORE)]
    after = before.with_name(f"{stem}.after.py")
    expected_summary = before.with_name(f"{stem}.summary.txt")
    shutil.copyfile(before.parent / "pyproject.toml", tmp_path / "pyproject.toml")
    name = f"{stem}.py"
    shutil.copyfile(before, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    original = Path(name).read_bytes()

    result, plans = _run(name)
    assert result.findings, "a golden case must have findings"
    assert Path(name).read_bytes() == original, "planning must not write"
    diff = fix.unified_diff(plans)
    lines = fix.summary(plans)
    fix.apply(plans)
    fixed = Path(name).read_bytes()

    if UPDATE:
        after.write_bytes(fixed)
        expected_summary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert fixed == after.read_bytes()
    assert lines == expected_summary.read_text(encoding="utf-8").splitlines()
    assert (diff == "") == (fixed == original)

    # The fixed file parses, keeps its encoding, and nothing fixed is reported again.
    compile(fixed, name, "exec")
    [plan] = plans
    again, second = _run(name)
    fixed_keys = {_key(f) for f in plan.fixed_findings}
    assert not fixed_keys & {_key(f) for f in again.findings}
    assert {_key(f) for f in again.findings} == {_key(r.finding) for r in plan.refused}
    # Fixing again changes nothing.
    assert all(not p.changed for p in second)
    assert fix.unified_diff(second) == ""
    fix.apply(second)
    assert Path(name).read_bytes() == fixed


def test_crlf_bytes_survive() -> None:
    before = (FIXES_DIR / "windows.crlf.before.py").read_bytes()
    after = (FIXES_DIR / "windows.crlf.after.py").read_bytes()
    for data in (before, after):
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert after != before


def test_cr_only_bytes_survive() -> None:
    """Classic Mac newlines: every line ends in a lone CR, the last one too, before and after."""
    before = (FIXES_DIR / "mac.cr.before.py").read_bytes()
    after = (FIXES_DIR / "mac.cr.after.py").read_bytes()
    for data in (before, after):
        assert b"\n" not in data and data.endswith(" \r".encode())
    assert after != before


def test_latin1_and_bom_are_kept() -> None:
    latin = (FIXES_DIR / "latin1.after.py").read_bytes()
    assert "réponse".encode("latin-1") in latin and "réponse".encode("utf-8") not in latin
    bom = (FIXES_DIR / "bom.after.py").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf") and not bom.startswith(b"\xef\xbb\xbf" * 2)


def test_refusals_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(FIXES_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copyfile(FIXES_DIR / "refused.before.py", tmp_path / "refused.py")
    monkeypatch.chdir(tmp_path)
    _, plans = _run("refused.py")
    [plan] = plans
    assert not plan.changed and plan.fixed_findings == ()
    reasons = {(r.finding.line, r.finding.code): r.reason for r in plan.refused}
    assert reasons == {
        (7, "SG001"): "'saved' is assigned in the statements to gate and used after them",
        (14, "SG004"): "no 'store' in scope",
        (19, "SG001"): "in a one-line block",
    }
    lines = fix.summary(plans)
    assert lines[0] == "refused.py: fixed 0, remaining 3"
    assert "refused.py:14:5: SG004 not fixed: no 'store' in scope" in lines


def test_plan_never_writes_and_apply_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(FIXES_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copyfile(FIXES_DIR / "wrap.before.py", tmp_path / "wrap.py")
    os.chmod(tmp_path / "wrap.py", 0o640)
    monkeypatch.chdir(tmp_path)
    _, plans = _run("wrap.py")
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append((Path(a).parent, Path(b))), real_replace(a, b)))
    fix.apply(plans)
    assert replaced == [(Path("."), Path("wrap.py"))]  # a temporary file beside it, renamed onto the name itself
    assert (tmp_path / "wrap.py").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml", "wrap.py"]


def test_a_file_changed_after_planning_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(FIXES_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copyfile(FIXES_DIR / "wrap.before.py", tmp_path / "wrap.py")
    monkeypatch.chdir(tmp_path)
    _, plans = _run("wrap.py")
    Path("wrap.py").write_text("# edited meanwhile\n", encoding="utf-8")
    assert fix.apply(plans) == {"wrap.py": "changed since it was read; not fixed"}
    assert Path("wrap.py").read_text(encoding="utf-8") == "# edited meanwhile\n"


def test_a_file_replaced_by_a_fifo_after_the_check_is_refused_not_read(tmp_path: Path) -> None:
    """The fixer reads each file once, as the check does (regular files only, never blocking): a
    file swapped for a FIFO between the check and the fix is refused with the reason instead of
    hanging ``--fix`` on the read (the subprocess timeout fails the test on a hang)."""
    shutil.copyfile(FIXES_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copyfile(FIXES_DIR / "wrap.before.py", tmp_path / "wrap.py")
    script = (
        "import os\n"
        "from storegate import fix\n"
        "from storegate.api import check\n"
        "from storegate.config import load_config\n"
        "config = load_config(['wrap.py'])\n"
        "result = check(['wrap.py'], config, use_cache=False)\n"
        "os.remove('wrap.py'); os.mkfifo('wrap.py')\n"
        "[plan] = fix.plan(result, config)\n"
        "print(plan.changed, sorted({r.reason for r in plan.refused}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "False ['not a regular file']\n"


def test_unified_diff_marks_a_missing_final_newline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(FIXES_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copyfile(FIXES_DIR / "alias.before.py", tmp_path / "alias.py")
    monkeypatch.chdir(tmp_path)
    _, plans = _run("alias.py")
    diff = fix.unified_diff(plans)
    assert diff.startswith("--- a/alias.py\n+++ b/alias.py\n")
    assert diff.endswith("\\ No newline at end of file\n")
    # git apply understands it
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "apply", "--check", "-"], input=diff.encode(), check=True)


# -- the leaky twin of the sample server -------------------------------------------------------


def test_fixing_the_leaky_twin_restores_the_sample_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The twin drops the server's ``and store``; the fix puts it back as it was: the parameter is
    declared ``store: bool``, so the plain form and ``store is not False`` agree."""
    from storegate.twin import leaky_diff, make_leaky_copy, server_source_dir

    twin = make_leaky_copy(tmp_path / "src")
    monkeypatch.chdir(tmp_path / "src")
    config = load_config(["responses_server"])
    result = check(["responses_server"], config, use_cache=False)
    assert {f.code for f in result.findings} == {"SG001", "SG002"}
    plans = fix.plan(result, config)
    diff = fix.unified_diff(plans)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert [line[0] + line[1:].strip() for line in changed] == ["+and store"]
    # where the twin's one-line change took the server's gate away
    twin_changed = [line for line in leaky_diff().splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert [line[0] + line[1:].strip() for line in twin_changed] == ["-and store"]
    assert twin_changed[0][1:] == changed[0][1:], "the fix is the reverse of the twin's change"
    assert fix.summary(plans) == ["responses_server/service.py: fixed 2, remaining 0"]
    fix.apply(plans)
    assert (twin / "service.py").read_bytes() == (server_source_dir() / "service.py").read_bytes()
    assert check(["responses_server"], config, use_cache=False).findings == ()

    # At runtime: the fixed twin keeps nothing of a streamed store=false response.
    import httpx

    from server_harness import running_server

    from storegate.demo import rows_containing

    db_path = tmp_path / "fixed.sqlite3"
    marker = f"marker-{uuid.uuid4().hex}"
    with running_server(twin.parent, db_path) as base_url:
        with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
            conversation = client.post("/conversations", json={}).json()["id"]
            body = {
                "model": "storegate-builtin",
                "input": f"Please remember {marker}",
                "store": False,
                "conversation": conversation,
                "stream": True,
            }
            with client.stream("POST", "/responses", json=body) as answer:
                assert answer.status_code == 200
                for _ in answer.iter_lines():
                    pass
            items = client.get(f"/conversations/{conversation}/items").json()
    assert rows_containing(db_path, [marker]) == []
    assert marker not in str(items)


def test_the_leaky_twin_leaks_before_the_fix(tmp_path: Path) -> None:
    """The runtime probe above can fail: the unfixed twin does write the row."""
    import httpx

    from server_harness import running_server

    from storegate.demo import rows_containing
    from storegate.twin import make_leaky_copy

    twin = make_leaky_copy(tmp_path / "src")
    db_path = tmp_path / "leaky.sqlite3"
    marker = f"marker-{uuid.uuid4().hex}"
    with running_server(twin.parent, db_path) as base_url:
        with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
            conversation = client.post("/conversations", json={}).json()["id"]
            body = {"model": "storegate-builtin", "input": f"Please remember {marker}", "store": False,
                    "conversation": conversation, "stream": True}  # fmt: skip
            with client.stream("POST", "/responses", json=body) as answer:
                for _ in answer.iter_lines():
                    pass
    assert rows_containing(db_path, [marker])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
