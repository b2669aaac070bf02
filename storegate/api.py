"""The one public entry point: ``check(paths, config) -> Result``.

The CLI, the flake8 plugin and the demo are thin adapters over this function. Data flows one
way: files -> per-module summaries (cached, in parallel) -> project findings -> result. The
parser (libcst) is imported only when some file has to be analyzed: a warm run never loads it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from storegate import files, prefilter
from storegate.cache import Cache, Entry, content_hash, open_cache, signature
from storegate.errors import SourceError
from storegate.model import Config, FileError, Finding, Result
from storegate.summary import ModuleSummary

if TYPE_CHECKING:
    import concurrent.futures

T = TypeVar("T")


def check(
    paths: Sequence[str | Path],
    config: Config,
    *,
    force_exclude: bool = False,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    use_prefilter: bool = True,
) -> Result:
    """Analyze every Python file under ``paths`` with ``config``; never raises for bad input.

    ``jobs``: worker processes (default: the number of cores). ``cache_dir``: where per-file
    results are kept (default ``.storegate_cache`` beside the configuration); ``use_cache``
    turns the cache off. ``use_prefilter=False`` parses every file (for testing the filter).
    """
    found, errors = files.discover(paths, config, force_exclude=force_exclude)
    cache = open_cache(cache_dir, config) if use_cache else None
    run = _prepare(found)
    misses = [item for item in run if not _from_cache(item, cache)]
    findings = _cached_findings(cache, run) if not misses else None  # nothing changed: the last findings
    if findings is not None:
        file_errors, tracebacks = _cached_errors(run), []
    else:
        summaries, file_errors, tracebacks = _summaries(run, misses, config, jobs, cache, use_prefilter)
        from storegate.project import findings as project_findings

        findings = project_findings(summaries, config)
        if cache is not None:
            if not tracebacks:
                cache.set_result({"key": _result_key(run), "findings": [f.to_json() for f in findings]})
            cache.forget_missing({item.key for item in run})
            cache.save()
    return Result(
        findings=tuple(sorted(set(findings), key=lambda f: f.sort_key)),
        errors=tuple(sorted([*errors, *file_errors], key=lambda e: (e.path, e.line or 0, e.message))),
        files_checked=len(found),
        tracebacks=tuple(tracebacks),
    )


@dataclass
class _File:
    """One file on its way through a run."""

    path: Path
    key: str  # the absolute path, the cache's key
    display: str
    module: str
    stat: tuple[int, ...] = ()  # cache.signature() of the file
    sha256: str = ""
    source: str | None = None
    entry: Entry | None = None  # what the cache (or this run) says the file gave
    parsed: ModuleSummary | None = None  # the entry's summary as an object, once needed


def _prepare(paths: Sequence[Path]) -> list[_File]:
    packages: dict[str, bool] = {}
    run = []
    for path in paths:
        absolute = os.path.abspath(path)
        path = path if isinstance(path, Path) else Path(path)
        run.append(_File(path, absolute, files.display_path(path), files.module_name(absolute, packages)))
    return run


def _result_key(run: list[_File]) -> str:
    """What the last run's findings depend on: every file's content, and where it is shown from."""
    parts = [str(Path.cwd())]
    parts.extend(f"{item.key}\0{item.entry.sha256 if item.entry else item.sha256}" for item in run)
    return content_hash("\n".join(parts).encode())


def _cached_findings(cache: Cache | None, run: list[_File]) -> list[Finding] | None:
    if cache is None or not cache.result or cache.result.get("key") != _result_key(run):
        return None
    try:
        return [Finding.from_json(data) for data in cache.result["findings"]]
    except (TypeError, KeyError, AttributeError, ValueError):
        return None  # a foreign result: analyze again


def _cached_errors(run: list[_File]) -> list[FileError]:
    errors = []
    for item in run:
        entry = item.entry
        if entry is not None and entry.error and entry.status in ("error", "skipped"):
            errors.append(FileError(item.display, entry.error["message"], entry.error.get("line")))
    return errors


def summarize_files(
    paths: Sequence[Path], config: Config, *, jobs: int | None = None, use_prefilter: bool = True
) -> tuple[list[ModuleSummary], list[FileError], list[str]]:
    """Summaries of the files that can matter (no cache), their errors and internal tracebacks."""
    run = _prepare(paths)
    for item in run:
        _from_cache(item, None)
    return _summaries(run, run, config, jobs, None, use_prefilter)


def _summaries(
    run: list[_File], misses: list[_File], config: Config, jobs: int | None, cache: Cache | None, use_prefilter: bool
) -> tuple[list[ModuleSummary], list[FileError], list[str]]:
    """Summaries of the files that can matter, chosen in rounds by the byte pre-filter.

    The first round takes the files that mention a flag or a route; each later round takes the
    files that the functions that matter so far reach but cannot resolve. Files whose stat
    signature is unchanged since the cache saw them are not read at all when nothing else changed.
    """
    errors: list[FileError] = []
    tracebacks: list[str] = []
    shared: dict = {}  # equal strings of all summaries as one object
    if cache is not None:  # a summary the cache lost, never wrote, or cannot read is computed again
        for item in run:
            entry = item.entry
            if entry is not None and entry.status == "summary" and item.parsed is None:
                try:
                    _summary_of(item, cache, shared)
                except (TypeError, KeyError, AttributeError, ValueError):
                    item.entry = None
                    misses = [*misses, item]
    if misses:
        _analyze(run, misses, config, jobs, cache, use_prefilter, shared, errors, tracebacks)
    if cache is not None:
        for item in run:
            if item.entry is not None:
                cache.put(item.key, item.entry)
    summaries = [
        replace(_summary_of(item, cache, shared), path=item.display)
        for item in run
        if item.entry is not None and item.entry.status == "summary"
    ]
    return summaries, [*errors, *_cached_errors(run)], tracebacks


def _from_cache(item: _File, cache: Cache | None) -> bool:
    """Take the file's result from the cache if its stat signature is unchanged (and was not
    taken too close to its last change), or else its content is."""
    try:
        item.stat = signature(os.stat(item.path))
    except OSError:
        return False
    entry = cache.get(item.key) if cache is not None else None
    if entry is None or entry.module != item.module:
        return False
    if entry.stat == item.stat and not cache.racy(entry):
        item.entry = entry
        return True
    try:
        data = files.read_bytes(item.path)
    except SourceError:
        return False
    item.sha256 = content_hash(data)
    if item.sha256 != entry.sha256:
        return False
    item.entry = replace(entry, stat=item.stat)  # touched, not changed
    return True


def _analyze(
    run: list[_File],
    misses: list[_File],
    config: Config,
    jobs: int | None,
    cache: Cache | None,
    use_prefilter: bool,
    shared: dict,
    errors: list[FileError],
    tracebacks: list[str],
) -> None:
    """The pre-filter rounds over every file not known to be selected, then the syntax check."""
    for item in misses:
        try:
            data = files.read_bytes(item.path)
            item.sha256 = content_hash(data)
            item.source = files.decode_source(data)
        except SourceError as exc:
            item.entry = _entry(item, "error", error={"message": exc.message, "line": exc.line})
    # A file known to be skipped may be selected now that other files changed: look again.
    undecided = [item for item in run if item.entry is None or item.entry.status == "skipped"]
    for item in undecided:
        if item.source is None:
            try:
                item.source = files.read_source(item.path)
            except SourceError:
                item.entry = None
                continue
    pending = {item.key: item for item in undecided if item.source is not None}
    known = [_summary_of(item, cache, shared) for item in run if item.entry and item.entry.status == "summary"]
    words, modules = prefilter.initial_words(config), frozenset()
    if known:
        more_words, modules = _reachable(known, config)
        words = words | more_words
    with _Summarizer(config, jobs) as summarizer:
        while pending:
            if use_prefilter:
                chosen = [i for i in pending.values() if i.module in modules or prefilter.mentions(i.source, words)]
            else:
                chosen = list(pending.values())
            if not chosen:
                break
            for item in chosen:
                del pending[item.key]
            for item, outcome in zip(chosen, summarizer.run(chosen)):
                item.source = None  # summarized: the text is no longer needed
                kind, value, trace = outcome
                if kind == "summary":
                    item.entry = _entry(item, "summary", summary=value)
                    known.append(_summary_of(item, cache, shared))
                    if cache is not None:
                        cache.put(item.key, item.entry)  # the cache keeps the text until it saves
                    item.entry = replace(item.entry, summary=None)
                elif kind == "error":
                    item.entry = _entry(item, "error", error=value)
                else:  # an internal error: reported, never cached
                    item.entry = None
                    errors.append(FileError(item.display, value["message"]))
                    tracebacks.append(f"{item.display}:\n{trace}")
            if not pending or not use_prefilter:
                break
            new_words, new_modules = _reachable(known, config)
            if new_words <= words and new_modules <= modules:
                break
            words, modules = words | new_words, modules | new_modules
    from storegate.analysis import syntax_error  # the parser is only needed on this path

    for item in pending.values():  # never parsed for analysis: still report bad syntax
        if item.entry is not None:  # skipped before, unchanged: its syntax check stands
            item.source = None
            continue
        problem = with_deep_stack(syntax_error, item.source)  # libcst may see it: never on this stack
        item.source = None
        error = None if problem is None else {"message": problem.message, "line": problem.line}
        item.entry = _entry(item, "skipped", error=error)


def _reachable(summaries: list[ModuleSummary], config: Config) -> tuple[frozenset[str], frozenset[str]]:
    """Words and module names the next pre-filter round looks for."""
    from storegate.project import Project

    return Project(summaries, config).unresolved()


def _entry(item: _File, status: str, *, summary: str | None = None, error: dict | None = None) -> Entry:
    return Entry(
        stat=item.stat,
        sha256=item.sha256,
        status=status,
        module=item.module,
        summary=summary,  # JSON text, kept by the cache in its own file
        error=error,
    )


def _summary_of(item: _File, cache: Cache | None, shared: dict) -> ModuleSummary:
    """The file's summary as an object: decoded from this run's JSON text, or the cache's."""
    if item.parsed is None:
        text = item.entry.summary
        data = json.loads(text) if text is not None else cache.summary(item.entry)
        item.parsed = ModuleSummary.from_json(data, shared)
    return item.parsed


