"""``--format html``: the page, rendered by a real browser (headless Chromium, installed by .ci/run).

One project with a derived sink whose helper is in another module (a chain across files), a
related location, a finding in a second function and a ``<script>`` in a string of the analyzed
source. The CLI writes the page; Chromium loads it once and dumps the DOM it built; the DOM is
read with the stdlib's parser and compared with the JSON report of the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

HELPERS = '''\
def persist(db, item):
    """Keeps ``item``: a helper without the flag."""
    db.save(item)
'''

APP = '''\
from helpers import persist


def handler(db, request, store=True):
    if request.stream:
        persist(db, request)
    db.save("<script>document.title = 'pwned'</script>")


def audit(db, event, store=True):
    if not event:
        return
    db.save(event)
'''

CONFIG = ["--isolated", "--flag", "store", "--sink", "db.save", "--no-cache"]


def storegate(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "storegate", "check", *CONFIG, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


class Dom(HTMLParser):
    """What the test reads of a page: elements by class, ids, links, script elements, all text."""

    def __init__(self) -> None:
        super().__init__()
        self.by_class: dict[str, list[dict]] = {}
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._open: list[tuple[str, list[dict]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        self.ids.update([attributes["id"]] if "id" in attributes else [])
        self.links.extend([attributes["href"]] if "href" in attributes else [])
        records = []
        for name in (attributes.get("class") or "").split():
            record = {"attrs": attributes, "text": []}
            self.by_class.setdefault(name, []).append(record)
            records.append(record)
        self._open.append((tag, records))

    def handle_endtag(self, tag):
        while self._open:
            name, _ = self._open.pop()
            if name == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        for _, records in self._open:
            for record in records:
                record["text"].append(data)

    def texts(self, cls: str) -> list[str]:
        return ["".join(record["text"]) for record in self.by_class.get(cls, [])]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(project, the JSON report, the page as written, the DOM Chromium built from it)."""
    project = tmp_path_factory.mktemp("html")
    (project / "helpers.py").write_text(HELPERS)
    (project / "app.py").write_text(APP)
    proc = storegate(project, "--format", "html", "--output", "report.html", ".")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "", "the page goes to --output only"
    report = json.loads(storegate(project, "--format", "json", ".").stdout)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is not installed: .ci/run installs it (apt-get install -y chromium)"
    browser = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={project / 'profile'}",
         "--dump-dom", (project / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(project)},
    )
    assert browser.returncode == 0 and "</html>" in browser.stdout, browser.stderr[-2000:]
    dom = Dom()
    dom.feed(browser.stdout)
    return project, report, (project / "report.html").read_text(encoding="utf-8"), dom


def test_the_browser_shows_every_finding_and_every_related_location(run):
    _, report, _, dom = run
    expected = sorted(
        (f"{loc['path']}:{loc['line']}:{loc['column']}", loc["code"])
        for finding in report["findings"] for loc in (finding, *finding.get("related", ()))
    )
    assert len(expected) == 3  # handler: SG002 with SG001 related; audit: SG001
    # Each location reads "path:line:col CODE message" ("also: ..." for a related one).
    shown = sorted(
        (text.strip().removeprefix("also: ").split()[0], record["attrs"]["data-code"])
        for record, text in zip(dom.by_class["location"], dom.texts("location"))
    )
    assert shown == expected
    assert len(dom.by_class["finding"]) == len(report["findings"]) == 2
    assert "Found 2 findings (3 locations) in 1 file (2 files checked)." in dom.texts("verdict")


def test_the_summary_tables_count_by_code_and_by_file(run):
    _, _, _, dom = run
    by_code = " ".join(dom.texts("by-code"))
    assert "SG001" in by_code and "ungated-sink" in by_code and "SG002" in by_code
    by_file = " ".join(dom.texts("by-file"))
    assert "app.py" in by_file and "SG001 \u00d72, SG002 \u00d71" in by_file


def test_the_witness_is_drawn_over_the_source_and_the_chain_links_to_the_helper(run):
    _, _, _, dom = run
    branches = dom.texts("branch")
    assert any("if request.stream:" in text and "if request.stream -> true" in text for text in branches)
    assert any("if not event:" in text and "if event -> true" in text for text in branches)
    sites = dom.texts("site")
    assert any("persist(db, request)" in text for text in sites) and any("db.save(event)" in text for text in sites)
    assert any("db.save(\"<script>" in text for text in dom.texts("also"))
    # The chain: the call step links to an excerpt of helpers.py's line 3, shown highlighted.
    chain = dom.texts("chain")
    assert any("db.save(item)" in text for text in chain)
    assert "chain 1: db.save at helpers.py:3" in "".join(dom.text)
    # Every link is internal and lands on an element of the page.
    assert dom.links and all(link.startswith("#") and link[1:] in dom.ids for link in dom.links)


def test_the_source_is_escaped_and_the_page_needs_nothing_outside(run):
    _, _, page, dom = run
    assert "script" not in dom.tags  # the fixture's <script> is text, not an element
    assert "db.save(\"<script>document.title = 'pwned'</script>\")" in "".join(dom.text)
    assert "<script" not in page
    for external in ("src=", "<link", "@import", "url(", "http://", "https://"):
        assert external not in page


def test_a_clean_project_gives_a_page_that_says_so(tmp_path):
    (tmp_path / "ok.py").write_text("def f(db, store=True):\n    if store:\n        db.save(1)\n")
    proc = storegate(tmp_path, "--format", "html", ".")
    assert proc.returncode == 0, proc.stderr
    assert "All checks passed (1 file checked)." in proc.stdout and "class=\"finding\"" not in proc.stdout


def test_a_file_that_cannot_be_analyzed_is_listed_escaped(tmp_path):
    (tmp_path / "<b>bad.py").write_text("def f(:\n")
    proc = storegate(tmp_path, "--format", "html", ".")
    assert proc.returncode == 2, proc.stderr
    assert "<h2>Files that could not be analyzed</h2>" in proc.stdout
    assert "<li>&lt;b&gt;bad.py:1: " in proc.stdout and "<b>" not in proc.stdout
