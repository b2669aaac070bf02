"""Odd input through the real command line: each file gives a result or a one-line error.

Every odd file sits in its own directory next to a normal file with a known finding, and all of
them go through ONE ``storegate check`` run per sink configuration (``save_*`` and the worst
case ``*``, every call a sink): the odd files must not stop the normal ones, must not print a
traceback, and an error must be one line that names the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import libcst
import pytest

REPO = Path(__file__).resolve().parent.parent

NORMAL = b"def f(store):\n    save_x(1)\n"  # SG001 at 2:5

# A sink at the bottom of 97 nested ifs (CPython and libcst refuse a 100th indentation level).
_DEPTH = 97
NESTED_IFS = (
    "def g(store, x):\n"
    + "".join("    " * (level + 1) + "if x:\n" for level in range(_DEPTH))
    + "    " * (_DEPTH + 1)
    + "save_y(1)\n"
).encode()
PARENS = ("def g(store):\n    save_y(" + "(" * 3000 + "1" + ")" * 3000 + ")\n").encode()
LONG_SUM = ("def g(store, a):\n    save_y(" + "+".join(["a"] * 25_000) + ")\n").encode()
assert len(LONG_SUM) > 50_000


@dataclass
class Case:
    """Files of one directory, and what the run must say about them."""

    files: dict[str, bytes]
    # (file, line, column, code) the odd files must give (nothing else from them)
    findings: set[tuple[str, int, int, str]] = field(default_factory=set)
    # (file, a part of the message, line) the odd files must give (nothing else from them)
    errors: set[tuple[str, str, int | None]] = field(default_factory=set)
    # a result or a "too deeply nested" error are both acceptable
    may_be_too_deep: bool = False
    # files of the case that are not analyzed at all (not Python files)
    not_files: tuple[str, ...] = ()
    # the cpython/libcst premise: these files parse with libcst
    libcst_parses: tuple[str, ...] = ()


CASES: dict[str, Case] = {
    "nested_ifs": Case({"nested.py": NESTED_IFS}, findings={("nested.py", _DEPTH + 2, 4 * (_DEPTH + 1) + 1, "SG001")}),
    "parens": Case({"parens.py": PARENS}, findings={("parens.py", 2, 5, "SG001")}, may_be_too_deep=True),
    "long_sum": Case({"sum.py": LONG_SUM}, findings={("sum.py", 2, 5, "SG001")}, may_be_too_deep=True),
    "empty": Case({"empty.py": b""}),
    "bom": Case({"bom.py": b"\xef\xbb\xbfdef g(store):\n    save_y('\xc3\xa9')\n"}, findings={("bom.py", 2, 5, "SG001")}),
    "crlf": Case({"crlf.py": b"def g(store):\r\n    y = 1\r\n    save_y(y)\r\n"}, findings={("crlf.py", 3, 5, "SG001")}),
    "tabs": Case(
        {"tabs.py": b"def g(store, x):\n\tif x:\n\t\tsave_y(1)\n\tif store:\n\t\tsave_y(2)\n"},
        findings={("tabs.py", 3, 3, "SG001")},
    ),
    "nul": Case({"nul.py": b"def g(store):\n    save_y(1)\x00\n"}, errors={("nul.py", "NUL", 2)}),
    "bad_utf8": Case({"bad.py": b"def g(store):\n    save_y('\xff\xfe')\n"}, errors={("bad.py", "utf-8", 2)}),
    "latin1": Case(
        {"latin.py": "# -*- coding: latin-1 -*-\ndef g(store):\n    save_y('é')\n".encode("latin-1")},
        findings={("latin.py", 3, 5, "SG001")},
    ),
    # A directory named like a Python file is walked, never read as a file.
    "dir_named_py": Case(
        {"x.py/inner.py": b"def g(store):\n    save_y(1)\n"},
        findings={("x.py/inner.py", 2, 5, "SG001")},
        not_files=("x.py",),
    ),
    "pep695": Case(
        {
            "new.py": b"type Alias = int\n\n\ndef g[T](store, x: T) -> T:\n    save_y(x)\n    return x\n\n\n"
            b"class C[T]:\n    def m(self, store):\n        save_z(1)\n\n\n"
            b"class D[*Ts, **P]:\n    def m(self, store):\n        if store:\n            save_z(2)\n"
        },
        findings={("new.py", 5, 5, "SG001"), ("new.py", 11, 9, "SG001")},
        libcst_parses=("new.py",),
    ),
    "pep696_defaults": Case(
        {"defaults.py": b"def g[T = int](store):\n    save_y(1)\n"},
        findings={("defaults.py", 2, 5, "SG001")},
        libcst_parses=("defaults.py",),
    ),
    "except_star": Case(
        {"es.py": b"def g(store):\n    try:\n        pass\n    except* ValueError:\n        save_y(1)\n"},
        findings={("es.py", 5, 9, "SG001")},
        libcst_parses=("es.py",),
    ),
    "pep758_except_no_parens": Case(
        {"ex.py": b"def g(store):\n    try:\n        pass\n    except ValueError, TypeError:\n        save_y(1)\n"},
        findings={("ex.py", 5, 9, "SG001")},
        libcst_parses=("ex.py",),
    ),
    "pep701_fstring": Case(
        {"fs.py": b'def g(store):\n    save_y(f"{f"{store}"}")\n    if store:\n        save_y(f"{"x"!r:>{3}}")\n'},
        findings={("fs.py", 2, 5, "SG001")},
        libcst_parses=("fs.py",),
    ),
    "template_string": Case(
        {"ts.py": b'def g(store):\n    save_y(t"{store}")\n'},
        findings={("ts.py", 2, 5, "SG001")},
        libcst_parses=("ts.py",),
    ),
}


def _build(root: Path) -> None:
    for name, case in CASES.items():
        directory = root / name
        directory.mkdir()
        (directory / f"normal_{name}.py").write_bytes(NORMAL)
        for relative, data in case.files.items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    # a symlink loop between two "files", and a directory link back to its own directory
    loop = root / "symlink_loop"
    loop.mkdir()
    (loop / "normal_symlink_loop.py").write_bytes(NORMAL)
    os.symlink("b.py", loop / "a.py")
    os.symlink("a.py", loop / "b.py")
    os.symlink(".", loop / "again")
    os.symlink("..", loop / "up")
    # a file nobody may read (root too, under setpriv)
    locked = root / "unreadable"
    locked.mkdir()
    (locked / "normal_unreadable.py").write_bytes(NORMAL)
    (locked / "secret.py").write_bytes(b"def g(store):\n    save_y(1)\n")
    (locked / "secret.py").chmod(0)


def run_cli(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m storegate ARGS`` in ``cwd``, without the powers that let root read anything."""
    command = [sys.executable, "-m", "storegate", *args]
    if os.geteuid() == 0:
        assert shutil.which("setpriv"), "running as root needs setpriv to test unreadable files"
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *command]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def check_json(paths: list[str], cwd: Path, sink: str) -> tuple[int, dict, str]:
    done = run_cli(
        ["check", *paths, "--format", "json", "--no-cache", "--isolated", "--flag", "store", "--sink", sink], cwd
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert "internal error" not in done.stdout + done.stderr
    assert done.stdout.strip(), f"no JSON report (exit {done.returncode}); stderr: {done.stderr}"
    return done.returncode, json.loads(done.stdout), done.stderr


def assert_sound_errors(data: dict, root: Path) -> None:
    for error in data["errors"]:
        assert "\n" not in error["message"] and "\r" not in error["message"], error
        assert error["message"].strip(), error
        assert os.path.lexists(root / error["path"]), error  # it names the file


@pytest.fixture(scope="module")
def odd_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("odd")
    _build(root)
    yield root
    (root / "unreadable" / "secret.py").chmod(0o644)


@pytest.fixture(scope="module", params=["save_*", "*"], ids=["sink=save_*", "sink=*"])
def odd_run(request, odd_tree) -> dict:
    code, data, _ = check_json(["."], odd_tree, request.param)
    assert code == 2  # findings, and files that could not be analyzed: 2 wins
    assert_sound_errors(data, odd_tree)
    return data


def _of(data: dict, directory: str) -> tuple[set, set]:
    prefix = directory + "/"
    findings = {
        (f["path"][len(prefix) :], f["line"], f["column"], f["code"]) for f in data["findings"] if f["path"].startswith(prefix)
    }
    errors = {(e["path"][len(prefix) :], e["message"], e["line"]) for e in data["errors"] if e["path"].startswith(prefix)}
    return findings, errors


@pytest.mark.parametrize("name", sorted(CASES))
def test_odd_file(odd_run: dict, name: str) -> None:
    case = CASES[name]
    findings, errors = _of(odd_run, name)
    normal = f"normal_{name}.py"
    assert (normal, 2, 5, "SG001") in findings, "the normal file beside the odd one was not analyzed"
    findings.discard((normal, 2, 5, "SG001"))
    assert not any(path == normal for path, *_ in errors)
    if case.may_be_too_deep and errors:
        assert findings == set()
        assert len(errors) == 1
        (path, message, _line), = errors
        assert path in case.files and "too deeply nested" in message
        return
    assert findings == case.findings
    got_errors = {(path, line) for path, _, line in errors}
    assert got_errors == {(path, line) for path, _, line in case.errors}
    for path, part, _line in case.errors:
        (message,) = [m for p, m, _ in errors if p == path]
        assert part in message
        assert "\n" not in message


@pytest.mark.parametrize("name", sorted(name for name, case in CASES.items() if case.libcst_parses))
def test_newer_syntax_premise_libcst_parses_it(name: str) -> None:
    """The premise of the newer-syntax cases: libcst parses them on this Python."""
    for relative in CASES[name].libcst_parses:
        libcst.parse_module(CASES[name].files[relative])


def test_symlink_loop_and_directory_loops_end(odd_run: dict) -> None:
    findings, errors = _of(odd_run, "symlink_loop")
    assert findings == {("normal_symlink_loop.py", 2, 5, "SG001")}
    assert errors == set()


def test_unreadable_file_is_a_one_line_error(odd_run: dict) -> None:
    findings, errors = _of(odd_run, "unreadable")
    assert findings == {("normal_unreadable.py", 2, 5, "SG001")}
    assert errors == {("secret.py", "cannot read file: permission denied", None)}


def test_every_file_accounted_for(odd_run: dict, odd_tree: Path) -> None:
    expected = 0
    for name, case in CASES.items():
        expected += 1 + len(case.files)
    expected += 1  # symlink_loop: only the normal file is a file
    expected += 2  # unreadable: the normal file and the locked one
    assert odd_run["files_checked"] == expected


def test_odd_files_named_explicitly(odd_tree: Path) -> None:
    """Named on the command line: the looping link and the directory x.py, beside a normal file."""
    code, data, _ = check_json(["symlink_loop/a.py", "dir_named_py/x.py", "nul/normal_nul.py"], odd_tree, "save_*")
    assert code == 2
    assert_sound_errors(data, odd_tree)
    assert [error["path"] for error in data["errors"]] == ["symlink_loop/a.py"]
    assert {(f["path"], f["line"], f["column"]) for f in data["findings"]} == {
        ("dir_named_py/x.py/inner.py", 2, 5),
        ("nul/normal_nul.py", 2, 5),
    }


def test_symlink_loop_named_explicitly_says_why(odd_tree: Path) -> None:
    """The link exists: "no such file or directory" would be the wrong reason."""
    code, data, _ = check_json(["symlink_loop/a.py"], odd_tree, "save_*")
    assert code == 2
    (error,) = data["errors"]
    assert error["path"] == "symlink_loop/a.py"
    assert "symbolic link" in error["message"], error


def test_unreadable_file_named_explicitly_does_not_stop_the_run(odd_tree: Path) -> None:
    """As in a walk: a one-line error for the locked file, and the other file is analyzed."""
    code, data, stderr = check_json(["unreadable/secret.py", "nul/normal_nul.py"], odd_tree, "save_*")
    assert code == 2
    assert data["errors"] == [{"path": "unreadable/secret.py", "message": "cannot read file: permission denied", "line": None}]
    assert [(f["path"], f["line"], f["column"]) for f in data["findings"]] == [("nul/normal_nul.py", 2, 5)]


def test_same_file_name_in_two_directories_both_analyzed(tmp_path: Path) -> None:
    """Two scripts called ``m.py`` in directories that are not packages: both are findings."""
    for directory in ("a", "b", "c"):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "m.py").write_bytes(NORMAL)
    code, data, _ = check_json(["."], tmp_path, "save_*")
    assert code == 1
    assert data["files_checked"] == 3
    assert sorted((f["path"], f["line"], f["column"]) for f in data["findings"]) == [
        ("a/m.py", 2, 5),
        ("b/m.py", 2, 5),
        ("c/m.py", 2, 5),
    ]


