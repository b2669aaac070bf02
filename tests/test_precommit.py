"""The pre-commit hook of .pre-commit-hooks.yaml, run for real by pre-commit in a temporary git repo.

The hook repository is a git snapshot of this working tree (the package, its rule packs and the
hook definition), like ``pre-commit try-repo`` makes, but built once per test session so that
pre-commit builds (and pip-installs, from PyPI) one hook environment for all the tests here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "storegate", "rules"]
LEAKY = "def handler(request, store=True):\n    self.responses_store.store_response_object(request)\n"
FIXED = "def handler(request, store=True):\n    if store:\n        self.responses_store.store_response_object(request)\n"
FINDING = "app.py:2:5: SG001 persistence call 'self.responses_store.store_response_object' is not gated by 'store'"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory):
    """(snapshot repository, its commit, PRE_COMMIT_HOME) shared by the session."""
    base = tmp_path_factory.mktemp("precommit")
    snapshot = base / "hooks"
    snapshot.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".storegate_cache")
    for name in SNAPSHOT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, snapshot / name, ignore=ignore)
        else:
            shutil.copy(source, snapshot / name)
    git(snapshot, "init", "-q")
    git(snapshot, "add", ".")
    git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot, git(snapshot, "rev-parse", "HEAD").strip(), base / "home"


@pytest.fixture
def project(tmp_path, hook_repo):
    snapshot, rev, _ = hook_repo
    git(tmp_path, "init", "-q")
    (tmp_path / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {snapshot.as_posix()}\n  rev: {rev}\n  hooks:\n  - id: storegate\n"
    )
    (tmp_path / "pyproject.toml").write_text('[tool.storegate]\nextend-exclude = ["migrations/"]\n')
    git(tmp_path, "add", ".")
    return tmp_path


def pre_commit(project: Path, hook_repo) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(hook_repo[2]), "NO_COLOR": "1"}
    env.pop("PRE_COMMIT", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--color", "never"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_leaky_staged_file_fails_the_hook_and_the_fix_passes(project, hook_repo):
    (project / "app.py").write_text(LEAKY)
    git(project, "add", "app.py")
    proc = pre_commit(project, hook_repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "storegate" in proc.stdout and "Failed" in proc.stdout
    assert FINDING + "\n" in proc.stdout
    assert "Found 1 finding in 1 file (1 file checked)." in proc.stdout

    (project / "app.py").write_text(FIXED)
    git(project, "add", "app.py")
    proc = pre_commit(project, hook_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout and "SG001" not in proc.stdout


def test_excluded_files_are_skipped_even_when_staged(project, hook_repo):
    (project / "migrations").mkdir()
    (project / "migrations" / "m1.py").write_text(LEAKY)
    (project / "notes.txt").write_text(LEAKY)
    git(project, "add", ".")
    proc = pre_commit(project, hook_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SG001" not in proc.stdout
