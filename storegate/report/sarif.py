"""SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One run: ``tool.driver`` (name, version, informationUri, one rule per code of
``storegate.checks``), one result per finding (ruleId, ruleIndex, level, message, the location
relative to ``%SRCROOT%`` = the current directory, the enclosing function as a logical location,
``partialFingerprints`` from the baseline identity, ``properties`` with the ``sink`` and why it
is persistence, its ``kind`` (``Finding.kind``), and the witness path as a ``codeFlows``
entry when there is one) and, in ``invocations``, one notification per file that could not be analyzed.
Columns are counted in code points (``columnKind``); ``endColumn`` is exclusive, as in SARIF.

The findings one missing gate explains are one result (``storegate.related``), on the first,
with the others as ``relatedLocations`` (ids 1, 2, ...): its message links to them, as
``[line 39](1)``, since GitHub shows only the related locations a message links to (SARIF
§3.11.6; the message's own ``[``, ``]`` and ``\\`` are then escaped with a backslash).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from storegate._version import __version__
from storegate.baseline import fingerprint, identities
from storegate.checks import CODES
from storegate.model import Finding, Result
from storegate.related import Group, group

SCHEMA_URI = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/storegate/storegate"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "storegateIdentity/v1"


def _anchor(code) -> str:
    return f"{INFORMATION_URI}#{code.code.lower()}-{code.name}"


def rules() -> list[dict]:
    out = []
    for code in CODES.values():
        out.append(
            {
                "id": code.code,
                "name": code.name,
                "shortDescription": {"text": code.summary},
                "fullDescription": {"text": code.what},
                "help": {
                    "text": f"{code.why}\n\nSuppress: {code.suppress}",
                    "markdown": (
                        f"{code.why}\n\nBad:\n\n```python\n{code.bad}```\n\nGood:\n\n```python\n{code.good}```\n\n"
                        f"Suppress: {code.suppress}"
                    ),
                },
                "helpUri": _anchor(code),
                "defaultConfiguration": {"level": code.level},
            }
        )
    return out


def artifact_location(path: str) -> dict:
    """A relative path: a URI relative to %SRCROOT%; an absolute one: a file URI."""
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(Path(path).as_posix()), "uriBaseId": SRCROOT}


def _region(f: Finding) -> dict:
    return {"startLine": f.line, "startColumn": f.column, "endLine": f.end_line, "endColumn": f.end_column}


def _physical(f: Finding) -> dict:
    return {"artifactLocation": artifact_location(f.path), "region": _region(f)}


def _escape_link_text(text: str) -> str:
    """Plain text in a message with embedded links: its brackets (and backslashes) escaped."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _message(item: Group) -> str:
    """The first finding's message; with related locations (in its file), links to them:
    ``... (also [line 39](1), [line 40](2))``."""
    if not item.related:
        return item.primary.message
    links = ", ".join(f"[line {r.line}]({i})" for i, r in enumerate(item.related, 1))
    return f"{_escape_link_text(item.primary.message)} (also {links})"


def _result(item: Group, key, rule_index: dict[str, int]) -> dict:
    f = item.primary
    location: dict = {"physicalLocation": _physical(f)}
    if f.function:
        location["logicalLocations"] = [{"fullyQualifiedName": f.function, "kind": "function"}]
    out: dict = {"ruleId": f.code}
    if f.code in rule_index:
        out["ruleIndex"] = rule_index[f.code]
    known = CODES.get(f.code)
    out["level"] = known.level if known is not None else "warning"
    out["message"] = {"text": _message(item)}
    out["locations"] = [location]
    if item.related:
        out["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(r), "message": {"text": f"{r.code} {r.message}"}}
            for i, r in enumerate(item.related, 1)
        ]
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(key)}
    if f.kind:
        out["properties"] = {"sink": f.sink, "kind": f.kind}
    if f.trace:
        steps = []
        for step in f.trace:
            flow_location: dict = {"message": {"text": step.text}}
            if step.line:
                flow_location["physicalLocation"] = {
                    "artifactLocation": artifact_location(f.path),
                    "region": {"startLine": step.line},
                }
            steps.append({"location": flow_location})
        out["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    return out


def to_dict(result: Result) -> dict:
    rule_index = {code: i for i, code in enumerate(CODES)}
    keyed = dict((id(f), key) for f, key in identities(result.findings))
    notifications = []
    for e in result.errors:
        physical: dict = {"artifactLocation": artifact_location(e.path)}
        if e.line is not None:
            physical["region"] = {"startLine": e.line}
        notifications.append({"level": "error", "message": {"text": e.message}, "locations": [{"physicalLocation": physical}]})
    try:
        root = Path(os.getcwd()).as_uri() + "/"
    except OSError:
        root = None
    run: dict = {
        "tool": {
            "driver": {"name": "storegate", "version": __version__, "informationUri": INFORMATION_URI, "rules": rules()}
        },
        "invocations": [{"executionSuccessful": not result.errors, "toolExecutionNotifications": notifications}],
    }
    if root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root}}
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = [_result(item, keyed[id(item.primary)], rule_index) for item in group(result.findings)]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(result: Result, *, quiet: bool = False, explain: bool = False, show_source: bool = False, color: bool = False) -> str:
    """The SARIF log (the options change nothing: code flows are always there)."""
    return json.dumps(to_dict(result), indent=2) + "\n"