# --- size -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory) -> Path:
    """~10 MB files: many small functions; a huge literal before a sink; a 0.5 MB analyzed module."""
    root = tmp_path_factory.mktemp("big")
    # 10 MB of small functions that never mention the flag: read, hashed, syntax-checked.
    parts, size, i = [], 0, 0
    while size < 10_000_000:
        text = f"def helper_{i:06d}(request, allowed):\n    if allowed:\n        keep(request, {i})\n    return request\n\n\n"
        parts.append(text)
        size += len(text)
        i += 1
    (root / "many.py").write_text("".join(parts))
    # 10 MB analyzed: a data literal of 100,000 lines, then an ungated sink.
    blob = ("x" * 99 + "\n") * 100_000
    (root / "blob.py").write_text('DATA = """\n' + blob + '"""\n\n\ndef f(store):\n    save_x(DATA)\n')
    # 0.5 MB of small functions that do mention it: all analyzed, the last one ungated.
    parts, size, i = [], 0, 0
    while size < 500_000:
        text = f"def handler_{i:06d}(request, store):\n    if store:\n        save_item(request, {i})\n    return request\n\n\n"
        parts.append(text)
        size += len(text)
        i += 1
    parts.append("def last(store):\n    save_last(1)\n")
    (root / "mid.py").write_text("".join(parts))
    (root / "normal.py").write_bytes(NORMAL)
    return root


