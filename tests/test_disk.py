"""Reads and writes that the checked tree cannot redirect (``storegate.disk``), and the commands
that write: ``--fix``, ``--output`` and ``--write-baseline`` never write through a planted link
(the audit's B21, B22, B23, C7, C11)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from storegate import disk

ROOT = Path(__file__).resolve().parent.parent
LEAK = "def create(db, request, store=True):\n    db.responses_store.store_response_object(request)\n"


def _storegate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from storegate.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


# -- writes ------------------------------------------------------------------------------------


def test_a_symlink_destination_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "created_by_storegate")
    for destination in (link, dangling):
        with pytest.raises(disk.DiskError, match="is a symbolic link; not written"):
            disk.write_atomic(destination, b"{}")
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "created_by_storegate").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.json", "out.json", "victim"]


def test_a_destination_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "directory").mkdir()
    for name in ("fifo", "directory"):
        with pytest.raises(disk.DiskError, match="not a regular file; not written"):
            disk.write_atomic(tmp_path / name, b"x")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)


def test_a_new_file_gets_the_default_mode_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        disk.write_atomic(tmp_path / "new", b"new")
        assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o644
        kept = tmp_path / "kept"
        kept.write_bytes(b"old")
        os.chmod(kept, 0o640)
        disk.write_atomic(kept, [b"ne", b"w"])
        assert kept.read_bytes() == b"new"
        assert stat.S_IMODE(os.stat(kept).st_mode) == 0o640
    finally:
        os.umask(umask)


def test_read_only_and_hard_linked_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    read_only = tmp_path / "read_only.py"
    read_only.write_bytes(b"old")
    os.chmod(read_only, 0o444)
    with pytest.raises(disk.DiskError, match="is read-only; not written"):
        disk.write_atomic(read_only, b"new")
    linked = tmp_path / "linked.py"
    linked.write_bytes(b"old")
    os.link(linked, tmp_path / "other_name.txt")
    with pytest.raises(disk.DiskError, match="has 2 hard links"):
        disk.write_atomic(linked, b"new")
    assert read_only.read_bytes() == linked.read_bytes() == b"old"


def test_the_owner_and_group_are_kept_or_the_write_is_refused(tmp_path: Path) -> None:
    owned = tmp_path / "owned.py"
    owned.write_bytes(b"old")
    if os.geteuid() == 0:  # root can give the file away, and the rewrite must give it back
        os.chown(owned, 1234, 5678)
        disk.write_atomic(owned, b"new")
        info = os.stat(owned)
        assert (info.st_uid, info.st_gid, owned.read_bytes()) == (1234, 5678, b"new")
    else:  # anyone else cannot keep a foreign group: refused, not silently changed
        other_group = next((g for g in os.getgroups() if g != os.getegid()), None)
        if other_group is not None:
            os.chown(owned, -1, other_group)
            disk.write_atomic(owned, b"new")
            assert os.stat(owned).st_gid == other_group


def test_a_killed_write_leaves_a_temporary_file_that_the_next_write_removes(tmp_path: Path) -> None:
    script = (
        "import os, sys\n"
        "from storegate import disk\n"
        "def pieces():\n"
        "    yield b'half'\n"
        "    os.kill(os.getpid(), 9)\n"
        "disk.write_atomic(sys.argv[1], pieces())\n"
    )
    target = tmp_path / "app.py"
    target.write_bytes(b"original")
    killed = subprocess.run([sys.executable, "-c", script, str(target)], cwd=ROOT, timeout=60)
    assert killed.returncode == -9
    litter = [p.name for p in tmp_path.iterdir() if p.name != "app.py"]
    assert len(litter) == 1 and litter[0].startswith(".app.py.")
    live = tmp_path / f".app.py.{os.getppid()}.0badc0de.storegate-tmp"  # a write under way elsewhere
    live.write_bytes(b"")
    foreign = tmp_path / ".app.py.notes.storegate-tmp"  # not a name storegate gives
    foreign.write_bytes(b"")
    disk.write_atomic(target, b"fixed")
    assert target.read_bytes() == b"fixed"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["app.py", live.name, foreign.name])


# -- reads -------------------------------------------------------------------------------------


def test_reads_take_regular_files_only_and_never_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # no writer: a plain open would block forever
    with pytest.raises(disk.DiskError, match="not a regular file"):
        disk.read_regular(tmp_path / "fifo", 100)
    with pytest.raises(disk.DiskError, match="not a regular file"):
        disk.read_regular("/dev/zero", 100)
    with pytest.raises(disk.DiskError, match="is a directory"):
        disk.read_regular(tmp_path, 100)


def test_reads_are_bounded_and_links_refused_where_asked(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(disk.DiskError, match="larger than 1 KB"):
        disk.read_regular(big, 1024)
    assert disk.read_regular(big, 2048) == b"x" * 2048
    link = tmp_path / "link"
    link.symlink_to(big)
    assert disk.read_regular(link, 4096) == b"x" * 2048
    with pytest.raises(disk.DiskError, match="is a symbolic link"):
        disk.read_regular(link, 4096, follow_links=False)
    # /proc files say size 0 and are read to the bound only
    assert len(disk.read_regular("/proc/self/status", 64 * 1024)) > 0


# -- the commands that write -------------------------------------------------------------------


def test_fix_does_not_write_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.py"
    victim.write_text(LEAK)
    project = tmp_path / "project"
    project.mkdir()
    (project / "evil.py").symlink_to(victim)
    (project / "app.py").write_text(LEAK)
    (project / "a_link_to_app.py").symlink_to("app.py")  # inside the tree: the file is fixed by its own name
    run = _storegate("check", "--isolated", "--rules", "openai", "--no-cache", "--fix", ".", "evil.py", cwd=project)
    assert victim.read_text() == LEAK
    assert "evil.py: error: symbolic link out of its directory; not followed" in run.stdout
    assert "app.py: fixed 1, remaining 0" in run.stderr
    assert "if store is not False:" in (project / "app.py").read_text()
    assert os.path.islink(project / "a_link_to_app.py")
    assert run.returncode == 2


def test_apply_refuses_a_file_swapped_for_a_link_after_planning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storegate import fix
    from storegate.api import check
    from storegate.config import load_config

    (tmp_path / "app.py").write_text(LEAK)
    (tmp_path / "victim.py").write_text(LEAK)
    monkeypatch.chdir(tmp_path)
    config = load_config(["app.py"], isolated=True, rules=["openai"])
    plans = fix.plan(check(["app.py"], config, use_cache=False), config)
    os.replace(tmp_path / "app.py", tmp_path / "moved.py")
    (tmp_path / "app.py").symlink_to(tmp_path / "victim.py")
    assert fix.apply(plans) == {"app.py": "is a symbolic link; not fixed"}
    assert (tmp_path / "victim.py").read_text() == LEAK


def test_output_and_baseline_do_not_write_through_planted_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(LEAK)
    for name in ("out_victim", "bl_victim"):
        (outside / name).write_text("precious\n")
    (project / "storegate.sarif").symlink_to(outside / "out_victim")
    (project / "baseline.json").symlink_to(outside / "bl_victim")
    common = ("check", "--isolated", "--rules", "openai", "--no-cache")
    run = _storegate(*common, "--format", "sarif", "--output", "storegate.sarif", cwd=project)
    assert run.returncode == 2
    assert "cannot write storegate.sarif: is a symbolic link; not written" in run.stderr
    run = _storegate(*common, "--write-baseline", "baseline.json", cwd=project)
    assert run.returncode == 2
    assert "cannot write baseline.json: is a symbolic link; not written" in run.stderr
    assert {p.name: p.read_text() for p in outside.iterdir()} == {"out_victim": "precious\n", "bl_victim": "precious\n"}


def test_fix_keeps_mode_and_refuses_a_read_only_file(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LEAK)
    os.chmod(tmp_path / "app.py", 0o640)
    (tmp_path / "locked.py").write_text(LEAK)
    os.chmod(tmp_path / "locked.py", 0o444)
    run = _storegate("check", "--isolated", "--rules", "openai", "--no-cache", "--fix", ".", cwd=tmp_path)
    assert "if store is not False:" in (tmp_path / "app.py").read_text()
    assert stat.S_IMODE(os.stat(tmp_path / "app.py").st_mode) == 0o640
    assert (tmp_path / "locked.py").read_text() == LEAK
    assert "locked.py: error: is read-only; not fixed" in run.stdout
    assert run.returncode == 2


def test_demo_serve_does_not_write_a_database_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("export SECRET_SETTING=1\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "responses_server.sqlite3").symlink_to(victim)
    (project / "other.sqlite3-journal").symlink_to(victim)
    from storegate.demo import free_port

    for extra in ((), ("--db", "other.sqlite3")):
        run = _storegate("demo", "serve", "--port", str(free_port()), *extra, cwd=project)
        assert run.returncode == 1
        assert run.stderr.startswith("Error: ") and "is a symbolic link; the database is not written through links" in run.stderr
    assert victim.read_text() == "export SECRET_SETTING=1\n"
