"""One tree through every entry point: ``storegate.check``, the CLI, ``flake8 --select SG``, the
pre-commit hook's entry command and the demo's ``analyze`` report the same findings, because
each is a thin adapter over one pipeline (``storegate.run.pipeline``), which applies the
suppression comments, the selection and the baseline itself.

The tree has, across two files: a finding suppressed by ``# storegate: ignore[SG001]``, one by
``# noqa: SG001``, an SG002 that the options ignore, an SG001 recorded in a baseline, and one
real finding.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

import storegate
from storegate.config import load_config

REPO = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>SG\d+) ")

A = """from pkg.b import persist


def handler(store, x):
    save_one(x)  # storegate: ignore[SG001]
    save_two(x)
    persist(x)
    save_five(x)  # noqa: SG001
"""
B = """def persist(x):
    save_three(x)


def other(store, x):
    save_four(x)
"""
BASELINE = {  # records a.py's save_two
    "storegate-baseline": 1,
    "findings": [{"path": "pkg/a.py", "code": "SG001", "function": "handler", "sink": "save_two", "occurrence": 0}],
}
REAL = [("pkg/b.py", 6, "SG001")]  # what is left once the options are applied
UNFILTERED = [("pkg/a.py", 6, "SG001"), ("pkg/a.py", 7, "SG002"), ("pkg/b.py", 6, "SG001")]  # comments only
FILES = ["pkg/__init__.py", "pkg/a.py", "pkg/b.py"]


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.storegate]\nrules = []\nflags = ["store"]\nsinks = ["save_*"]\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text(A)
    (tmp_path / "pkg" / "b.py").write_text(B)
    (tmp_path / "baseline.json").write_text(json.dumps(BASELINE))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def from_lines(text: str) -> list[tuple[str, int, str]]:
    """(path, line, code) of each ``path:line:col: CODE message`` line."""
    found = [LINE.match(line) for line in text.splitlines()]
    return sorted((Path(m["path"]).as_posix().removeprefix("./"), int(m["line"]), m["code"]) for m in found if m)


def from_result(result: storegate.Result) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.code) for f in result.findings)


def test_the_library(tree):
    config = load_config(["pkg"])
    options = storegate.CheckOptions(ignore=("SG002",), baseline=Path("baseline.json"), use_cache=False)
    assert from_result(storegate.check(["pkg"], config, options)) == REAL
    # The options as keywords, and a baseline already loaded.
    from storegate.baseline import load

    loaded = load(Path("baseline.json"))
    assert from_result(storegate.check(["pkg"], config, ignore="SG002", baseline=loaded, use_cache=False)) == REAL
    assert from_result(storegate.check(["pkg"], config, use_cache=False)) == UNFILTERED


def test_the_cli(tree):
    done = run([sys.executable, "-m", "storegate", "check", "--no-cache", "--format", "json",
                "--ignore", "SG002", "--baseline", "baseline.json", "pkg"], tree)
    assert done.returncode == 1, done.stderr
    assert sorted((f["path"], f["line"], f["code"]) for f in json.loads(done.stdout)["findings"]) == REAL


def test_flake8(tree):
    done = run([sys.executable, "-m", "flake8", "--select", "SG", "--extend-ignore", "SG002",
                "--storegate-baseline", "baseline.json", "pkg"], tree)
    assert done.returncode == 1, done.stderr
    assert from_lines(done.stdout) == REAL
    # Without the options: the suppression comments only (flake8 applies the noqa itself).
    assert from_lines(run([sys.executable, "-m", "flake8", "--select", "SG", "pkg"], tree).stdout) == UNFILTERED


def test_flake8_leaves_noqa_to_flake8(tree):
    """The plugin does not apply ``# noqa`` itself: under ``--disable-noqa`` flake8 reports the
    finding it marks, while ``# storegate: ignore`` is storegate's and still applies."""
    done = run([sys.executable, "-m", "flake8", "--select", "SG", "--disable-noqa", "pkg"], tree)
    assert from_lines(done.stdout) == sorted([*UNFILTERED, ("pkg/a.py", 8, "SG001")])


def test_the_pre_commit_hook_entry(tree):
    """The hook's entry command as pre-commit runs it: its ``args`` then the staged files."""
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text()
    entry = shlex.split(re.search(r"^\s*entry:\s*(.+)$", hooks, re.MULTILINE)[1])
    assert entry[0] == "storegate"
    command = [sys.executable, "-m", "storegate", *entry[1:], "--ignore", "SG002", "--baseline", "baseline.json", *FILES]
    done = run(command, tree)
    assert done.returncode == 1, done.stderr
    assert from_lines(done.stdout) == REAL


def test_the_demo_analyze(tree):
    """The demo takes no options: the suppression comments apply, as everywhere."""
    from storegate.demo import analyze

    lines: list[str] = []
    count = analyze(Path("pkg"), echo=lambda text="", **_: lines.append(click.unstyle(text)))
    assert from_lines("\n".join(lines)) == UNFILTERED
    assert count == len(UNFILTERED)


def test_a_bad_selector_fails_when_the_options_are_made():
    with pytest.raises(ValueError, match="unknown code or prefix 'SG9'"):
        storegate.CheckOptions(select=("SG9",))
    assert storegate.CheckOptions(select="sg001, SG002").select == ("SG001", "SG002")
