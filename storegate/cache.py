"""The per-file result cache: what a file's analysis gave, keyed by its content and the config.

Per effective configuration (and analyzer code) under ``.storegate_cache/``: an index that maps
each file's absolute path to its stat signature, its content hash and what the file gave (a
summary, a one-line error, or "skipped": the pre-filter never selected it), with the last run's
findings; and the summaries themselves. A warm run stats the files and, when nothing changed,
reads only the index: no source, no summary, and no parser is imported.

The cache directory usually sits inside the checked tree, and that tree may come from a
stranger (the checkout of a pull request), who can commit a cache of their own or plant links
in it. So:

- Both files are sealed with an HMAC (SHA-256) under a secret of this user, kept outside the
  tree (``$XDG_CACHE_HOME/storegate/key``). A file whose seal does not verify (planted, edited,
  written with another user's key) is never parsed, only ignored and rewritten. Without a key
  that can be trusted, the run goes uncached.
- A file is unchanged only if its whole stat signature is (size, mtime, ctime, inode, device:
  what git compares; ctime cannot be set back by user tools), and only if it had not changed
  within ``_RACY_NS`` of the start of the run that wrote the index; otherwise it is hashed.
- Cache files are read without following links and up to a bound, written with
  ``disk.write_atomic``, and a default cache directory that is a link is not used: nothing in
  the tree turns a cache read or write into one elsewhere.

Never pickle; anything unreadable, corrupt or foreign is ignored (and rewritten); writes are
atomic, so two runs at once never leave a broken file.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import os
import secrets
import stat
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path

from storegate._version import __version__
from storegate.disk import DiskError, clean_stale, read_regular, temporary_name, write_atomic
from storegate.model import Config, Finding

CACHE_DIR_NAME = ".storegate_cache"
_FORMAT = 111  # 111: Site.gates of an unannotated parameter named as a switch (`keep`, `persist_items`); 110: chains enter a call named for observing that is given a piece of text by name (project.enters); 109: a tuple target of attributes is bound element by element (`self.redis, self.ttl = redis, ttl`); 108: a request model's method that builds a plan sees its own flag field (`return RunPlan(persist=self.store)`), a tested field of an object beside the request's (`turn.plan.persist` with `turn.request.store`) is in Site.tested; 107: a name bound to an application's state sets its attributes (`state = app.state; state.x = Cls()`), a tuple target is bound element by element to a tuple display (`state.a, state.b = A(), B()`); 106: a context manager of a class annotated is the class it enters (`Callable[[], AbstractContextManager[Session]]`: `@calls:Session`), a module's global declared without a value is typed (`turns: TurnArchive`); 105: FunctionSummary.fills of a table's entry a parameter keys (`return _STORE_DEFAULTS[api]`: "_STORE_DEFAULTS[api]"), ModuleSummary.field_defaults of every boolean entry of a table named for the flag; 104: a copy of an object is of its class (`plan = replace(plan, ...)`, `copy.copy(x)`, `x.model_copy()`); 103: error handlers serve every store-bearing route (`@app.errorhandler(E)`, `exception_handlers={E: f}`: routes.ERROR_HOOKS); 102: a local bound each time to an element of one container (`q = c.get(k)`, then `q = c[k] = deque()`) stands for it; 101: FunctionSummary.true_fields (a method's true returns are its fields: `def should_save(self): return self.persist`), Site.tested holds a tested call of such a method (`?!plan.should_save()`); 100: a reading helper's read passed on as it is is the flag (`Options(retain=_as_bool(body, "store", False))`), a buffer filled only under the flag is gated where it is written out if not empty, a registry's entry kept in a local or opened and closed by methods of one name is transient, edges joined exactly per edge; 99: Site.tested (the fields of a local or a parameter tested true wherever a site runs: fields.py), ModuleSummary.off_fields, a local bound to what a reading helper is asked for by the flag's name is the flag (`read_bool(body, "store", True)`), a model's predicate of its own flag field states it (`body.wants_persistence()`), `make().a.m` callees; 98: FunctionSummary.fills of a read of the flag whose default is a parameter (`read_option(payload, "store", default_store)`: its callers decide); 97: a measure kept (`max(d.get(k, 0.0), elapsed_ms)`) is bookkeeping, an UPDATE of an error column or of a deadline (`next_run_at = now() + ?`) only stamps; 96: Argument.made of a method of an object built on the spot (`Indexer(repo).on_completed`: summary.BUILT), Site.chosen `=type(event)` (a bus keyed by the event's class), a call on an item under a typed key (`request.app[KEY].insert`), a tuple of bookkeeping values is bookkeeping, a key-value mapping of stamps keeps nothing; 95: a module's boolean constant named as a setting is a default a read falls back on (`parse_bool(body.get("store"), DEFAULT_STORE)`: summary.MODULE_CONSTANTS), `self.store` bound from the request's flag is the flag (flags.COPIED), a Dramatiq or Taskiq task's `send`/`kiq` hands it off, an identifier under a key-value key keeps nothing; 94: Argument.each (a name a loop binds to each element of a location, passed on: callbacks._pass_elements); 93: a classmethod that builds its class from names it checked states the class's rules (`from_payload` raising on `metadata and not store`: contracts.factory); 92: a reading helper asked for the flag by name is a keeping read in a function that reads nothing else of it (`read_bool(payload, "store", True)`), a local bound to an identifier (`rid = headers.get("X-Request-Id") or new_id()`) is one; 91: a number parameter written is bookkeeping (`self.values[k] += amount`), a container declared to hold bookkeeping (`set[Future[Any]]`, `dict[str, ModelInfo]`) is none; 90: an annotated assignment counts among a body's plain assignments (`model_config: ConfigDict = ConfigDict(extra="allow")`, a module's table of defaults); 89: a flag rebound to None is not forged (what a client that sent nothing sends); 88: Argument.path of a rebound flag ends with summary.REBOUND (SG003: a rebound copy passed for a callee's flag); 87: a predicate's setting returned where the flag was omitted is a keeping read (analysis._if_true), field_defaults with a word of keeping (`persist_completions`); 86: FunctionSummary.fills (a predicate's parameter returned where the flag was omitted: its callers decide, Project._filled_by_caller); 85: ModuleSummary.field_defaults has the boolean entries of a module's table of defaults (`DEFAULTS[]`), a keeping read falls back on one (`read_bool(payload, "store", DEFAULTS["store"])`); 84: a predicate's return of a setting where the flag was omitted adds nothing to what its truth tells (analysis._if_true); 83: a flag location forged by its rebinding is bound to nothing known (`store = req.store or parent.store`: its truth permits nothing); 82: a branch that fills in an omitted flag from a setting (`if req.store is None: return self.settings.default_store`) is a keeping read with that fallback; 81: a factory annotated as a callable that returns a class (`Callable[[], UnitOfWork]`, or an alias of it) holds `@calls:Class` (typefacts.CALLS); 80: a nested function reads an enclosing conjunction with the flag (`record = store and settings.resume`) as true only where the flag is (analysis._conjoined_copies); 79: a SQLAlchemy update(...).values(...) that only stamps is no sink (sinks._stamps_only); 78: hooks run around every request (`app.after_request(f)`, `@app.middleware("http")`) serve every store-bearing route (routes.hook_routes), and the screen takes the files that register them; 77: FunctionSummary.keeping_reads has the setting an omitted flag is filled in from (a conditional's, a read's default path), ModuleSummary.field_defaults the fields with a flag among their words (`store_by_default`); 76: a nested function reads its enclosing functions' copies of the flag as the flag (analysis._closed_aliases); 75: a generic class annotated (`async_sessionmaker[AsyncSession]`) names its class, a union bound to a name (`KV = A | B`) is a type alias (annotations.py); 74: Site.chosen "=param" of a loop over the entry a parameter keys (`for h in self._hooks.get(event, ())`, dispatch._chosen_by_callers), a comprehension's loop binds its target, keys in keeps of collections filled under a parameter; 73: an unannotated @property returning a path states its attribute (typegather._returned_paths), a method of an item under a string of an object's attribute whose method may be a library sink is a site (`self._mongo.db["usage"].insert_one`); 72: Site.chosen, Argument.made, FunctionSummary.tables and keys in keeps (dispatch tables: dispatch.py); 71: Argument.statement (SQL that writes, passed to a helper whose parameter reaches a sink: statements.add_passed_statement_sinks), a pending sink on a parameter (statements.PASSED); 70: FunctionSummary.keeping_reads (a read of the flag whose default keeps: `payload.get("store", True)`, Project.keeping_defaults); 69: ModuleSummary.flag_fields (a class field named like a flag annotated as a boolean: Project.carriers); 68: a loop binds the elements of what an object or a module holds, or of a parameter annotated as a collection (not of the request's own data); 67: a library object called (a session factory held: `async_sessionmaker()()`) makes its object; 66: an argument whose falsity implies the flag (`ephemeral=not store`: Argument.implies marked summary.NEGATED); 65: type facts of collections' elements (`plugins[*]`: typegather), of what a call built (`MongoClient()[]`), of a Flask app's extensions (`app.extensions["storage"]`); a call of a method of an item under a string of an imported name's attribute is a site; 64: an UPDATE setting a status, a count, a time or a reason to parameters is no sink (statements.counts_only); 63: an item under a name (`app[KEY]`) is a fact of its own, aiohttp's `web.AppKey(name, Cls)` holds `@key:Cls`; 62: a model's method that checks its own fields states the model's rules (FunctionSummary.invariants), a flag read through a parameter is decided by the callers (Verdict.gated_if_permitted); 61: a lambda without parameters that makes one call, given to any call, hands that call off (Site.handed); 60: a key-value write of constants only under its key, and an UPDATE that only counts or stamps, is no sink; Argument.literal counts an upper-case name (a module's constant); a request's `x.should_store` is the flag; a @contextmanager's return is what it yields; 59: a fact of an item of a path (`self.db = self.client[name]`: `self.client[]`), calls on receivers typed as the project's classes keep their library sinks for the project to decide (Site.untyped); 58: Argument.literal (a constant written out); 57: a call of a name bound only by a loop over a location calls each element (Site.text ending summary.EACH); 56: a class's self.x made from another of its self.x (self.db = self.client[name]) is typed; an Any or object annotation types nothing; 55: a route handler sees the flag through its model's validators (entry), a flag location only passed implies itself (Argument.implies), a key-value key held by a local reads as its literal; 54: Site.gates (a function's boolean parameters true wherever a site runs), Argument.implies (the flags an argument's truth implies); 53: a web application's names read from the scope's facts (an annotated assignment of one too); 52: a parameter's call of a string's or a container's reading method (typefacts.PLAIN_METHODS) is no site; 51: a factory's guarantees of what it returns (contracts.RETURNED); 50: an attribute set on a web application (`app.turns = TurnLog()`) is app.state's; a registry's method undone by its unregistering one in `finally` is no site; 49: calls on parameters are sites (Project._passed), Site.untyped (a library sink the project types: inherited.held); 48: Django path()/re_path() registrations; 47: Tornado route tables (routes._table_registrations); 46: a loop over a collection named as its plural binds an object (`for store in self._stores`); 45: an __init__ that reads a flag out of its arguments builds the request's scratch; 44: a name a call's tuple unpacks into is bound from a call (MADE); 43: a loop over a literal of objects binds an object (`for store in [self.store, x]`); 42: Verdict.forbidden (what runs where the flag forbids storing is never learned); 41: a command line's `args.store` is no flag (flags.OPTIONS); 40: a Litestar controller's `path` comes before its handlers'; 39: Site.pending (a sink another module's constant decides: statements.py), ModuleSummary.constants holds every string constant; 38: a class's string constant (`Queries.SAVE`) is read by an argument regex; 37: a call form read by several forms keeps each reading of a named path; 36: Sanic's add_route(handler, uri); 35: a registration in a loop over a literal table, once per row; 34: what a lazy initialization writes is no site (lazy.py); 33: FunctionSummary.named, ModuleSummary.constants (routes spelled with another module's constants); 32: a keyed read through an empty fallback (`(x or {}).get("store")`) is a read of x's item; 31: a membership in a literal of constants (`store in (False, None)`) is a comparison; 30: a local bound from a keyed read of any expression (`(x or {}).get("store", True)`) is the flag, not an object; 29: FunctionSummary.registered has the VIEW route of a registration without methods (a class-based view); an object built with a `store` annotated as a storage object has long-lived containers; 28: ModuleSummary.field_defaults (a class field's boolean default of a flag); 27: a skipped file's defines name its classes' bases; 26: FunctionSummary.app_factory; 25: FunctionSummary.if_true (a predicate's contract); 24: a model that keeps undeclared fields has the field ANY_FIELD; 23: calls on a name an enclosing function types (a factory's `log = TurnLog()`) are sites; 22: one annotation reader (a receiver annotated `Union[X, None]`, `Optional["X"]`); 21: an app factory's containers are state; facts of what a function returns (typefacts.RETURN); 20: Site.sink_kind "instance" (an object's own containers); 19: witness traces as indices into tables of steps and traces, sites, arguments, verdicts and parameters as lists; 18: module names through namespace directories inside a package; 17: FunctionSummary.locals; 16: a skipped file's defines, with the summaries (a skipped file is not screened again); 15: FunctionSummary.keeps, Site.packed (hand-offs, callbacks, keyword dictionaries); 14: ModuleSummary.types; 13: FunctionSummary.mounted, includes (routers mounted under a prefix); 12: ModuleSummary.class_fields; 11: Site.discarded; 10: Site.in_flag_branch, Finding.kind; 9: FunctionSummary.registered (routes registered by call); 8: Param.holds_object; 7: contracts (guarantees, if_none, invariants, depends; Param.annotation, Argument.path, Site.bound); 6: TraceStep.relevant
_INDEX_LIMIT = 256 * 1024 * 1024  # a 100,000-file tree has a 21 MB index
_SUMMARIES_LIMIT = 1024 * 1024 * 1024  # the stdlib's 1,788 files: 55 MB
# A file whose mtime or ctime is this close to (or after) the start of the run that hashed it
# may have changed again within the same timestamp tick: it is hashed again. The margin covers
# the kernel's coarse file clock and file systems with 2 s timestamps.
_RACY_NS = 2_000_000_000
_KEY_NAME = "key"
_KEY_BYTES = 32


@dataclass
class Entry:
    stat: tuple[int, ...]  # signature(): size, mtime_ns, ctime_ns, inode, device
    sha256: str
    status: str  # "summary", "skipped" or "error"
    module: str = ""
    summary: str | None = None  # the summary's JSON text, before it is stored
    error: dict | None = None  # {"message", "line"}
    defines: dict | None = None  # skipped: what the pre-filter's screen found it defines, before it is stored

    def to_json(self) -> dict:
        return asdict(self)


def signature(info: os.stat_result) -> tuple[int, ...]:
    """What must be equal for a file to count as unchanged without reading it (as git does)."""
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def default_dir(config: Config) -> Path:
    base = config.source.parent if config.source is not None else Path.cwd()
    return base / CACHE_DIR_NAME


def open_cache(directory: Path | None, config: Config) -> Cache | None:
    """The cache of this run, or ``None`` (run uncached) when no private key can be had, or when
    the default directory, inside the checked tree, is a link or not a directory. A directory
    given explicitly (``--cache-dir``) is the user's choice and is used as it is."""
    secret = user_key()
    if secret is None:
        return None
    if directory is None:
        directory = default_dir(config)
        try:
            if not stat.S_ISDIR(os.lstat(directory).st_mode):
                return None
        except FileNotFoundError:
            pass  # made on the first save
        except OSError:
            return None
    return Cache(directory, config, secret)


