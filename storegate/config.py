"""The effective configuration of a run: rule packs, the config file and command-line options.

Precedence, lowest first:

1. the rule packs named by ``rules`` (default ``["openai", "state", "libraries"]``), in order;
2. ``flags`` / ``sinks`` / ``routes`` / ``retention`` / ``state`` of the config file, ADDED to the packs';
3. the command line: ``--rules`` REPLACES the configured list of packs, ``--flag`` REPLACES all
   flags and ``--sink`` REPLACES all sinks (the ``state`` containers too), so a run can be
   reproduced without any config file; ``--exclude`` REPLACES the excludes, ``--extend-exclude``
   adds to them.

The config file is the nearest ``.storegate.toml``, ``storegate.toml`` (keys at the top level) or
``pyproject.toml`` with ``[tool.storegate]`` above the checked paths (``find_config_file``).

Configuration is data only: nothing here evaluates, imports or executes anything it reads.
"""

from __future__ import annotations

import difflib
import errno
import keyword
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from storegate import disk
from storegate.errors import ConfigError
from storegate.files import display_path, is_inside, validate_excludes
from storegate.linear_regex import UnsupportedRegex, compiled
from storegate.model import Config, Flag, Pack, Retention, RouteDefault, Sink, State

# ``state``: writes into containers that outlive the request (``state.py``); a config that lists
# its own ``rules`` without it turns that off.
DEFAULT_RULES: tuple[str, ...] = ("openai", "state", "libraries")

CONFIG_KEYS = ("rules", "flags", "sinks", "routes", "retention", "state", "exclude", "extend-exclude", "max-target-bytes", "max-call-depth")
PACK_KEYS = ("name", "description", "flags", "sinks", "routes", "retention", "state")
FLAG_KEYS = ("name", "inverted", "none-means", "self-attribute")
SINK_KEYS = ("pattern", "argument", "position", "keyword", "kind", "key")
ROUTE_KEYS = ("route", "none-means", "flag")
RETENTION_KEYS = ("flag", "when", "expiry-arguments", "expiring")
STATE_KEYS = ("containers", "ignore", "ignore-values", "ignore-classes")

# A dotted glob of identifier characters, ``*`` and ``?``, optionally ending in ``[]``.
_PATTERN_RE = re.compile(r"[\w*?]+(?:\(\)[\w*?]*)*(?:\.[\w*?]+(?:\(\)[\w*?]*)*)*(?:\[\])?")
_PACK_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# ---------------------------------------------------------------------------------------------
# Rule packs


def packs_dir() -> Path:
    """The directory of the shipped rule packs (``storegate/rules`` in a wheel, else ``rules/``)."""
    package = Path(__file__).resolve().parent
    installed = package / "rules"
    if installed.is_dir():
        return installed
    return package.parent / "rules"


def available_packs() -> list[str]:
    """The names of the shipped rule packs."""
    directory = packs_dir()
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.toml") if p.is_file())


def _is_pack_path(spec: str) -> bool:
    return spec.endswith(".toml") or "/" in spec or os.sep in spec


