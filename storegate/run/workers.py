"""Where files are summarized: worker processes, their recovery, and the deep-stack thread.

``SummaryPool`` summarizes a round's files in a process pool (or in this process when there are
few, or when this process may not start others). A worker that dies takes only the file that
killed it: every file not yet summarized is tried again alone, in a process of its own
(``_alone``). ``with_deep_stack`` runs the parser and the tree walks on a thread with a large
stack, in whichever process that is.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from storegate.errors import SourceError
from storegate.model import Config

if TYPE_CHECKING:
    import concurrent.futures

T = TypeVar("T")


class Task(NamedTuple):
    """One file to summarize, as sent to a worker."""

    source: str
    display: str
    config: Config
    module: str
    contracts: dict | None = None  # what others guarantee in its functions (``Project.contracts``)
    namespace: str = ""  # the directories without ``__init__.py`` above its package (``analysis.collect_imports``)


class Outcome(NamedTuple):
    """What summarizing one file gave.

    ``kind`` "summary": ``summary`` is the summary's JSON text. A summary travels as one string:
    cheap to send from a worker, written to the cache as it is, and decoded where no tree is
    parsed, so that the objects that live to the end of the run are packed together instead of
    pinning the memory of every tree parsed meanwhile. ``kind`` "error" (the file's fault:
    cached) or "internal" (storegate's: never cached): ``error`` is ``{"message", "line"}``,
    ``trace`` the traceback of an internal error.
    """

    kind: str
    summary: str | None = None
    error: dict | None = None
    trace: str = ""
    names: str | None = None  # ``screen_task``'s: the JSON of the names the file defines


_POOL_THRESHOLD = 8  # below this many files, starting worker processes costs more than it saves
# Files sent to a worker at a time: for the screen's many small tasks, enough that the
# configuration sent with each batch (10 KB, pickled once per batch) costs little; one at a time
# to summarize, the largest first (``_Run.summarize``), so that no worker is left with a large
# file while the others wait for it to end the round.
_CHUNK = 16


def dealt(tasks: list[T]) -> list[T]:
    """``tasks``, the largest first, dealt into the screen's batches of ``_CHUNK`` like cards:
    the first batch takes every so-many-th from the first, the next from the second, so that each
    holds about as many bytes. A file the screen takes is summarized in its batch
    (``screen_task``): a batch of the largest files alone would keep one worker long after the
    others are done."""
    batches = -(-len(tasks) // _CHUNK)
    return [tasks[i] for first in range(batches) for i in range(first, len(tasks), batches)]


class SummaryPool:
    """Summarizes the files of one run, in worker processes when there are enough of them.

    The parser's memory stays in the workers: a large file's tree takes a few hundred MB while it
    is analyzed, and the allocator keeps much of it afterwards, so this process, which holds the
    summaries of the whole run, never parses many files. The pool is made once (``start``),
    before any text is read or any summary held, and serves every round of the run, the
    contracts' too.
    """

    def __init__(self, jobs: int | None) -> None:
        self.workers = jobs if jobs is not None else (os.cpu_count() or 1)
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> SummaryPool:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def start(self, files: int) -> None:
        """Start the worker processes now, for a run that will send about ``files`` files: before
        the caller reads any text or decodes any summary, so that a forked worker, whose memory
        is a copy of this process's, holds none of them (the texts of a 3,000-file tree are
        50 MB, its summaries some hundreds)."""
        if self.pool is not None or files < _POOL_THRESHOLD or _in_daemon():
            return
        with _safe_path():  # its queues' locks start multiprocessing's resource tracker, a python -c
            context = _context()
            if context.get_start_method() == "fork":
                # every task needs the analysis (the screen's syntax check too): imported here,
                # each forked worker has it instead of importing it again (half a second of each
                # worker's CPU, every run), for some 16 MB more in this process when it would
                # not have imported it itself
                import storegate.analysis  # noqa: F401
            self.pool = _pool(min(self.workers, files), context)
            self.pool.submit(int)  # a fork pool starts all its workers with its first task (a death shows in ``run``)

    def run(self, tasks: list[Task], work: Callable[[Task], Outcome] | None = None) -> Iterator[Outcome]:
        """The outcomes in the order of ``tasks``, as they come: the caller decodes one summary
        while the workers go on with the next files. ``work``: what is done with each task
        (``summarize_task``, or ``screen_task``); a module-level function, which never raises."""
        work = work or summarize_task
        self.start(len(tasks))
        if self.pool is None:
            return map(work, tasks)
        return self._collect(tasks, work)

    def _collect(self, tasks: list[Task], work: Callable[[Task], Outcome]) -> Iterator[Outcome]:
        """The pool's outcomes; if a worker dies (a crash in native code, the OOM killer), each
        file not yet summarized is tried again alone in a fresh process, so that only the file
        that kills its process is reported, and the run goes on."""
        from concurrent.futures.process import BrokenProcessPool

        pool = self.pool
        assert pool is not None
        done = 0
        try:  # submitting the files raises too if a worker died meanwhile
            with _safe_path():  # the workers start as the tasks are submitted
                outcomes = pool.map(work, tasks, chunksize=1 if work is summarize_task else _CHUNK)
            for outcome in outcomes:
                done += 1
                yield outcome
        except Exception as exc:  # noqa: BLE001 - the task itself never raises: this is the pool
            # BrokenProcessPool when a worker died; OSError or ValueError when a worker being
            # started raced the pool closing its queues after a death. Either way the pool is gone.
            if not isinstance(exc, (BrokenProcessPool, OSError, ValueError)):
                raise
            _abandon(pool)
            self.pool = None  # a later round makes a new one
            for task in tasks[done:]:
                yield _alone(task, work)


_KILL_RETRIES = 3  # a file whose process is killed from outside this often is reported
_CRASH_SIGNALS = ("SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL", "SIGFPE", "SIGSYS", "SIGTRAP")
_UNKNOWN = "an unknown cause"


def _alone(task: Task, work: Callable[[Task], Outcome]) -> Outcome:
    """The file's outcome from a process of its own, which only it can make crash.

    A crash (SIGSEGV, SIGABRT, ...) or an exit status is the file's doing: reported at once. A
    process killed by a signal of the kind sent from outside (SIGKILL from the OOM killer or a
    user, SIGTERM) is not: the file is tried again, and reported as killed only if that keeps
    happening.
    """
    deaths = []
    for _ in range(_KILL_RETRIES):
        outcome, death = _in_own_process(task, work)
        if outcome is not None:
            return outcome
        if death in _CRASH_SIGNALS or death.startswith("exit status"):
            message = f"internal error: the process analyzing the file crashed ({death})"
            break
        deaths.append(death)
    else:
        death = next((death for death in deaths if death != _UNKNOWN), _UNKNOWN)
        if death == _UNKNOWN:
            message = "internal error: the process analyzing the file died (cause unknown)"
        else:
            message = f"internal error: the process analyzing the file was killed by {death} (out of memory, or from outside)"
    return Outcome("internal", error={"message": message}, trace=f"(no traceback: the process died: {death})")


def _in_own_process(task: Task, work: Callable[[Task], Outcome]) -> tuple[Outcome | None, str]:
    """The outcome, or None and how the process died (a signal's name, or its exit status).

    A plain process and a pipe, not a pool: the process's exit code is then known for certain,
    however early it died.
    """
    context = _context()
    receive, send = context.Pipe(duplex=False)
    with _safe_path():
        process = context.Process(target=_send_outcome, args=(work, task, send), daemon=True)
        process.start()
    send.close()
    try:
        outcome = receive.recv()
    except EOFError:  # it died before it could answer
        outcome = None
    finally:
        receive.close()
    process.join()
    return (outcome, "") if outcome is not None else (None, _death(process.exitcode))


def _send_outcome(work: Callable[[Task], Outcome], task: Task, connection) -> None:
    connection.send(work(task))
    connection.close()


def _death(code: int | None) -> str:
    """How a process died, from its exit code: ``SIGKILL``, ``exit status 3``, ..."""
    import signal

    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}" if code else _UNKNOWN


def _abandon(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Let a broken pool go without waiting for it. Its remaining workers are killed first:
    on Python 3.11 a broken pool's cleanup can wait forever on a worker that is blocked writing
    a result nobody reads anymore (seen here; cpython gh-94777 is of the same kind)."""
    workers = getattr(pool, "_processes", None) or {}  # the executor's own table of its workers
    for process in list(workers.values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _in_daemon() -> bool:
    """Whether this is a daemonic pool worker (flake8's, say): it may not start processes."""
    import multiprocessing

    return multiprocessing.current_process().daemon


def _pool(workers: int, context) -> concurrent.futures.ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start)


# A worker allocates a parse tree of some hundred thousand nodes per file, and the run's process
# decodes summaries of a few million objects that live until the end; reference counting frees
# what they drop (a tree node has no parent link). With CPython's default threshold (700) the
# collector scans the young objects every few hundred allocations and the whole heap every
# hundred such scans: about a tenth of the CPU, for garbage it rarely finds.
_YOUNG_THRESHOLD = 10_000


def _worker_start() -> None:
    """A worker process's collector runs less often (``_YOUNG_THRESHOLD``), for its whole life,
    and never scans what the worker starts with (``gc.freeze``: a forked worker's copy of its
    parent, the imported modules), which lives as long as the worker."""
    import gc

    gc.set_threshold(_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    gc.freeze()


@contextlib.contextmanager
def collected_after() -> Iterator[None]:
    """No collection while one file is analyzed, then one of the objects made meanwhile.

    A file's trees are freed by reference counting as it is done; a collection in the middle
    only scans them (some hundred thousand nodes) for the few cycles of the analysis. Collecting
    the youngest generation at the end finds those cycles and scans only what the file left
    alive. A collector the caller had turned off stays off."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.collect(0)
            gc.enable()


@contextlib.contextmanager
def paced_collector() -> Iterator[None]:
    """This process's collector at ``_YOUNG_THRESHOLD`` while a run analyzes, then as its user
    had set it (an editor's server, flake8)."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(_YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _context():
    """fork is the cheapest start (nothing to re-import) and, made before any summary is held,
    gives small workers; never with other threads alive. spawn re-imports the caller's main module."""
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _safe_path() -> Iterator[None]:
    """While worker processes start: a spawned worker runs ``python -c``, which puts the current
    directory first on ``sys.path`` and imports ``multiprocessing`` from there if the checked
    tree has a ``multiprocessing.py``. ``PYTHONSAFEPATH`` (Python 3.11+) leaves it out."""
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = before


def summarize_task(task: Task) -> Outcome:
    """Summarize one file; never raises (an internal error in one file never stops the others)."""
    from storegate.analysis import summarize

    try:
        with collected_after():
            summary = with_deep_stack(summarize, task.source, task.display, task.config, task.module, task.contracts, task.namespace)
        return Outcome("summary", summary=json.dumps(summary.to_json(), separators=(",", ":")))
    except SourceError as exc:
        return Outcome("error", error={"message": exc.message, "line": exc.line})
    except RecursionError:
        return Outcome("error", error={"message": "too deeply nested to analyze", "line": None})
    except Exception as exc:
        import traceback

        return Outcome("internal", error={"message": f"internal error: {type(exc).__name__}: {exc}"}, trace=traceback.format_exc())


def screen_task(task: Task) -> Outcome:
    """The pre-filter's first round for one file (``prefilter.screen``): a file it takes is
    summarized at once (``summarize_task``: kind "summary", "error" or "internal"), in the same
    task, since the first round's choice is final; a file it does not take is kind "skipped",
    with its syntax error, if any. ``names``: the JSON of the names the file defines
    (``{"top": [...], "own": [...]}``; ``null``: any). Never raises (an internal error in the
    screen makes the file taken: its summary then says what is wrong)."""
    from storegate.prefilter import screen

    try:
        wanted, problem, names = with_deep_stack(screen, task.source, task.config)
    except Exception:  # noqa: BLE001 - the summary reports it
        return summarize_task(task)
    kept = json.dumps(None if names is None else {field: sorted(value) for field, value in names._asdict().items()})
    if wanted:
        return summarize_task(task)._replace(names=kept)
    error = None if problem is None else {"message": problem.message, "line": problem.line}
    return Outcome("skipped", error=error, names=kept)


_STACK_BYTES = 512 * 1024 * 1024  # reserved, not committed: only the pages a deep file touches
_RECURSION_LIMIT = 20_000


def with_deep_stack(function: Callable[..., T], *args) -> T:
    """Run ``function`` on storegate's analysis thread, which has a large stack.

    libcst's native parser and the tree walks recurse once per nesting level: on the default
    8 MB stack a pathological file (thousands of nested parentheses) would crash the process
    instead of giving a result or a one-line error. One long-lived thread (not one per file)
    keeps the allocator's memory in one arena.
    """
    global _DEEP_EXECUTOR
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    with _DEEP_LOCK:
        if _DEEP_EXECUTOR is None:
            from concurrent.futures import ThreadPoolExecutor

            previous = threading.stack_size(_STACK_BYTES)
            try:
                _DEEP_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storegate-analysis")
                _DEEP_EXECUTOR.submit(lambda: None).result()  # start the thread while the size is set
            finally:
                threading.stack_size(previous)
        executor = _DEEP_EXECUTOR
    return executor.submit(function, *args).result()


_DEEP_EXECUTOR: concurrent.futures.ThreadPoolExecutor | None = None
_DEEP_LOCK = threading.Lock()
