"""A cache that comes with the checked tree is never believed and never redirects a read or a write.

storegate runs in CI on the checkout of a pull request, whose author controls every file in it,
a committed ``.storegate_cache/`` and links in it included. Each test is one attack of the audit
(docs/audit-report.md, B1-B11, D5, D11), run through the command line on a real tree in a
temporary directory: the findings are those of the unpoisoned tree, exit 1, and nothing outside
the cache directory changes. Every run has a home and a cache key of its own (``HOME`` and
``XDG_CACHE_HOME`` in the test's directory): the attacker's, the CI's; the real user's key is
never touched.
"""

from __future__ import annotations

import json
import re
import os
import resource
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "fixtures" / "cases" / "motivating_bug.py"
EXPECTED = [("app.py", 38, 27, "SG002"), ("app.py", 39, 27, "SG001")]
CLI = ["check", ".", "--isolated", "--rules", "openai", "--format", "json"]


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}


def storegate(tree: Path, home: Path, *args: str, limit_memory: bool = False) -> subprocess.CompletedProcess:
    """``storegate check . --isolated --rules openai --format json`` in ``tree`` as the user of ``home``."""

    def cap() -> None:  # a run that reads without bound fails here instead of exhausting the machine
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    return subprocess.run([sys.executable, "-m", "storegate", *CLI, *args], cwd=tree, env=environment(home),
                          capture_output=True, text=True, timeout=60, preexec_fn=cap if limit_memory else None)


def findings(done: subprocess.CompletedProcess) -> list[tuple]:
    """The findings of a run that went well: no traceback, exit 1, nothing but the JSON report."""
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    data = json.loads(done.stdout)
    assert data["errors"] == []
    located = [f for finding in data["findings"] for f in (finding, *finding["related"])]  # every location
    return [(f["path"], f["line"], f["column"], f["code"]) for f in located]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=pr", "-c", "user.email=pr@example.com", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def cache_files(tree: Path, suffix: str) -> list[Path]:
    return sorted((tree / ".storegate_cache").glob(f"*{suffix}"))


def edit_index(tree: Path, change) -> None:
    """Change the JSON of every index of the tree's cache, as a pull request's author would."""
    for path in cache_files(tree, ".index.json"):
        text = path.read_text()
        head, newline, body = text.partition("\n")
        if not newline:  # the format before the cache was sealed: one JSON object
            head, body = "", text
        data = json.loads(body)
        change(data)
        path.write_text(head + newline + json.dumps(data))


def no_findings(data: dict) -> None:
    data["result"]["findings"] = []


@pytest.fixture
def homes(tmp_path) -> tuple[Path, Path]:
    """The attacker's home and the CI's: two users, two keys."""
    return tmp_path / "attacker-home", tmp_path / "ci-home"


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "ci" / "work" / "repo"
    root.mkdir(parents=True)
    shutil.copy(APP, root / "app.py")
    return root


def poisoned_checkout(tree: Path, attacker: Path, make_cache) -> None:
    """Section 3.1 of the audit: the attacker makes a cache in a clone at the CI's path, empties
    its findings, commits it, and the CI checks a fresh clone of that commit at the same path."""
    git(tree, "init", "-q")
    git(tree, "add", "app.py")
    git(tree, "commit", "-qm", "upstream")
    make_cache(tree, attacker)
    edit_index(tree, no_findings)
    (tree / ".storegate_cache" / ".gitignore").unlink()
    git(tree, "add", "-f", ".storegate_cache")
    git(tree, "commit", "-qm", "PR: innocent change")
    pushed = tree.parent / "pushed.git"
    git(tree.parent, "clone", "-q", "--bare", str(tree), str(pushed))
    shutil.rmtree(tree)
    git(tree.parent, "clone", "-q", str(pushed), str(tree))
    assert cache_files(tree, ".index.json"), "the forged cache is in the checkout"


