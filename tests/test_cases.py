"""The analyzer's oracle: every ``fixtures/cases/**/*.py`` is run through ``check()`` for real.

A case states its expected findings in comments on the line where the flagged call starts:
``# expect: SG001`` (several codes on one line are separated by spaces). A line without such a
comment must produce no finding. Comments are read with ``tokenize``, so ``# expect:`` inside a
string literal does not count. Each case directory finds its configuration the way users do: the
nearest ``pyproject.toml`` with a ``[tool.storegate]`` table above the file.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "fixtures" / "cases"
# Multi-file packages (``pkg_*/``) are analyzed as a whole; every other file on its own.
PACKAGES = sorted(p for p in CASES_DIR.glob("pkg_*") if p.is_dir())
CASE_FILES = sorted(
    (p for p in CASES_DIR.rglob("*.py") if not any(parent in PACKAGES for parent in p.parents)),
    key=lambda p: p.relative_to(CASES_DIR).as_posix(),
)
MIN_CASES = 40

_EXPECT = re.compile(r"#\s*expect:(?P<codes>.*)$")
_CODE = re.compile(r"^[A-Z]{1,3}[0-9]{1,3}$")


def _case_id(path: Path) -> str:
    return path.relative_to(CASES_DIR).as_posix()


def parse_expectations(source: str) -> Counter[tuple[int, str]]:
    """The multiset of (line, code) that ``# expect:`` comments in ``source`` announce."""
    expected: Counter[tuple[int, str]] = Counter()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = _EXPECT.search(token.string)
        if match is None:
            continue
        codes = match.group("codes").split()
        line = token.start[0]
        if not codes or not all(_CODE.match(code) for code in codes):
            raise ValueError(f"line {line}: malformed expectation {token.string!r}")
        for code in codes:
            expected[(line, code)] += 1
    return expected


def _describe(entries: Counter[tuple[int, str]], lines: list[str], messages: dict | None = None) -> str:
    out = []
    for (line, code), count in sorted(entries.items()):
        text = lines[line - 1].strip() if 0 < line <= len(lines) else "<no such line>"
        times = f" x{count}" if count > 1 else ""
        out.append(f"    line {line}: {code}{times}  | {text}")
        if messages and (line, code) in messages:
            out.append(f"        message: {messages[(line, code)]}")
    return "\n".join(out)


def test_parse_expectations_reads_comments_only() -> None:
    source = (
        'x = "# expect: SG001"\n'
        "save_response(x)  # expect: SG001\n"
        "y = '''\n"
        "# expect: SG001\n"
        "'''\n"
        "save_item(y)  # expect: SG001 SG002\n"
    )
    assert parse_expectations(source) == Counter({(2, "SG001"): 1, (6, "SG001"): 1, (6, "SG002"): 1})


def test_parse_expectations_rejects_malformed() -> None:
    with pytest.raises(ValueError):
        parse_expectations("save_response(x)  # expect: SG001 because\n")
    with pytest.raises(ValueError):
        parse_expectations("save_response(x)  # expect:\n")


def test_enough_cases() -> None:
    assert len(CASE_FILES) >= MIN_CASES, f"only {len(CASE_FILES)} case files under {CASES_DIR}"


@pytest.mark.parametrize("case", CASE_FILES, ids=_case_id)
def test_case_has_docstring(case: Path) -> None:
    docstring = ast.get_docstring(ast.parse(case.read_text(encoding="utf-8")))
    assert docstring and docstring.strip(), f"{_case_id(case)}: start the case with a module docstring"


@pytest.mark.parametrize("case", CASE_FILES, ids=_case_id)
def test_case(case: Path, tmp_path: Path) -> None:
    from storegate.api import check
    from storegate.config import load_config

    source = case.read_text(encoding="utf-8")
    expected = parse_expectations(source)
    result = check([str(case)], load_config([str(case)]), cache_dir=tmp_path / "cache")  # never in the fixtures

    assert result.errors == (), f"errors: {result.errors}\n" + "\n".join(result.tracebacks)
    assert result.files_checked == 1

    found = Counter((finding.line, finding.code) for finding in result.findings)
    messages = {(finding.line, finding.code): finding.message for finding in result.findings}
    missing = expected - found
    unexpected = found - expected
    if missing or unexpected:
        lines = source.splitlines()
        report = [f"{_case_id(case)}: findings differ from the # expect: comments"]
        if missing:
            report.append("  missing (expected, not found):\n" + _describe(missing, lines))
        if unexpected:
            report.append("  unexpected (found, not expected):\n" + _describe(unexpected, lines, messages))
        pytest.fail("\n".join(report), pytrace=False)


def _package_files(package: Path) -> list[Path]:
    return sorted(package.rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=_case_id)
def test_package(package: Path, tmp_path: Path) -> None:
    """A package's findings, across all its files, match the ``# expect:`` comments in them."""
    from storegate.api import check
    from storegate.config import load_config

    result = check([str(package)], load_config([str(package)]), cache_dir=tmp_path / "cache")
    assert result.errors == (), f"errors: {result.errors}\n" + "\n".join(result.tracebacks)
    assert result.files_checked == len(_package_files(package))

    report = []
    for path in _package_files(package):
        source = path.read_text(encoding="utf-8")
        expected = parse_expectations(source)
        mine = [f for f in result.findings if Path(f.path).resolve() == path.resolve()]
        found = Counter((finding.line, finding.code) for finding in mine)
        messages = {(finding.line, finding.code): finding.message for finding in mine}
        missing, unexpected = expected - found, found - expected
        lines = source.splitlines()
        if missing:
            report.append(f"{_case_id(path)}: missing (expected, not found):\n" + _describe(missing, lines))
        if unexpected:
            report.append(f"{_case_id(path)}: unexpected (found, not expected):\n" + _describe(unexpected, lines, messages))
    if report:
        pytest.fail("\n".join(report), pytrace=False)


@pytest.mark.parametrize("package", PACKAGES, ids=_case_id)
def test_package_findings_do_not_depend_on_file_order(package: Path) -> None:
    """The project stage sees the summaries in any order and reaches the same findings."""
    import random

    from storegate import files
    from storegate.api import summarize_files
    from storegate.config import load_config
    from storegate.project import findings

    config = load_config([str(package)])
    paths = _package_files(package)
    baseline = None
    for seed in range(4):
        order = list(paths)
        random.Random(seed).shuffle(order)
        summaries, errors, _ = summarize_files(order, config)
        assert errors == []
        random.Random(seed + 100).shuffle(summaries)
        found = sorted(findings(summaries, config), key=lambda f: f.sort_key)
        if baseline is None:
            baseline = found
            assert found, "a package case without findings proves nothing about order"
        assert found == baseline, f"order {[files.display_path(p) for p in order]} changed the findings"