def load_pack(spec: str, base_dir: Path | None = None) -> Pack:
    """Load a rule pack: the name of a shipped pack, or the path of a ``.toml`` pack file.

    ``base_dir`` is the directory of the config file that names the pack, ``None`` for the
    command line. A config file is part of the checked tree, so the packs it names must be
    shipped ones or files below its own directory: it cannot make storegate read (and show)
    other files of the machine. A command-line path is relative to the cwd and may be anywhere.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"invalid rule pack {spec!r}: expected a pack name or a .toml path")
    if _is_pack_path(spec):
        path = Path(spec) if base_dir is not None else Path(spec).expanduser()
        if base_dir is not None:
            path = base_dir / path
            if not is_inside(os.path.realpath(path), os.path.realpath(base_dir)):
                raise ConfigError(
                    f"rule pack {spec!r} is outside the project: a configuration may name a shipped pack "
                    f"or a .toml file below its own directory ({display_path(base_dir)})"
                )
        default_name = path.stem
    else:
        names = available_packs()
        if not _PACK_NAME_RE.fullmatch(spec) or spec not in names:
            shown = ", ".join(names) if names else "none installed"
            raise ConfigError(f"unknown rule pack {spec!r} (available: {shown})")
        path = packs_dir() / f"{spec}.toml"
        default_name = spec
    data = _read_toml(path, "rule pack file")
    where = display_path(path)
    _check_keys(data, PACK_KEYS, where)
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: 'name' must be a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: 'description' must be a string")
    routes, route_defaults = _parse_routes(data.get("routes", []), where)
    return Pack(
        name=name,
        description=description,
        flags=tuple(_parse_flags(data.get("flags", []), where)),
        sinks=tuple(_parse_sinks(data.get("sinks", []), where)),
        routes=tuple(routes),
        route_defaults=tuple(route_defaults),
        retention=tuple(_parse_retention(data.get("retention", []), where)),
        state=_parse_state(data.get("state"), where),
        source=str(path),
    )


# ---------------------------------------------------------------------------------------------
# Finding and reading the config file


# A configuration or pack file larger than this is not one: it is refused, not read.
MAX_TOML_BYTES = 4 * 1024 * 1024


def _read_toml(path: Path, kind: str = "config file") -> dict[str, Any]:
    """The TOML document at ``path``: a regular file of bounded size, read without blocking."""
    shown = display_path(path)
    try:
        text = disk.read_regular(path, MAX_TOML_BYTES).decode("utf-8")
        return tomllib.loads(text)
    except disk.DiskError as exc:
        if exc.errno == errno.ENOENT:
            raise ConfigError(f"{kind} {shown!r} not found") from None
        raise ConfigError(f"cannot read {shown}: {exc.reason}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{shown}: invalid TOML: nested too deeply") from None


def _tool_table(data: Mapping[str, Any], path: Path) -> dict[str, Any] | None:
    tool = data.get("tool")
    if not isinstance(tool, dict) or "storegate" not in tool:
        return None
    table = tool["storegate"]
    if not isinstance(table, dict):
        raise ConfigError(f"{display_path(path)}: [tool.storegate] must be a table")
    return table


def _start_dir(paths: Sequence[str | Path]) -> Path:
    """The common parent directory of ``paths`` (for a file, its directory)."""
    dirs = []
    for given in paths or (".",):
        absolute = os.path.abspath(given)
        dirs.append(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))
    try:
        return Path(os.path.commonpath(dirs))
    except ValueError:  # different drives
        return Path(dirs[0])


# The configuration files looked for in each directory, in this order (like ruff's ``.ruff.toml``,
# ``ruff.toml``, ``pyproject.toml``): a standalone file always counts, a ``pyproject.toml`` only
# with a ``[tool.storegate]`` table.
CONFIG_NAMES = (".storegate.toml", "storegate.toml", "pyproject.toml")


def find_config_file(paths: Sequence[str | Path]) -> Path | None:
    """The nearest configuration file, walking up from the common parent directory of ``paths``:
    in each directory, ``.storegate.toml``, ``storegate.toml``, then a ``pyproject.toml`` with a
    ``[tool.storegate]`` table."""
    directory = _start_dir(paths)
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_NAMES:
            candidate = candidate_dir / name
            if not candidate.is_file():
                continue
            if candidate.is_symlink() and not is_inside(os.path.realpath(candidate), os.path.realpath(candidate_dir)):
                raise ConfigError(f"{display_path(candidate)}: symbolic link out of its directory; not read")
            if name != "pyproject.toml" or _tool_table(_read_toml(candidate), candidate) is not None:
                return candidate
    return None


def config_table(path: Path) -> tuple[dict[str, Any], str]:
    """The storegate keys of the configuration file ``path`` and how errors name it: a
    ``pyproject.toml``'s ``[tool.storegate]`` table (empty without one), any other file's top level."""
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        return _tool_table(data, path) or {}, f"{display_path(path)} [tool.storegate]"
    return data, display_path(path)


# ---------------------------------------------------------------------------------------------
# Validation


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key).replace("_", "-"), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (expected one of: {', '.join(allowed)})"
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")


def _string_list(value: Any, key: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key!r} must be a list, not {_type_name(value)}")
    return value


def _type_name(value: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
            dict: "a table", list: "a list"}.get(type(value), type(value).__name__)


def _flag_name(name: Any, where: str, what: str = "flag name") -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(f"{where}: invalid {what} {name!r} (expected a Python identifier)")
    return name


def _parse_flags(value: Any, where: str) -> list[Flag]:
    flags = []
    for item in _string_list(value, "flags", where):
        if isinstance(item, str):
            flags.append(Flag(_flag_name(item, f"{where}: 'flags'")))
        elif isinstance(item, dict):
            _check_keys(item, FLAG_KEYS, f"{where}: 'flags' entry")
            if "name" not in item:
                raise ConfigError(f"{where}: 'flags' entry {item!r} has no 'name'")
            options = {}
            for key in ("inverted", "none-means", "self-attribute"):
                if key in item:
                    if not isinstance(item[key], bool):
                        raise ConfigError(
                            f"{where}: flag {item['name']!r}: {key!r} must be true or false"
                        )
                    options[key.replace("-", "_")] = item[key]
            flags.append(Flag(_flag_name(item["name"], f"{where}: 'flags'"), **options))
        else:
            raise ConfigError(
                f"{where}: 'flags' entries must be names or tables, not {_type_name(item)}"
            )
    return flags


def validate_pattern(pattern: Any, where: str) -> str:
    """Check a sink pattern (a dotted glob, optionally ending in ``[]``); return it."""
    if not isinstance(pattern, str):
        raise ConfigError(f"{where}: sink pattern must be a string, not {_type_name(pattern)}")
    if not _PATTERN_RE.fullmatch(pattern):
        raise ConfigError(
            f"{where}: invalid sink pattern {pattern!r} (expected a dotted name with * and ? "
            "wildcards, optionally ending in [])"
        )
    return pattern


def validate_regex(regex: Any, pattern: str, where: str) -> str:
    """Check a sink's ``argument`` regex: valid, and runnable in linear time (``sinks.LinearRegex``:
    no backreference, lookaround, atomic group or possessive repeat); return it."""
    if not isinstance(regex, str):
        raise ConfigError(f"{where}: sink {pattern!r}: 'argument' must be a string (a regex)")
    try:
        re.compile(regex)
        compiled(regex)  # (built once: the matchers use the same program)
    except re.error as exc:
        raise ConfigError(f"{where}: sink {pattern!r}: invalid argument regex {regex!r}: {exc}") from None
    except UnsupportedRegex as exc:
        raise ConfigError(
            f"{where}: sink {pattern!r}: 'argument' regex {regex!r} uses {exc}, which storegate does not "
            "support (argument regexes run in linear time: no backreferences, lookarounds, atomic "
            "groups or possessive repeats)"
        ) from None
    return regex


def _parse_sinks(value: Any, where: str) -> list[Sink]:
    sinks = []
    for item in _string_list(value, "sinks", where):
        if isinstance(item, str):
            sinks.append(Sink(validate_pattern(item, f"{where}: 'sinks'")))
        elif isinstance(item, dict):
            _check_keys(item, SINK_KEYS, f"{where}: 'sinks' entry")
            if "pattern" not in item:
                raise ConfigError(f"{where}: 'sinks' entry {item!r} has no 'pattern'")
            pattern = validate_pattern(item["pattern"], f"{where}: 'sinks'")
            argument = item.get("argument")
            if argument is not None:
                argument = validate_regex(argument, pattern, where)
            position = item.get("position", 0)
            if type(position) is not int or position < 0:
                raise ConfigError(f"{where}: sink {pattern!r}: 'position' must be a whole number from 0")
            key = item.get("key")
            if key is not None and (type(key) is not int or key < 0):
                raise ConfigError(f"{where}: sink {pattern!r}: 'key' must be a whole number from 0")
            keyword = item.get("keyword")
            if keyword is not None:
                keyword = _flag_name(keyword, f"{where}: sink {pattern!r}: 'keyword'", "argument name")
            kind = item.get("kind")
            if kind is not None:
                kind = _flag_name(kind, f"{where}: sink {pattern!r}: 'kind'", "kind name")
            sinks.append(Sink(pattern, argument, kind, position, keyword, key))
        else:
            raise ConfigError(
                f"{where}: 'sinks' entries must be patterns or tables, not {_type_name(item)}"
            )
    return sinks


_ROUTE_RE = re.compile(r"(?:[A-Za-z]+ )?[/*]\S*")


def _parse_routes(value: Any, where: str) -> tuple[list[str], list[RouteDefault]]:
    """``routes`` entries: patterns, or tables giving a route its own meaning of an omitted flag
    (``{ route = "POST */chat/completions", none-means = false }``, optionally ``flag = "store"``)."""
    routes: list[str] = []
    defaults: list[RouteDefault] = []
    for item in _string_list(value, "routes", where):
        if isinstance(item, dict):
            _check_keys(item, ROUTE_KEYS, f"{where}: 'routes' entry")
            if "route" not in item or "none-means" not in item:
                raise ConfigError(f"{where}: 'routes' entry {item!r} needs 'route' and 'none-means'")
            if not isinstance(item["none-means"], bool):
                raise ConfigError(f"{where}: route {item['route']!r}: 'none-means' must be true or false")
            flag = _flag_name(item["flag"], f"{where}: route {item['route']!r}") if "flag" in item else None
            defaults.append(RouteDefault(_route_pattern(item["route"], where), item["none-means"], flag))
            routes.append(item["route"])
        else:
            routes.append(_route_pattern(item, where))
    return routes, defaults


def _route_pattern(item: Any, where: str) -> str:
    if not isinstance(item, str) or not _ROUTE_RE.fullmatch(item):
        raise ConfigError(
            f"{where}: invalid route {item!r} (expected a path glob like '/v1/responses', "
            "or '*/responses' for any prefix, optionally after a method: 'POST */responses'; "
            "or a table { route = ..., none-means = ... })"
        )
    return item


def _parse_retention(value: Any, where: str) -> list[Retention]:
    """``retention`` entries: tables naming the flag they relax, the condition (``when``) and
    what makes a write expire (``expiry-arguments``, ``expiring`` sink patterns)."""
    rules = []
    for item in _string_list(value, "retention", where):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: 'retention' entries must be tables, not {_type_name(item)}")
        _check_keys(item, RETENTION_KEYS, f"{where}: 'retention' entry")
        for key in ("flag", "when"):
            if key not in item:
                raise ConfigError(f"{where}: 'retention' entry {item!r} has no {key!r}")
        entry = f"{where}: 'retention' entry for {item['flag']!r}"
        arguments = tuple(
            _flag_name(name, f"{entry}: 'expiry-arguments'", "argument name")
            for name in _string_list(item.get("expiry-arguments", []), "expiry-arguments", entry)
        )
        expiring = tuple(
            validate_pattern(pattern, f"{entry}: 'expiring'")
            for pattern in _string_list(item.get("expiring", []), "expiring", entry)
        )
        if not arguments and not expiring:
            raise ConfigError(f"{entry}: allows nothing (give 'expiry-arguments' or 'expiring')")
        rules.append(
            Retention(
                _flag_name(item["flag"], f"{where}: 'retention' 'flag'"),
                _flag_name(item["when"], f"{entry}: 'when'", "condition name"),
                _unique(arguments),
                _unique(expiring),
            )
        )
    return rules


def _parse_state(value: Any, where: str) -> State | None:
    """A ``[state]`` table: container constructors (qualified dotted names) and the globs of
    bookkeeping to leave out (``ignore``: container names; ``ignore-values``: written values' callees;
    ``ignore-classes``: classes whose own containers are bookkeeping)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: 'state' must be a table, not {_type_name(value)}")
    _check_keys(value, STATE_KEYS, f"{where}: 'state'")
    lists = {}
    for key in STATE_KEYS:
        items = []
        for item in _string_list(value.get(key, []), key, f"{where}: 'state'"):
            if not isinstance(item, str) or not _PATTERN_RE.fullmatch(item) or item.endswith("[]"):
                raise ConfigError(f"{where}: 'state' {key!r}: invalid entry {item!r} (expected a dotted name, with * and ? in globs)")
            if key == "containers" and ("*" in item or "?" in item):
                raise ConfigError(f"{where}: 'state' 'containers': {item!r} must be a qualified name, not a glob")
            items.append(item)
        lists[key] = _unique(items)
    if not lists["containers"]:
        raise ConfigError(f"{where}: 'state' names no 'containers' (besides {{}}, [] and sets, e.g. \"dict\")")
    return State(lists["containers"], lists["ignore"], lists["ignore-values"], lists["ignore-classes"])