# -- analysis of single files, in this process or in a pool ---------------------------------

# ("summary", the summary's JSON text, "") | ("error" | "internal", {"message", "line"}, traceback). A
# summary travels as one string: cheap to send from a worker, written to the cache as it is, and
# decoded where no tree is parsed, so that the objects that live to the end of the run are packed
# together instead of pinning the memory of every tree parsed meanwhile.
Outcome = tuple[str, object, str]
_POOL_THRESHOLD = 8  # below this many files, starting worker processes costs more than it saves
_CHUNK = 4  # files sent to a worker at a time: small, so that the workers stay evenly busy


class _Summarizer:
    """Summarizes the files of one run, in worker processes when there are enough of them.

    The parser's memory stays in the workers: a large file's tree takes a few hundred MB while it
    is analyzed, and the allocator keeps much of it afterwards, so this process, which holds the
    summaries of the whole run, never parses many files. The pool is made once, in the first
    round, before any summary is held, and serves every later round.
    """

    def __init__(self, config: Config, jobs: int | None) -> None:
        self.config = config
        self.workers = jobs if jobs is not None else (os.cpu_count() or 1)
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> _Summarizer:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def run(self, chosen: list[_File]) -> Iterator[Outcome]:
        """The outcomes in the order of ``chosen``, as they come: the caller decodes one summary
        while the workers go on with the next files."""
        tasks = [(item.source, item.display, self.config, item.module) for item in chosen]
        if self.pool is None and (len(tasks) < _POOL_THRESHOLD or _in_daemon()):
            return map(_summarize_task, tasks)
        if self.pool is None:
            self.pool = _pool(min(self.workers, len(tasks)))
        return self._collect(tasks)

    def _collect(self, tasks: list) -> Iterator[Outcome]:
        """The pool's outcomes; if a worker dies (a crash in native code, the OOM killer), each
        file not yet summarized is tried again alone in a fresh process, so that only the file
        that kills its process is reported, and the run goes on."""
        from concurrent.futures.process import BrokenProcessPool

        done = 0
        try:  # submitting the files raises too if a worker died meanwhile
            with _safe_path():  # the workers start as the tasks are submitted
                outcomes = self.pool.map(_summarize_task, tasks, chunksize=_CHUNK)
            for outcome in outcomes:
                done += 1
                yield outcome
        except Exception as exc:  # noqa: BLE001 - the task itself never raises: this is the pool
            # BrokenProcessPool when a worker died; OSError or ValueError when a worker being
            # started raced the pool closing its queues after a death. Either way the pool is gone.
            if not isinstance(exc, (BrokenProcessPool, OSError, ValueError)):
                raise
            _abandon(self.pool)
            self.pool = None  # a later round makes a new one
            for task in tasks[done:]:
                yield _alone(task)