# -- the key ---------------------------------------------------------------------------------


def key_dir() -> Path | None:
    """``$XDG_CACHE_HOME/storegate``, else ``~/.cache/storegate``; ``None`` without a home."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, empty or relative: the XDG spec says ignore it
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "storegate"


def user_key() -> bytes | None:
    """This user's secret that seals the cache files, made on first use; ``None`` if it cannot
    be had safely (the run then goes uncached rather than trusting anything)."""
    directory = key_dir()
    return None if directory is None else _key_in(str(directory))


@lru_cache(maxsize=None)
def _key_in(directory: str) -> bytes | None:
    """The key in ``directory``, which must be a real directory of this user that nobody else
    can read or write (made ``0700``), holding a regular file of this user that nobody else can
    read (made ``0600``). Anything else (a link, another owner, loose modes) is refused."""
    try:
        os.makedirs(os.path.dirname(directory), exist_ok=True)  # ~/.cache, as any tool makes it
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not _private(os.fstat(fd), stat.S_ISDIR):
            return None
        try:
            return _read_key(fd)
        except FileNotFoundError:
            _make_key(fd, directory)
            return _read_key(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def _private(info: os.stat_result, is_kind) -> bool:
    return is_kind(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077


def _read_key(directory_fd: int) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(_KEY_NAME, flags, dir_fd=directory_fd)
    try:
        if not _private(os.fstat(fd), stat.S_ISREG):
            raise DiskError("not a private regular file")
        key = os.read(fd, _KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != _KEY_BYTES:
        raise DiskError("not a key")
    return key


def _make_key(directory_fd: int, directory: str) -> None:
    """Write a fresh key whole under a temporary name, then link it in: a run at once either
    makes the key or uses the one made first, never a half-written one."""
    clean_stale(directory, _KEY_NAME)
    temporary = temporary_name(_KEY_NAME)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temporary, flags, 0o600, dir_fd=directory_fd)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(_KEY_BYTES))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, _KEY_NAME, src_dir_fd=directory_fd, dst_dir_fd=directory_fd)
        except FileExistsError:
            pass  # another run made it first
    finally:
        os.unlink(temporary, dir_fd=directory_fd)


# -- what a cached result depends on ---------------------------------------------------------


@lru_cache(maxsize=1)
def _code_hash() -> str:
    """A hash of everything besides the file and the config that a result depends on: every
    module of this package (a changed storegate never reads an old result), the Python version
    and libcst's version file (found without importing libcst, which the warm path never does)."""
    import importlib.util

    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parent
    sources = [(str(path.relative_to(package)), path) for path in sorted(package.rglob("*.py"))]
    spec = importlib.util.find_spec("libcst")
    if spec is not None and spec.origin:
        sources.append(("libcst", Path(spec.origin).parent / "_version.py"))
    for name, path in sources:
        digest.update(f"\0{name}\0".encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"(unreadable)")
    return digest.hexdigest()


