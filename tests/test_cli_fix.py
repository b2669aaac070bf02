"""`storegate check --diff` and `--fix` through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storegate.twin import make_leaky_copy, server_source_dir


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "storegate", "check", "--no-cache", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_diff_changes_nothing_and_fix_restores_the_sample_server(tmp_path):
    """The fix puts the twin's missing conjunct back as the server wrote it: ``and store`` (the
    parameter is declared ``bool``, so ``None`` cannot reach it), and a second ``--fix`` changes nothing."""
    twin = make_leaky_copy(tmp_path)
    service = twin / "service.py"
    leaky = service.read_bytes()

    shown = run("--diff", "responses_server", cwd=tmp_path)
    assert shown.returncode == 1, shown.stderr
    added = [line for line in shown.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in shown.stdout.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert [line[1:].strip() for line in added] == ["and store"] and removed == []
    assert service.read_bytes() == leaky, "--diff must not write"

    fixed = run("--fix", "responses_server", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "responses_server/service.py: fixed 2, remaining 0" in fixed.stderr
    assert service.read_bytes() == (server_source_dir() / "service.py").read_bytes()

    again = run("--fix", "responses_server", cwd=tmp_path)
    assert again.returncode == 0 and "fixed" not in again.stderr
    assert run("responses_server", cwd=tmp_path).returncode == 0


def test_fix_reports_what_it_could_not_fix(tmp_path):
    (tmp_path / "app.py").write_text(
        "@app.post('/v1/responses')\n"
        "async def create(body):\n"
        "    state.responses_store.store_response_object(body)\n"
    )
    done = run("--isolated", "--rules", "openai", "--fix", "app.py", cwd=tmp_path)
    assert done.returncode == 1
    assert "app.py:3:5: SG004" in done.stdout  # still reported
    assert "app.py: fixed 0, remaining 1" in done.stderr
    assert "not fixed" in done.stderr


def test_fix_and_diff_exclude_each_other(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    done = run("--fix", "--diff", "a.py", cwd=tmp_path)
    assert done.returncode == 2 and "cannot be used together" in done.stderr
