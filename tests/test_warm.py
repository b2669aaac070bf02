"""The warm run: a tree that has not changed since the last run is answered from the cache
without the analysis, and without even loading its code (the whole command should take about
what the interpreter takes to start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

API = "from pkg.store import save_row  # noqa: F401\n\n\ndef handler(store, row):\n    save_row(row)\n"  # SG002 at 5:5
STORE = "def save_row(row):\n    insert_row(row)\n"
PLAIN = "def helper(x):\n    return x + 1\n"

# Runs ``storegate check`` in this process and writes the names of the modules it imported,
# and how many texts it tokenized (``tokenized=N``: what reading suppression comments costs).
COMMAND = (
    "import atexit, sys, tokenize\n"
    "out = sys.argv.pop(1)\n"
    "texts = []\n"
    "generate = tokenize.generate_tokens\n"
    "tokenize.generate_tokens = lambda readline: texts.append(1) or generate(readline)\n"
    "atexit.register(lambda: open(out, 'w').write('\\n'.join([*sorted(sys.modules), f'tokenized={len(texts)}'])))\n"
    "from storegate.cli import main\n"
    "main()\n"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("warm")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "api.py").write_text(API)
    (root / "pkg" / "store.py").write_text(STORE)
    for number in range(10):
        (root / "pkg" / f"plain{number}.py").write_text(PLAIN)
    (root / "pyproject.toml").write_text('[tool.storegate]\nflags = ["store"]\nsinks = ["insert_*"]\n')
    return root


def run(project: Path, cache: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", COMMAND, str(out), "check", "--cache-dir", str(cache), "-q", *options, "."],
        cwd=project, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_a_warm_run_loads_neither_the_parser_nor_the_analysis(project, tmp_path):
    """The second run of an unchanged tree reports the same finding, and never imports libcst,
    the project's analysis (``storegate.project``) or the summaries' code: a warm run is
    mostly the interpreter's start, so every module it loads shows."""
    cache = tmp_path / "cache"
    cold = run(project, cache, tmp_path / "cold.txt")
    warm = run(project, cache, tmp_path / "warm.txt")
    assert cold.returncode == warm.returncode == 1, cold.stderr + warm.stderr
    assert warm.stdout == cold.stdout and "pkg/api.py:5:5: SG002" in warm.stdout
    assert "storegate.project" in (tmp_path / "cold.txt").read_text().split()
    loaded = set((tmp_path / "warm.txt").read_text().split())
    assert loaded.isdisjoint({"libcst", "storegate.project", "storegate.summary", "storegate.analysis"})


def test_a_warm_run_reads_no_suppression_comment_again(project, tmp_path):
    """The findings after the filters (suppression comments, ``--select``/``--ignore``) are
    kept with the findings: an unchanged tree has the same comments, so a warm run with the
    same filters tokenizes no file (litellm: its three files with findings are 1.2 MB of text,
    most of a warm run's time). Other filters are applied again, and their result kept."""
    cache = tmp_path / "cache"
    cold = run(project, cache, tmp_path / "cold.txt")
    warm = run(project, cache, tmp_path / "warm.txt")
    assert warm.stdout == cold.stdout and "pkg/api.py:5:5: SG002" in warm.stdout
    assert "tokenized=1" in (tmp_path / "cold.txt").read_text().split()  # api.py: it has a finding and a noqa
    assert "tokenized=0" in (tmp_path / "warm.txt").read_text().split()
    other = run(project, cache, tmp_path / "other.txt", "--ignore", "SG002")
    assert other.returncode == 0 and "SG002" not in other.stdout
    assert run(project, cache, tmp_path / "again.txt").stdout == cold.stdout


def test_the_cache_writes_and_reads_its_summaries_without_copying_them_all(tmp_path):
    """The summaries' file of a large tree is about 100 MB (litellm's). Writing it keeps no
    second, encoded copy of every summary (the seal is computed as the lines stream out), and
    reading it keeps no decoded copy of the whole file beside the summaries themselves."""
    import tracemalloc

    from storegate.cache import Cache, Entry
    from storegate.model import Config

    size, count = 1_000_000, 16
    cache = Cache(tmp_path, Config(), b"k" * 32)
    entries = [Entry((1, 2, 3, 4, n), f"{n:064x}", "summary", f"m{n}", '"' + "x" * size + '"') for n in range(count)]
    for number, entry in enumerate(entries):
        cache.put(f"/project/m{number}.py", entry)
    tracemalloc.start()
    try:
        cache.save()
        written = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        again = Cache(tmp_path, Config(), b"k" * 32)
        assert again.summary(again.get("/project/m3.py")) == "x" * size
        read = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert written < size * count / 4  # before: a copy of them all
    assert read < size * count * 2.5  # the file's bytes and the summaries; before: two copies more
