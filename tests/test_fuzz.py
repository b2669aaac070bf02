"""Property tests: any source either gives a summary or a one-line ``SourceError``, never a crash.

Sources come from hypothesmith (from the grammar, and from libcst nodes) and from a small
generator of control flow around the flag, with a configuration that fires often: flags
``store`` and ``x``, and every call a sink. ``STOREGATE_FUZZ_EXAMPLES`` sets the number of
examples per test and draws them at random (without it: 40, the same on every run).
"""

from __future__ import annotations

import os
import textwrap

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storegate.analysis import summarize
from storegate.config import load_config
from storegate.errors import SourceError
from storegate.project import findings
from storegate.summary import ModuleSummary

CONFIG = load_config(["."], isolated=True, flags=["store", "x"], sinks=["*"])
_EXAMPLES = os.environ.get("STOREGATE_FUZZ_EXAMPLES")
SETTINGS = settings(
    # a bounded number here; benchmarks/bench.py runs the same tests with many more
    max_examples=int(_EXAMPLES or "40"),
    # the suite's examples are the same on every run, so is its time (a random draw of
    # hypothesmith's once took two minutes); the benchmark's many draw new ones each time
    derandomize=_EXAMPLES is None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def analyze(source: str) -> list | None:
    """The findings of ``source``, or None for a SourceError; anything else fails the test."""
    try:
        summary = summarize(source, "fuzz.py", CONFIG, "fuzz")
    except SourceError as exc:
        assert exc.message and "\n" not in exc.message, exc.message
        return None
    assert isinstance(summary, ModuleSummary)
    result = findings([summary], CONFIG)
    # what the cache keeps is as good as the summary itself
    again = ModuleSummary.from_json(summary.to_json())
    assert again == summary
    assert findings([again], CONFIG) == result
    for finding in result:
        assert finding.path == "fuzz.py"
        assert finding.line >= 1 and finding.column >= 1
        assert (finding.end_line, finding.end_column) >= (finding.line, finding.column)
    return result


def analyze_with_flag(source: str) -> None:
    analyze(source)
    analyze("def f(store, x):\n" + (textwrap.indent(source, "    ") or "    pass\n"))
    analyze("class C:\n    async def m(self, store, x):\n" + (textwrap.indent(source, "        ") or "        pass\n"))


@SETTINGS
@given(hypothesmith.from_grammar())
def test_sources_from_the_grammar(source):
    analyze_with_flag(source)


@SETTINGS
@given(hypothesmith.from_node())
def test_sources_from_libcst_nodes(source):
    analyze_with_flag(source)


# --- control flow around the flag -----------------------------------------------------------

_CONDITIONS = st.sampled_from(
    [
        "store", "not store", "x", "not x", "store and x", "store or x", "store is True",
        "store is False", "store is None", "store is not False", "bool(store)", "y",
        "request.store", 'body.get("store", True)', "(s := store)", "s", "store == True",
    ]
)  # fmt: skip
_SIMPLE = st.sampled_from(
    [
        "save(1)", "store = False", "store = y", "s = store", "x = None", "return", "raise E",
        "pass", "break", "continue", "yield save(2)", "await save(3)", "assert store",
        "del d[k]", "d[k] = save(4)", "items.append(5)", "lambda: save(6)", "store and save(7)",
        "store or save(8)", "save(9) if store else None", "[save(i) for i in y if store]",
        "nonlocal_thing = helper()",
    ]
)  # fmt: skip


def _block(children):
    body = st.lists(children, min_size=1, max_size=3).map(lambda parts: "".join(parts))
    return st.one_of(
        st.tuples(_CONDITIONS, body).map(lambda t: f"if {t[0]}:\n{_indent(t[1])}"),
        st.tuples(_CONDITIONS, body, body).map(lambda t: f"if {t[0]}:\n{_indent(t[1])}else:\n{_indent(t[2])}"),
        st.tuples(_CONDITIONS, body, body).map(lambda t: f"if {t[0]}:\n{_indent(t[1])}elif y:\n{_indent(t[2])}"),
        st.tuples(_CONDITIONS, body).map(lambda t: f"while {t[0]}:\n{_indent(t[1])}"),
        st.tuples(body, body).map(lambda t: f"for i in y:\n{_indent(t[0])}else:\n{_indent(t[1])}"),
        st.tuples(body, body, body).map(
            lambda t: f"try:\n{_indent(t[0])}except E:\n{_indent(t[1])}finally:\n{_indent(t[2])}"
        ),
        st.tuples(body, body).map(lambda t: f"try:\n{_indent(t[0])}except* E:\n{_indent(t[1])}"),
        st.tuples(body, body).map(lambda t: f"with open(p) as fh:\n{_indent(t[0])}{t[1]}"),
        st.tuples(body, body).map(
            lambda t: f"match store:\n    case True if x:\n{_indent(t[0], 2)}    case _:\n{_indent(t[1], 2)}"
        ),
        st.tuples(body).map(lambda t: f"def inner(store=True):\n{_indent(t[0])}"),
    )


def _indent(text: str, levels: int = 1) -> str:
    return textwrap.indent(text, "    " * levels)


_STATEMENTS = st.recursive(_SIMPLE.map(lambda s: s + "\n"), _block, max_leaves=12)
_BODIES = st.lists(_STATEMENTS, min_size=1, max_size=5).map(lambda parts: "".join(parts))


@SETTINGS
@given(_BODIES)
def test_control_flow_around_the_flag(body):
    source = "async def f(store, x, y, request, body, d, k, items, p):\n" + _indent(body)
    result = analyze(source)
    # the generator only writes Python this interpreter reads, except `yield` beside `await`
    # in an async function (an async generator: valid) and break/continue outside a loop
    # (a compile error, not a parse error): libcst parses all of it.
    assert result is not None
    analyze_with_flag(body)
