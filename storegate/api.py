"""The one public entry point: ``check(paths, config) -> Result``.

The CLI, the flake8 plugin and the demo are thin adapters over this function. Data flows one
way: files -> per-module summaries -> project findings -> result.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from storegate import files, prefilter
from storegate.analysis import syntax_error
from storegate.errors import SourceError
from storegate.model import Config, FileError, Finding, Result
from storegate.summary import ModuleSummary

T = TypeVar("T")


def check(
    paths: Sequence[str | Path],
    config: Config,
    *,
    force_exclude: bool = False,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> Result:
    """Analyze every Python file under ``paths`` with ``config``; never raises for bad input.

    ``jobs``: worker processes (default: the number of cores). ``cache_dir``: where per-file
    results are kept (default ``.storegate_cache`` beside the configuration); ``use_cache``
    turns the cache off.
    """
    found, errors = files.discover(paths, config, force_exclude=force_exclude)
    summaries, file_errors, tracebacks = summarize_files(found, config)
    from storegate.project import findings as project_findings

    findings = project_findings(summaries, config)
    return Result(
        findings=tuple(sorted(set(findings), key=lambda f: f.sort_key)),
        errors=tuple(sorted([*errors, *file_errors], key=lambda e: (e.path, e.line or 0, e.message))),
        files_checked=len(found),
        tracebacks=tuple(tracebacks),
    )


def summarize_files(paths: Sequence[Path], config: Config) -> tuple[list[ModuleSummary], list[FileError], list[str]]:
    """Summaries of the files that can matter, chosen in rounds by the byte pre-filter.

    The first round takes the files that mention a flag or a sink; each later round takes the
    files that mention a function found to persist (a derived sink) so far.
    """
    summaries: list[ModuleSummary] = []
    errors: list[FileError] = []
    tracebacks: list[str] = []
    sources: dict[Path, str] = {}
    for path in paths:
        try:
            sources[path] = files.read_source(path)
        except SourceError as exc:
            errors.append(FileError(files.display_path(path), exc.message, exc.line))
    words = prefilter.initial_words(config)
    pending = dict(sources)
    while pending:
        chosen = [path for path, source in pending.items() if prefilter.mentions(source, words)]
        if not chosen:
            break
        for path in chosen:
            source = pending.pop(path)
            summary = _summarize_one(path, source, config, errors, tracebacks)
            if summary is not None:
                summaries.append(summary)
        if not pending or words is None:
            break
        new_words = prefilter.derived_words(summaries, config) - words
        if not new_words:
            break
        words = words | new_words
    for path, source in pending.items():  # never parsed for analysis: still report bad syntax
        problem = syntax_error(source)
        if problem is not None:
            errors.append(FileError(files.display_path(path), problem.message, problem.line))
    return summaries, errors, tracebacks


def _summarize_one(path: Path, source: str, config: Config, errors: list[FileError], tracebacks: list[str]) -> ModuleSummary | None:
    from storegate.analysis import summarize

    display = files.display_path(path)
    try:
        return with_deep_stack(summarize, source, display, config, files.module_name(path))
    except SourceError as exc:
        errors.append(FileError(display, exc.message, exc.line))
    except RecursionError:
        errors.append(FileError(display, "too deeply nested to analyze"))
    except Exception as exc:  # an internal error in one file never stops the others
        errors.append(FileError(display, f"internal error: {type(exc).__name__}: {exc}"))
        tracebacks.append(f"{display}:\n{traceback.format_exc()}")
    return None


_STACK_BYTES = 512 * 1024 * 1024  # reserved, not committed: only the pages a deep file touches
_RECURSION_LIMIT = 20_000


def with_deep_stack(function: Callable[..., T], *args) -> T:
    """Run ``function`` in a thread with a large stack and recursion limit.

    libcst's native parser and the tree walks recurse once per nesting level: on the default
    8 MB stack a pathological file (thousands of nested parentheses) would crash the process
    instead of giving a result or a one-line error.
    """
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, function(*args)))
        except BaseException as exc:  # re-raised in the caller's thread
            outcome.append((False, exc))

    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    previous = threading.stack_size(_STACK_BYTES)
    try:
        worker = threading.Thread(target=run, name="storegate-analysis")
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def check_source(source: str, path: str, config: Config) -> list[Finding]:
    """Findings for one source text alone (no other module is known)."""
    from storegate.analysis import summarize
    from storegate.project import findings as project_findings

    return project_findings([summarize(source, path, config, Path(path).stem)], config)
