"""SG100 unused-suppression: a suppression comment that silences nothing.

Not a judgement of the project: the suppression filter (``storegate/filters.py``) finds these
while it applies the comments, with ``--report-unused-ignores``; only
``# storegate: ignore[SG100]`` on the same line (or ``--ignore SG100``) silences one.
"""

from __future__ import annotations

from storegate.checks.base import Code

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
