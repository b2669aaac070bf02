"""What counts as the flag: a parameter or name, a request attribute, a constant key.

``store``, ``request.store``, ``body["store"]`` and ``body.get("store")`` are flag locations;
``self.store`` / ``cls.store`` are not (usually the storage object) unless the flag says so.
A local copied from a location is related to it by the facts, not named here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from storegate.model import Flag
from storegate.paths import root_name


def is_location(path: str, flag: Flag) -> bool:
    """Whether the access path ``path`` denotes ``flag``."""
    if path == flag.name:
        return True
    if path.endswith("." + flag.name):
        base = path[: -len(flag.name) - 1]
        return flag.self_attribute or base not in ("self", "cls")
    if path.endswith(f"[{json.dumps(flag.name)}]"):
        return root_name(path) not in ("self", "cls") or flag.self_attribute
    return False


def available(flag: Flag, params: Iterable[str], names: Iterable[str], paths: Iterable[str]) -> bool:
    """Whether a scope can see the flag: a parameter, a name it reads, or a location it reads."""
    return flag.name in params or flag.name in names or any(is_location(path, flag) for path in paths)