_KILL_RETRIES = 3  # a file whose process is killed from outside this often is reported
_CRASH_SIGNALS = ("SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL", "SIGFPE", "SIGSYS", "SIGTRAP")
_UNKNOWN = "an unknown cause"


def _alone(task: tuple[str, str, Config, str]) -> Outcome:
    """The file's outcome from a process of its own, which only it can make crash.

    A crash (SIGSEGV, SIGABRT, ...) or an exit status is the file's doing: reported at once. A
    process killed by a signal of the kind sent from outside (SIGKILL from the OOM killer or a
    user, SIGTERM) is not: the file is tried again, and reported as killed only if that keeps
    happening.
    """
    deaths = []
    for _ in range(_KILL_RETRIES):
        outcome, death = _in_own_process(task)
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
    return ("internal", {"message": message}, f"(no traceback: the process died: {death})")


def _in_own_process(task: tuple[str, str, Config, str]) -> tuple[Outcome | None, str]:
    """The outcome, or None and how the process died (a signal's name, or its exit status).

    A plain process and a pipe, not a pool: the process's exit code is then known for certain,
    however early it died.
    """
    context = _context()
    receive, send = context.Pipe(duplex=False)
    with _safe_path():
        process = context.Process(target=_send_outcome, args=(task, send), daemon=True)
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


def _send_outcome(task: tuple[str, str, Config, str], connection) -> None:
    connection.send(_summarize_task(task))
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


def _pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=_context())


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


def _summarize_task(task: tuple[str, str, Config, str]) -> Outcome:
    source, display, config, module = task
    from storegate.analysis import summarize

    try:
        summary = with_deep_stack(summarize, source, display, config, module)
        return ("summary", json.dumps(summary.to_json(), separators=(",", ":")), "")
    except SourceError as exc:
        return ("error", {"message": exc.message, "line": exc.line}, "")
    except RecursionError:
        return ("error", {"message": "too deeply nested to analyze", "line": None}, "")
    except Exception as exc:  # an internal error in one file never stops the others
        import traceback

        return ("internal", {"message": f"internal error: {type(exc).__name__}: {exc}"}, traceback.format_exc())


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
