"""Witness paths on real source: the analyzer is run on a file and its traces compared.

A witness says where the flag came from, shows the branches that bear on the flag and the
assignments of it, folds the other branches in ``--explain``, keeps every step (with its
``relevant`` mark) in JSON, never takes one unchanged condition both ways, and prefers a normal
path to an exception path.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from storegate.api import check
from storegate.config import load_config
from storegate.model import Finding, Result
from storegate.report.text import format_trace

CONFIG = """\
[tool.storegate]
rules = []
flags = [{name = "store", none-means = true}]
sinks = ["save_response", "*.response_store[]"]
"""


def _run(tmp_path: Path, source: str) -> Result:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    path = tmp_path / "server.py"
    path.write_text(textwrap.dedent(source))
    result = check([str(path)], load_config([str(path)]))
    assert result.errors == (), result.errors
    return result


def _steps(finding: Finding) -> list[tuple[int, str, bool]]:
    return [(step.line, step.text, step.relevant) for step in finding.trace]


def test_the_short_form_folds_the_branches_that_do_not_bear_on_the_flag(tmp_path: Path) -> None:
    (finding,) = _run(
        tmp_path,
        """\
        class Server:
            async def create(self, request, verbose):
                if verbose:
                    log(request)
                if request.stream:
                    log(request)
                persist = bool(request.store)
                if persist:
                    log(request)
                if request.model:
                    log(request)
                if request.background:
                    self.response_store[request.id] = request
        """,
    ).findings
    assert _steps(finding) == [
        (0, "flag 'request.store': request field", True),
        (3, "if verbose -> true", False),
        (5, "if request.stream -> true", False),
        (7, "persist = bool(request.store)", True),
        (8, "if persist -> false", True),
        (10, "if request.model -> true", False),
        (12, "if request.background -> true", False),
        (13, "write self.response_store[...]", True),
    ]
    assert format_trace(finding) == [
        "    flag 'request.store': request field",
        "    \u2026 2 other branches",
        "    7 persist = bool(request.store)",
        "    8 if persist -> false",
        "    \u2026 2 other branches",
        "    13 write self.response_store[...]",
    ]
    assert finding.to_json()["trace"][1] == {"line": 3, "text": "if verbose -> true", "relevant": False}


def test_a_correlated_branch_is_shown_and_a_parameter_is_named(tmp_path: Path) -> None:
    (finding,) = _run(
        tmp_path,
        """\
        def create(request, store, verbose):
            if request.background and not store:
                log(request)
            if verbose:
                log(request)
            if request.background:
                save_response(request)
        """,
    ).findings
    assert format_trace(finding) == [
        "    1 flag 'store': parameter",
        "    2 if request.background -> true",
        "    2 if store -> false",
        "    \u2026 1 other branch",
        "    6 if request.background -> true",
        "    7 call save_response",
    ]


def test_a_witness_never_takes_an_unchanged_condition_both_ways(tmp_path: Path) -> None:
    """The tree of the must-analysis's solution went through ``request.stream -> true`` and then
    ``-> false``; the search finds the real path: stream false, store false."""
    (finding,) = _run(
        tmp_path,
        """\
        def create(request, store):
            if not request.stream:
                if not store:
                    log(request)
            if not request.stream:
                save_response(request)
        """,
    ).findings
    assert [text for _, text, _ in _steps(finding)] == [
        "flag 'store': parameter",
        "if request.stream -> false",
        "if store -> false",
        "if request.stream -> false",
        "call save_response",
    ]


def test_a_normal_path_is_preferred_to_an_exception_path(tmp_path: Path) -> None:
    (finding,) = _run(
        tmp_path,
        """\
        def create(request, store):
            try:
                prepare(request)
            except ValueError:
                log(request)
            if request.model:
                log(request)
            save_response(request)
        """,
    ).findings
    assert "exception -> handler" not in [text for _, text, _ in _steps(finding)]


def test_a_call_names_every_write_its_callee_makes() -> None:
    """``LEDGER.settle`` appends to a file, to a module's history and to its tags (these two
    through one helper, ``_book``), and keeps the record in its own ``_recent``: the finding on
    each call of it shows the four chains, in the message (three, then how many more) and as steps
    of the trace (the own container not for a ledger made for the call); the write only its own
    parameter switches on (``if mirror:``) is not among them."""
    package = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "pkg_every_write"
    result = check([str(package)], load_config([str(package)]), use_cache=False)
    assert [(f.line, f.code) for f in result.findings] == [(10, "SG004"), (19, "SG002"), (28, "SG002"), (37, "SG002")]
    booked = "-> self._book -> self._remember -> _HISTORY.setdefault; -> self._book -> self._tag -> _TAGS[...]"
    ways = f"-> self._append_line -> open; {booked}"
    handler, compact, scratch, day = result.findings
    # the write only ``archive=True`` switches on is no chain of a call that leaves it off, the shortest though it is
    assert day.message == f"call to 'LEDGER.settle_day' persists ({booked}) and is not gated by 'store'"
    assert handler.message == f"handler for POST /v1/responses persists without checking 'store' (call to 'LEDGER.settle' {ways}; 1 more write (--explain))"
    assert compact.message == f"call to 'LEDGER.settle' persists ({ways}; 1 more write (--explain)) and is not gated by 'store'"
    # a ledger made for the one call keeps nothing in its own container once it returns
    assert scratch.message == f"call to 'Ledger().settle' persists ({ways}) and is not gated by 'store'"
    for finding in result.findings[:2]:
        calls = [step.text for step in finding.trace if "LEDGER.settle" in step.text]
        assert [text.split(" LEDGER.settle")[0] for text in calls] == ["call", "also through", "also through", "also through"]
        assert "service.py:22 _HISTORY.setdefault" in calls[1] and "service.py:25 _TAGS[...]" in calls[2]
        assert "_recent[...]" in calls[3]
        assert not any("_mirror" in step.text for step in finding.trace)


def test_a_message_shows_three_chains_and_counts_the_rest() -> None:
    from storegate.checks.base import arrows

    chains = [(("m.py", line, f"w{line}"),) for line in range(1, 6)]
    assert arrows(chains[:1]) == "-> w1"
    assert arrows(chains[:4]) == "-> w1; -> w2; -> w3; 1 more write (--explain)"
    assert arrows(chains) == "-> w1; -> w2; -> w3; 2 more writes (--explain)"