def _merge_state(states: Iterable[State | None]) -> State | None:
    """The union of the ``[state]`` tables of the packs and the config; None if none has one."""
    found = [state for state in states if state is not None]
    if not found:
        return None
    return State(*(_unique(item for state in found for item in getattr(state, name)) for name in ("containers", "ignore", "ignore_values", "ignore_classes")))


def _limit(table: dict[str, Any], key: str, default: int, unit: str, where: str) -> int:
    """A limit key (``max-target-bytes``, ``max-call-depth``): a whole number of ``unit``, 0 for no limit."""
    value = table.get(key, default)
    if type(value) is not int or value < 0:
        raise ConfigError(f"{where}: {key!r} must be a whole number of {unit} (0: no limit), not {value!r}")
    return value


def _parse_patterns(value: Any, key: str, where: str) -> list[str]:
    patterns = []
    for item in _string_list(value, key, where):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where}: {key!r} entries must be non-empty strings, not {item!r}")
        patterns.append(item)
    try:
        validate_excludes(patterns)
    except Exception as exc:  # pathspec raises assorted errors for a bad pattern
        raise ConfigError(f"{where}: invalid {key!r} pattern: {exc}") from None
    return patterns


# ---------------------------------------------------------------------------------------------
# Command-line specs


def parse_flag_spec(spec: str, known: Iterable[Flag] = ()) -> Flag:
    """A ``--flag`` value: ``NAME``, ``not NAME`` or ``!NAME`` (inverted).

    A flag of that name in ``known`` (the packs' and the config's) lends its settings.
    """
    text = spec.strip()
    inverted = False
    if text.startswith("!"):
        inverted, text = True, text[1:].strip()
    elif text.startswith("not ") or text.startswith("not\t"):
        inverted, text = True, text[4:].strip()
    name = _flag_name(text, f"--flag {spec!r}")
    base = {flag.name: flag for flag in known}.get(name, Flag(name))
    if inverted and not base.inverted:
        return Flag(name, inverted=True, none_means=base.none_means, self_attribute=base.self_attribute)
    return base