def cli_cache(tree: Path, home: Path) -> None:
    assert findings(storegate(tree, home)) == EXPECTED


def test_b1_committed_cache_with_emptied_findings_is_not_believed(tree, homes):
    attacker, ci = homes
    poisoned_checkout(tree, attacker, cli_cache)
    assert findings(storegate(tree, ci)) == EXPECTED
    assert findings(storegate(tree, ci)) == EXPECTED  # and the rewritten cache is the CI's own
    assert findings(storegate(tree, ci, "--no-cache")) == EXPECTED


def test_b2_forged_entries_are_not_believed(tree, homes):
    """Every file "skipped" and no last result: nothing would be analyzed."""
    attacker, ci = homes
    cli_cache(tree, attacker)

    def skip_everything(data: dict) -> None:
        data["result"] = None
        for entry in data["files"].values():
            entry.update(status="skipped", error=None)

    edit_index(tree, skip_everything)
    (tree / "app.py").touch()
    assert findings(storegate(tree, ci)) == EXPECTED
    assert findings(storegate(tree, ci)) == EXPECTED


def test_b3_flake8_on_a_poisoned_checkout(tree, homes):
    attacker, ci = homes

    def flake8(cwd: Path, home: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flake8", "--select", "SG", "--storegate-rules", "openai", "."],
            cwd=cwd, env=environment(home), capture_output=True, text=True, timeout=120,
        )

    def flake8_cache(cwd: Path, home: Path) -> None:
        assert flake8(cwd, home).returncode == 1

    poisoned_checkout(tree, attacker, flake8_cache)
    done = flake8(tree, ci)
    assert done.returncode == 1, (done.stdout, done.stderr)
    reported = [re.match(r"(.*?):(\d+):\d+: (SG\d+) ", line).groups() for line in done.stdout.splitlines()]
    assert reported == [("./app.py", "38", "SG002"), ("./app.py", "39", "SG001")]


def plant(tree: Path, home: Path, links: dict[str, Path]) -> None:
    """Learn the names of the cache's files from a run, then put links in their place."""
    cli_cache(tree, home)
    names = {"index": cache_files(tree, ".index.json")[0].name, "summaries": cache_files(tree, ".summaries.jsonl")[0].name}
    for which, target in links.items():
        path = tree / ".storegate_cache" / names.get(which, which)
        path.unlink(missing_ok=True)
        path.symlink_to(target)


def test_b4_links_in_the_cache_are_never_written_through(tree, homes, tmp_path):
    attacker, ci = homes
    victims = tmp_path / "victim"
    victims.mkdir()
    (victims / "bashrc").write_text("export SECRET_SETTING=1\n")
    plant(tree, attacker, {"index": victims / "bashrc", ".gitignore": victims / "created_by_storegate"})
    for _ in range(2):
        assert findings(storegate(tree, ci)) == EXPECTED
        assert (victims / "bashrc").read_text() == "export SECRET_SETTING=1\n"
        assert sorted(os.listdir(victims)) == ["bashrc"]
    # the index, a link no more, is the CI's own: the next run answers from it
    (index,) = cache_files(tree, ".index.json")
    assert stat.S_ISREG(os.lstat(index).st_mode)


def test_b5_a_cache_directory_that_is_a_link_is_not_used(tree, homes, tmp_path):
    attacker, ci = homes
    outside = tmp_path / "outside_dir"
    outside.mkdir()
    (tree / ".storegate_cache").symlink_to(outside)
    for home in (attacker, ci, ci):
        assert findings(storegate(tree, home)) == EXPECTED
    assert os.listdir(outside) == []


