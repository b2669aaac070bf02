"""The per-file result cache: what a file's analysis gave, keyed by its content and the config.

One JSON file per effective configuration (and storegate version) under ``.storegate_cache/``.
It maps each file's absolute path to its size, mtime and content hash, and to what the file gave:
a summary, a one-line error, or "skipped" (the pre-filter never selected it). A warm run stats
the files and, when nothing changed, reads no source and imports no parser.

Never pickle: a cache directory can come from an untrusted checkout. Anything unreadable,
corrupt or foreign is ignored (and rewritten); writes are atomic (a temporary file, then a
rename), so two runs at once never leave a broken file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from storegate import __version__
from storegate.model import Config

CACHE_DIR_NAME = ".storegate_cache"
_FORMAT = 1


@dataclass
class Entry:
    mtime_ns: int
    size: int
    sha256: str
    status: str  # "summary", "skipped" or "error"
    module: str = ""
    summary: dict | None = None
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
    def __init__(self, directory: Path, config: Config) -> None:
        self.directory = Path(directory)
        self.key = fingerprint(config)
        self.path = self.directory / f"{self.key[:24]}.json"
        self.entries: dict[str, Entry] = {}
        self.changed = False
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT or data.get("key") != self.key:
                return
            for path, raw in data["files"].items():
                self.entries[path] = Entry(**raw)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.entries = {}  # missing, corrupt or foreign: start afresh

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def put(self, path: str, entry: Entry) -> None:
        if self.entries.get(path) != entry:
            self.entries[path] = entry
            self.changed = True

    def forget_missing(self, present: set[str]) -> None:
        for path in list(self.entries):
            if path not in present:
                del self.entries[path]
                self.changed = True

    def save(self) -> None:
        """Write the cache atomically; a cache that cannot be written is simply not kept."""
        if not self.changed:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            gitignore = self.directory / ".gitignore"
            if not gitignore.exists():
                _atomic_write(gitignore, "# Created by storegate: the cache is not for version control.\n*\n")
            data = {
                "format": _FORMAT,
                "key": self.key,
                "files": {path: entry.to_json() for path, entry in sorted(self.entries.items())},
            }
            _atomic_write(self.path, json.dumps(data, separators=(",", ":")))
            self.changed = False
        except OSError:
            pass


def _atomic_write(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