def test_ten_megabyte_files_give_a_result(big_tree: Path) -> None:
    assert (big_tree / "many.py").stat().st_size >= 10_000_000
    assert (big_tree / "blob.py").stat().st_size >= 10_000_000
    mid_lines = (big_tree / "mid.py").read_text().count("\n")
    code, data, _ = check_json(["--max-target-bytes", "0", "."], big_tree, "*")  # no size limit
    assert code == 1
    assert data["errors"] == []
    assert data["files_checked"] == 4
    assert sorted((f["path"], f["line"], f["column"], f["code"]) for f in data["findings"]) == [
        ("blob.py", 100_006, 5, "SG001"),
        ("mid.py", mid_lines, 5, "SG001"),
        ("normal.py", 2, 5, "SG001"),
    ]


def test_syntax_error_names_the_line_it_is_on(tmp_path: Path) -> None:
    """A Python 2 print on line 2: the error is on line 2, analyzed or only syntax-checked."""
    (tmp_path / "analyzed.py").write_text('def f(store):\n    print "hi"\n    save_x(1)\n')
    (tmp_path / "skipped.py").write_text('a = 1\nprint "hi"\nb = 2\n')
    (tmp_path / "normal.py").write_bytes(NORMAL)
    code, data, _ = check_json(["."], tmp_path, "save_*")
    assert code == 2
    assert_sound_errors(data, tmp_path)
    assert [(f["path"], f["line"], f["column"]) for f in data["findings"]] == [("normal.py", 2, 5)]
    assert [(e["path"], e["line"]) for e in data["errors"]] == [("analyzed.py", 2), ("skipped.py", 2)]


def test_a_file_over_the_size_limit_is_skipped_with_a_notice(tmp_path: Path) -> None:
    """``max-target-bytes`` (here from the option): a larger file gets a one-line notice naming
    it and the limit, not an error; the other files are analyzed."""
    (tmp_path / "normal.py").write_bytes(NORMAL)
    (tmp_path / "large.py").write_text("def f(store):\n    save_x(1)\n" + "x = 1\n" * 400)
    code, data, stderr = check_json(["--max-target-bytes", "1000", "."], tmp_path, "save_*")
    assert code == 1 and data["errors"] == []
    assert [f["path"] for f in data["findings"]] == ["normal.py"]
    assert [line for line in stderr.splitlines() if "large.py" in line] == [
        "storegate: skipped large.py: 2428 bytes, over the max-target-bytes limit of 1000"
    ]
