"""The whole run of ``check(paths, config, options)``, top to bottom. Every entry point (the
CLI and so the pre-commit hook, the flake8 plugin, the demo, library callers) gets its result
from here, so a suppression comment, ``--select``/``--ignore`` and a baseline mean the same
everywhere:

1. discover the files under the paths (``files.discover``);
2. the cache: a file whose stat signature (or else content) is unchanged keeps what it gave;
   when no file changed at all, the last run's findings stand;
3. pre-filter rounds: the first summarizes the files that may hold a flag's location or register
   a route (``prefilter.screen``, on the stdlib's tree, in the workers); each later round the
   files that the functions that matter so far reach but cannot resolve
   (``workers.SummaryPool``); a file no round chooses only gets its syntax checked;
4. contracts: the files in whose functions others guarantee something (a validated request
   model, a dependency, a raising or error-returning helper: ``Project.contracts``) are
   summarized again with it, while it changes (``contracts.MAX_ROUNDS``); these summaries are
   not cached, the cache keeps each file's own;
5. the project's findings over the summaries (``project.findings``);
6. the filters (``filters.apply``): suppression comments, select/ignore, the baseline.

Each file moves through explicit ``State``s. The parser (libcst) is imported only when some file
has to be analyzed: a warm run never loads it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from storegate import files, prefilter
from storegate.baseline import Baseline
from storegate.baseline import load as load_baseline
from storegate.cache import Entry, content_hash, open_cache, signature
from storegate.errors import SourceError
from storegate.model import Config, FileError, Finding, Result
from storegate.run.workers import Outcome, SummaryPool, Task, dealt, paced_collector, screen_task, with_deep_stack

if TYPE_CHECKING:
    from storegate.project import Project
    from storegate.summary import ModuleSummary


@dataclass(frozen=True)
class CheckOptions:
    """What a run does besides analyzing; every entry point builds one.

    ``select``/``ignore``: codes or code prefixes (``"SG001,SG002"`` is read as two), checked on
    construction (``ValueError`` for one that names no code). ``baseline``: a baseline file or a
    loaded ``Baseline``; the findings it records are not reported. ``report_unused_ignores``: a
    suppression comment that suppresses nothing is an SG100. ``honour_noqa``: ``# noqa``
    suppresses too (flake8 applies it itself, so its plugin says False). ``force_exclude``:
    excludes apply to paths named explicitly. ``jobs``: worker processes (default: the number of
    cores). ``cache_dir``: where per-file results are kept (default ``.storegate_cache`` beside
    the configuration); ``use_cache=False`` turns the cache off. ``use_prefilter=False`` parses
    every file (for testing the pre-filter).
    """

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Path | Baseline | None = None
    report_unused_ignores: bool = False
    honour_noqa: bool = True
    force_exclude: bool = False
    jobs: int | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    use_prefilter: bool = True

    def __post_init__(self) -> None:
        for name in ("select", "ignore"):  # a bad selector fails before any work
            value = getattr(self, name)
            if value:  # (the codes' registry is imported only then: a warm run needs none)
                from storegate import filters

                object.__setattr__(self, name, filters.parse_selectors((value,) if isinstance(value, str) else value))
            else:
                object.__setattr__(self, name, ())


# ``check(progress=...)``: called with (files parsed or known from the cache, files selected).
Progress = Callable[[int, int], None]


def check(
    paths: Sequence[str | Path],
    config: Config,
    options: CheckOptions | None = None,
    *,
    unsaved: Mapping[str, str | bytes] | Mapping[Path, str | bytes] | None = None,
    progress: Progress | None = None,
    **fields,
) -> Result:
    """Analyze every Python file under ``paths`` with ``config`` and filter the findings as
    ``options`` say. Never raises for bad input in the tree: a file that cannot be analyzed is
    one of ``Result.errors``. Raises ``BaselineError`` for a baseline file that is not one.

    ``unsaved``: path -> the file's text as an editor holds it (``str``) or as read from standard
    input (``bytes``, decoded like a file on disk); it replaces the disk read of that file, and
    is never cached (nor is a result it took part in). A path that is not on disk is checked when
    named in ``paths``. ``progress`` is told how far the parsing is (``Progress``).
    ``fields``: ``CheckOptions`` fields as keywords, over ``options`` (``check(paths, config, jobs=1)``).
    """
    options = replace(options or CheckOptions(), **fields)
    known = load_baseline(options.baseline) if isinstance(options.baseline, (str, Path)) else options.baseline
    texts: dict[str, str | bytes] = {os.path.abspath(path): text for path, text in (unsaved or {}).items()}
    only_unsaved = [Path(p) for p in paths if os.path.abspath(p) in texts and not os.path.lexists(p)]
    directories = files.Directories()
    found, errors = files.discover(
        [p for p in paths if Path(p) not in only_unsaved], config, force_exclude=options.force_exclude, directories=directories
    )
    if only_unsaved:
        found = sorted({*found, *only_unsaved}, key=lambda p: p.as_posix())
    run = _Run(found, config, options, texts, progress, directories)
    findings = run.findings()
    analyzed = Result(
        findings=tuple(findings),  # sorted by the filters
        errors=tuple(sorted([*errors, *run.errors()], key=lambda e: (e.path, e.line or 0, e.message))),
        files_checked=len(found),
        tracebacks=tuple(run.tracebacks()),
        unresolved_imports=run.unresolved,
        notices=tuple(run.notices()),
    )
    # the filters as a key: with a baseline, which is a file of its own, they are applied every time
    applied = None if known is not None else json.dumps([options.select, options.ignore, options.report_unused_ignores, options.honour_noqa])
    kept = run.last_filtered(applied)
    if kept is not None:
        return replace(analyzed, findings=tuple(kept))
    from storegate import filters  # not on a warm run's path: the last run's filtered findings stand

    result = filters.apply(
        analyzed,
        select=options.select,
        ignore=options.ignore,
        baseline=known,
        report_unused_ignores=options.report_unused_ignores,
        honour_noqa=options.honour_noqa,
        paths=found,
    )
    run.keep_filtered(applied, result.findings)
    return result


# How many runs of this process computed their findings (rather than reading the last run's
# from the cache): what the flake8 plugin's trace counts.
analyses = 0


def summarize_files(
    paths: Sequence[Path], config: Config, *, jobs: int | None = None, use_prefilter: bool = True
) -> tuple[list[ModuleSummary], list[FileError], list[str]]:
    """Test support: the summaries of the files that can matter (no cache), their errors and
    internal tracebacks."""
    run = _Run(paths, config, CheckOptions(jobs=jobs, use_cache=False, use_prefilter=use_prefilter))
    run.look_up()
    with run.pool:
        run.pool.start(len(run.files))
        run.summarize()
        run.apply_contracts()
    return run.summaries(), run.errors(), run.tracebacks()


class State(Enum):
    """Where a file is in a run. The values of SUMMARY, ERROR and SKIPPED are the statuses of
    the cache's entries: a file in one of them has an entry, which the cache keeps."""

    UNKNOWN = "unknown"  # not in the cache, or changed since: to be read
    PENDING = "pending"  # read; waits for a pre-filter round to choose it
    SUMMARY = "summary"  # summarized, by this run or an earlier one
    ERROR = "error"  # cannot be read, decoded or parsed: reported, and cached
    SKIPPED = "skipped"  # chosen by no round: only its syntax checked (bad syntax is reported)
    INTERNAL = "internal"  # storegate failed on it: reported, never cached
    TOO_LARGE = "too large"  # over ``Config.max_target_bytes``: never read, a notice, never cached


