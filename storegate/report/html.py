"""The HTML report: one self-contained page to look at (``--format html --output report.html``).

The page holds a summary (the text report's summary line, a table by code and one by file) and,
for each finding (``storegate.related``: one item per missing gate), the source around it with
its witness path drawn over the lines: each step of the path numbered in order in the margin
of its line, the branches taken highlighted with the outcome, the write (and its related
locations) marked, and the chain of calls down to the sink as links to excerpts of the helpers'
lines. Every location is an element of class ``location`` (``data-code``), so a reader or a
test can count them.

No external asset and no script: the style sheet is inline. Everything from the analyzed tree
(paths, messages, source lines, step texts) is untrusted: it is escaped as Python's ``repr``
does for control characters (``text.printable``) and then HTML-escaped. The options of the
other formats change nothing here (the witness is always shown).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass

from storegate._version import __version__
from storegate.checks import CODES
from storegate.model import Finding, Result, TraceStep
from storegate.related import Group, group
from storegate.report.text import SourceLines, printable, summary

CONTEXT = 2  # lines shown before and after each marked line
_CHAIN_LINK = re.compile(r"^(?:(?P<path>.+):)?(?P<line>\d+) (?P<text>.+)$")

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.verdict { font-size: 1.1em; margin: 0 0 1em; } .verdict.found { color: #b3261e; } .verdict.clean { color: #1e7b34; }
table.summary { border-collapse: collapse; margin: .4em 0 1em; }
table.summary th, table.summary td { border: 1px solid #ddd; padding: .25em .7em; text-align: left; vertical-align: top; }
table.summary td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, .src, .steps { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.code { display: inline-block; background: #b3261e; color: #fff; border-radius: 3px; padding: 0 .35em; font-weight: 600; }
section.finding { border: 1px solid #d0d0d0; border-radius: 6px; margin: 1.2em 0; padding: .2em 1em 1em; }
section.finding h3 { font-size: 1em; font-weight: 500; } section.finding h3 a { color: inherit; }
ul.also { margin: .2em 0 .6em; }
ol.steps { margin: .3em 0 .8em; padding-left: 2.2em; } ol.steps li.folded { color: #777; }
table.src { border-collapse: collapse; width: 100%; table-layout: fixed; background: #fafafa; border: 1px solid #e3e3e3; }
table.src td { padding: 0 .5em; white-space: pre-wrap; overflow-wrap: anywhere; vertical-align: top; }
table.src col.ln { width: 3.5em; } table.src col.mark { width: 4.8em; } table.src col.note { width: 28%; }
table.src td.ln { color: #888; text-align: right; user-select: none; border-right: 1px solid #e3e3e3; }
table.src td.mark { text-align: center; padding: 0; }
table.src td.mark span { display: inline-block; min-width: 1.5em; border-radius: 1em; background: #3b5bdb; color: #fff; font-size: 11px; }
table.src td.note { color: #3b5bdb; white-space: normal; }
table.src tr.on-path td.mark { border-left: 3px solid #3b5bdb; }
table.src tr.branch td.text { background: #f0f2f7; } table.src tr.branch td.note { color: #777; }
table.src tr.branch.flagged td.text { background: #d6e0ff; } table.src tr.branch.flagged td.note { color: #3b5bdb; font-weight: 600; }
table.src tr.site td.text, table.src tr.also td.text { background: #fde2e0; }
table.src tr.site td.mark span, table.src tr.also td.mark span { background: #b3261e; }
table.src tr.chain td.text { background: #fff3cd; }
table.src tr.gap td { color: #999; text-align: center; }
table.src tr:target td { outline: 2px solid #f0a000; }
.chain h4 { font-size: .95em; font-weight: 500; margin: .8em 0 .2em; }
ul.errors li { color: #b3261e; }
footer { margin-top: 2em; color: #888; font-size: .9em; }
"""


def _e(text: object) -> str:
    """Untrusted text as HTML: control characters escaped (``printable``), then HTML-escaped."""
    return html.escape(printable(str(text), keep_tabs=True), quote=True)


@dataclass(frozen=True)
class _Link:
    """One call of a derived sink's chain: where the helper's call is (``path``, ``line``)."""

    path: str
    line: int
    text: str


def chain_links(finding: Finding) -> list[_Link]:
    """The chain of a finding's call step (``call f -> 161 g -> other.py:12 h``), as locations;
    a step without a chain gives none."""
    if not finding.trace:
        return []
    parts = finding.trace[-1].text.split(" -> ")
    if not parts[0].startswith("call ") or len(parts) < 2:
        return []
    links: list[_Link] = []
    for part in parts[1:]:
        match = _CHAIN_LINK.match(part)
        if match is None:
            return links
        links.append(_Link(match["path"] or finding.path, int(match["line"]), match["text"]))
    return links


