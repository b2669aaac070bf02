"""The per-file result cache: warm runs agree with cold ones, and a bad cache is never trusted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import end_analysis_thread

from storegate.api import check
from storegate.config import load_config
from storegate.model import Result

# A run elsewhere may be writing a cache into the fixtures right now: never copy one.
NO_CACHE = shutil.ignore_patterns(".storegate_cache")
REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "fixtures" / "cases"

HELPER_PERSISTS = "def helper(x):\n    save_x(x)\n"
HELPER_PURE = "def helper(x):\n    return x\n"
CALLER = "from pkg.b import helper\n\n\ndef f(store, x):\n    helper(x)\n"  # SG002 at 5:5

_tick = [0]


def write(path: Path, text: str | bytes) -> None:
    """Write, then give the file an mtime no earlier write had (coarse file-system clocks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    _tick[0] += 1
    stamp = 1_700_000_000_000_000_000 + _tick[0] * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def config(sinks=("save_*",), flags=("store",)):
    return load_config(["."], isolated=True, flags=list(flags), sinks=list(sinks))


def outcome(result: Result) -> tuple:
    assert result.tracebacks == ()
    return (
        [(f.path, f.line, f.column, f.code, f.message, f.trace) for f in result.findings],
        list(result.errors),
        result.files_checked,
    )


def run(cfg=None, **options) -> tuple:
    """One run of the current directory, then storegate's analysis thread ended as the end of a
    process would end it (``conftest.end_analysis_thread``): a test's next run forks its worker
    as a new process does, instead of spawning one for the thread this run left."""
    try:
        return outcome(check(["."], cfg or config(), jobs=1, **options))
    finally:
        end_analysis_thread()


def cold(cfg=None) -> tuple:
    return run(cfg, use_cache=False)


def warm(cache_dir: Path, cfg=None) -> tuple:
    return run(cfg, cache_dir=cache_dir)


def codes(out: tuple) -> list[tuple[str, int, int, str]]:
    return [finding[:4] for finding in out[0]]


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch) -> Path:
    """A home and a cache key of each test's own: the real user's key is never touched."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    return home


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A package where a.py calls b.helper (which persists) under the flag, plus odd files."""
    root = tmp_path / "proj"
    write(root / "pkg" / "__init__.py", "")
    write(root / "pkg" / "b.py", HELPER_PERSISTS)
    write(root / "pkg" / "a.py", CALLER)
    write(root / "direct.py", "def g(store):\n    save_y(1)\n    if store:\n        save_y(2)\n")
    write(root / "broken_analyzed.py", "def g(store):\n    save_y(\n")  # analyzed, does not parse
    write(root / "broken_skipped.py", "def h(:\n")  # never selected, still a syntax error
    write(root / "nul.py", b"x = 1\x00\n")
    write(root / "plain.py", "def unrelated(a):\n    return a + 1\n")
    monkeypatch.chdir(root)
    return root


def test_warm_run_equals_cold_run(project, tmp_path):
    cache_dir = tmp_path / "cache"
    expected = cold()
    assert codes(expected) == [("direct.py", 2, 5, "SG001"), ("pkg/a.py", 5, 5, "SG002")]
    assert [e.path for e in expected[1]] == ["broken_analyzed.py", "broken_skipped.py", "nul.py"]
    first = warm(cache_dir)
    second = warm(cache_dir)
    third = warm(cache_dir)
    assert first == expected
    assert second == expected
    assert third == expected


def test_warm_run_equals_cold_run_on_the_fixture_cases(tmp_path, monkeypatch):
    root = tmp_path / "cases"
    shutil.copytree(CASES, root, ignore=NO_CACHE)
    monkeypatch.chdir(root)
    cfg = load_config(["."])
    expected = outcome(check(["."], cfg, use_cache=False))
    assert len(expected[0]) > 50
    cache_dir = tmp_path / "cache"
    assert outcome(check(["."], cfg, cache_dir=cache_dir)) == expected
    assert outcome(check(["."], cfg, cache_dir=cache_dir)) == expected


