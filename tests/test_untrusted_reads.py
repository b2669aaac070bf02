"""Nothing in the checked tree makes storegate read outside the project, block, or crash
(the audit's A22, A24, A25, B12-B17): the walk stays inside what was named, a configuration
names only shipped packs or packs below itself, and every configuration, pack and baseline is
a regular file of bounded size, read without blocking."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from storegate.config import load_config
from storegate.errors import ConfigError

LEAK = "def create(db, request, store=True):\n    db.responses_store.store_response_object(request)\n"
SECRET = "db.responses_store.store_x(SECRET_API_KEY_abc123)"


def _storegate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from storegate.cli import main; main()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def outside_and_tree(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "ext"
    outside.mkdir()
    (outside / "settings.py").write_text(f"def sync(db, store=True):\n    {SECRET}\n")
    (outside / "creds.toml").write_text('name = "ghp_SECRETTOKEN123"\ndescription = "db password: hunter2"\n')
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "app.py").write_text(LEAK)
    return outside, tree


def test_the_walk_never_follows_a_link_out_of_the_tree(outside_and_tree) -> None:
    outside, tree = outside_and_tree
    (tree / "ext_link").symlink_to(outside)
    (tree / "leak.py").symlink_to(outside / "settings.py")
    (tree / "parent_link").symlink_to("..")
    (tree / "etc_link").symlink_to("/etc")
    (tree / "inside").mkdir()
    (tree / "inside" / "b.py").write_text(LEAK)
    (tree / "inside_link").symlink_to("inside")  # inside the tree: followed (once)
    run = _storegate("check", "--isolated", "--rules", "openai", "--no-cache", "--show-source", "--format", "json", ".", cwd=tree)
    assert SECRET not in run.stdout
    import json

    report = json.loads(run.stdout)
    assert sorted({f["path"] for f in report["findings"]}) == ["app.py", "inside/b.py"]
    assert report["errors"] == []


def test_a_named_link_out_of_its_directory_is_refused(outside_and_tree, tmp_path: Path) -> None:
    _, tree = outside_and_tree
    (tree / "rootlink").symlink_to("/")
    (tree / "k.py").symlink_to("/proc/kmsg")
    run = _storegate("check", "--isolated", "--rules", "openai", "--no-cache", "rootlink", "k.py", "app.py", cwd=tree)
    assert "rootlink: error: symbolic link out of its directory; not followed" in run.stdout
    assert "k.py: error: symbolic link out of its directory; not followed" in run.stdout
    assert "app.py:2:5: SG001" in run.stdout
    assert run.returncode == 2


@pytest.mark.parametrize("spec", ["../ext/creds.toml", "/etc/passwd", "~/.bashrc", "/proc/self/environ"])
def test_a_configuration_names_no_pack_outside_the_project(outside_and_tree, spec: str) -> None:
    _, tree = outside_and_tree
    (tree / "pyproject.toml").write_text(f'[tool.storegate]\nrules = ["{spec}"]\n')
    run = _storegate("rules", cwd=tree)
    assert run.returncode == 2
    assert "ghp_SECRETTOKEN123" not in run.stdout + run.stderr
    assert "invalid TOML" not in run.stderr  # no parse-position oracle for files of the machine
    assert "outside the project" in run.stderr or "not found" in run.stderr
    (tree / "packs").mkdir()
    (tree / "packs" / "mine.toml").write_text('name = "mine"\nsinks = ["save_*"]\n')
    (tree / "pyproject.toml").write_text('[tool.storegate]\nrules = ["packs/mine.toml"]\n')
    assert "save_*" in _storegate("rules", cwd=tree).stdout  # a pack below the config still loads


def test_the_command_line_may_name_a_pack_anywhere(outside_and_tree) -> None:
    outside, tree = outside_and_tree
    (outside / "pack.toml").write_text('name = "outside-pack"\nsinks = ["save_*"]\n')
    config = load_config([tree], isolated=True, rules=[str(outside / "pack.toml")])
    assert config.packs == ("outside-pack",)


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_configs_packs_and_baselines_that_are_not_regular_files_are_one_line_errors(tmp_path: Path, target: str) -> None:
    (tmp_path / "app.py").write_text(LEAK)
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
        target = str(tmp_path / "fifo")
    (tmp_path / "pack.toml").symlink_to(target)
    (tmp_path / "baseline.json").symlink_to(target)
    run = _storegate("check", "--no-cache", "--rules", "./pack.toml", ".", cwd=tmp_path)
    assert run.returncode == 2 and "cannot read pack.toml: not a regular file" in run.stderr
    run = _storegate("check", "--no-cache", "--isolated", "--baseline", "baseline.json", ".", cwd=tmp_path)
    assert run.returncode == 2 and "cannot read baseline baseline.json: not a regular file" in run.stderr
    assert "Traceback" not in run.stderr


def test_proc_files_never_hang_the_run(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(LEAK)
    (tmp_path / "pyproject.toml").symlink_to("/proc/self/pagemap")  # "regular", size 0
    with pytest.raises(ConfigError, match="symbolic link out of its directory"):
        load_config([tmp_path])
    with pytest.raises(ConfigError, match="^cannot read /proc/self/pagemap: invalid argument$"):
        load_config([tmp_path], config_file=Path("/proc/self/pagemap"))
    # /proc/kmsg blocks a plain read forever (root can open it; others are refused at once)
    run = _storegate("check", "--no-cache", "--config", "/proc/kmsg", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert re.fullmatch(
        r"storegate: error: cannot read /proc/kmsg: (would block \(not a regular file\)|permission denied|operation not permitted)\n",
        run.stderr,
    )


def test_a_deeply_nested_configuration_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.storegate]\nsinks = " + "[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "app.py").write_text(LEAK)
    run = _storegate("check", "--no-cache", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["storegate: error: pyproject.toml: invalid TOML: nested too deeply"]