def test_b6_a_link_to_a_script_never_makes_it_run_the_tree_s_names(tree, homes, tmp_path):
    """The index linked to an executable script, and a file name that is a shell command: the
    script would have become the index, naming the file, and stayed executable."""
    attacker, ci = homes
    tools = tmp_path / "ci_tools"
    tools.mkdir()
    script = tools / "deploy.sh"
    script.write_text("#!/bin/sh\necho deploying\n")
    script.chmod(0o755)
    (tree / "a$(touch PWNED_BY_PR).py").write_text("x = 1\n")
    plant(tree, attacker, {"index": script})
    assert findings(storegate(tree, ci)) == EXPECTED
    assert script.read_text() == "#!/bin/sh\necho deploying\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert os.listdir(tools) == ["deploy.sh"]


def test_b7_a_link_to_a_special_file_is_neither_read_nor_replaced(tree, homes, tmp_path):
    """The summaries linked to a FIFO outside the tree (the audit used a device node): reading
    it would block, writing would replace it by a regular file."""
    attacker, ci = homes
    fifo = tmp_path / "outside" / "fifo"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    plant(tree, attacker, {"summaries": fifo})
    for line in ("\n", "\n"):  # a file changed: the summaries are needed
        (tree / "app.py").write_text((tree / "app.py").read_text() + line)
        assert findings(storegate(tree, ci)) == EXPECTED
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_b8_cache_files_linked_to_dev_zero(tree, homes):
    attacker, ci = homes
    plant(tree, attacker, {"index": Path("/dev/zero"), "summaries": Path("/dev/zero")})
    for _ in range(2):
        assert findings(storegate(tree, ci, limit_memory=True)) == EXPECTED
    assert stat.S_ISCHR(os.stat("/dev/zero").st_mode)


def test_b9_deeply_nested_json_in_the_cache(tree, homes):
    attacker, ci = homes
    cli_cache(tree, attacker)
    deep = "[" * 200_000 + "]" * 200_000
    (index,) = cache_files(tree, ".index.json")
    (summaries,) = cache_files(tree, ".summaries.jsonl")
    lines = summaries.read_text().split("\n")
    summaries.write_text("\n".join(line.split("\t")[0] + "\t" + deep if "\t" in line else line for line in lines))
    index.write_text(deep)
    for _ in range(2):
        assert findings(storegate(tree, ci)) == EXPECTED
    # the summaries alone: the index is good, a file changed
    cli_cache(tree, attacker)
    summaries.write_text("\n".join(line.split("\t")[0] + "\t" + deep if "\t" in line else line for line in lines))
    (tree / "app.py").write_text((tree / "app.py").read_text() + "\n")
    for _ in range(2):
        assert findings(storegate(tree, ci)) == EXPECTED


def test_b11_values_of_a_planted_summary_are_not_printed(tree, homes):
    attacker, ci = homes
    cli_cache(tree, attacker)
    (summaries,) = cache_files(tree, ".summaries.jsonl")
    summaries.write_text(summaries.read_text().replace('"line":38', '"line":"NaN"').replace('"line":39', '"line":"NaN"'))
    edit_index(tree, lambda data: data.update(result=None))
    done = storegate(tree, ci, "--format", "text")
    assert "NaN" not in done.stdout
    assert done.stdout.splitlines()[:2] == [
        "app.py:38:27: SG002 call to 'self._sync_response_to_conversation' persists (-> self.conversations_api.add_items)"
        " and is not gated by 'store'",
        "    also: app.py:39 SG001 persistence call 'self.responses_store.store_conversation_messages' is not gated by 'store'",
    ]
    assert done.returncode == 1


