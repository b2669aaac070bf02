"""The per-file result cache: what a file's analysis gave, keyed by its content and the config.

Per effective configuration (and analyzer version) under ``.storegate_cache/``: an index that
maps each file's absolute path to its size, mtime and content hash and to what the file gave (a
summary, a one-line error, or "skipped": the pre-filter never selected it), with the last run's
findings; and the summaries themselves. A warm run stats the files and, when nothing changed,
reads only the index: no source, no summary, and no parser is imported.

Never pickle: a cache directory can come from an untrusted checkout. Anything unreadable,
corrupt or foreign is ignored (and rewritten); writes are atomic (a temporary file, then a
rename), so two runs at once never leave a broken file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

from storegate import __version__
from storegate.disk import write_atomic
from storegate.model import Config

CACHE_DIR_NAME = ".storegate_cache"
_FORMAT = 3


@dataclass
class Entry:
    mtime_ns: int
    size: int
    sha256: str
    status: str  # "summary", "skipped" or "error"
    module: str = ""
    summary: str | None = None  # the summary's JSON text, before it is stored
    error: dict | None = None  # {"message", "line"}

    def to_json(self) -> dict:
        return asdict(self)


def default_dir(config: Config) -> Path:
    base = config.source.parent if config.source is not None else Path.cwd()
    return base / CACHE_DIR_NAME


# The modules whose code decides what a file's summary holds.
_ANALYZER_MODULES = (
    "analysis.py", "cfg.py", "facts.py", "flags.py", "model.py", "paths.py",
    "positions.py", "prefilter.py", "routes.py", "sinks.py", "summary.py",
)  # fmt: skip


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """A hash of the analyzer's own sources: a changed analyzer never reads an old result."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in (package / name for name in _ANALYZER_MODULES):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(config: Config) -> str:
    """What the analysis of one file depends on besides the file: the analyzer and the config."""
    data = {
        "version": __version__,
        "code": _code_hash(),
        "format": _FORMAT,
        "flags": [asdict(flag) for flag in config.flags],
        "sinks": [asdict(sink) for sink in config.sinks],
        "routes": list(config.routes),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Cache:
    """Two files per configuration: a small index (what each file gave, and the last run's
    result) read on every run, and the summaries, read only when some file changed."""

    def __init__(self, directory: Path, config: Config) -> None:
        self.directory = Path(directory)
        self.key = fingerprint(config)
        stem = self.key[:24]
        self.index_path = self.directory / f"{stem}.index.json"
        self.summaries_path = self.directory / f"{stem}.summaries.jsonl"
        self.entries: dict[str, Entry] = {}
        self.result: dict | None = None  # {"key": ..., "findings": [...], "errors": [...]}
        self._summaries: dict[str, str] | None = None  # key -> the summary's JSON text, parsed on demand
        self.changed = False
        self._summaries_changed = False
        data = self._read(self.index_path)
        if data is not None:
            try:
                self.entries = {path: _valid(Entry(**raw)) for path, raw in data["files"].items()}
                result = data.get("result")
                self.result = result if isinstance(result, dict) and isinstance(result.get("findings"), list) else None
            except (TypeError, KeyError, AttributeError, ValueError):
                self.entries, self.result = {}, None

    def _read(self, path: Path) -> dict | None:
        """A cache file of this configuration, or ``None`` if missing, corrupt or foreign."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != self.key:
            return None
        return data

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def put(self, path: str, entry: Entry) -> None:
        if entry.summary is not None:  # summaries live in their own file
            self._load_summaries()[_summary_key(entry)] = entry.summary
            self._summaries_changed = True
            entry = replace(entry, summary=None)
        if self.entries.get(path) != entry:
            self.entries[path] = entry
            self.changed = True

    def summary(self, entry: Entry) -> dict | None:
        text = self._load_summaries().get(_summary_key(entry))
        try:
            return json.loads(text) if text is not None else None
        except ValueError:
            return None

    def _load_summaries(self) -> dict[str, str]:
        """The summaries file: a header line, then ``key<TAB>json`` a line (one summary each)."""
        if self._summaries is None:
            self._summaries = {}
            try:
                lines = self.summaries_path.read_text(encoding="utf-8").split("\n")
                header = json.loads(lines[0])
                if isinstance(header, dict) and header.get("format") == _FORMAT and header.get("key") == self.key:
                    for line in lines[1:]:
                        key, tab, text = line.partition("\t")
                        if tab:
                            self._summaries[key] = text
            except (OSError, ValueError, IndexError):
                self._summaries = {}
        return self._summaries

    def forget_missing(self, present: set[str]) -> None:
        for path in list(self.entries):
            if path not in present:
                del self.entries[path]
                self.changed = True

    def set_result(self, result: dict) -> None:
        if self.result != result:
            self.result = result
            self.changed = True

    def save(self) -> None:
        """Write the cache atomically; a cache that cannot be written is simply not kept."""
        try:
            if self._summaries_changed:
                self.directory.mkdir(parents=True, exist_ok=True)
                live = {_summary_key(entry) for entry in self.entries.values() if entry.status == "summary"}
                header = json.dumps({"format": _FORMAT, "key": self.key}).encode()
                kept = sorted((key, text) for key, text in self._load_summaries().items() if key in live)
                lines = (f"\n{key}\t{text}".encode() for key, text in kept)
                write_atomic(self.summaries_path, itertools.chain([header], lines))
                self._summaries_changed = False
            if self.changed:
                self.directory.mkdir(parents=True, exist_ok=True)
                gitignore = self.directory / ".gitignore"
                if not gitignore.exists():
                    write_atomic(gitignore, b"# Created by storegate: the cache is not for version control.\n*\n")
                data = {
                    "format": _FORMAT,
                    "key": self.key,
                    "files": {path: entry.to_json() for path, entry in sorted(self.entries.items())},
                    "result": self.result,
                }
                write_atomic(self.index_path, json.dumps(data, separators=(",", ":")).encode())
                self.changed = False
        except OSError:
            pass


def _valid(entry: Entry) -> Entry:
    """The entry if every field has the type this version writes; ``ValueError`` otherwise."""
    error = entry.error
    ok = (
        type(entry.mtime_ns) is int
        and type(entry.size) is int
        and isinstance(entry.sha256, str)
        and entry.status in ("summary", "skipped", "error")
        and isinstance(entry.module, str)
        and entry.summary is None
        and (error is None or (isinstance(error, dict) and isinstance(error.get("message"), str)
                               and (error.get("line") is None or type(error.get("line")) is int)))
    )  # fmt: skip
    if not ok:
        raise ValueError("a foreign cache entry")
    return entry


def _summary_key(entry: Entry) -> str:
    return f"{entry.sha256}:{entry.module}"