@dataclass(frozen=True)
class _Names:
    """What the namespace-package names of a run's files are found from (``files.namespace_names``)."""

    root: Path  # the project root
    directories: files.Directories  # memos shared by the run's files
    marked: dict[str, str | None]
    names: dict[str, str]  # ``files.package_name``


@dataclass
class _File:
    """One file on its way through a run. How it is shown and its namespace-package names are
    found once asked for: a warm run, which never asks, only stats the files."""

    path: Path
    key: str  # the absolute path, the cache's key
    module: str
    names: _Names
    unsaved: str | bytes | None = None  # check(unsaved=...): the text to use instead of the disk's
    state: State = State.UNKNOWN
    stat: tuple[int, ...] = ()  # cache.signature() of the file
    sha256: str = ""
    source: str | None = None  # the text, held only while PENDING
    # What the cache keeps (SUMMARY, ERROR, SKIPPED; a SKIPPED file looked at again keeps its
    # entry while PENDING: if no round chooses it, its syntax check stands).
    entry: Entry | None = None
    summary: ModuleSummary | None = None  # a SUMMARY file's, decoded once needed
    failure: tuple[str, str] = ("", "")  # INTERNAL: the message and the traceback
    defines: frozenset[str] | None = None  # PENDING, screened: the names its top level defines (None: unknown)
    own: frozenset[str] | None = None  # screened: the names it can only mean as its globals (None: unknown)

    @cached_property
    def display(self) -> str:
        return files.display_path(self.path)

    @cached_property
    def aliases(self) -> tuple[str, ...]:
        """Its namespace-package names (``files.namespace_names``)."""
        return files.namespace_names(self.key, self.names.root, self.names.directories, self.names.marked)

    # What a state guarantees, checked where it is relied on.
    def text(self) -> str:
        assert self.source is not None, f"{self.display}: no text in state {self.state}"
        return self.source

    def decoded(self) -> ModuleSummary:
        assert self.summary is not None, f"{self.display}: no summary in state {self.state}"
        return self.summary

    def kept(self) -> Entry:
        assert self.entry is not None, f"{self.display}: no cache entry in state {self.state}"
        return self.entry

    def content(self) -> bytes | str:
        """The unsaved text given for the file, else its bytes on disk (``SourceError``)."""
        return files.read_bytes(self.path) if self.unsaved is None else self.unsaved

    def namespace(self) -> str:
        """The directories without ``__init__.py`` above its package, up to the project root."""
        return self.aliases[-1][: -len(self.module) - 1] if self.aliases else ""

    def for_project(self) -> ModuleSummary:
        """The summary as the project stage sees it: shown by this run's path, with the names
        ``import`` may give it here (neither is the cache's)."""
        return replace(self.decoded(), path=self.display, aliases=self.aliases)