def test_foreign_key_a_cache_sealed_by_another_user_is_not_believed(tree, homes, monkeypatch):
    """The attacker forges the findings away and seals the cache with their own key, as storegate
    does: their own runs believe it; the CI's, with its key, do not, and rewrite the cache."""
    from storegate.cache import Cache, user_key
    from storegate.config import load_config

    attacker, ci = homes
    cli_cache(tree, attacker)
    monkeypatch.chdir(tree)
    monkeypatch.setenv("HOME", str(attacker))
    monkeypatch.setenv("XDG_CACHE_HOME", str(attacker / ".cache"))
    cache = Cache(tree / ".storegate_cache", load_config(["."], isolated=True, rules=["openai"]), user_key())
    assert cache.result is not None and len(cache.result["findings"]) == 2
    forged = {key: value for key, value in cache.result.items() if key != "filtered"}  # and the filtered ones
    cache.set_result({**forged, "findings": []})
    cache.save()
    assert storegate(tree, attacker).returncode == 0  # a good forgery: the attacker's key verifies it
    assert findings(storegate(tree, ci)) == EXPECTED
    assert findings(storegate(tree, attacker)) == EXPECTED  # sealed by the CI now: foreign to the attacker


def test_d5_temporaries_of_killed_cache_writes_are_removed_on_the_next_run(tree, homes):
    """A write killed before its rename leaves ``.<name>.<pid>.<random>.storegate-tmp``; the next
    run removes those whose writer is gone, even when it has nothing to write, and leaves a write
    under way (this test's own process) alone."""
    from storegate.disk import _TEMP_SUFFIX

    _, ci = homes
    cli_cache(tree, ci)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=60)
    cache_dir = tree / ".storegate_cache"
    names = [p.name for p in cache_files(tree, ".json") + cache_files(tree, ".jsonl")]
    killed = [cache_dir / f".{name}.{gone.pid}.0123abcd{_TEMP_SUFFIX}" for name in names]
    under_way = cache_dir / f".{names[0]}.{os.getpid()}.0123abcd{_TEMP_SUFFIX}"
    for path in (*killed, under_way):
        path.write_text('{"format":')
    assert findings(storegate(tree, ci)) == EXPECTED  # warm: nothing to write
    assert [path.exists() for path in killed] == [False] * len(killed)
    assert under_way.exists()


def _same_size_edit(path: Path, how: str) -> None:
    """``if store:`` becomes ``if stor_:`` (same size) and the mtime is kept, as the tools do."""
    old = path.stat()
    text = path.read_text().replace("if store:", "if stor_:")
    if how == "touch -d":  # edit in place, then set the old mtime back
        path.write_text(text)
        os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    else:  # a copy with the old mtime: in place (cp -p) or renamed over the file (rsync -t)
        source = path.parent.parent / "svc.py"
        source.write_text(text)
        os.utime(source, ns=(old.st_atime_ns, old.st_mtime_ns))
        if how == "cp -p":
            shutil.copy2(source, path)
        else:
            shutil.copy2(source, path.with_name(".svc.py.rsync"))
            os.replace(path.with_name(".svc.py.rsync"), path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (old.st_size, old.st_mtime_ns)


EDITS = ["touch -d", "cp -p", "rsync -t"]


@pytest.fixture(scope="module")
def aged_trees(tmp_path_factory) -> dict[str, Path]:
    """A tree per way of editing (D11), whose files were last changed more than the cache's racy
    window ago (2 s: only the stat signature can then tell an edit): made together, so that the
    three wait out the window once (a file's ctime cannot be set back)."""
    trees = {}
    for how in EDITS:
        root = tmp_path_factory.mktemp("d11") / "repo"
        root.mkdir()
        shutil.copy(APP, root / "app.py")
        svc = root / "svc.py"
        svc.write_text("def handle(store, db):\n    if store:\n        db.store_response_object(1)\n")
        stamp = 1_704_067_200_000_000_000  # 2024-01-01, as `touch -d` or a fixed-mtime build sets it
        os.utime(svc, ns=(stamp, stamp))
        trees[how] = root
    time.sleep(2.5)
    return trees


@pytest.mark.parametrize("how", EDITS)
def test_d11_a_same_size_edit_that_keeps_the_mtime_is_seen(aged_trees, homes, how):
    _, ci = homes
    tree = aged_trees[how]
    svc = tree / "svc.py"
    assert findings(storegate(tree, ci)) == EXPECTED
    _same_size_edit(svc, how)
    assert findings(storegate(tree, ci)) == [*EXPECTED, ("svc.py", 3, 9, "SG001")]


# --- the key --------------------------------------------------------------------------------


def test_the_key_is_private_and_outside_the_tree(tree, homes):
    _, ci = homes
    cli_cache(tree, ci)
    key_dir = ci / ".cache" / "storegate"
    assert stat.S_IMODE(os.lstat(key_dir).st_mode) == 0o700
    key = key_dir / "key"
    info = os.lstat(key)
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600 and info.st_size == 32
    secret = key.read_bytes()
    assert all(secret not in path.read_bytes() for path in tree.rglob("*") if path.is_file())


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, mode=0o700)
    return path