def fingerprint(config: Config) -> str:
    """What the analysis of one file depends on besides the file: the analyzer and the whole
    effective configuration (every field of ``Config``, so a new field is never forgotten)."""
    data = {"version": __version__, "code": _code_hash(), "format": _FORMAT, "config": asdict(config)}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Cache:
    """Two files per configuration: a small index (what each file gave, and the last run's
    result) read on every run, and the summaries, read only when some file changed. Both are
    sealed with ``secret`` (see ``_head``); ``open_cache`` makes one."""

    def __init__(self, directory: Path, config: Config, secret: bytes) -> None:
        self.directory = Path(directory)
        self.key = fingerprint(config)
        self.secret = secret
        stem = self.key[:24]
        self.index_path = self.directory / f"{stem}.index.json"
        self.summaries_path = self.directory / f"{stem}.summaries.jsonl"
        self.started_ns = time.time_ns()  # before any file of this run is looked at
        self.index_started_ns = 0  # when the run that wrote the index started
        self.entries: dict[str, Entry] = {}
        self.result: dict | None = None  # {"key": ..., "findings": [...]}
        # key -> the summary's JSON text, parsed on demand; compressed when put by this run (``_held``)
        self._summaries: dict[str, str | bytes] | None = None
        self.changed = False
        self._summaries_changed = False
        for path in (self.index_path, self.summaries_path):  # temporaries of killed writes
            clean_stale(self.directory, path.name)
        data = self._open_index()
        if data is not None:
            try:
                if type(data["started_ns"]) is not int:
                    raise ValueError("a foreign index")
                self.entries = {path: _valid(Entry(**raw)) for path, raw in data["files"].items()}
                self.result = _valid_result(data["result"])
                self.index_started_ns = data["started_ns"]
            except (TypeError, KeyError, AttributeError, ValueError):
                self.entries, self.result = {}, None

    def _verified(self, path: Path, limit: int, role: bytes) -> bytes | None:
        """The body of the sealed cache file ``path``, or ``None`` if it is missing, a link, not
        a regular file, too large, or its seal does not verify (it is then never parsed).

        A sealed file is a header line ``{"format":4,"mac":"<hex>"}``, then the body: the
        index's JSON, or the summaries' ``key<TAB>json`` lines."""
        try:
            raw = read_regular(path, limit, follow_links=False)
        except OSError:
            return None
        head, newline, body = raw.partition(b"\n")
        return body if newline and hmac.compare_digest(head, self._head(role, [body])) else None

    def _head(self, role: bytes, parts: Iterable[bytes]) -> bytes:
        """The header line of a cache file: its format and the HMAC of its body under this
        user's key, bound to the file's role and to the configuration, so that a sealed file
        cannot stand in for another."""
        mac = hmac.new(self.secret, b"storegate\0%s\0%s\0" % (role, self.key.encode()), hashlib.sha256)
        for part in parts:
            mac.update(part)
        return b'{"format":%d,"mac":"%s"}' % (_FORMAT, mac.hexdigest().encode())

    def _open_index(self) -> dict | None:
        body = self._verified(self.index_path, _INDEX_LIMIT, b"index")
        try:
            data = json.loads(body) if body is not None else None
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def racy(self, entry: Entry) -> bool:
        """Whether the file may have changed within the timestamp tick in which it was hashed:
        its stat signature alone then proves nothing, and the file is hashed again."""
        return max(entry.stat[1], entry.stat[2]) >= self.index_started_ns - _RACY_NS

    def put(self, path: str, entry: Entry) -> None:
        if entry.summary is not None:  # summaries live in their own file
            # held compressed until saved: a cold run of 3,000 files puts some 40 MB of them
            self._load_summaries()[_summary_key(entry)] = zlib.compress(entry.summary.encode(), 1)
            self._summaries_changed = True
            entry = replace(entry, summary=None)
        if entry.defines is not None:  # with the summaries too: a warm run never reads them
            self._load_summaries()[_DEFINES + _summary_key(entry)] = json.dumps(entry.defines, separators=(",", ":"))
            self._summaries_changed = True
            entry = replace(entry, defines=None)
        if self.entries.get(path) != entry:
            self.entries[path] = entry
            self.changed = True

    def summary(self, entry: Entry) -> dict | None:
        held = self._load_summaries().get(_summary_key(entry))
        try:
            return json.loads(_text(held)) if held is not None else None
        except (ValueError, RecursionError):
            return None

    def defines(self, entry: Entry) -> dict | None:
        """What the pre-filter's screen found a skipped file defines (``prefilter.defines``), if kept."""
        held = self._load_summaries().get(_DEFINES + _summary_key(entry))
        try:
            names = json.loads(_text(held)) if held is not None else None
        except (ValueError, RecursionError):
            return None
        valid = isinstance(names, dict) and all(
            isinstance(value, list) and all(type(name) is str for name in value) for value in names.values()
        )
        return names if valid else None

    def _load_summaries(self) -> dict[str, str | bytes]:
        """The summaries, ``key<TAB>json`` a line (one summary each), once their seal verifies."""
        if self._summaries is None:
            self._summaries = {}
            body = self._verified(self.summaries_path, _SUMMARIES_LIMIT, b"summaries")
            try:
                for raw in io.BytesIO(body) if body is not None else ():  # a line at a time: no second copy of it all
                    key, tab, text = raw.decode("utf-8").removesuffix("\n").partition("\t")
                    if tab:
                        self._summaries[key] = text
            except ValueError:
                self._summaries = {}
        return self._summaries

    def release_summaries(self) -> None:
        """Let go of the summaries' texts once written (``save``); read again if asked for."""
        if not self._summaries_changed:
            self._summaries = None

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
                live |= {_DEFINES + _summary_key(entry) for entry in self.entries.values() if entry.status == "skipped"}
                summaries = self._load_summaries()
                kept = sorted(key for key in summaries if key in live)

                def lines() -> Iterator[bytes]:  # encoded twice (the seal, the write), never held: 100 MB for litellm
                    return (f"{key}\t{_text(summaries[key])}\n".encode() for key in kept)

                _replace(self.summaries_path, itertools.chain([self._head(b"summaries", lines()), b"\n"], lines()))
                self._summaries_changed = False
            if self.changed:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._ignore_in_git()
                data = {
                    "key": self.key,
                    "started_ns": self.started_ns,
                    "files": {path: entry.to_json() for path, entry in sorted(self.entries.items())},
                    "result": self.result,
                }
                body = json.dumps(data, separators=(",", ":")).encode()
                _replace(self.index_path, [self._head(b"index", [body]), b"\n", body])
                self.changed = False
        except OSError:
            pass

    def _ignore_in_git(self) -> None:
        """A ``.gitignore`` of ``*`` in the cache directory, made once; whatever already has the
        name (a planted link among them) is left alone and never written through."""
        gitignore = self.directory / ".gitignore"
        if not os.path.lexists(gitignore):
            try:
                write_atomic(gitignore, b"# Created by storegate: the cache is not for version control.\n*\n")
            except OSError:
                pass