def _windows(marked: set[int], last: int) -> list[tuple[int, int]]:
    """The line ranges shown: each marked line with CONTEXT lines around it, overlaps merged."""
    spans: list[tuple[int, int]] = []
    for line in sorted(n for n in marked if 0 < n <= last):
        start, end = max(1, line - CONTEXT), min(last, line + CONTEXT)
        if spans and start <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _lines_of(sources: SourceLines, path: str, wanted: set[int]) -> tuple[dict[int, str], int]:
    """The lines of ``path`` around ``wanted`` and the last line number seen (0: unreadable)."""
    top = max(wanted, default=0) + CONTEXT
    lines: dict[int, str] = {}
    for number in range(1, top + 1):
        text = sources.line(path, number)
        if text is None:
            break
        lines[number] = text
    return lines, max(lines, default=0)


def _listing(rows: dict[int, dict], lines: dict[int, str], last: int, anchor: str, path: range = range(0)) -> list[str]:
    """A source table of the windows around ``rows`` (line -> marks); ``anchor`` prefixes line
    ids; the lines in ``path`` get the witness path's line in the margin."""
    out = ['<table class="src"><colgroup><col class="ln"><col class="mark"><col class="text"><col class="note"></colgroup>']
    previous = 0
    for start, end in _windows(set(rows), last):
        if previous and start > previous + 1:
            on = ' on-path' if start - 1 in path else ''
            out.append(f'<tr class="gap{on}"><td class="ln"></td><td class="mark"></td><td class="text">\u22ef {start - previous - 1} lines</td><td class="note"></td></tr>')
        for number in range(start, end + 1):
            marks = rows.get(number, {})
            classes = " ".join((*marks.get("classes", ()), *(("on-path",) if number in path else ())))
            numbers = "".join(f"<span>{n}</span>" for n in marks.get("numbers", ()))
            note = "<br>".join(marks.get("notes", ()))
            out.append(
                f'<tr id="{anchor}-L{number}" class="{classes}"><td class="ln">{number}</td>'
                f'<td class="mark">{numbers}</td><td class="text">{_e(lines[number])}</td><td class="note">{note}</td></tr>'
            )
        previous = end
    out.append("</table>")
    return out


def _mark(rows: dict[int, dict], line: int, *classes: str, number: int | None = None, note: str = "") -> None:
    marks = rows.setdefault(line, {"classes": [], "numbers": [], "notes": []})
    marks["classes"].extend(c for c in classes if c not in marks["classes"])
    if number is not None:
        marks["numbers"].append(number)
    if note:
        marks["notes"].append(note)


def _step_classes(step: TraceStep) -> tuple[str, ...]:
    """A branch taken (``if c -> false``, ``exception -> handler``) is highlighted, strongly
    (``flagged``) when it bears on the flag: the text report folds the others."""
    if step.text.startswith("if ") or step.text.startswith("exception"):
        outcome = "true" if step.text.endswith("-> true") else "false" if step.text.endswith("-> false") else ""
        return tuple(c for c in ("branch", outcome, "flagged" if step.relevant else "") if c)
    return ("step",)