def _key_file(path: Path, mode: int = 0o600, size: int = 32) -> None:
    path.write_bytes(os.urandom(size))
    path.chmod(mode)


# name -> how the key directory (``<home>/.cache/storegate``) is made unsafe
UNSAFE_KEYS = {
    "key directory is a link": lambda d: d.symlink_to(_private_dir(d.parent / "elsewhere")),
    "key directory readable by others": lambda d: _private_dir(d).chmod(0o755),
    "key directory is a file": lambda d: (d.parent.mkdir(parents=True), d.write_text("")),
    "key file readable by others": lambda d: _key_file(_private_dir(d) / "key", mode=0o644),
    "key file is a link": lambda d: (_key_file(_private_dir(d) / "other"), (d / "key").symlink_to(d / "other")),
    "key file of another size": lambda d: _key_file(_private_dir(d) / "key", size=16),
    "key file is a directory": lambda d: _private_dir(d / "key"),
    "no home to keep a key in": lambda d: d.parent.parent.write_text("HOME is a file"),
}


@pytest.mark.parametrize("name", sorted(UNSAFE_KEYS))
def test_without_a_safe_key_the_run_is_uncached(tree, tmp_path, name):
    home = tmp_path / "home"
    if name != "no home to keep a key in":
        home.mkdir()
    UNSAFE_KEYS[name](home / ".cache" / "storegate")
    for _ in range(2):
        assert findings(storegate(tree, home)) == EXPECTED
    assert not (tree / ".storegate_cache").exists()


# --- what the cache key covers --------------------------------------------------------------


def _fingerprint_of_package(package_parent: Path) -> str:
    code = "from storegate.cache import fingerprint; from storegate.model import Config; print(fingerprint(Config()))"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(package_parent)},
                          cwd=package_parent, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_every_module_of_the_package_is_in_the_cache_key(tmp_path):
    """Not a list of modules someone must keep up to date: editing project.py (which decides the
    findings) or adding a module gives another key."""
    copy = tmp_path / "copy"
    shutil.copytree(REPO / "storegate", copy / "storegate", ignore=shutil.ignore_patterns("__pycache__"))
    before = _fingerprint_of_package(copy)
    assert _fingerprint_of_package(copy) == before
    with open(copy / "storegate" / "project.py", "a") as out:
        out.write("\n# changed\n")
    edited = _fingerprint_of_package(copy)
    assert edited != before
    (copy / "storegate" / "report" / "new_module.py").write_text("")
    assert _fingerprint_of_package(copy) not in (before, edited)


def _other(value):
    """A value of the same kind as ``value`` that differs from it."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, tuple):
        return value[:-1] if value else ("x",)
    return Path("elsewhere") / "pyproject.toml"


def test_every_field_of_the_config_is_in_the_cache_key(tree, monkeypatch):
    from dataclasses import fields, replace

    from storegate.cache import fingerprint
    from storegate.config import load_config
    from storegate.model import Config

    monkeypatch.chdir(tree)
    base = load_config(["."], isolated=True, rules=["openai"])
    for field in fields(Config):
        changed = replace(base, **{field.name: _other(getattr(base, field.name))})
        assert changed != base
        assert fingerprint(changed) != fingerprint(base), field.name
