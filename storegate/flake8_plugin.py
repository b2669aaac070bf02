"""The flake8 plugin: ``flake8 --select SG`` reports what ``storegate check`` reports.

flake8 hands a plugin one file at a time, but storegate's findings need the whole project
(derived sinks in other modules, SG002). So the first file checked in a process runs
``storegate.check`` once over the paths flake8 was given, with the configuration of
``[tool.storegate]`` and the ``--storegate-*`` options; the result is kept (per configuration
and paths) and every file then yields its own findings from it. flake8's worker processes each
need the result once, with ``jobs=1`` since flake8 already runs one process per core (and
inside flake8's daemonic workers storegate summarizes in the worker itself); they take turns
(a lock per configuration and paths, beside the cache's key), so that the first one analyzes
and writes the cache and the others read the result from it: the project is analyzed once per
flake8 run. ``STOREGATE_TRACE``: a file to which each analysis appends a line (for tests).

The run is storegate's pipeline, as for ``storegate check``: ``# storegate: ignore[...]``
comments and the baseline of ``--storegate-baseline`` drop their findings before any is yielded. ``# noqa: SG001`` is left to flake8, which
applies it to every plugin's codes (and ``--disable-noqa`` turns it off), as is ``--select``.
Files that storegate cannot read are left to flake8 (which reports syntax errors as E999); a
configuration error stops flake8 with its message.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from storegate._version import __version__

_Index = dict[str, list[tuple[int, int, str]]]


def _resolved(path: str | Path) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _as_list(value: Any) -> list[str] | None:
    """A flake8 option value (a list, or a comma-separated string from a config file) or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    items = [str(item).strip() for item in value if str(item).strip()]
    return items or None


def _any_code_selected(options: argparse.Namespace) -> bool:
    """Whether flake8 would report some SG code. flake8 runs every plugin whatever ``--select``
    says, so under ``flake8 --select F`` the plugin would analyze the project for nothing."""
    from storegate.checks import CODES

    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)
        return any(engine.decision_for(code) is Decision.Selected for code in CODES)
    except Exception:  # a flake8 whose internals differ: do the work
        return True


@contextlib.contextmanager
def _one_at_a_time(run: str) -> Iterator[None]:
    """Hold the lock of this configuration and these paths (an advisory ``flock`` on a file in
    this user's private storegate directory); without one (no such directory, no ``fcntl``), go
    on unlocked: the processes then each analyze, as before."""
    from storegate.cache import key_dir, user_key

    directory = key_dir() if user_key() is not None else None  # the key's directory: made private
    try:
        import fcntl

        if directory is None:
            raise OSError("no private directory")
        name = "flake8-" + hashlib.sha256(run.encode()).hexdigest()[:24] + ".lock"
        fd = os.open(directory / name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _trace(count: int) -> None:
    trace = os.environ.get("STOREGATE_TRACE")
    if trace and count:
        with open(trace, "a", encoding="utf-8") as out:
            out.write(f"analysis {os.getpid()}\n")


class StoregateChecker:
    name = "storegate"
    version = __version__

    # Set by parse_options, in the main process and in every worker.
    _paths: ClassVar[tuple[str, ...]] = (".",)
    _flags: ClassVar[list[str] | None] = None
    _sinks: ClassVar[list[str] | None] = None
    _rules: ClassVar[list[str] | None] = None
    _selected: ClassVar[bool] = True  # whether flake8 reports any SG code at all
    _baseline: ClassVar[Any] = None  # the Baseline of --storegate-baseline, loaded
    # (paths, flags, sinks, rules) -> the effective Config
    _configs: ClassVar[dict[tuple, Any]] = {}
    # (config, paths, baseline) -> resolved path -> [(line, 0-based column, "CODE message")]
    _results: ClassVar[dict[tuple, _Index]] = {}

    def __init__(self, tree: Any, filename: str) -> None:
        # flake8 classifies a plugin by its parameters and accepts only those that take `tree`
        # (or a line); the tree itself is not used: storegate parses files with libcst.
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        manager.add_option(
            "--storegate-flags", default=None, parse_from_config=True,
            help="storegate: flags that gate persistence (comma-separated; 'not NAME' when "
            "inverted); replaces all configured flags.",
        )
        manager.add_option(
            "--storegate-sinks", default=None, parse_from_config=True,
            help="storegate: persistence call patterns (comma-separated); replaces all configured sinks.",
        )
        manager.add_option(
            "--storegate-rules", default=None, parse_from_config=True,
            help="storegate: rule packs (comma-separated names or .toml paths); replaces the configured packs.",
        )
        manager.add_option(
            "--storegate-baseline", default=None, parse_from_config=True, normalize_paths=True,
            help="storegate: report only the findings not recorded in this baseline file "
            "(written by storegate check --write-baseline).",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        filenames = getattr(options, "filenames", None) or ["."]
        cls._paths = tuple(str(name) for name in filenames if name != "-") or (".",)
        cls._flags = _as_list(getattr(options, "storegate_flags", None))
        cls._sinks = _as_list(getattr(options, "storegate_sinks", None))
        cls._rules = _as_list(getattr(options, "storegate_rules", None))
        cls._selected = _any_code_selected(options)
        try:  # a configuration or baseline error stops flake8 here, with one clear line
            from storegate.baseline import load

            cls._config()
            baseline_file = getattr(options, "storegate_baseline", None)
            cls._baseline = load(Path(baseline_file)) if baseline_file else None
        except Exception as exc:
            from flake8.exceptions import ExecutionError

            raise ExecutionError(f"storegate: {exc}") from None

    @classmethod
    def _config(cls) -> Any:
        from storegate.config import load_config

        options = (cls._paths, *(tuple(v) if v is not None else None for v in (cls._flags, cls._sinks, cls._rules)))
        if options not in cls._configs:
            cls._configs[options] = load_config(list(cls._paths), flags=cls._flags, sinks=cls._sinks, rules=cls._rules)
        return cls._configs[options]

    @classmethod
    def _index(cls) -> _Index:
        from storegate.run.pipeline import CheckOptions, check

        config = cls._config()
        key = (config, cls._paths, cls._baseline)
        if key not in cls._results:
            from storegate.run import pipeline

            from storegate.run.workers import with_deep_stack

            # The process as an analysis leaves it (a raised recursion limit), whether this one
            # analyzes or reads the result: flake8's other plugins then run the same either way.
            with_deep_stack(int)
            with _one_at_a_time(repr((os.getcwd(), cls._paths, config))):
                before = pipeline.analyses
                result = check(list(cls._paths), config, CheckOptions(baseline=cls._baseline, jobs=1, honour_noqa=False))
                _trace(pipeline.analyses - before)
            index: _Index = {}
            for finding in result.findings:
                index.setdefault(_resolved(finding.path), []).append(
                    (finding.line, max(finding.column - 1, 0), f"{finding.code} {finding.message}")
                )
            cls._results[key] = index
        return cls._results[key]

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not self._selected or self.filename in ("-", "stdin") or not os.path.isfile(self.filename):
            return
        for line, column, text in self._index().get(_resolved(self.filename), ()):
            yield line, column, text, type(self)

