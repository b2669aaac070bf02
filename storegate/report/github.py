"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

``::error file=PATH,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::MESSAGE`` (``endColumn``
exclusive, as everywhere in storegate; ``col``/``endColumn`` only when the finding is on one
line, which GitHub requires). A file that could not be analyzed is ``::error file=PATH[,line=L],
title=storegate::MESSAGE``. Values are escaped as GitHub's toolkit does: ``%``, CR and LF in
messages; also ``:`` and ``,`` in properties. The findings one missing gate explains are one
annotation, on the first, whose message ends with an ``also: PATH:LINE CODE MESSAGE`` line for
each other (``storegate.related``). ``explain`` adds the witness path to the message
(one step a line); the summary line is plain text (no command), left out by ``quiet``.
"""

from __future__ import annotations

from storegate.model import Result
from storegate.related import group
from storegate.report.text import summary


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}"


def render(result: Result, *, quiet: bool = False, explain: bool = False, show_source: bool = False, color: bool = False) -> str:
    lines = []
    for item in group(result.findings):
        f = item.primary
        props: dict[str, object] = {"file": f.path, "line": f.line}
        if f.end_line == f.line:
            props.update(col=f.column, endLine=f.end_line, endColumn=f.end_column)
        else:
            props.update(endLine=f.end_line)
        props["title"] = f.code
        message = f.message + "".join(f"\nalso: {r.path}:{r.line} {r.code} {r.message}" for r in item.related)
        if explain and f.trace:
            message += "".join(f"\n{step.line} {step.text}" if step.line else f"\n{step.text}" for step in f.trace)
        lines.append(command("error", props, message))
    for e in result.errors:
        props = {"file": e.path}
        if e.line is not None:
            props["line"] = e.line
        props["title"] = "storegate"
        lines.append(command("error", props, e.message))
    if not quiet:
        lines.append(summary(result))
    return "".join(line + "\n" for line in lines)
