"""Session-wide servers: the sample Responses server and its leaky twin, each over its own SQLite file."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


# The longest tests (a whole-stdlib run, a wheel and a venv built, chromium; then those of 5 to
# 25 CPU-seconds), first in the collected order: ``--dist worksteal`` gives each worker a block
# of that order and moves queued tests to the worker that is done, so the long ones start at
# once and the short ones fill in around them, instead of one long test running alone at the
# end. Whole modules (or the tests of one fixture) where they share a module-scoped fixture:
# one setup each, never one on each worker.
FIRST = (
    "tests/test_prefilter.py::test_whole_stdlib_has_no_internal_errors",
    "tests/test_wheel.py::",
    "tests/test_action.py::",
    "tests/test_process_safety.py::test_a_worker_killed",
    "tests/test_html.py::",
    "tests/test_prefilter.py::test_stdlib_subset_",  # the two tests of the ``stdlib_subset`` fixture
    "tests/test_robustness.py::test_ten_megabyte_files_give_a_result",
    "tests/test_mutation.py::test_no_mutant_leaks_unseen",
    "tests/test_fuzz.py::test_sources_from_libcst_nodes",
    "tests/test_imports.py::test_every_module_imports_first_in_a_fresh_interpreter",
    "tests/test_precommit.py::",
    "tests/test_types.py::test_mypy_reports_no_error",
    "tests/test_bounds.py::test_work_past_the_budget_is_a_one_line_error_and_the_run_goes_on",
)


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        return next((index for index, prefix in enumerate(FIRST) if item.nodeid.startswith(prefix)), len(FIRST))

    items.sort(key=rank)  # stable: the rest keep their order


def pytest_collection_finish(session):
    """The objects of the test process so far (pytest, its plugins, the test modules and what they
    imported) are set aside from the garbage collector (``gc.freeze``, made for processes that
    fork): neither this process nor the worker processes that storegate forks from it walk them
    again at each full collection, as a ``storegate`` process, which holds none of them, never
    does. The summaries of a large run allocate enough for many full collections: the
    whole-stdlib run takes a tenth less CPU. Nothing frozen is garbage (collected first)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def private_cache_key(tmp_path_factory):
    """The tests (and the processes they start) keep the cache's key in a home of their own,
    never in the real user's ~/.cache/storegate."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        yield


@pytest.fixture(scope="session", autouse=True)
def bytecode_of_the_session(tmp_path_factory):
    """Where PYTHONDONTWRITEBYTECODE is set (as in CI sandboxes), every process the tests start
    (``python -m storegate``, spawned workers, flake8, pre-commit) would compile storegate from
    source again: they keep their bytecode in a folder of the session instead, never in the
    checkout (what the variable protects). Where it is not set, nothing changes.

    The prefix hides the bytecode installed beside the libraries too, so what the processes
    import is compiled once into the folder: one folder for the whole run, shared by the xdist
    workers (in their common temporary directory; Python writes bytecode atomically)."""
    import os

    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        yield
        return
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "bytecode"
    folder.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PYTHONDONTWRITEBYTECODE")
        patch.setenv("PYTHONPYCACHEPREFIX", str(folder))
        yield


@pytest.fixture(scope="session")
def correct_server(tmp_path_factory):
    """(base_url, db_path) of the sample server, which honours store=false."""
    from server_harness import running_server

    from storegate.twin import server_source_dir

    db_path = tmp_path_factory.mktemp("correct-server") / "responses.sqlite3"
    with running_server(server_source_dir().parent, db_path) as base_url:
        yield base_url, db_path


@pytest.fixture(scope="session")
def leaky_server(tmp_path_factory):
    """(base_url, db_path) of the leaky twin: the motivating bug put back by storegate.twin."""
    from server_harness import running_server

    from storegate.twin import make_leaky_copy

    root = tmp_path_factory.mktemp("leaky-server")
    twin = make_leaky_copy(root / "src")
    db_path = root / "responses.sqlite3"
    with running_server(twin.parent, db_path) as base_url:
        yield base_url, db_path


def end_analysis_thread() -> None:
    """End storegate's analysis thread (``workers.with_deep_stack``), which in-process summaries
    leave running: the next run then starts as a fresh process would. With another thread
    alive, a run's worker pool is spawned instead of forked (``workers._context``), and each
    spawned worker imports storegate, libcst and pytest again: about 0.7 CPU-seconds a worker.
    Tests that run ``check`` many times in one test call it between runs."""
    workers = sys.modules.get("storegate.run.workers")
    executor = getattr(workers, "_DEEP_EXECUTOR", None)
    if executor is not None:
        workers._DEEP_EXECUTOR = None
        executor.shutdown()


@pytest.fixture(autouse=True)
def no_analysis_thread_left_over():
    """Each test starts as a fresh process would (``end_analysis_thread``): a pool of the rest of
    the session is never spawned for a thread an earlier test left. The tests that mean to spawn
    start a thread of their own."""
    yield
    end_analysis_thread()
