"""Suppression comments: the parser (storegate.suppress) and the CLI end to end, with the real analyzer."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from storegate import suppress
from storegate.cli import main
from storegate.suppress import Suppression

ISOLATED = ["check", "--no-cache", "--isolated", "--flag", "store", "--sink", "save_response", "--sink", "save_audit"]
MSG = "persistence call 'save_response' is not gated by 'store'"


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, [*ISOLATED, *args], catch_exceptions=False)


def test_parse_forms_positions_and_codes():
    source = (
        "a = 1  # storegate: ignore\n"
        "b = 2  # storegate: ignore[SG001]\n"
        "c = 3  #storegate:IGNORE[sg001,  SG002 SG0]\n"
        "d = 4  # noqa\n"
        "e = 5  # NOQA:SG001,E501 because\n"
        "f = '# noqa'  # plain comment\n"
        "g = 7  # noqa: E501  # storegate: ignore[SG003]\n"
        "h = 8  # storegate: ignored\n"
    )
    assert suppress.parse(source) == [
        Suppression("storegate", 1, 8, 27, None, 1, 1),
        Suppression("storegate", 2, 8, 34, ("SG001",), 2, 2),
        Suppression("storegate", 3, 8, 44, ("SG001", "SG002", "SG0"), 3, 3),
        Suppression("noqa", 4, 8, 14, None, 4, 4),
        Suppression("noqa", 5, 8, 26, ("SG001", "E501"), 5, 5),  # flake8's pattern takes the space
        Suppression("storegate", 7, 22, 48, ("SG003",), 7, 7),
        Suppression("noqa", 7, 8, 22, ("E501",), 7, 7),
    ]


def test_match_codes_prefixes_and_bare():
    bare, listed = suppress.parse("x  # storegate: ignore\ny  # storegate: ignore[SG00, SG100]\n")
    assert bare.match("SG004") == "*"
    assert listed.match("SG003") == "SG00"
    assert listed.match("SG100") == "SG100"
    assert listed.match("SG101") is None
    assert listed.text == "storegate: ignore[SG00, SG100]"


def test_a_comment_after_a_multiline_string_covers_its_lines_like_flake8():
    source = 'x = """\nabc\n"""  # noqa: SG001\ncall(\n    a,  # noqa\n    b,\n)\n'
    first, second = suppress.parse(source)
    assert (first.first_line, first.last_line) == (1, 3)
    assert (second.first_line, second.last_line) == (5, 5)
    assert sorted(suppress.by_line([first, second])) == [1, 2, 3, 5]


@pytest.mark.parametrize("source", ["def f(:\n  # noqa\n", "x = (1,\n# storegate: ignore\n", "\0\0", "'''", "\tif x:\n  y  # noqa\n"])
def test_parse_never_raises_on_odd_input(source):
    assert isinstance(suppress.parse(source), list)


def test_the_last_line_without_a_newline_counts():
    (only,) = suppress.parse("x = 1  # storegate: ignore[SG001]")
    assert (only.line, only.codes, only.first_line, only.last_line) == (1, ("SG001",), 1, 1)


SOURCE = """\
def handler(store):
    save_response(a)  # storegate: ignore[SG001]
    save_response(b)  # storegate: ignore
    save_response(c)  # noqa
    save_response(d)  # noqa: SG001,E501
    save_response(e)  # noqa: SG
    save_response(f)  # storegate: ignore[SG002]
    save_response(g)  # noqa: E501
    save_response(h, '# noqa')
    save_response(i)  # storegate: ignore[SG002, SG001]
    save_response(j)
"""


def test_suppressed_findings_are_not_reported(in_tmp):
    (in_tmp / "t.py").write_text(SOURCE)
    result = run("t.py")
    assert result.exit_code == 1
    assert result.stdout == (
        f"t.py:7:5: SG001 {MSG}\n"  # one gate fixes all four: the others are related locations
        f"    also: t.py:8 SG001 {MSG}\n"
        f"    also: t.py:9 SG001 {MSG}\n"
        f"    also: t.py:11 SG001 {MSG}\n"
        "Found 1 finding (4 locations) in 1 file (1 file checked).\n"
    )


def test_unused_suppressions_are_sg100_with_report_unused_ignores(in_tmp):
    (in_tmp / "t.py").write_text(SOURCE)
    (in_tmp / "clean.py").write_text(
        "x = 1  # storegate: ignore\n"
        "y = 2  # noqa\n"
        "z = 3  # noqa: E501,SG004\n"
        "w = 4  # storegate: ignore[SG100]\n"
    )
    result = run("--report-unused-ignores", "--select", "SG100", ".")
    assert result.exit_code == 1
    assert result.stdout == (
        "clean.py:1:8: SG100 unused suppression 'storegate: ignore'\n"
        "clean.py:3:8: SG100 unused suppression 'SG004' in 'noqa: E501, SG004'\n"
        "t.py:7:23: SG100 unused suppression 'SG002' in 'storegate: ignore[SG002]'\n"
        "t.py:10:23: SG100 unused suppression 'SG002' in 'storegate: ignore[SG002, SG001]'\n"
        "Found 4 findings in 2 files (2 files checked).\n"
    )
    assert run(".", "--select", "SG100").stdout == "All checks passed (2 files checked).\n"
    assert run("--report-unused-ignores", "--ignore", "SG100", ".").stdout.count("SG100") == 0


def test_a_suppression_of_an_ignored_code_is_still_used(in_tmp):
    (in_tmp / "t.py").write_text("def f(store):\n    save_response(1)  # storegate: ignore[SG001]\n")
    result = run("--report-unused-ignores", "--ignore", "SG001", "t.py")
    assert (result.exit_code, result.stdout) == (0, "All checks passed (1 file checked).\n")


def test_unused_suppressions_can_be_suppressed_and_baselined(in_tmp):
    (in_tmp / "t.py").write_text("x = 1  # storegate: ignore[SG001, SG100]\n")
    assert run("--report-unused-ignores", "t.py").exit_code == 0
    (in_tmp / "t.py").write_text("x = 1  # storegate: ignore[SG001]\n")
    assert run("--report-unused-ignores", "t.py", "--write-baseline", "b.json").exit_code == 0
    result = run("--report-unused-ignores", "t.py", "--baseline", "b.json")
    assert (result.exit_code, result.stdout) == (0, "All checks passed (1 file checked).\n")


def test_suppression_comments_in_strings_do_not_count(in_tmp):
    (in_tmp / "t.py").write_text('def f(store):\n    save_response("# storegate: ignore")\n')
    assert run("t.py").stdout.startswith("t.py:2:5: SG001 ")
