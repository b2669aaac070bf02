"""The pre-commit hook of .pre-commit-hooks.yaml, run for real by pre-commit in a temporary git repo.

The hook repository is a git snapshot of this working tree (the package, its rule packs and the
hook definition), like ``pre-commit try-repo`` makes, but built once per test session so that
pre-commit builds (and pip-installs, from PyPI) one hook environment for all the tests here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def pre_commit(project: Path, hook_repo, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(hook_repo[2]), "NO_COLOR": "1"}
    env.pop("PRE_COMMIT", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--color", "never", *args], cwd=project, env=env,
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


def readme_snippet() -> str:
    """The README's .pre-commit-config.yaml, as written."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", text, re.S)
    assert match, "the README lost its pre-commit snippet"
    return match.group(1)


def test_the_readme_snippet_names_a_commit_of_storegate_that_has_the_hook():
    (entry,) = yaml.safe_load(readme_snippet())["repos"]
    assert entry["hooks"] == [{"id": "storegate"}]
    rev = str(entry["rev"])
    assert re.fullmatch(r"[0-9a-f]{40}", rev), f"rev {rev!r}: no release is tagged, so the README names a full commit"
    found = subprocess.run(["git", "cat-file", "-p", f"{rev}:.pre-commit-hooks.yaml"], cwd=REPO, capture_output=True, text=True)
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=REPO, capture_output=True, text=True)
    if found.returncode != 0 and shallow.stdout.strip() == "true":
        return  # a shallow clone (CI's) lacks older commits: the full history checks it
    assert found.returncode == 0, f"rev {rev!r} of the README is not a commit of storegate with the hook: {found.stderr}"
    assert "- id: storegate" in found.stdout


def test_the_readme_snippet_works_as_written_in_a_fresh_repository(tmp_path, hook_repo):
    """The README's snippet, with this tree (a commit of it) as ``repo:`` and that commit as
    ``rev:`` and nothing else changed: a leak fails ``pre-commit run --all-files``, a fix passes."""
    snapshot, rev, _ = hook_repo
    config = readme_snippet()
    config, repos = re.subn(r"(?m)^(- repo: ).*$", lambda m: m.group(1) + snapshot.as_posix(), config)
    config, revs = re.subn(r"(?m)^(  rev: )\S+", lambda m: m.group(1) + rev, config)
    assert repos == revs == 1, config
    git(tmp_path, "init", "-q")
    (tmp_path / ".pre-commit-config.yaml").write_text(config)
    (tmp_path / "app.py").write_text(LEAKY)
    git(tmp_path, "add", ".")
    proc = pre_commit(tmp_path, hook_repo, "--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert FINDING + "\n" in proc.stdout and "Failed" in proc.stdout

    (tmp_path / "app.py").write_text(FIXED)
    git(tmp_path, "add", ".")
    proc = pre_commit(tmp_path, hook_repo, "--all-files")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout and "SG001" not in proc.stdout