def parse_sink_spec(spec: str) -> Sink:
    """A ``--sink`` value: ``PATTERN`` or ``PATTERN::REGEX`` (the first argument's regex)."""
    pattern, sep, regex = spec.partition("::")
    where = f"--sink {spec!r}"
    pattern = validate_pattern(pattern.strip(), where)
    if not sep:
        return Sink(pattern)
    return Sink(pattern, validate_regex(regex, pattern, where))


# ---------------------------------------------------------------------------------------------
# The effective config


def _merge_flags(groups: Iterable[Iterable[Flag]]) -> tuple[Flag, ...]:
    merged: dict[str, Flag] = {}
    for group in groups:
        for flag in group:
            merged[flag.name] = flag  # a later definition wins, keeping the first position
    return tuple(merged.values())


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))


def load_config(
    paths: Sequence[str | Path],
    *,
    config_file: Path | None = None,
    isolated: bool = False,
    flags: Sequence[str] | None = None,
    sinks: Sequence[str] | None = None,
    rules: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    extend_exclude: Sequence[str] = (),
    max_target_bytes: int | None = None,
    max_call_depth: int | None = None,
) -> Config:
    """The effective ``Config`` for checking ``paths``; raises ``ConfigError``.

    ``config_file`` is a ``pyproject.toml`` (its ``[tool.storegate]``) or any other ``.toml``
    holding the same keys at its top level; without it, the nearest configuration file above the
    paths (``find_config_file``) is used, unless ``isolated``. ``flags``, ``sinks``, ``rules``,
    ``exclude``, ``extend_exclude``, ``max_target_bytes`` and ``max_call_depth`` are the
    command-line values (``None`` = not given):
    ``exclude`` replaces the configured excludes (and the defaults), ``extend_exclude`` is added
    to the configured ``extend-exclude``.
    """
    if isolated and config_file is not None:
        raise ConfigError("--config and --isolated cannot be used together")
    source: Path | None = None
    if config_file is not None:
        source = Path(config_file)
    elif not isolated:
        source = find_config_file(paths)
    table: dict[str, Any] = {}
    where = ""
    if source is not None:
        table, where = config_table(source)
        source = Path(os.path.abspath(source))

    _check_keys(table, CONFIG_KEYS, where)
    base_dir = source.parent if source is not None else None

    if rules is not None:
        rule_specs = list(rules)
        rules_base: Path | None = None  # command-line paths are relative to the cwd
    else:
        rule_specs = list(_string_list(table.get("rules", list(DEFAULT_RULES)), "rules", where))
        rules_base = base_dir
    packs = []
    for spec in rule_specs:
        if not isinstance(spec, str):
            raise ConfigError(f"{where}: 'rules' entries must be strings, not {_type_name(spec)}")
        packs.append(load_pack(spec, rules_base))

    config_flags = _parse_flags(table.get("flags", []), where)
    config_sinks = _parse_sinks(table.get("sinks", []), where)
    config_routes, config_route_defaults = _parse_routes(table.get("routes", []), where)
    config_retention = _parse_retention(table.get("retention", []), where)
    config_state = _parse_state(table.get("state"), where)

    all_flags = _merge_flags([*(p.flags for p in packs), config_flags])
    if flags is not None:
        all_flags = _merge_flags([[parse_flag_spec(spec, all_flags) for spec in flags]])
    if sinks is not None:
        all_sinks = _unique(parse_sink_spec(spec) for spec in sinks)
    else:
        all_sinks = _unique([*(s for p in packs for s in p.sinks), *config_sinks])

    return Config(
        flags=all_flags,
        sinks=all_sinks,
        routes=_unique([*(r for p in packs for r in p.routes), *config_routes]),
        route_defaults=_unique([*(d for p in packs for d in p.route_defaults), *config_route_defaults]),
        retention=_unique([*(r for p in packs for r in p.retention), *config_retention]),
        # ``--sink`` replaces all sinks, the state pack's containers too
        state=None if sinks is not None else _merge_state([*(p.state for p in packs), config_state]),
        packs=_unique(p.name for p in packs),
        exclude=tuple(
            _parse_patterns(table.get("exclude", []), "exclude", where)
            if exclude is None
            else _parse_patterns(list(exclude), "exclude", "--exclude")
        ),
        extend_exclude=(
            *_parse_patterns(table.get("extend-exclude", []), "extend-exclude", where),
            *_parse_patterns(list(extend_exclude), "extend-exclude", "--extend-exclude"),
        ),
        max_target_bytes=(
            _limit(table, "max-target-bytes", Config.max_target_bytes, "bytes", where) if max_target_bytes is None else max_target_bytes
        ),
        max_call_depth=_limit(table, "max-call-depth", Config.max_call_depth, "calls", where) if max_call_depth is None else max_call_depth,
        source=source,
    )
