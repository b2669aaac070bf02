"""SG100 unused-suppression: a suppression comment that silences nothing.

Not a judgement of the project: the suppression filter (``storegate/filters.py``) calls
``decide`` with the comments of a file and the (comment, code) pairs that silenced a finding,
with ``--report-unused-ignores``; only ``# storegate: ignore[SG100]`` on the same line (or
``--ignore SG100``) silences one.
"""

from __future__ import annotations

from storegate import suppress
from storegate.checks.base import Code
from storegate.model import Finding

CODE = Code(
    code="SG100",
    name="unused-suppression",
    summary="unused suppression",
    what=(
        "With `--report-unused-ignores`: reports a `# storegate: ignore` comment, or a "
        "`# noqa` comment naming storegate codes, that suppresses no finding on its line "
        "(each unused code is named). A bare `# noqa` is never reported: it may be meant "
        "for another tool."
    ),
    why=(
        "A suppression left behind after a fix would silently hide the next real finding "
        "on that line."
    ),
    bad="""\
def render(items):
    return "\\n".join(items)  # storegate: ignore[SG001]
""",
    good="""\
def render(items):
    return "\\n".join(items)
""",
    decide=None,
    level="warning",
    suppress=(
        "Delete the comment, or the codes of it that are unused. SG100 is only reported with "
        "--report-unused-ignores; --ignore SG100 turns it off again."
    ),
)


def decide(path: str, comments: list[suppress.Suppression], used: set[tuple[int, str]]) -> list[Finding]:
    """The unused suppressions of one file: ``used`` holds (comment index, code) pairs, ``"*"``
    for a comment without codes."""
    found = []
    for index, comment in enumerate(comments):
        if comment.codes is None:
            if comment.kind == suppress.NOQA_KIND or (index, "*") in used:
                continue  # a bare noqa may be meant for another tool
            unused = ["*"]
        else:
            entries = comment.codes
            if comment.kind == suppress.NOQA_KIND:  # other tools' codes are not ours to judge
                entries = tuple(e for e in entries if e.startswith("SG"))
            unused = [e for e in entries if (index, e) not in used and e != CODE.code]
        if not unused:
            continue
        if unused == ["*"]:
            what, sink = f"'{comment.text}'", comment.text
        else:
            sink = ", ".join(unused)
            what = ", ".join(f"'{e}'" for e in unused)
            what = f"{what} in '{comment.text}'"
        found.append(
            Finding(
                path=path,
                line=comment.line,
                column=comment.column,
                end_line=comment.line,
                end_column=comment.end_column,
                code=CODE.code,
                message=f"unused suppression {what}",
                sink=sink,
                flag="",
                function="",
            )
        )
    return found
