"""Baselines: today's findings recorded in a file, so that only new ones are reported.

A finding's identity does not use line numbers, so it survives edits elsewhere in the file:
``(path, code, function, sink, occurrence)``, where ``path`` is relative to the baseline file's
directory (posix), ``function`` the enclosing function (``Class.method``; empty at module level),
``sink`` the called name as written, and ``occurrence`` the index of the finding among those of
the same path, code, function and sink, in line order.

The file (deterministic: sorted, two-space indented, ASCII)::

    {
      "storegate-baseline": 1,
      "findings": [
        {"path": "app/service.py", "code": "SG001", "function": "Service.create",
         "sink": "self.responses_store.store_response_object", "occurrence": 0,
         "message": "..."}
      ]
    }

``message`` is for humans and ignored when reading.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from storegate import disk
from storegate.model import Finding

FORMAT_VERSION = 1
VERSION_KEY = "storegate-baseline"

Key = tuple[str, str, str, str, int]


# A baseline larger than this is not one (a link to /dev/zero, say): refused, not read.
MAX_BASELINE_BYTES = 64 * 1024 * 1024


class BaselineError(Exception):
    """A baseline file that cannot be read or is not a baseline."""


def _relative(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive
        rel = absolute
    return rel.replace(os.sep, "/")


def identities(findings: Iterable[Finding], root: Path | str | None = None) -> list[tuple[Finding, Key]]:
    """Each finding with its identity; paths relative to ``root`` (default: as reported)."""
    ordered = sorted(findings, key=lambda f: (f.path, f.line, f.column, f.code, f.message))
    counters: dict[tuple[str, str, str, str], int] = {}
    out = []
    for finding in ordered:
        path = finding.path if root is None else _relative(finding.path, Path(root))
        group = (path, finding.code, finding.function, finding.sink)
        index = counters.get(group, 0)
        counters[group] = index + 1
        out.append((finding, (*group, index)))
    return out


def fingerprint(key: Key) -> str:
    """A stable hash of an identity (for SARIF's partialFingerprints)."""
    return hashlib.sha256("\x1f".join(map(str, key)).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Baseline:
    keys: frozenset[Key]
    root: Path  # the directory the recorded paths are relative to

    def filter(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings that are not recorded in the baseline."""
        return [f for f, key in identities(findings, self.root) if key not in self.keys]


def dumps(findings: Iterable[Finding], root: Path | str) -> str:
    """The baseline file's text for ``findings``, paths relative to ``root``."""
    entries = [
        {"path": key[0], "code": key[1], "function": key[2], "sink": key[3], "occurrence": key[4], "message": f.message}
        for f, key in sorted(identities(findings, root), key=lambda pair: pair[1])
    ]
    return json.dumps({VERSION_KEY: FORMAT_VERSION, "findings": entries}, indent=2) + "\n"


def write(findings: Iterable[Finding], path: Path) -> int:
    """Write the baseline of ``findings`` to ``path``; the number recorded. Raises OSError."""
    findings = list(findings)
    root = Path(os.path.abspath(path)).parent
    disk.write_atomic(path, dumps(findings, root).encode("utf-8"))
    return len(findings)


def load(path: Path) -> Baseline:
    """Read a baseline file; raises ``BaselineError`` with a one-line reason."""
    where = str(path)
    try:
        text = disk.read_regular(path, MAX_BASELINE_BYTES).decode("utf-8")
    except disk.DiskError as exc:
        if exc.errno == errno.ENOENT:
            raise BaselineError(f"baseline file {where!r} not found") from None
        if exc.errno == errno.EISDIR:
            raise BaselineError(f"baseline {where!r} is a directory") from None
        raise BaselineError(f"cannot read baseline {where}: {exc.reason}") from None
    except UnicodeDecodeError as exc:
        raise BaselineError(f"cannot read baseline {where}: {exc}") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError, MemoryError) as exc:
        raise BaselineError(f"{where}: not a storegate baseline: invalid JSON: {exc}") from None
    if not isinstance(data, dict) or VERSION_KEY not in data:
        raise BaselineError(f"{where}: not a storegate baseline (no {VERSION_KEY!r} key)")
    if data[VERSION_KEY] != FORMAT_VERSION:
        raise BaselineError(f"{where}: unsupported baseline version {data[VERSION_KEY]!r} (expected {FORMAT_VERSION})")
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{where}: 'findings' must be a list")
    keys = set()
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise BaselineError(f"{where}: findings[{number}] must be an object")
        for name in ("path", "code", "function", "sink"):
            if not isinstance(entry.get(name), str):
                raise BaselineError(f"{where}: findings[{number}].{name} must be a string")
        occurrence = entry.get("occurrence")
        if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 0:
            raise BaselineError(f"{where}: findings[{number}].occurrence must be an integer >= 0")
        keys.add((entry["path"], entry["code"], entry["function"], entry["sink"], occurrence))
    return Baseline(frozenset(keys), Path(os.path.abspath(path)).parent)