def _finding_section(index: int, item: Group, sources: SourceLines) -> list[str]:
    finding = item.primary
    anchor = f"f{index}"
    links = chain_links(finding)
    rows: dict[int, dict] = {}
    steps: list[str] = []
    for number, step in enumerate(finding.trace, 1):
        text = _e(step.text)
        if step is finding.trace[-1] and links:  # the call: its chain as links to the helpers
            head = _e(step.text.split(" -> ")[0])
            text = head + "".join(f' \u2192 <a href="#{anchor}-c{j}">{_e(link.text)}</a>' for j, link in enumerate(links))
        where = f'<a href="#{anchor}-L{step.line}">line {step.line}</a>: ' if step.line else ""
        steps.append(f'<li class="{"" if step.relevant else "folded"}">{where}<code>{text}</code></li>')
        if step.line:
            _mark(rows, step.line, *_step_classes(step), number=number, note=text)
    _mark(rows, finding.line, "site", note=f'<span class="code">{_e(finding.code)}</span>')
    also = []
    for other in item.related:
        _mark(rows, other.line, "also", note=f'<span class="code">{_e(other.code)}</span> also')
        also.append(
            f'<li class="location" data-code="{_e(other.code)}">also: <a href="#{anchor}-L{other.line}">'
            f'{_e(other.path)}:{other.line}:{other.column}</a> <span class="code">{_e(other.code)}</span> {_e(other.message)}</li>'
        )
    path_lines = [s.line for s in finding.trace if s.line]
    # The path's line in the margin runs from its first step to the write.
    path = range(min(path_lines), max(*path_lines, finding.line) + 1) if path_lines else range(0)
    lines, last = _lines_of(sources, finding.path, set(rows))

    out = [
        f'<section class="finding" id="{anchor}" data-code="{_e(finding.code)}">',
        f'<h3 class="location" data-code="{_e(finding.code)}"><a href="#{anchor}">{_e(finding.path)}:{finding.line}:{finding.column}</a> '
        f'<span class="code">{_e(finding.code)}</span> {_e(finding.message)}</h3>',
    ]
    if also:
        out += ['<ul class="also">', *also, "</ul>"]
    if steps:
        out += [f"<p>Witness path in <code>{_e(finding.function)}</code>: a path from the function's entry "
                "to the write along which nothing shows that the flag permits storing.</p>",
                '<ol class="steps">', *steps, "</ol>"]
    if last:
        out += _listing(rows, lines, last, anchor, path)
    else:
        out.append(f"<p>(the source of {_e(finding.path)} could not be read)</p>")
    if links:
        out.append('<div class="chain">')
        for j, link in enumerate(links):
            helper_rows: dict[int, dict] = {}
            _mark(helper_rows, link.line, "chain", note=_e(link.text))
            helper_lines, helper_last = _lines_of(sources, link.path, {link.line})
            out.append(f'<h4 id="{anchor}-c{j}">chain {j + 1}: <code>{_e(link.text)}</code> at {_e(link.path)}:{link.line}</h4>')
            out += _listing(helper_rows, helper_lines, helper_last, f"{anchor}-c{j}") if helper_last else []
        out.append("</div>")
    out.append("</section>")
    return out


def _summary_tables(result: Result, items: list[Group]) -> list[str]:
    """The tables by code and by file, counting every location (as ``--statistics`` does)."""
    locations = Counter(f.code for f in result.findings)
    out = ["<h2>By code</h2>", '<table class="summary by-code"><tr><th>code</th><th>name</th><th>locations</th><th>what</th></tr>']
    for code in sorted(locations):
        known = CODES.get(code)
        out.append(
            f'<tr><td><span class="code">{_e(code)}</span></td><td>{_e(known.name if known else "")}</td>'
            f'<td class="n">{locations[code]}</td><td>{_e(known.summary if known else "")}</td></tr>'
        )
    out.append("</table>")
    first: dict[str, int] = {}
    per_file: dict[str, Counter] = {}
    for index, item in enumerate(items, 1):
        first.setdefault(item.primary.path, index)
        for f in (item.primary, *item.related):
            per_file.setdefault(f.path, Counter())[f.code] += 1
    out += ["<h2>By file</h2>", '<table class="summary by-file"><tr><th>file</th><th>locations</th><th>codes</th></tr>']
    for path in sorted(per_file):
        counts = per_file[path]
        codes = ", ".join(f"{_e(code)} \u00d7{n}" for code, n in sorted(counts.items()))
        link = f'<a href="#f{first[path]}">{_e(path)}</a>' if path in first else _e(path)
        out.append(f'<tr><td>{link}</td><td class="n">{sum(counts.values())}</td><td>{codes}</td></tr>')
    out.append("</table>")
    return out


def render(result: Result, *, quiet: bool = False, explain: bool = False, show_source: bool = False, color: bool = False) -> str:
    """The page (the options change nothing: the summary and the witnesses are always there)."""
    items = group(result.findings)
    sources = SourceLines()
    verdict = "found" if result.findings or result.errors else "clean"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>storegate report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>storegate report</h1>",
        f'<p class="verdict {verdict}">{_e(summary(result))}</p>',
    ]
    if result.findings:
        out += _summary_tables(result, items)
    if result.errors:
        out += ["<h2>Files that could not be analyzed</h2>", '<ul class="errors">']
        out += [f"<li>{_e(e.path)}{f':{e.line}' if e.line is not None else ''}: {_e(e.message)}</li>" for e in result.errors]
        out.append("</ul>")
    if items:
        out.append("<h2>Findings</h2>")
        for index, item in enumerate(items, 1):
            out += _finding_section(index, item, sources)
    out += [f"<footer>storegate {_e(__version__)}</footer>", "</body></html>"]
    return "\n".join(out) + "\n"
