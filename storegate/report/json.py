"""The machine-readable report: exactly one JSON object.

``{"findings": [...], "errors": [...], "files_checked": N}``, each finding with the keys
path, line, column, end_line, end_column, code, message, sink, flag, function, trace (a list of
``{"line", "text", "relevant"}``), kind (why ``sink`` is persistence: ``configured``,
``container``, ``learned``, the kind a derived sink's chain ends at, ``derived``; ``""`` for
SG100), related (a list of ``{"path", "line", "column", "code", "message"}``: the
other findings the same missing gate explains, ``storegate.related``; often empty) and each
error with path, message, line (null when unknown).
"""

from __future__ import annotations

import json as _json

from storegate.model import Result
from storegate.related import Group, group

RELATED_KEYS = ("path", "line", "column", "code", "message")


def _finding(item: Group) -> dict:
    related = [{key: getattr(other, key) for key in RELATED_KEYS} for other in item.related]
    return {**item.primary.to_json(), "related": related}


def to_dict(result: Result) -> dict:
    return {
        "findings": [_finding(item) for item in group(result.findings)],
        "errors": [error.to_json() for error in result.errors],
        "files_checked": result.files_checked,
    }


def render(result: Result, *, quiet: bool = False, explain: bool = False, show_source: bool = False, color: bool = False) -> str:
    """The JSON report (the options change nothing: traces are always there)."""
    return _json.dumps(to_dict(result), indent=2) + "\n"
