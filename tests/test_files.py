"""storegate.files: discovery, excludes, reading and decoding sources, display paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storegate.errors import SourceError
from storegate.files import (
    DEFAULT_EXCLUDES,
    MAX_SOURCE_BYTES,
    _Excluder,
    compile_excludes,
    discover,
    display_path,
    drop_excluded,
    read_source,
)
from storegate.model import Config, FileError


def touch(root: Path, *names: str, text: str = "x = 1\n") -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def found(paths, config=None, **kwargs) -> list[str]:
    files, errors = discover(paths, config or Config(), **kwargs)
    assert errors == []
    return [p.as_posix() for p in files]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- discovery ------------------------------------------------------------------------------


def test_walks_directories_for_py_files_sorted(in_tmp):
    touch(in_tmp, "b.py", "a.py", "pkg/z.py", "pkg/sub/m.py", "notes.txt", "stub.pyi", "pkg/c.pyc")
    assert found(["."]) == ["a.py", "b.py", "pkg/sub/m.py", "pkg/z.py"]


def test_default_excludes_skip_tool_and_build_directories(in_tmp):
    touch(
        in_tmp,
        "src/app.py",
        "build/lib/app.py",
        "dist/x.py",
        ".venv/lib/site.py",
        "venv/lib/site.py",
        ".git/hooks/h.py",
        "src/__pycache__/app.py",
        "pkg.egg-info/x.py",
        "node_modules/n.py",
        "lib/site-packages/dep.py",
    )
    assert found(["."]) == ["src/app.py"]
    assert "build" in DEFAULT_EXCLUDES and "*.egg-info" in DEFAULT_EXCLUDES


def test_exclude_replaces_defaults(in_tmp):
    touch(in_tmp, "build/a.py", "gen/b.py", "c.py")
    config = Config(exclude=("gen",), source=in_tmp / "pyproject.toml")
    assert found(["."], config) == ["build/a.py", "c.py"]


def test_extend_exclude_adds_to_defaults(in_tmp):
    touch(in_tmp, "build/a.py", "gen/b.py", "c.py", "tests/fixtures/f.py", "tests/t.py")
    config = Config(extend_exclude=("gen", "tests/fixtures/"), source=in_tmp / "pyproject.toml")
    assert found(["."], config) == ["c.py", "tests/t.py"]


def test_anchored_patterns_are_relative_to_the_config_directory(tmp_path, monkeypatch):
    project = tmp_path / "project"
    touch(project, "gen/a.py", "src/gen/b.py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = Config(extend_exclude=("/gen",), source=project / "pyproject.toml")
    names = found([project], config)
    assert names == [(project / "src/gen/b.py").as_posix()]


def test_without_config_patterns_are_relative_to_the_cwd(in_tmp):
    touch(in_tmp, "gen/a.py", "src/gen/b.py")
    assert found(["."], Config(extend_exclude=("/gen",))) == ["src/gen/b.py"]


def test_file_patterns_exclude_files(in_tmp):
    touch(in_tmp, "a.py", "a_pb2.py", "pkg/b_pb2.py")
    assert found(["."], Config(extend_exclude=("*_pb2.py",))) == ["a.py"]


def test_explicit_file_is_included_even_if_excluded(in_tmp):
    touch(in_tmp, "build/a.py", "gen/b.py", "notpython.txt")
    config = Config(extend_exclude=("gen",))
    assert found(["build/a.py", "gen/b.py", "notpython.txt"], config) == [
        "build/a.py",
        "gen/b.py",
        "notpython.txt",
    ]


def test_force_exclude_applies_excludes_to_explicit_paths(in_tmp):
    touch(in_tmp, "build/a.py", "gen/b.py", "ok.py")
    config = Config(extend_exclude=("gen",))
    assert found(["build/a.py", "gen/b.py", "ok.py", "gen"], config, force_exclude=True) == ["ok.py"]
    assert drop_excluded(["build/a.py", "gen", "ok.py", "missing.py"], config) == [
        Path("ok.py"),
        Path("missing.py"),
    ]


def test_explicit_excluded_directory_is_walked(in_tmp):
    touch(in_tmp, "build/a.py", "build/sub/b.py", "build/sub/__pycache__/c.py")
    assert found(["build"]) == ["build/a.py", "build/sub/b.py"]


def test_missing_path_is_an_error_and_the_rest_goes_on(in_tmp):
    touch(in_tmp, "a.py")
    files, errors = discover(["missing.py", "a.py", "nodir/"], Config())
    assert files == [Path("a.py")]
    assert errors == [
        FileError("missing.py", "no such file or directory"),
        FileError("nodir", "no such file or directory"),
    ]


def test_directory_named_like_a_python_file_is_not_a_file(in_tmp):
    touch(in_tmp, "weird.py/inner.py", "plain.py")
    assert found(["."]) == ["plain.py", "weird.py/inner.py"]


def test_symlink_loop_terminates_and_files_appear_once(in_tmp):
    touch(in_tmp, "pkg/a.py", "pkg/sub/b.py")
    os.symlink(in_tmp / "pkg", in_tmp / "pkg/sub/loop")
    os.symlink("..", in_tmp / "pkg/sub/up")
    assert found(["."]) == ["pkg/a.py", "pkg/sub/b.py"]


def test_duplicates_are_removed(in_tmp):
    touch(in_tmp, "a.py", "pkg/b.py")
    os.symlink(in_tmp / "pkg", in_tmp / "alias")
    assert found(["a.py", "./a.py", ".", str(in_tmp / "a.py"), "pkg", "alias"]) == [
        "a.py",
        "alias/b.py",
    ]


def test_fifo_and_broken_links_are_not_collected(in_tmp):
    touch(in_tmp, "a.py")
    os.mkfifo(in_tmp / "pipe.py")
    os.symlink(in_tmp / "gone.py", in_tmp / "broken.py")
    assert found(["."]) == ["a.py"]


def test_result_is_deterministic(in_tmp):
    touch(in_tmp, *(f"d{i % 3}/m{i}.py" for i in range(20)))
    first = discover(["d2", ".", "d0"], Config())
    second = discover([".", "d0", "d2"], Config())
    assert first == second
    assert [p.as_posix() for p in first[0]] == sorted(p.as_posix() for p in first[0])


def without_root_powers(code: str, cwd: Path) -> str:
    """Run ``code`` in a fresh Python that cannot bypass file permissions; its stdout.

    As root, permission bits do not stop reads; ``setpriv`` drops the capabilities that let
    root ignore them, so the permission-denied paths run for real here too.
    """
    command = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *command]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_unreadable_directory_is_an_error(in_tmp):
    touch(in_tmp, "a.py", "locked/b.py")
    (in_tmp / "locked").chmod(0)
    try:
        out = without_root_powers(
            "from storegate.files import discover; from storegate.model import Config; "
            "files, errors = discover(['.'], Config()); print([str(f) for f in files], errors)",
            in_tmp,
        )
    finally:
        (in_tmp / "locked").chmod(0o755)
    assert out == "['a.py'] [FileError(path='locked', message='cannot read directory: permission denied', line=None)]"


# --- reading --------------------------------------------------------------------------------


def test_reads_utf8_and_keeps_crlf(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes("s = 'héllo'\r\nt = 1\r\n".encode())
    assert read_source(path) == "s = 'héllo'\r\nt = 1\r\n"


def test_bom_is_honored_and_removed(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"\xef\xbb\xbfs = '\xc3\xa9'\n")
    assert read_source(path) == "s = 'é'\n"


def test_latin1_coding_cookie(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes("# -*- coding: latin-1 -*-\ns = 'é'\n".encode("latin-1"))
    assert read_source(path) == "# -*- coding: latin-1 -*-\ns = 'é'\n"


def test_cookie_on_second_line(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes("#!/usr/bin/env python\n# coding: cp1252\ns = '€'\n".encode("cp1252"))
    assert read_source(path).endswith("s = '€'\n")


def test_invalid_utf8_names_the_byte_and_line(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\ny = 2\ns = '\xff'\n")
    with pytest.raises(SourceError) as info:
        read_source(path)
    assert info.value.message == "invalid utf-8 at byte 17"
    assert info.value.line == 3


def test_invalid_utf8_on_the_first_line(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"s = '\xc3'\n")
    with pytest.raises(SourceError, match=r"^invalid utf-8 at byte 5$"):
        read_source(path)


def test_invalid_bytes_for_the_declared_encoding(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"# coding: ascii\ns = '\xe9'\n")
    with pytest.raises(SourceError, match=r"^invalid ascii at byte 21$"):
        read_source(path)


def test_unknown_encoding(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"# coding: klingon\nx = 1\n")
    with pytest.raises(SourceError, match=r"^unknown encoding 'klingon'$") as info:
        read_source(path)
    assert info.value.line == 1


def test_bom_conflicting_with_cookie(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")
    with pytest.raises(SourceError, match="byte order mark"):
        read_source(path)


def test_nul_bytes(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\ny = '\0'\n")
    with pytest.raises(SourceError, match=r"^source contains NUL bytes$") as info:
        read_source(path)
    assert info.value.line == 2


def test_file_over_50_mb(tmp_path):
    path = tmp_path / "big.py"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SOURCE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SourceError, match=r"^file is larger than 50 MB$"):
        read_source(path)


def test_file_of_exactly_50_mb_is_read(tmp_path):
    path = tmp_path / "big.py"
    with open(path, "wb") as handle:
        handle.write(b"#" * MAX_SOURCE_BYTES)
    assert len(read_source(path)) == MAX_SOURCE_BYTES


def test_fifo_is_not_read(tmp_path):
    path = tmp_path / "pipe.py"
    os.mkfifo(path)
    with pytest.raises(SourceError, match=r"^not a regular file$"):
        read_source(path)  # would block forever if it were opened


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(SourceError, match=r"^is a directory$"):
        read_source(tmp_path)
    with pytest.raises(SourceError, match=r"^cannot read file: no such file or directory$"):
        read_source(tmp_path / "missing.py")


def test_unreadable_file(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    path.chmod(0)
    out = without_root_powers(
        "from storegate.files import read_source; from storegate.errors import SourceError\n"
        "try:\n    read_source(__import__('pathlib').Path('a.py'))\n"
        "except SourceError as exc:\n    print(exc.message)\n",
        tmp_path,
    )
    assert out == "cannot read file: permission denied"


# --- display --------------------------------------------------------------------------------


def test_display_path_relative_to_cwd(in_tmp):
    assert display_path(in_tmp / "pkg" / "a.py") == "pkg/a.py"
    assert display_path(Path("pkg/a.py")) == "pkg/a.py"
    assert display_path(Path("./pkg/../pkg/a.py")) == "pkg/a.py"


def test_display_path_outside_cwd_is_kept(tmp_path, monkeypatch):
    inside = tmp_path / "inside"
    inside.mkdir()
    monkeypatch.chdir(inside)
    outside = tmp_path / "other" / "a.py"
    assert display_path(outside) == outside.as_posix()
    assert display_path(Path("../other/a.py")) == "../other/a.py"


EXCLUDE_PATTERNS = [".git", "build", "*.egg-info", "foo/bar/", "/top.py", "a/**/b", "gen_*.py", "docs/*.py", "[Tt]mp", "x?y", "deep/**"]
EXCLUDE_PATHS = [
    "top.py", "sub/top.py", "build", "build/", "src/build/x.py", "rebuild/x.py", "pkg.egg-info/", "foo/bar/", "foo/bar",
    "foo/bar/x.py", "a/b", "a/q/r/b/c.py", "ab/x.py", "gen_one.py", "sub/gen_one.py", "docs/x.py", "docs/sub/x.py",
    "Tmp/", "tmp/z.py", "xzy.py", "x/y.py", "xay/", "deep/", "deep/er/x.py", "keep/.git/", ".gitignore", "plain.py",
    "keep", "keep/", "src/keep/x.py", "a.b.c", "a.b.c/", "aXbYc", "sub/a.b.c/x.py", "mytmpdir/x.py", "x.tmp", "deeper/x.py",
]


def test_default_excludes_need_no_pathspec(tmp_path):
    """The default excludes are one-name patterns: a run that keeps them never imports pathspec
    (10 ms of every start), and one with a pattern of another kind does."""
    script = (
        "import sys\n"
        "from storegate import files\n"
        "from storegate.model import Config\n"
        "files.discover(['.'], Config(extend_exclude=tuple(sys.argv[1:])))\n"
        "print('pathspec' in sys.modules)\n"
    )
    for extra, imported in (([], "False"), (["gen_*.py", "out/"], "False"), (["docs/*.py"], "True")):
        done = subprocess.run([sys.executable, "-c", script, *extra], cwd=tmp_path, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == imported, (extra, done.stderr)


ONE_NAME_PATTERNS = [".git", "build/", "*.egg-info", "x?y", "gen_*.py", "*tmp*", "keep/", "*", "a.b.c", "top.py", "deep"]


@pytest.mark.parametrize(
    "patterns",
    [EXCLUDE_PATTERNS, ["*.py", "!keep.py", "keep/"], ["!x.py"], list(DEFAULT_EXCLUDES), ONE_NAME_PATTERNS, *([p] for p in ONE_NAME_PATTERNS)],
)
def test_excludes_decide_as_pathspec_does(patterns, tmp_path, monkeypatch):
    """The excludes as one regex decide every path as pathspec's own gitignore rules do: one-name
    patterns read here (``files._one_name``, without pathspec), or pathspec's regexes
    joined (``files._one_regex``) when none is negated; with a negated pattern pathspec decides."""
    monkeypatch.chdir(tmp_path)
    excluder = _Excluder(Config(exclude=tuple(patterns)))
    spec = compile_excludes(patterns)
    assert (excluder.any is not None) == (bool(patterns) and not any(p.startswith("!") for p in patterns))
    assert (excluder.spec is None) == all(p in ONE_NAME_PATTERNS or p in DEFAULT_EXCLUDES for p in patterns)
    for path in EXCLUDE_PATHS:
        rel, is_dir = path.rstrip("/"), path.endswith("/")
        assert excluder.matches(rel, is_dir) == spec.match_file(path), path