def _text(held: str | bytes) -> str:
    """A summary's JSON text as the cache holds it: read from the file, or compressed by ``put``."""
    return zlib.decompress(held).decode() if isinstance(held, bytes) else held


def _replace(path: Path, data: Iterable[bytes]) -> None:
    """Write a cache file with ``write_atomic``, first removing whatever the tree may have put
    under its name that a write must not go through or keep (a link, a device, a FIFO, a hard
    link, a file of another user or a read-only one): the name is the cache's. A directory is
    left alone, and the write then fails."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    plain = info is None or stat.S_ISDIR(info.st_mode) or (
        stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_uid == os.geteuid()
        and info.st_mode & stat.S_IWUSR
    )  # fmt: skip
    if not plain:
        os.unlink(path)
    write_atomic(path, data)


def _valid(entry: Entry) -> Entry:
    """The entry if every field has the type this version writes; ``ValueError`` otherwise."""
    error = entry.error
    entry.stat = tuple(entry.stat) if isinstance(entry.stat, list) else ()  # as signature() gives it
    ok = (
        tuple(map(type, entry.stat)) == (int,) * 5
        and isinstance(entry.sha256, str)
        and entry.status in ("summary", "skipped", "error")
        and isinstance(entry.module, str)
        and entry.summary is None
        and entry.defines is None
        and (error is None or (isinstance(error, dict) and isinstance(error.get("message"), str)
                               and (error.get("line") is None or type(error.get("line")) is int)))
    )  # fmt: skip
    if not ok:
        raise ValueError("a foreign cache entry")
    return entry


# The JSON type of each field of a finding, as Finding.to_json writes it.
_FINDING_TYPES = {field.name: {"int": int, "str": str}.get(str(field.type), list) for field in fields(Finding)}


def _valid_result(result: object) -> dict | None:
    """The last run's result if it has the shape this version writes, else ``None``."""
    if result is None:
        return None
    if not isinstance(result, dict) or type(result.get("key")) is not str or type(result.get("findings")) is not list:
        raise ValueError("a foreign result")
    for finding in result["findings"]:
        if not isinstance(finding, dict) or finding.keys() != _FINDING_TYPES.keys():
            raise ValueError("a foreign finding")
        if any(type(finding[name]) is not kind for name, kind in _FINDING_TYPES.items()):
            raise ValueError("a foreign finding")
        for step in finding["trace"]:
            if not isinstance(step, dict) or type(step.get("line")) is not int or type(step.get("text")) is not str:
                raise ValueError("a foreign trace")
    return result


_DEFINES = "defines:"  # the key of a skipped file's defines among the summaries


def _summary_key(entry: Entry) -> str:
    return f"{entry.sha256}:{entry.module}"