def test_warm_run_does_not_parse(project, tmp_path):
    """An unchanged tree is answered from the cache's index: libcst is never imported."""
    cache_dir = tmp_path / "cache"
    warm(cache_dir)
    code = (
        "import sys, json\n"
        "from storegate.api import check\n"
        "from storegate.config import load_config\n"
        "r = check(['.'], load_config(['.'], isolated=True, flags=['store'], sinks=['save_*']),"
        f" cache_dir={str(cache_dir)!r}, jobs=1)\n"
        "print(json.dumps(['libcst' in sys.modules, [(f.path, f.line, f.code) for f in r.findings],"
        " [e.path for e in r.errors]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    imported, findings, errors = json.loads(done.stdout)
    assert findings == [["direct.py", 2, "SG001"], ["pkg/a.py", 5, "SG002"]]
    assert errors == ["broken_analyzed.py", "broken_skipped.py", "nul.py"]
    assert imported is False


def test_changed_file_is_analyzed_again(project, tmp_path):
    cache_dir = tmp_path / "cache"
    assert codes(warm(cache_dir))[0] == ("direct.py", 2, 5, "SG001")
    write(project / "direct.py", "def g(store):\n    if store:\n        save_y(1)\n    save_y(2)\n    save_y(3)\n")
    out = warm(cache_dir)
    assert out == cold()
    assert codes(out)[:2] == [("direct.py", 4, 5, "SG001"), ("direct.py", 5, 5, "SG001")]
    write(project / "direct.py", "def g(store):\n    if store:\n        save_y(1)\n")
    out = warm(cache_dir)
    assert out == cold()
    assert [c for c in codes(out) if c[0] == "direct.py"] == []
    # an error that is fixed, and a good file that breaks
    write(project / "broken_analyzed.py", "def g(store):\n    save_y(1)\n")
    write(project / "plain.py", "def unrelated(a):\n    return a +\n")
    out = warm(cache_dir)
    assert out == cold()
    assert ("broken_analyzed.py", 2, 5, "SG001") in codes(out)
    assert [e.path for e in out[1]] == ["broken_skipped.py", "nul.py", "plain.py"]


def test_cross_file_facts_follow_the_other_file(project, tmp_path):
    """Only b.py changes; a.py's SG002 depends on it and must follow it, both ways."""
    cache_dir = tmp_path / "cache"
    sg002 = ("pkg/a.py", 5, 5, "SG002")
    assert sg002 in codes(warm(cache_dir))
    for _ in range(2):
        write(project / "pkg" / "b.py", HELPER_PURE)
        out = warm(cache_dir)
        assert sg002 not in codes(out)
        assert out == cold()
        write(project / "pkg" / "b.py", HELPER_PERSISTS)
        out = warm(cache_dir)
        assert sg002 in codes(out)
        assert out == cold()
    # b.py deleted, then back; then the helper moves to a new module c.py that a.py imports
    (project / "pkg" / "b.py").unlink()
    out = warm(cache_dir)
    assert sg002 not in codes(out) and out == cold()
    write(project / "pkg" / "b.py", HELPER_PERSISTS)
    assert sg002 in codes(warm(cache_dir))
    write(project / "pkg" / "c.py", HELPER_PERSISTS.replace("helper", "other"))
    write(project / "pkg" / "a.py", CALLER.replace("pkg.b import helper", "pkg.c import other").replace("helper(x)", "other(x)"))
    out = warm(cache_dir)
    assert out == cold()
    assert sg002 in codes(out)
    write(project / "pkg" / "c.py", HELPER_PURE.replace("helper", "other"))
    out = warm(cache_dir)
    assert out == cold()
    assert sg002 not in codes(out)


def test_unselected_file_that_becomes_relevant(project, tmp_path):
    """plain.py is skipped by the pre-filter until a.py starts calling into it."""
    cache_dir = tmp_path / "cache"
    write(project / "plain.py", "def unrelated(a):\n    save_z(a)\n")
    warm(cache_dir)
    write(project / "pkg" / "a.py", CALLER + "\n\ndef k(store, y):\n    from plain import unrelated\n    unrelated(y)\n")
    out = warm(cache_dir)
    assert out == cold()
    assert ("pkg/a.py", 10, 5, "SG002") in codes(out)


def _cache_files(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if p.name != ".gitignore")


def _good_cache(cache_dir: Path) -> dict[Path, str]:
    warm(cache_dir)
    files = _cache_files(cache_dir)
    assert {p.name.split(".", 1)[1] for p in files} == {"index.json", "summaries.jsonl"}
    return {p: p.read_text() for p in files}


def _reshape(body: str, change) -> str:
    """Change the index's body (the JSON after the header line)."""
    data = json.loads(body)
    change(data)
    return json.dumps(data)


def _set_entries(data: dict, **values) -> None:
    for entry in data["files"].values():
        entry.update(values)


def _reshape_lines(body: str, summary) -> str:
    """Change every summary of the summaries' body (``key<TAB>json`` lines)."""
    lines = []
    for line in body.split("\n"):
        key, tab, text = line.partition("\t")
        lines.append(f"{key}\t{json.dumps(summary(json.loads(text)))}" if tab else line)
    return "\n".join(lines)


def _format_of(path: Path) -> int:
    return json.loads(path.read_text(encoding="utf-8").split("\n", 1)[0])["format"]


def _sealed(which: str, body: str) -> str:
    """``body`` as a cache file sealed with this user's key (the test's own), as storegate seals it."""
    from storegate.cache import Cache, user_key

    cache = Cache(Path("no-such-dir"), config(), user_key())
    return cache._head(which.encode(), [body.encode("utf-8", "surrogateescape")]).decode() + "\n" + body


# name -> (which file, how its body is corrupted). Each is tried as it is (the seal no longer
# verifies) and sealed again with the user's key (what the checks behind the seal must catch).
CORRUPTIONS = {
    "index-garbage": ("index", lambda body: "\x00\xff garbage \x80\x04" * 50),
    "index-truncated": ("index", lambda body: body[: len(body) // 2]),
    "index-empty": ("index", lambda body: ""),
    "index-list": ("index", lambda body: "[1, 2, 3]"),
    "index-deep": ("index", lambda body: "[" * 200_000 + "]" * 200_000),
    "index-files-list": ("index", lambda body: _reshape(body, lambda d: d.update(files=[1]))),
    "index-started-text": ("index", lambda body: _reshape(body, lambda d: d.update(started_ns="0"))),
    "index-entry-unknown-keys": ("index", lambda body: _reshape(body, lambda d: _set_entries(d, bogus=1))),
    "index-entry-status-unknown": ("index", lambda body: _reshape(body, lambda d: _set_entries(d, status="bogus"))),
    "index-entry-stat-short": ("index", lambda body: _reshape(body, lambda d: _set_entries(d, stat=[1, 2]))),
    "index-entry-error-not-object": (
        "index", lambda body: _reshape(body, lambda d: _set_entries(d, status="error", error="boom")),
    ),
    "index-result-list": ("index", lambda body: _reshape(body, lambda d: d.update(result=[1]))),
    "index-result-findings-not-list": (
        "index", lambda body: _reshape(body, lambda d: d["result"].update(findings="boom")),
    ),
    "index-result-findings-wrong-keys": (
        "index", lambda body: _reshape(body, lambda d: d["result"].update(findings=[{"bogus": 1}])),
    ),
    "index-result-line-nan": (
        "index", lambda body: _reshape(body, lambda d: [f.update(line="NaN") for f in d["result"]["findings"]]),
    ),
    "summaries-garbage": ("summaries", lambda body: "\x80\x04\x95 not json"),
    "summaries-truncated": ("summaries", lambda body: body[: len(body) // 3]),
    "summaries-deep": (
        "summaries", lambda body: _reshape_lines(body, lambda s: "DEEP").replace('"DEEP"', "[" * 200_000 + "]" * 200_000),
    ),
    "summaries-entry-not-object": ("summaries", lambda body: _reshape_lines(body, lambda s: "x")),
    "summaries-entry-missing-key": (
        "summaries", lambda body: _reshape_lines(body, lambda s: {k: v for k, v in s.items() if k != "functions"}),
    ),
}


@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "resealed"])
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_cache_is_ignored_and_rewritten(project, tmp_path, name, sealed):
    cache_dir = tmp_path / "cache"
    good = _good_cache(cache_dir)
    which, corrupt = CORRUPTIONS[name]
    (target,) = [p for p in good if p.name.split(".", 1)[1].startswith(f"{which}.json")]
    head, body = good[target].split("\n", 1)
    bad = _sealed(which, corrupt(body)) if sealed else head + "\n" + corrupt(body)
    target.write_text(bad, encoding="utf-8", errors="surrogateescape")
    # unchanged tree
    assert warm(cache_dir) == cold()
    # and a changed one: a.py again, the other summaries from the cache
    target.write_text(bad, encoding="utf-8", errors="surrogateescape")
    write(project / "pkg" / "a.py", CALLER + "# touched\n")
    assert warm(cache_dir) == cold()
    assert warm(cache_dir) == cold()
    for path in _cache_files(cache_dir):  # rewritten: every cache file is this format's again
        assert _format_of(path) == json.loads(good[path].split("\n", 1)[0])["format"]
    assert target.read_text(encoding="utf-8", errors="surrogateescape") != bad


@pytest.mark.parametrize("which", ["index", "summaries"])
def test_cache_file_that_is_not_sealed_is_ignored_and_rewritten(project, tmp_path, which):
    """Whole-file damage: no header line, a header of another format, a header alone."""
    cache_dir = tmp_path / "cache"
    good = _good_cache(cache_dir)
    (target,) = [p for p in good if p.name.split(".", 1)[1].startswith(f"{which}.json")]
    head, body = good[target].split("\n", 1)
    for bad in ("\x00\xff garbage", body, head.replace('"format":', '"format":1'), head, head + "\n"):
        target.write_text(bad, encoding="utf-8", errors="surrogateescape")
        write(project / "pkg" / "a.py", CALLER + f"# {len(bad)}\n")
        assert warm(cache_dir) == cold()
        assert target.read_text() != bad


def test_cache_directory_gets_its_own_gitignore(project, tmp_path):
    cache_dir = tmp_path / "deep" / "cache"
    warm(cache_dir)
    lines = (cache_dir / ".gitignore").read_text().splitlines()
    assert "*" in lines
    # and git agrees: nothing in it would be committed
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "deep"],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60,
    )
    assert listed.stdout == ""


def test_cache_files_are_json_never_pickles(project, tmp_path, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("the cache must never pickle")

    for name in ("dump", "dumps", "load", "loads", "Pickler", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    cache_dir = tmp_path / "cache"
    expected = cold()
    assert warm(cache_dir) == expected
    write(project / "pkg" / "b.py", HELPER_PURE)
    assert warm(cache_dir) == cold()
    files = list(cache_dir.iterdir())
    assert len(files) >= 3
    for path in files:
        if path.name == ".gitignore":
            continue
        raw = path.read_bytes()
        assert not raw.startswith(b"\x80"), path  # the pickle protocol marker
        first, body = raw.decode("utf-8").split("\n", 1)  # a JSON header line, then the body
        assert isinstance(json.loads(first), dict), path
        if path.suffix == ".jsonl":  # `key<TAB>json` lines
            lines = body.split("\n")
            assert lines.pop() == ""
            assert lines and all(isinstance(json.loads(line.partition("\t")[2]), dict) for line in lines), path
        else:
            assert isinstance(json.loads(body), dict), path


def test_config_change_does_not_use_the_cache(project, tmp_path):
    cache_dir = tmp_path / "cache"
    save = config(sinks=["save_*"])
    other = config(sinks=["save_y"])
    flag = config(sinks=["save_*"], flags=["x"])
    for cfg in (save, other, flag, save, other, flag):
        out = warm(cache_dir, cfg)
        assert out == cold(cfg)
    assert "pkg/a.py" not in {c[0] for c in codes(warm(cache_dir, other))}
    assert codes(warm(cache_dir, flag)) == [("pkg/b.py", 2, 5, "SG001")]  # `def helper(x)`: x is the flag now


# --- the command line -----------------------------------------------------------------------


def cli(args: list[str], cwd: Path, **kwargs) -> subprocess.Popen | subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "storegate", "check", ".", "--isolated", "--flag", "store", "--sink", "save_*",
               "--format", "json", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, env=env, **kwargs)


def cli_findings(done) -> list:
    assert "Traceback" not in done.stderr, done.stderr
    data = json.loads(done.stdout)
    return [(f["path"], f["line"], f["column"], f["code"]) for f in data["findings"]], [e["path"] for e in data["errors"]]


EXPECTED_CLI = ([("direct.py", 2, 5, "SG001"), ("pkg/a.py", 5, 5, "SG002")], ["broken_analyzed.py", "broken_skipped.py", "nul.py"])


def _everything(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_no_cache_writes_nothing(project, tmp_path):
    before = _everything(tmp_path)
    done = cli(["--no-cache"], project)
    assert done.returncode == 2
    assert cli_findings(done) == EXPECTED_CLI
    done = cli(["--no-cache", "--cache-dir", str(tmp_path / "never")], project)
    assert cli_findings(done) == EXPECTED_CLI
    assert _everything(tmp_path) == before


def test_default_cache_dir_and_cache_dir_option(project, tmp_path):
    done = cli([], project)
    assert cli_findings(done) == EXPECTED_CLI
    assert (project / ".storegate_cache" / ".gitignore").is_file()
    shutil.rmtree(project / ".storegate_cache")
    chosen = tmp_path / "elsewhere" / "c"
    done = cli(["--cache-dir", str(chosen)], project)
    assert cli_findings(done) == EXPECTED_CLI
    assert not (project / ".storegate_cache").exists()
    assert len(_cache_files(chosen)) == 2
    before = {p: p.read_bytes() for p in _cache_files(chosen)}
    assert cli_findings(cli(["--cache-dir", str(chosen)], project)) == EXPECTED_CLI  # warm
    assert {p: p.read_bytes() for p in _cache_files(chosen)} == before
    assert not (project / ".storegate_cache").exists()


def test_two_runs_at_once_on_one_cache(project, tmp_path):
    cache_dir = tmp_path / "shared"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "storegate", "check", ".", "--isolated", "--flag", "store", "--sink", "save_*",
               "--format", "json", "--cache-dir", str(cache_dir), "--jobs", "1"]
    helper = {True: HELPER_PERSISTS, False: HELPER_PURE}
    for round_number in range(4):
        persists = round_number % 2 == 0
        write(project / "pkg" / "b.py", helper[persists])
        write(project / "direct.py", f"def g(store):\n    save_y({round_number})\n")
        expected = cold()
        runs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                for _ in range(2)]
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert run.returncode == 2, err
            assert "Traceback" not in err, err
            got = json.loads(out)
            assert [(f["path"], f["line"], f["column"], f["code"]) for f in got["findings"]] == codes(expected)
            assert [e["path"] for e in got["errors"]] == [e.path for e in expected[1]]
        assert ("pkg/a.py", 5, 5, "SG002") in codes(expected) if persists else ("pkg/a.py", 5, 5, "SG002") not in codes(expected)
        # a third run reads what they left
        assert warm(cache_dir) == expected
        assert [p.name for p in cache_dir.iterdir() if p.name.endswith(".tmp")] == []
        for path in _cache_files(cache_dir):
            _format_of(path)  # whole, readable JSON (the first line of the summaries file)
