"""What counts as the flag: a parameter or name, a request attribute, a constant key.

``store``, ``request.store``, ``body["store"]`` and ``body.get("store")`` are flag locations;
``self.store`` / ``cls.store`` are not (usually the storage object) unless the flag says so.
A local copied from a location is related to it by the facts, not named here.

A location named like the flag is the flag only where it can hold the client's boolean: the
scope's evidence (gathered by ``reads.py``: how it is annotated, what it is bound from, how it
is used) decides, here, which of the flag's locations a scope sees are storage objects instead
(``store: ResponsesStore``, ``store = ResponsesStore(...)``, ``store.put(...)``), and which
are a command line's options (``args.store`` of an ``argparse.Namespace``): no request's flag.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from storegate.model import Flag
from storegate.paths import is_under, root_name

# The evidence about a name or location, as ``reads.py`` gathers it.
BOOLEAN = "boolean"  # annotated `bool`, `bool | None`, `Optional[bool]`, `Literal[True, False]`;
#                      bound from `bool(...)`, a comparison, `not`, True/False; defaults to True/False
TYPED = "typed"  # annotated with another type (`ResponsesStore`, `Store | None`, "Store")
MADE = "made"  # bound from a call that is not a bool conversion (`ResponsesStore(...)`, `await open()`),
#                or by `def` / `class` / `import`
OBJECT = "object"  # used as an object: `store.put(...)`, `store.table`, `store[key]`, `store.x = 1`
OPTIONS = "options"  # the command line's options: annotated `argparse.Namespace`, bound from `parse_args()`
COPIED = "copied"  # `self.store` bound from another location of the flag (`self.store = req.store`)


def copied_attribute(evidence: Iterable[str]) -> bool:
    """Whether ``self.<flag>`` holds the client's boolean: every binding of it in the module copies
    a location of the flag or is a boolean (``self.store = req.store`` in an object a request
    builds), none an object or another type's annotation."""
    kinds = set(evidence)
    return COPIED in kinds and kinds <= {COPIED, BOOLEAN}


def is_location(path: str, flag: Flag) -> bool:
    """Whether the access path ``path`` denotes ``flag``."""
    if path == flag.name:
        return True
    if path.endswith("." + flag.name):
        base = path[: -len(flag.name) - 1]
        return flag.self_attribute or base not in ("self", "cls")
    if path.endswith(".should_" + flag.name) and not flag.inverted:
        # a request's property that says whether to store (``req.should_store``, which
        # ``return self.store is not False`` computes): the flag, as the request decides it
        base = path[: -len(flag.name) - len(".should_")]
        return flag.self_attribute or base not in ("self", "cls")
    if path.endswith(f"[{json.dumps(flag.name)}]"):
        return root_name(path) not in ("self", "cls") or flag.self_attribute
    return False


def holds_object(evidence: Iterable[str], parameter: bool) -> bool:
    """Whether a name or location with this evidence holds something other than a boolean.

    A use as an object or another type's annotation wins (a bool has no ``.put``). A binding
    from some other call makes an object of a local (``store = ResponsesStore(...)``), not of a
    parameter, which holds its caller's value until then (``store = policy.allows(r)`` is a new
    decision), nor of a name also bound to a boolean. With no evidence (a parameter without
    annotation, a request field) it is the flag.
    """
    kinds = set(evidence)
    if OBJECT in kinds or TYPED in kinds:
        return True
    return MADE in kinds and BOOLEAN not in kinds and not parameter


@dataclass(frozen=True)
class Sight:
    """How a scope sees one flag: the locations of it that it reads or binds and that can hold
    the client's boolean, and those named like it that hold an object."""

    locations: frozenset[str]
    objects: frozenset[str]


def sight(
    flag: Flag,
    params: Iterable[str],
    names: Iterable[str],
    accessed: Iterable[str],
    evidence: Mapping[str, Iterable[str]],
    alias: Callable[[str], str] = lambda path: path,
) -> Sight:
    """Which of ``flag``'s locations a scope sees, and which of those are objects.

    ``names``/``accessed``: what the scope reads or binds; ``evidence``: path -> the kinds above;
    ``alias``: what a path denotes (a local copy of a location is that location). A location is
    used as an object when the scope reads a path under it (``store.put``, ``body["store"]["x"]``).
    """
    candidates = {path for path in accessed if is_location(path, flag)}
    candidates.update(name for name in names if name != alias(name) and is_location(alias(name), flag))  # a copy an enclosing function made
    if flag.name in params or flag.name in names:
        candidates.add(flag.name)
    if not candidates:
        return Sight(frozenset(), frozenset())
    found: dict[str, set[str]] = {}
    for path, kinds in evidence.items():
        found.setdefault(alias(path), set()).update(kinds)
    below = {alias(path) for path in accessed}
    params = set(params)
    objects = set()
    for path in candidates:
        location = alias(path)
        if location != root_name(location) and OPTIONS in found.get(root_name(location), ()):
            objects.add(location)  # ``args.store`` of the command line: an option, not the client's
            continue
        kinds = found.get(location, set())
        if any(read != location and is_under(read, location) for read in below):
            kinds = kinds | {OBJECT}
        if holds_object(kinds, path in params):
            objects.add(location)
    located = {path for path in candidates if alias(path) not in objects}
    return Sight(frozenset(located), frozenset(objects))

