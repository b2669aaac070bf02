"""No input crashes or wedges a run through the parser or the process pool; exit codes and
messages say what happened; ``python -m storegate`` never imports the checked tree's modules.

The hostile files are the audit's (A14 and the chains CPython accepts but libcst parses in
time and memory growing faster than the square of their depth). Every run is a real subprocess
with a memory limit (``RLIMIT_AS``) and a generous timeout: a crash, a hang or a blow-up fails
the test instead of the machine.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storegate.files import decode_source
from storegate.errors import SourceError

REPO = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = 2 * 1024**3  # address space: the analysis thread's 512 MB stack is reserved in it
SINK_ARGS = ["--isolated", "--flag", "store", "--sink", "save_*", "--no-cache"]
NORMAL = "def f(store):\n    save_x(1)\n"  # SG001 at 2:5
TOO_DEEP = "too deeply nested to parse"

HOSTILE = {
    # A14: CPython refuses it ("too many nested parentheses"); it never mentions the flag, so it
    # is only syntax-checked, in the main process, where libcst overflowed the stack (SIGSEGV).
    "parens_unselected.py": "y = " + "(" * 3000 + "1" + ")" * 3000 + "\n",
    # A14: the same, analyzed: libcst took 16 GB.
    "parens_12000.py": "def f(store):\n    y = " + "(" * 12000 + "store" + ")" * 12000 + "\n    save_y(y)\n",
    # CPython accepts these (under its ~3,000 levels); libcst takes 13 s to 72 s a line, up to 1.7 GB.
    "subscripts.py": "def f(store):\n    y = a" + "[0]" * 2900 + "\n    save_y(y)\n",
    "conditionals.py": "def f(store):\n    y = " + "a if b else " * 2900 + "store\n    save_y(y)\n",
    "lambdas.py": "def f(store):\n    y = " + "lambda: " * 2900 + "store\n    save_y(y)\n",
    # A syntax error CPython cannot blame on nesting, and a chain deeper than libcst can take.
    "syntax_error_and_chain.py": "print 'x'\ny = " + "-" * 5000 + "store\nsave_y(y)\n",
}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), "NO_COLOR": "1"}


def storegate_script() -> str:
    """The ``storegate`` console script of this Python (what users run)."""
    script = Path(sys.executable).with_name("storegate")
    return str(script) if script.exists() else shutil.which("storegate")


def run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, preexec_fn=_limited)


def hostile_tree(root: Path, copies: int = 1) -> Path:
    for index in range(copies):
        (root / f"normal{index}.py").write_text(NORMAL)
    for name, text in HOSTILE.items():
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("copies, jobs", [(1, "1"), (8, "2")], ids=["in-process", "worker-pool"])
def test_hostile_nesting_is_a_one_line_error_and_the_rest_is_reported(tmp_path: Path, copies: int, jobs: str) -> None:
    """Each hostile file is one ``too deeply nested to parse`` error, without libcst seeing it;
    the normal files' findings are all there; exit 2; memory stays under the limit."""
    hostile_tree(tmp_path, copies)
    done = run([storegate_script(), "check", ".", "--format", "json", "--jobs", jobs, *SINK_ARGS], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert sorted((f["path"], f["line"], f["code"]) for f in data["findings"]) == [
        (f"normal{index}.py", 2, "SG001") for index in range(copies)
    ]
    errors = {e["path"]: e["message"] for e in data["errors"]}
    assert errors == {name: TOO_DEEP for name in HOSTILE}


def test_hostile_nesting_through_flake8(tmp_path: Path) -> None:
    """``flake8 --select SG`` (the plugin in flake8's processes) reports the normal file and dies
    of none of the hostile ones."""
    hostile_tree(tmp_path)
    done = run([sys.executable, "-m", "flake8", "--select", "SG", "--storegate-flags", "store",
                "--storegate-sinks", "save_*", "."], tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == ["./normal0.py:2:5: SG001 persistence call 'save_x' is not gated by 'store'"]


def test_hostile_nesting_with_fix(tmp_path: Path) -> None:
    """``--fix`` fixes the normal file and leaves the hostile ones, each reported in one line."""
    hostile_tree(tmp_path)
    done = run([storegate_script(), "check", ".", "--fix", *SINK_ARGS], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "normal0.py").read_text() == "def f(store):\n    if store is not False:\n        save_x(1)\n"
    assert sorted(line for line in done.stdout.splitlines() if "error:" in line) == sorted(
        f"{name}:{2 if name == 'parens_12000.py' else 1}:1: error: {TOO_DEEP}"
        if name.startswith("parens") else f"{name}: error: {TOO_DEEP}"
        for name in HOSTILE
    )
    for name, text in HOSTILE.items():
        assert (tmp_path / name).read_text() == text


def test_the_deepest_real_code_is_still_analyzed(tmp_path: Path) -> None:
    """The depth bound leaves real code alone: an expression 560 levels deep (as in a generated
    sympy module) with a finding under it is analyzed."""
    deep = "def f(store):\n    y = " + "+".join(["a"] * 560) + "\n    save_x(y)\n"
    (tmp_path / "deep.py").write_text(deep)
    done = run([storegate_script(), "check", ".", *SINK_ARGS], tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("deep.py:3:5: SG001")


# --- exit codes ------------------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_and_exit_two(tmp_path: Path) -> None:
    """An internal error (here a real RecursionError raised inside the run) exits 2, not 1 (the
    findings code), with one line on stderr; ``--verbose`` adds the traceback."""
    program = (
        "import sys\n"
        "import storegate.cli as cli\n"
        "def runaway(*args, **kwargs):\n"
        "    return runaway(*args, **kwargs)\n"
        "cli.run_check = runaway\n"
        "sys.argv = ['storegate', 'check', '.', *sys.argv[1:]]\n"
        "cli.main()\n"
    )
    (tmp_path / "a.py").write_text(NORMAL)
    quiet = run([sys.executable, "-c", program, *SINK_ARGS], tmp_path)
    assert quiet.returncode == 2
    assert quiet.stderr.splitlines() == ["storegate: internal error: RecursionError: maximum recursion depth exceeded"]
    verbose = run([sys.executable, "-c", program, *SINK_ARGS, "--verbose"], tmp_path)
    assert verbose.returncode == 2
    assert "Traceback" in verbose.stderr and verbose.stderr.splitlines()[-1].startswith("storegate: internal error: RecursionError")


def test_deeply_nested_pyproject_is_exit_two_without_a_traceback(tmp_path: Path) -> None:
    """B17: a pyproject.toml nested 100,000 levels deep: exit 2 and one line, whichever part
    (the reader, or the last line of defence) catches it."""
    (tmp_path / "pyproject.toml").write_text("[tool.storegate]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "a.py").write_text(NORMAL)
    done = run([storegate_script(), "check", "."], tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("storegate: "), done.stderr


# --- workers killed from outside -------------------------------------------------------------


def _project(root: Path, count: int, functions: int = 400) -> None:
    """``count`` files, each with one SG001 and ``functions`` gated functions (2 ms of work each)."""
    body = "".join(f"def h{n}(store, x):\n    if x and store:\n        save_y(x)\n" for n in range(functions))
    for index in range(count):
        (root / f"m{index:02}.py").write_text(NORMAL + body)


def _config():
    from storegate.model import Config, Flag, Sink

    return Config(flags=(Flag("store"),), sinks=(Sink("save_*"),))


def _role(child) -> str:
    """What a child process of a run is, told by the process itself (not by when it was first
    seen: under load the pool's second worker may start well after its first): "alone" for one
    trying a file again alone (``workers._in_own_process`` makes it daemonic), "pool" for a
    worker of the process pool (concurrent.futures' are not daemonic, since Python 3.9)."""
    return "alone" if child.daemon else "pool"


def _kill_workers(should_kill, stop: threading.Event, killed: list[str]) -> None:
    """SIGKILL each new child process that ``should_kill(role, killed)`` chooses; ``killed``: the
    roles of the processes killed. A process that ended before the kill was not killed."""
    import multiprocessing

    seen: set[int] = set()
    while not stop.is_set():
        for child in multiprocessing.active_children():
            if child.pid not in seen:
                seen.add(child.pid)
                role = _role(child)
                if should_kill(role, killed):
                    try:
                        os.kill(child.pid, signal.SIGKILL)
                    except ProcessLookupError:  # it ended before the kill: not a kill
                        continue
                    killed.append(role)
        time.sleep(0.002)


def _check_while_killing(root: Path, should_kill) -> tuple:
    """``check`` on ``root`` (jobs=2) while a thread SIGKILLs the worker processes it chooses."""
    from storegate.api import check

    killed: list[str] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_workers, args=(should_kill, stop, killed))
    killer.start()
    try:
        result = check([root], _config(), use_cache=False, jobs=2)
    finally:
        stop.set()
        killer.join()
    return result, killed


def test_a_worker_killed_from_outside_while_retrying_alone_blames_no_file(tmp_path: Path) -> None:
    """D10: the pool's worker is killed (as by the OOM killer: the files it had not finished are
    tried again, each alone), then the process that retries a file alone is killed too. Neither
    kill is the file's doing: the file is tried again and the result is the same as an
    undisturbed run's. (This run holds a single worker's death too: no separate test for it.)"""
    from storegate.api import check

    # The fewest files that go to the pool (workers._POOL_THRESHOLD): each retried alone is a process
    # spawned (the killer is a thread: no fork), which costs more than its file. A file takes a
    # tenth of a second or more: the pool is still busy when its worker is killed (the killer looks
    # every 2 ms), and a process retrying a file alone lives long enough to be seen.
    _project(tmp_path, 8, functions=100)
    expected = check([tmp_path], _config(), use_cache=False, jobs=2)
    assert len(expected.findings) == 8 and not expected.errors

    def should_kill(role: str, killed: list[str]) -> bool:  # a worker of the pool, then one retrying alone
        return killed == [] and role == "pool" or killed == ["pool"] and role == "alone"

    result, killed = _check_while_killing(tmp_path, should_kill)
    assert killed == ["pool", "alone"], "the pool's worker and a retrying worker were not both killed"
    assert result.findings == expected.findings
    assert result.errors == () and result.tracebacks == ()


def test_a_worker_killed_again_and_again_is_reported_as_killed(tmp_path: Path) -> None:
    """Every worker is killed: each file is reported as killed by SIGKILL (out of memory or from
    outside), not as a file that makes its process die."""
    _project(tmp_path, 8)
    result, killed = _check_while_killing(tmp_path, lambda role, killed: True)
    assert killed
    assert {Path(e.path).name for e in result.errors} == {f"m{index:02}.py" for index in range(8)}
    assert {e.message for e in result.errors} == {
        "internal error: the process analyzing the file was killed by SIGKILL (out of memory, or from outside)"
    }


# --- encodings -------------------------------------------------------------------------------

SOURCE = "# -*- coding: utf-16 -*-\ndef f(store):\n    save_x(1)\n"


@pytest.mark.parametrize(
    "data, wide",
    [
        (SOURCE.encode("utf-16"), "UTF-16"),  # with a byte order mark
        (SOURCE.encode("utf-16-be"), "UTF-16"),  # none: every other byte NUL
        (SOURCE.encode("utf-16-le"), "UTF-16"),
        (SOURCE.encode("ascii"), "UTF-16"),  # the cookie alone
        (SOURCE.replace("16", "32").encode("utf-32"), "UTF-32"),
    ],
    ids=["bom", "be", "le", "cookie", "utf-32"],
)
def test_utf16_sources_say_so(data: bytes, wide: str) -> None:
    """A18: UTF-16 and UTF-32 files are named as such, not as files with NUL bytes."""
    with pytest.raises(SourceError) as error:
        decode_source(data)
    assert error.value.message.startswith(f"{wide} is not supported") and error.value.line == 1


def test_nul_bytes_in_ascii_source_are_still_nul_bytes() -> None:
    with pytest.raises(SourceError, match="NUL bytes"):
        decode_source(b"x = 1\n\x00\n")


# --- file names in the output -----------------------------------------------------------------

INJECTED = "x\n::error file=app.py,line=1,title=SG001::all findings fixed\n.py"


@pytest.mark.parametrize("args", [[], ["--format", "grouped"], ["--show-source"], ["--explain"], ["--fix"]],
                         ids=["text", "grouped", "show-source", "explain", "fix"])
def test_a_file_name_cannot_inject_lines(tmp_path: Path, args: list[str]) -> None:
    """B25: a file name with newlines (and a source line with an escape sequence) is shown with
    escapes, in the report and on stderr: no line of the output is a line of the name."""
    (tmp_path / INJECTED).write_text('def f(store):\n    save_x("\x1b[2J")\n')
    (tmp_path / ("bad\r\x1b[31m.py")).write_text("def f(:\n")
    done = run([storegate_script(), "check", ".", *args, *SINK_ARGS], tmp_path)
    assert done.returncode == 2, done.stderr
    output = done.stdout + done.stderr
    assert "\x1b" not in output and "\r" not in output
    assert not any(line.startswith("::") or line == ".py" for line in output.splitlines()), output
    assert "x\\n::error file=app.py,line=1,title=SG001::all findings fixed\\n.py" in output
    assert "bad\\r\\x1b[31m.py" in done.stdout


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_machine_formats_keep_the_name_intact_and_on_one_line(tmp_path: Path, fmt: str) -> None:
    """B26: JSON and SARIF escape through JSON, github through its own %0A escapes."""
    (tmp_path / INJECTED).write_text(NORMAL)
    done = run([storegate_script(), "check", ".", "--format", fmt, *SINK_ARGS], tmp_path)
    assert done.returncode == 1, done.stderr
    assert not any(line.startswith("::error file=app.py") for line in done.stdout.splitlines())
    if fmt == "json":
        assert json.loads(done.stdout)["findings"][0]["path"] == INJECTED
    elif fmt == "sarif":
        location = json.loads(done.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert "%0A" in location["artifactLocation"]["uri"]


# --- python -m storegate in an untrusted tree --------------------------------------------------

PLANTED = ("pathspec", "json", "click", "libcst", "multiprocessing")


def plant_modules(root: Path) -> Path:
    markers = root.parent / f"{root.name}-markers"
    markers.mkdir()
    for name in PLANTED:
        (root / f"{name}.py").write_text(f"open({str(markers / name)!r}, 'w').close()\n")
    return markers


def test_python_m_storegate_never_imports_the_checked_tree(tmp_path: Path) -> None:
    """B24: ``python -m storegate check .`` in a tree with its own pathspec.py, json.py and
    click.py (each writes a marker when imported): none is imported, the findings are right."""
    tree = tmp_path / "tree"
    tree.mkdir()
    markers = plant_modules(tree)
    (tree / "app.py").write_text(NORMAL)
    done = run([sys.executable, "-m", "storegate", "check", ".", *SINK_ARGS], tree)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert done.stdout.splitlines()[0] == "app.py:2:5: SG001 persistence call 'save_x' is not gated by 'store'"
    assert done.returncode == 1, done.stderr


def test_python_m_storegate_from_its_own_checkout(tmp_path: Path) -> None:
    """Where storegate is found only through the current directory (a checkout, not installed),
    ``python -m storegate`` still runs: its submodules load through the package."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "storegate", "--version"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "storegate" in done.stdout, done.stderr


def test_importing_storegate_imports_nothing(tmp_path: Path) -> None:
    """``import storegate`` runs before ``__main__`` can fix ``sys.path``: it loads nothing, and
    ``from storegate import check`` still works."""
    program = (
        "import sys\nbefore = set(sys.modules)\nimport storegate\n"
        "print(sorted(set(sys.modules) - before))\n"
        "from storegate import check, Config, Finding\nprint(check.__module__, Config.__module__, storegate.__version__)\n"
    )
    done = run([sys.executable, "-c", program], tmp_path)
    assert done.stdout.splitlines() == ["['storegate', 'storegate._version']", "storegate.run.pipeline storegate.model 0.1.0"], done.stderr


def test_spawned_workers_never_import_the_checked_tree(tmp_path: Path, monkeypatch) -> None:
    """A spawned worker (the start method whenever a thread is alive) runs ``python -c``, which
    puts the current directory first: a multiprocessing.py there ran in every worker."""
    from storegate.api import check

    tree = tmp_path / "tree"
    tree.mkdir()
    markers = plant_modules(tree)
    _project(tree, 8, functions=0)  # enough files for the pool; their analysis is not the point
    monkeypatch.chdir(tree)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # a thread alive: the pool spawns its workers
    other.start()
    try:
        result = check(["."], _config(), use_cache=False, jobs=2)
    finally:
        stop.set()
        other.join()
    assert sorted(p.name for p in markers.iterdir()) == []
    assert len(result.findings) == 8 and not result.errors
