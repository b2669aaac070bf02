"""The documentation of the codes, rendered from the registry: the README's code section
(``storegate rules --markdown``) and ``storegate rule CODE``."""

from __future__ import annotations

import textwrap

from storegate.checks import CODES, Code


def render_markdown() -> str:
    """The README's code section (between ``<!-- codes:start -->`` and ``<!-- codes:end -->``)."""
    lines = ["| code | name | summary |", "|---|---|---|"]
    lines += [f"| {c.code} | `{c.name}` | {c.summary} |" for c in CODES.values()]
    lines.append("")
    lines.append("`storegate rule CODE` prints the documentation of a code; it is repeated here.")
    for c in CODES.values():
        lines += [
            "",
            f"### {c.code} `{c.name}`",
            "",
            f"{c.summary[0].upper()}{c.summary[1:]}. {c.what}",
            "",
            f"**Why:** {c.why}",
            "",
            "```python",
            "# bad",
            c.bad.rstrip("\n"),
            "```",
            "",
            "```python",
            "# good",
            c.good.rstrip("\n"),
            "```",
            "",
            f"**Suppress:** {c.suppress}",
        ]
    return "\n".join(lines) + "\n"


def render_doc(code: Code, width: int = 88) -> str:
    """The full plain-text documentation of one code (``storegate rule CODE``)."""

    def para(text: str) -> str:
        return textwrap.fill(text, width=width, initial_indent="  ", subsequent_indent="  ")

    def block(text: str) -> str:
        return textwrap.indent(text.rstrip("\n"), "    ")

    parts = [
        f"{code.code} {code.name}: {code.summary}",
        "",
        "What it does",
        para(code.what),
        "",
        "Why is this bad?",
        para(code.why),
        "",
        "Example",
        block(code.bad),
        "",
        "Use instead",
        block(code.good),
        "",
        "How to suppress",
        para(code.suppress),
    ]
    return "\n".join(parts) + "\n"