def _decoded(content: bytes | str) -> str:
    return content if isinstance(content, str) else files.decode_source(content)


def _hash(content: bytes | str) -> str:
    return content_hash(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)


class _Run:
    """The files of one run and the phases they go through, in the order ``findings`` calls them."""

    def __init__(
        self,
        found: Sequence[Path],
        config: Config,
        options: CheckOptions,
        unsaved: Mapping[str, str | bytes] | None = None,
        progress: Progress | None = None,
        directories: files.Directories | None = None,
    ) -> None:
        self.config = config
        self.options = options
        self.progress = progress
        self.cache = open_cache(options.cache_dir, config) if options.use_cache else None
        self.shared: dict = {}  # equal strings of all summaries as one object
        # the root: the config file's directory, else the cwd; what discovery saw of the directories
        names = _Names(files.exclude_root(config), files.Directories() if directories is None else directories, {}, {})
        self.files = []
        absolute_directories: dict[str, str] = {}  # as found -> absolute: one ``abspath`` per directory
        for path in found:
            directory, filename = os.path.split(os.fspath(path))
            above = absolute_directories.get(directory)
            if above is None:
                above = absolute_directories[directory] = os.path.abspath(directory)
            absolute = os.path.join(above, filename)
            path = path if isinstance(path, Path) else Path(path)
            module = files.module_in(above, filename, names.directories, names.names)
            self.files.append(_File(path, absolute, module, names, (unsaved or {}).get(absolute)))
        self.unresolved: tuple[tuple[str, str], ...] = ()  # imports of project modules no file defines
        # The identifiers that the files summarized in this run (``read``) may mean as another
        # file's (``_foreign``): one set for the whole run.
        self.foreign: set[str] | None = set() if options.use_prefilter else None
        self.read: set[str] = set()
        self.warm = False  # whether the findings are the last run's (``findings``)
        self.first_named: dict[str, str] = {}  # ``_first_named``, for each round's choice
        self.pool = SummaryPool(options.jobs)  # one for every round and the contracts (``findings``)
        self.project: Project | None = None  # the last round's, while it is of every summary (``_reachable``)

    def findings(self) -> list[Finding]:
        """The project's findings: the last run's if no file changed, else computed again from
        every file's summary (only the changed files are summarized again)."""
        self.look_up()
        last = None if self._any(State.UNKNOWN) else self._last_findings()
        if last is not None:
            self.warm = True
            return last
        global analyses
        analyses += 1
        with paced_collector():
            with self.pool:
                if self._any(State.UNKNOWN):  # the workers first, while this process holds little
                    self.pool.start(sum(item.state in (State.UNKNOWN, State.SKIPPED) for item in self.files))
                self._decode_cached_summaries()
                if self._any(State.UNKNOWN):
                    self.summarize()
                self.apply_contracts()
            self._keep_entries()  # before the project stage, which holds every summary decoded
            from storegate.project import findings as project_findings
            from storegate.project import unresolved_imports

            summaries = self.summaries()
            findings = project_findings(summaries, self.config, self.project)
            self.project = None
            self.unresolved = unresolved_imports(summaries, (n for item in self.files for n in (item.module, *item.aliases)))
        self._save(findings)
        return findings

    # -- 2. the cache --------------------------------------------------------------------------

    def look_up(self) -> None:
        """Each file's entry from the cache, if its stat signature is unchanged (and was not
        taken too close to its last change), or else its content is."""
        for item in self.files:
            entry = self._unchanged_entry(item) if item.unsaved is None else None
            if entry is not None:
                item.entry, item.state = entry, State(entry.status)

    def _unchanged_entry(self, item: _File) -> Entry | None:
        try:
            item.stat = signature(os.stat(item.path))
        except OSError:
            return None
        if 0 < self.config.max_target_bytes < item.stat[0]:
            item.state = State.TOO_LARGE
            return None
        if self.cache is None:
            return None
        entry = self.cache.get(item.key)
        if entry is None or entry.module != item.module:
            return None
        if entry.stat == item.stat and not self.cache.racy(entry):
            return entry
        try:
            data = files.read_bytes(item.path)
        except SourceError:
            return None
        item.sha256 = content_hash(data)
        return replace(entry, stat=item.stat) if item.sha256 == entry.sha256 else None  # touched, not changed

    def _result_key(self) -> str:
        """What the last run's findings depend on: every file's content, and where it is shown from."""
        parts = [str(Path.cwd())]
        parts.extend(f"{item.key}\0{item.entry.sha256 if item.entry else item.sha256}" for item in self.files)
        return content_hash("\n".join(parts).encode())

    def _last_findings(self) -> list[Finding] | None:
        result = self.cache.result if self.cache is not None else None
        if not result or result.get("key") != self._result_key():
            return None
        try:
            self.unresolved = tuple((name, path) for name, path in result["unresolved_imports"])
            return [Finding.from_json(data) for data in result["findings"]]
        except (TypeError, KeyError, AttributeError, ValueError):
            return None  # a foreign result: analyze again

    def last_filtered(self, applied: str | None) -> list[Finding] | None:
        """The last run's findings after the same filters (``applied``), when this run's are the
        last run's (``_last_findings``): the suppression comments are then those of the same
        texts. Reading them again means tokenizing every file with a finding (litellm: 1.2 MB of
        text, most of a warm run's time)."""
        result = self.cache.result if self.cache is not None and self.warm and applied is not None else None
        filtered = result.get("filtered") if result else None
        if not isinstance(filtered, dict) or filtered.get("applied") != applied:
            return None
        try:
            return [Finding.from_json(data) for data in filtered["findings"]]
        except (TypeError, KeyError, AttributeError, ValueError):
            return None  # a foreign result: filter again

    def keep_filtered(self, applied: str | None, findings: Sequence[Finding]) -> None:
        """Keep the findings after the filters with the result ``_save`` kept for this run's texts
        (none is kept for a run with an internal error or an unsaved text)."""
        cache = self.cache
        result = cache.result if cache is not None and applied is not None else None
        if cache is None or result is None or result.get("key") != self._result_key() or self._any(State.INTERNAL):
            return
        if any(item.unsaved is not None for item in self.files):
            return
        cache.set_result({**result, "filtered": {"applied": applied, "findings": [f.to_json() for f in findings]}})
        cache.save()

    def _decode_cached_summaries(self) -> None:
        """A summary the cache lost, never wrote, or cannot read is computed again."""
        for item in self.files:
            if item.state is State.SUMMARY and item.summary is None:
                try:
                    data = self.cache.summary(item.kept()) if self.cache is not None else None
                    if data is None:
                        raise ValueError("the summary is not in the cache")
                    item.summary = self._decode(data)
                except (TypeError, KeyError, AttributeError, ValueError):
                    item.entry, item.state = None, State.UNKNOWN

    def _keep_entries(self) -> None:
        """Write what each file gave to the cache, and let go of the summaries' texts the cache
        held for it (litellm: 60 MB), which would otherwise wait in memory beside the decoded
        summaries through the project stage. The run's findings follow (``_save``)."""
        if self.cache is None:
            return
        for item in self.files:
            if item.entry is not None and item.unsaved is None:
                self.cache.put(item.key, item.entry)
        self.cache.forget_missing({item.key for item in self.files})
        self.cache.save()
        self.cache.release_summaries()

    def _save(self, findings: list[Finding]) -> None:
        if self.cache is None:
            return
        # a result with an internal error, or from a text not on disk, is not kept
        if not self._any(State.INTERNAL) and all(item.unsaved is None for item in self.files):
            findings_json = [f.to_json() for f in findings]
            unresolved = [list(pair) for pair in self.unresolved]
            self.cache.set_result({"key": self._result_key(), "findings": findings_json, "unresolved_imports": unresolved})
        self.cache.save()

    # -- 3. pre-filter rounds --------------------------------------------------------------------

    def summarize(self) -> None:
        """The pre-filter rounds over every file not known to be chosen, then the syntax check
        of the files no round chose."""
        for item in self.files:  # a skipped file may be chosen now that other files changed
            if item.state in (State.UNKNOWN, State.SKIPPED):
                self._read(item)
                if item.entry is not None and self.cache is not None:  # skipped before, unchanged: its screen stands
                    self._keep_defines(item, _interned(self.cache.defines(item.entry)))
        pending = [item for item in self.files if item.state is State.PENDING]
        known = [item.for_project() for item in self.files if item.state is State.SUMMARY]
        done = len(self.files) - len(pending)
        for item in self._screen(pending):  # the first round: what the screen takes, summarized
            if item.state is State.SUMMARY:
                known.append(item.for_project())
            done += 1
            self._report(done)
        pending = [item for item in pending if item.state is State.PENDING]
        nothing = frozenset[str]()
        words, modules, callers = self._reachable(known) if known else (nothing, nothing, nothing)
        searched = (nothing, nothing)  # the words and callers every pending text was searched for
        while pending:
            # a text that did not mention a word last round does not now: search the new ones
            unsearched = (words - searched[0], callers - searched[1])
            wanted = self._foreign(words)
            self.first_named = self._first_named()
            targets = self._targets(modules)
            subclassing = self._subclassing(pending, wanted, words)
            chosen = [item for item in pending if self._chosen(item, wanted, targets, *unsearched, subclassing)]
            chosen.sort(key=lambda item: -len(item.text()))  # the largest first (``workers._CHUNK``)
            searched = (words, callers)
            if not chosen:
                break
            tasks = [Task(item.text(), item.display, self.config, item.module, None, item.namespace()) for item in chosen]
            for item, outcome in zip(chosen, self.pool.run(tasks)):
                self._take(item, outcome)
                if item.state is State.SUMMARY:
                    known.append(item.for_project())
                    self.project = None  # no longer of every summary
                done += 1
                self._report(done)
            pending = [item for item in pending if item.state is State.PENDING]
            if not pending or not self.options.use_prefilter:
                break
            new_words, new_modules, new_callers = self._reachable(known)
            if new_words <= words and new_callers <= callers and self._targets(modules | new_modules) <= targets:
                break  # (a target may be new with the same names: its file failed, its package is next)
            words, modules, callers = words | new_words, modules | new_modules, callers | new_callers
        for item in pending:
            self._check_syntax(item)
            done += 1
            self._report(done)

    def _reachable(self, known: list[ModuleSummary]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """Words, module names, and the words wanted where they are used, that the next round
        looks for (``Project.unresolved``). The project is kept while no summary joins it: the
        contracts then start from it rather than from a second one of the same summaries."""
        from storegate.project import Project

        self.project = Project(known, self.config)
        return self.project.unresolved()

    def _foreign(self, words: frozenset[str]) -> frozenset[str]:
        """The words less the globals that every summarized file which mentions them defines
        itself: a name the file's own code calls (``_ADAPTER.validate(x)``, ``router.get(...)``)
        is its own global, and no other file can be what it means. A class whose subclasses are
        wanted (``(Base``) is most often the file's own: each word of that search stays. Known only for the files
        summarized in this run (``foreign``): with a summary from the cache, no word is left out."""
        if self.foreign is None or any(item.state is State.SUMMARY and item.key not in self.read for item in self.files):
            return words
        return frozenset(word for word in words if word.startswith(prefilter.SUBCLASSES) or word in self.foreign)

    def _report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, len(self.files))

    def _screen(self, pending: list[_File]) -> Iterator[_File]:
        """The first round (``prefilter.screen``) over each file not screened before, in the
        workers, in even batches (``workers.dealt``): yields each file it takes once summarized (``_take``). A file
        it does not take gets its skipped entry (with its syntax check) now, which a later
        round's choice replaces. A file skipped before and unchanged keeps its entry: the choice
        depends only on its text and the configuration."""
        if not self.options.use_prefilter:
            return
        fresh = dealt(sorted((item for item in pending if item.entry is None), key=lambda item: -len(item.text())))
        tasks = [Task(item.text(), item.display, self.config, item.module, None, item.namespace()) for item in fresh]
        for item, outcome in zip(fresh, self.pool.run(tasks, screen_task)):
            names = _interned(json.loads(outcome.names or "null"))
            self._keep_defines(item, names)
            if outcome.kind == "skipped":
                item.entry = replace(self._entry(item, State.SKIPPED, error=outcome.error), defines=names)
            else:
                self._take(item, outcome)
                yield item

    @staticmethod
    def _keep_defines(item: _File, names: dict | None) -> None:
        """The screen's ``defines`` as kept (``{"top": [...], "own": [...]}``, or None: anything)."""
        if isinstance(names, dict):
            item.defines = frozenset(names.get("top", ()))
            item.own = frozenset(names["own"]) if "own" in names else None

    # -- 4. contracts ----------------------------------------------------------------------------

    def apply_contracts(self) -> None:
        """Summarize again, with what others guarantee in them, the files the project names;
        again while that changes (a helper that calls a helper). A file that cannot be read
        again keeps its summary."""
        from storegate.contracts import MAX_ROUNDS
        from storegate.project import Project, promises

        applied: dict[str, dict] = {}
        summarized = [item for item in self.files if item.state is State.SUMMARY]
        last, self.project = self.project, None  # the last round's project, if of every summary
        if not promises(item.decoded() for item in summarized):
            self.project = last  # nothing promised: the summaries stand, and so does it
            return
        project = None
        for _ in range(MAX_ROUNDS):
            del project  # the last round's, of summaries since replaced: gone before this one is built
            project = last or Project(self.summaries(), self.config)
            wanted = project.contracts()
            last = None  # this round's summaries replace some of its own
            changed = [item for item in summarized if wanted.get(item.display, {}) != applied.get(item.display, {})]
            tasks, chosen = [], []
            for item in changed:
                applied[item.display] = wanted.get(item.display, {})
                try:
                    source = _decoded(item.content())
                except SourceError:
                    continue
                tasks.append(Task(source, item.display, self.config, item.module, wanted.get(item.display), item.namespace()))
                chosen.append(item)
            if not tasks:
                self.project = project  # no summary changed: it is of every summary, the findings' too
                break
            for item, outcome in zip(chosen, self.pool.run(tasks)):
                if outcome.kind == "summary" and outcome.summary is not None:
                    item.summary = self._decode(json.loads(outcome.summary))

    def _read(self, item: _File) -> None:
        """UNKNOWN or SKIPPED -> PENDING with its text, or ERROR."""
        try:
            content = item.content()
            item.sha256 = _hash(content)
            item.source = _decoded(content)
            item.state = State.PENDING
        except SourceError as exc:
            item.entry, item.state = self._entry(item, State.ERROR, error={"message": exc.message, "line": exc.line}), State.ERROR

    @staticmethod
    def _subclassing(pending: list[_File], wanted: frozenset[str], words: frozenset[str]) -> set[str] | None:
        """The pending files that the search for subclasses (words ``(Base``) needs: those on the
        way down to one that defines a method whose overrides are wanted (words ``def name(``:
        ``prefilter.subclass_files``); ``None`` when no such search is on."""
        bases = frozenset(word for word in wanted if word.startswith(prefilter.SUBCLASSES))
        methods = frozenset(word for word in words if word.startswith(prefilter.DEFINED))
        if not bases or not methods:
            return None
        by_key = {item.display: item for item in pending if item.defines is not None}
        return prefilter.subclass_files({key: item.defines for key, item in by_key.items() if item.defines is not None}, lambda key: by_key[key].text(), bases, methods)

    def _chosen(
        self,
        item: _File,
        words: frozenset[str],
        modules: frozenset[str],
        unsearched: frozenset[str],
        callers: frozenset[str],
        subclassing: set[str] | None = None,
    ) -> bool:
        """A later round's choice: a module it names (by a module name that a file summarized
        already holds, only if it comes first: ``_first_named``), or a file that defines one of its words
        (the screen's ``defines``; one that mentions it if that is not known); for a word wanted
        where it is used, one that mentions it (callers and producers: ``Project.unresolved``).
        ``unsearched`` and ``callers``: the words and callers its text was not searched for yet.
        A word is a global's name, defined at a module's top level (``defines``' ``top``); a
        subclass's file is chosen only when ``subclassing`` (``_subclassing``) has it."""
        if not self.options.use_prefilter:
            return True
        if item.module in modules and item.display < self.first_named.get(item.module, "\U0010ffff"):
            return True
        if any(alias in modules for alias in item.aliases):  # named through a namespace package
            return True
        if item.defines is None:
            return bool(unsearched) and prefilter.mentions(item.text(), unsearched)
        hits = item.defines & words
        if hits and (subclassing is None or item.display in subclassing or any(not word.startswith(prefilter.SUBCLASSES) for word in hits)):
            return True  # (a subclass that defines no method searched for: not for that search)
        return bool(callers) and prefilter.mentions(item.text(), callers)

    def _targets(self, names: frozenset[str]) -> frozenset[str]:
        """The modules to read for the qualified names a round wants (``Project.unresolved``):
        each name's prefixes, from the longest, down to the first that names a file which can
        still be summarized (a name that is a module itself, down to the one above it: ``pkg.
        mod`` may be an attribute of ``pkg``). The modules above it cannot matter: a name is
        looked up in the longest of its prefixes that is a module (``Project._lookup``), so
        ``pkg/__init__.py`` is not read for a call of ``pkg.sub.mod.f``."""
        known = self._module_names()
        found: set[str] = set()
        for name in names:
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                prefix = ".".join(parts[:end])
                found.add(prefix)
                if end < len(parts) and prefix in known:
                    break
        return frozenset(found)

    def _module_names(self) -> set[str]:
        """The module names (namespace names too) of the files not known to fail."""
        failed = (State.ERROR, State.INTERNAL, State.TOO_LARGE)
        return {name for item in self.files if item.state not in failed for name in (item.module, *item.aliases)}

    def _first_named(self) -> dict[str, str]:
        """Each module name of the summarized files, with the first path (as shown) that has it.
        Of the files with one module name (``transformation`` for every ``transformation.py``
        outside a package), the project knows the first by path by that name and the others by
        a namespace name (``project._distinct_names``): a module name that the project wants
        through a file already summarized can mean another file only if that one comes first."""
        first: dict[str, str] = {}
        for item in self.files:
            if item.state is State.SUMMARY and item.display < first.get(item.module, "\U0010ffff"):
                first[item.module] = item.display
        return first

    def _take(self, item: _File, outcome: Outcome) -> None:
        """PENDING -> SUMMARY, ERROR or INTERNAL, as the worker says."""
        if outcome.kind == "summary" and self.foreign is not None:  # what it may mean of other files
            self.foreign |= prefilter.foreign_names(item.text(), item.own)
            self.read.add(item.key)
        item.source = None  # summarized: the text is no longer needed
        if outcome.kind == "summary":
            assert outcome.summary is not None
            entry = self._entry(item, State.SUMMARY, summary=outcome.summary)
            item.summary = self._decode(json.loads(outcome.summary))
            if self.cache is not None and item.unsaved is None:
                self.cache.put(item.key, entry)  # the cache keeps the text until it saves
            item.entry, item.state = replace(entry, summary=None), State.SUMMARY
        elif outcome.kind == "error":
            item.entry, item.state = self._entry(item, State.ERROR, error=outcome.error), State.ERROR
        else:
            item.entry, item.state = None, State.INTERNAL
            item.failure = ((outcome.error or {}).get("message", "internal error"), outcome.trace)

    def _check_syntax(self, item: _File) -> None:
        """PENDING, chosen by no round -> SKIPPED; bad syntax is still reported."""
        if item.entry is None:  # skipped before and unchanged: its syntax check stands
            from storegate.analysis import syntax_error  # the parser is only needed on this path

            problem = with_deep_stack(syntax_error, item.text())  # libcst may see it: never on this stack
            error = None if problem is None else {"message": problem.message, "line": problem.line}
            item.entry = self._entry(item, State.SKIPPED, error=error)
        item.source, item.state = None, State.SKIPPED

    @staticmethod
    def _entry(item: _File, state: State, *, summary: str | None = None, error: dict | None = None) -> Entry:
        return Entry(stat=item.stat, sha256=item.sha256, status=state.value, module=item.module, summary=summary, error=error)

    def _decode(self, data: dict) -> ModuleSummary:
        """A summary from its JSON data (``summary`` is imported here: a warm run decodes none)."""
        from storegate.summary import ModuleSummary

        return ModuleSummary.from_json(data, self.shared)

    # -- what the run gives ----------------------------------------------------------------------

    def summaries(self) -> list[ModuleSummary]:
        return [item.for_project() for item in self.files if item.state is State.SUMMARY]

    def errors(self) -> list[FileError]:
        errors = []
        for item in self.files:
            if item.state is State.INTERNAL:
                errors.append(FileError(item.display, item.failure[0]))
            elif item.state in (State.ERROR, State.SKIPPED) and item.kept().error:
                error = item.kept().error or {}
                errors.append(FileError(item.display, error["message"], error.get("line")))
        return errors

    def notices(self) -> list[str]:
        limit = self.config.max_target_bytes
        return [
            f"skipped {item.display}: {item.stat[0]} bytes, over the max-target-bytes limit of {limit}"
            for item in self.files
            if item.state is State.TOO_LARGE
        ]

    def tracebacks(self) -> list[str]:
        return [f"{item.display}:\n{item.failure[1]}" for item in self.files if item.state is State.INTERNAL]

    def _any(self, state: State) -> bool:
        return any(item.state is state for item in self.files)


def _interned(names: dict | None) -> dict | None:
    """The screen's names (``_Run._keep_defines``) with one string object per name across the
    files (``sys.intern``): held for every file through the rounds, and a large project's files
    bind the same names again and again (litellm: about 40 MB less)."""
    if not isinstance(names, dict):
        return names
    return {field: [sys.intern(name) for name in value] for field, value in names.items()}
