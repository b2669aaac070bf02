"""The flake8 plugin, through real flake8 subprocesses, compared with ``storegate check --format json``.

Needs the package installed (``pip install -e .``) so that flake8 finds the ``SG`` entry point.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A run elsewhere may be writing a cache into the fixtures right now: never copy one.
NO_CACHE = shutil.ignore_patterns(".storegate_cache")
CASES = ROOT / "fixtures" / "cases"
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>SG\d+) (?P<message>.*)$")


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "SG", "--format", "%(path)s:%(row)d:%(col)d: %(code)s %(text)s", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def flake8_findings(cwd: Path, *args: str) -> list[tuple]:
    proc = flake8(cwd, *args)
    assert proc.returncode in (0, 1), proc.stderr
    found = []
    for line in proc.stdout.splitlines():
        match = LINE.match(line)
        assert match, line
        found.append((Path(match["path"]).as_posix().removeprefix("./"), int(match["line"]), int(match["col"]),
                      match["code"], match["message"]))
    return sorted(found)


def storegate_findings(cwd: Path, *args: str) -> list[tuple]:
    proc = subprocess.run([sys.executable, "-m", "storegate", "check", "--no-cache", "--format", "json", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    # every location: a finding and its related ones (the plugin reports one line per finding)
    located = [f for finding in data["findings"] for f in (finding, *finding["related"])]
    return sorted((f["path"], f["line"], f["column"], f["code"], f["message"]) for f in located)


@pytest.fixture
def cases(tmp_path):
    shutil.copytree(CASES, tmp_path / "cases", ignore=NO_CACHE)
    return tmp_path / "cases"


def test_the_plugin_is_registered():
    proc = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert "storegate: " in proc.stdout, "pip install -e . so that flake8 sees the SG entry point"


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_cross_file_findings_match_storegate_check(cases, jobs):
    """pkg_derived's SG002 findings need the other modules; pkg_lost_flag's SG003 too."""
    got = flake8_findings(cases, "-j", jobs, "pkg_derived", "pkg_lost_flag")
    assert got == storegate_findings(cases, "pkg_derived", "pkg_lost_flag")
    assert [(p, line, code) for p, line, _, code, _ in got] == [
        ("pkg_derived/shop/service.py", 13, "SG002"),
        ("pkg_derived/shop/service.py", 20, "SG002"),
        ("pkg_derived/shop/service.py", 21, "SG002"),
        ("pkg_derived/shop/service.py", 22, "SG002"),
        ("pkg_derived/shop/service.py", 23, "SG002"),
        ("pkg_lost_flag/handlers.py", 7, "SG003"),
        ("pkg_lost_flag/handlers.py", 8, "SG003"),
    ]


def test_single_cases_and_a_package_with_its_own_config(cases):
    files = ["motivating_bug.py", "gate_if_basic.py", "container_item_assign.py", "sink_execute_argument.py"]
    got = flake8_findings(cases, *files)
    assert got == storegate_findings(cases, *files)
    assert len(got) >= 4
    routes = cases / "pkg_routes"
    got = flake8_findings(routes, "api")
    assert got == storegate_findings(routes, "api")
    assert {code for *_, code, _ in got} == {"SG002", "SG004"}


def test_flake8_options_in_setup_cfg_map_to_flags_sinks_rules(tmp_path):
    (tmp_path / "t.py").write_text("def f(dry_run, store):\n    audit(1)\n    save_response(2)\n")
    (tmp_path / "setup.cfg").write_text(
        "[flake8]\nstoregate-rules =\nstoregate-flags = not dry_run\nstoregate-sinks = audit, other\n"
    )
    got = flake8_findings(tmp_path, "t.py")
    assert got == [("t.py", 2, 5, "SG001", "persistence call 'audit' is not gated by 'not dry_run'")]
    assert got == storegate_findings(tmp_path, "--flag", "not dry_run", "--sink", "audit", "--sink", "other", "t.py")
    # The same on the command line; a pyproject [tool.storegate] is read as well.
    (tmp_path / "setup.cfg").unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.storegate]\nrules = []\nflags = ["store"]\nsinks = ["save_response"]\n')
    assert flake8_findings(tmp_path, "t.py") == [
        ("t.py", 3, 5, "SG001", "persistence call 'save_response' is not gated by 'store'")
    ]
    assert flake8_findings(tmp_path, "--storegate-sinks", "audit,save_response", "t.py") == [
        ("t.py", 2, 5, "SG001", "persistence call 'audit' is not gated by 'store'"),
        ("t.py", 3, 5, "SG001", "persistence call 'save_response' is not gated by 'store'"),
    ]


def test_noqa_works_as_for_any_flake8_code(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.storegate]\nrules = []\nflags = ["store"]\nsinks = ["save_*"]\n')
    (tmp_path / "t.py").write_text(
        "def f(store):\n    save_a(1)  # noqa: SG001\n    save_b(2)  # noqa: E501\n    save_c(3)  # noqa\n"
    )
    assert flake8_findings(tmp_path, "t.py") == [("t.py", 3, 5, "SG001", "persistence call 'save_b' is not gated by 'store'")]


def test_a_configuration_error_stops_flake8_with_its_message(tmp_path):
    (tmp_path / "t.py").write_text("x = 1\n")
    proc = flake8(tmp_path, "--storegate-rules", "nope", "t.py")
    assert proc.returncode == 1
    assert "storegate: unknown rule pack 'nope' (available: dry-run, libraries, openai, state)" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_whole_tree_in_flake8_worker_processes(cases):
    """Enough files for storegate's own worker pool, inside flake8's daemonic workers, which may
    not start processes: storegate summarizes there itself, and the findings are the same."""
    got = flake8_findings(cases, "-j", "2", ".")
    assert got == storegate_findings(cases, ".")
    assert len({path for path, *_ in got}) >= 8


def test_no_analysis_when_flake8_selects_no_sg_code(tmp_path):
    """flake8 runs every plugin whatever --select says; storegate's work (which leaves its cache
    behind) is done only when some SG code can be reported."""
    (tmp_path / "a.py").write_text("from db import save_response\n\n\ndef f(store):\n    save_response(1)\n")
    (tmp_path / "pyproject.toml").write_text('[tool.storegate]\nflags = ["store"]\nsinks = ["save_*"]\n')
    quiet = subprocess.run([sys.executable, "-m", "flake8", "--select", "F", "."], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert not (tmp_path / ".storegate_cache").exists()
    assert [code for *_, code, _ in flake8_findings(tmp_path, ".")] == ["SG001"]
    assert (tmp_path / ".storegate_cache").exists()


def test_the_project_is_analyzed_once_with_two_workers(tmp_path):
    """flake8's workers take turns: the first analyzes and writes the cache, the other reads
    it. Each analysis appends a line to STOREGATE_TRACE (``pipeline.analyses`` counts them)."""
    import os

    for index in range(12):  # enough files for flake8 to start its two workers
        (tmp_path / f"m{index}.py").write_text(f"def f{index}(x, store):\n    save_row(x)\n")
    trace = tmp_path / "trace.txt"
    env = {**os.environ, "STOREGATE_TRACE": str(trace), "XDG_CACHE_HOME": str(tmp_path / "home-cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "SG", "-j", "2", "--storegate-sinks", "save_*", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count("SG001") == 12
    assert len(trace.read_text().splitlines()) == 1
