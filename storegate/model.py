"""The vocabulary of storegate: plain frozen data that every stage passes to the next.

Nothing here knows about libcst or the file system, so a summary or a finding can cross a
process boundary or be written to a cache as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The abstract values a flag can hold. Truthy values count as TRUE, falsy non-None values as FALSE.
TRUE, FALSE, NONE = 1, 2, 4
ANY = TRUE | FALSE | NONE
# The abstract value of each constant name, as written in code.
CONSTANTS = {"True": TRUE, "False": FALSE, "None": NONE}
# The keywords under which a call may pass the value it writes (``cache.set(k, value=v)``,
# ``r.hset(name, mapping=m)``); any other keyword is an option (``timeout=TTL``, ``nx=True``).
_VALUE_KEYWORDS = frozenset({"value", "values", "mapping", "data", "content", "body", "payload", "document", "doc", "item", "obj", "record"})


def constants_only(arguments: Sequence[tuple[str | None, bool, bool]], key: int = 0) -> bool:
    """Whether a call writes only constants under its key (``cache.set(marker, "completed",
    timeout=TTL)``): each argument as ``(keyword, starred, a constant)``; the positional ones after
    the key's are constants, and no keyword passes a value (``timeout=TTL`` is an option). The
    summary's sinks read it from the tree, SG005 from the summary's ``Argument.literal``."""
    values = [constant for keyword, _, constant in arguments[key + 1 :] if keyword is None]
    passed = any(starred or keyword in _VALUE_KEYWORDS for keyword, starred, _ in arguments)
    return bool(values) and not passed and all(values)


@dataclass(frozen=True)
class Flag:
    """A parameter, attribute or key whose value says whether persisting is allowed."""

    name: str
    # An inverted flag (``dry_run``) permits writes when it is false.
    inverted: bool = False
    # The boolean that ``None`` stands for: ``True`` for OpenAI's ``store`` (None = API default).
    none_means: bool = False
    # Whether ``self.<name>`` / ``cls.<name>`` is the flag; usually it is the storage object.
    self_attribute: bool = False

    @property
    def permitted(self) -> int:
        """The abstract values (a bit set of TRUE/FALSE/NONE) under which writes are allowed."""
        allowed = FALSE if self.inverted else TRUE
        if self.none_means != self.inverted:
            allowed |= NONE
        return allowed

    @property
    def gate_text(self) -> str:
        """How the required check reads in a message: ``store`` or ``not dry_run``."""
        return f"not {self.name}" if self.inverted else self.name


@dataclass(frozen=True)
class Sink:
    """A persistence function, matched against the callee as written and its qualified name.

    ``pattern`` is a dotted glob (``*`` also matches dots). A pattern ending in ``[]`` names a
    container: item assignment, augmented assignment, ``del`` and mutating methods on it are sinks.
    ``argument`` is an optional regex that the first positional argument, a string literal, must
    match (``conn.execute("INSERT ...")``). A pattern with ``()`` names a method of a receiver by
    its type (``redis.Redis().set``: ``receivers.py``). ``kind`` says what the sink is
    (``file``, ``library``) when a finding should say more than ``configured``. The argument the
    regex reads is the positional one at ``position`` (from 0) or the ``keyword`` one
    (``open(p, "w")``, ``open(p, mode="w")``). ``key``: the position of a key-value store's key
    (``r.set(key, value)``); a write under a key named for bookkeeping (the ``state`` rule's
    ``ignore`` globs: ``f"tasks:{task_id}"``, ``"lock:" + rid``) is none.
    """

    pattern: str
    argument: str | None = None
    kind: str | None = None
    position: int = 0
    keyword: str | None = None
    key: int | None = None

    @property
    def is_container(self) -> bool:
        return self.pattern.endswith("[]")

    @property
    def is_typed(self) -> bool:
        return "()" in self.pattern


@dataclass(frozen=True)
class RouteDefault:
    """What an omitted flag means on the handlers of one route, when it differs from the flag's own
    ``none_means``: OpenAI's Responses keep by default (``store`` None means true), its Chat
    Completions do not (``{ route = "POST */chat/completions", none-means = false }``).

    ``route`` is a route pattern (as in ``routes``); ``flag`` the flag it applies to, or None
    for every flag.
    """

    route: str
    none_means: bool
    flag: str | None = None

    def applies(self, flag: Flag) -> bool:
        return self.flag is None or self.flag == flag.name


@dataclass(frozen=True)
class Retention:
    """Writes the API itself keeps for a while, allowed whatever ``flag`` says.

    OpenAI keeps a background response for polling (about ten minutes) even with ``store:
    false``: under the condition ``when`` (a location like a flag's: ``background``,
    ``request.background``) a sink write that expires is allowed. A write expires when it is
    given one of ``expiry_arguments`` (``ttl=600``; not ``None`` / ``0`` / ``False``) or goes
    to a sink matched by one of the ``expiring`` patterns (sink patterns, ``[]`` for containers).
    """

    flag: str
    when: str
    expiry_arguments: tuple[str, ...] = ()
    expiring: tuple[str, ...] = ()


@dataclass(frozen=True)
class State:
    """State that outlives the request (the ``state`` pack; ``state.py``): writes into module-level
    containers, class attributes and containers a service object sets up in ``__init__`` are sinks.

    ``containers``: qualified names of the constructors whose value is a container (``dict``,
    ``collections.deque``, ``cachetools.TTLCache``), besides ``{}``, ``[]`` and ``{x}``.
    ``ignore``: globs over a container's name (its last part, lowercased, without leading
    underscores) that hold bookkeeping, not the request (``*task*``, ``*lock*``).
    ``ignore_values``: globs over the callee of a written value that is bookkeeping
    (``*.create_task``, ``time.*``).
    ``ignore_classes``: globs over a class's name (lowercased, without leading underscores)
    whose own containers are bookkeeping: a connection pool's or a client's (``*pool*``).
    """

    containers: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    ignore_values: tuple[str, ...] = ()
    ignore_classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pack:
    """A named rule pack from ``rules/<name>.toml``: which flags and which sinks."""

    name: str
    description: str = ""
    flags: tuple[Flag, ...] = ()
    sinks: tuple[Sink, ...] = ()
    # HTTP route path globs whose handlers must consult the flag (e.g. ``/v1/responses``).
    routes: tuple[str, ...] = ()
    # Routes on which an omitted flag means something else than the flag's ``none_means``.
    route_defaults: tuple[RouteDefault, ...] = ()
    retention: tuple[Retention, ...] = ()
    state: State | None = None
    source: str = ""


@dataclass(frozen=True)
class Config:
    """The effective configuration of one run."""

    flags: tuple[Flag, ...] = ()
    sinks: tuple[Sink, ...] = ()
    routes: tuple[str, ...] = ()
    route_defaults: tuple[RouteDefault, ...] = ()
    retention: tuple[Retention, ...] = ()
    # State that outlives the request as sinks (the packs' ``[state]`` tables, merged); None: off.
    state: State | None = None
    packs: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    # A file larger than this many bytes is skipped with a notice (``max-target-bytes``); 0: no limit.
    max_target_bytes: int = 1_000_000
    # How many calls deep a write is followed from a function that sees the flag or handles a
    # route (``max-call-depth``): the longest chain reported, and how far the pre-filter reads; 0: no limit.
    max_call_depth: int = 6
    # Where the configuration came from (a pyproject.toml), if anywhere; relative paths are
    # reported relative to the current directory, not to this.
    source: Path | None = None


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a witness path: where the flag came from, a branch taken, an assignment of
    the flag, or a call of a chain. ``relevant``: whether it bears on the flag (a branch whose
    condition mentions the flag or a location correlated with it); ``--explain`` folds the others."""

    line: int
    text: str
    relevant: bool = True


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive
    code: str
    message: str
    sink: str
    flag: str
    function: str
    trace: tuple[TraceStep, ...] = ()
    # Why ``sink`` is persistence: ``configured`` (a pack's or the config's sink pattern),
    # ``container``, ``learned`` (gated by the flag elsewhere in the codebase), the kind of the
    # sink a derived sink's chain ends at, ``derived`` when unknown; "" when the finding is not
    # about a sink (SG100). Not part of a finding's baseline identity.
    kind: str = ""

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict:
        data = asdict(self)
        data["trace"] = [asdict(step) for step in self.trace]
        return data

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        return cls(**{**data, "trace": tuple(TraceStep(**step) for step in data.get("trace", ()))})


@dataclass(frozen=True)
class FileError:
    """A file that could not be analyzed, and why (one line)."""

    path: str
    message: str
    line: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    files_checked: int = 0
    # Internal errors (bugs of storegate) with their tracebacks, shown with --verbose.
    tracebacks: tuple[str, ...] = field(default=(), compare=False)
    # Imports of project modules that no checked file is (``project.unresolved_imports``):
    # (qualified name, importing path); calls through them resolve to nothing.
    unresolved_imports: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # One-line notices about files left out (larger than ``Config.max_target_bytes``): not errors.
    notices: tuple[str, ...] = field(default=(), compare=False)
