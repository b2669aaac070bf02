"""The fixed code does what the flag means: run before and after ``--fix``, for every flag value.

A golden ``before`` file is fixed for real (analyzed, planned, applied in a temporary directory),
then the original and the fixed source are each executed in a fresh namespace (our own fixture
code, not analyzed user code) with a recording fake for the writes, and every function is called
with the flag ``True``, ``False`` and ``None``. The fixed code must write exactly what the original
writes when the flag permits it (as the flag's ``inverted`` / ``none-means`` settings say), and
nothing when it does not: a gate that also blocked ``store=None``, the API default, would lose data.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from storegate import fix
from storegate.api import check
from storegate.config import load_config

FIXES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "fixes"
VALUES = (True, False, None)


class Recorder:
    """Stands for every object the fixtures write through; each call is recorded."""

    def __init__(self, writes: list) -> None:
        self._writes = writes

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self._writes.append((name, args))


def fixed_source(before: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(original, fixed) source of the golden ``before`` file, every finding fixed."""
    shutil.copyfile(before.parent / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copyfile(before, tmp_path / "subject.py")
    monkeypatch.chdir(tmp_path)
    config = load_config(["subject.py"])
    result = check(["subject.py"], config, use_cache=False)
    [plan] = fix.plan(result, config)
    assert plan.refused == () and plan.fixed_findings and plan.changed
    return plan.original, plan.fixed


def writes(source: str, exercise, value) -> list:
    """What ``exercise(namespace, recorder, value)`` writes once ``source`` is executed in a fresh
    namespace."""
    namespace: dict = {"__name__": "fixture"}
    exec(compile(source, "subject.py", "exec"), namespace)
    recorded: list = []
    exercise(namespace, Recorder(recorded), value)
    return recorded


def request(value) -> SimpleNamespace:
    return SimpleNamespace(id="resp_1", store=value)


# none_means.before.py: each function with the flag value; each writes in the original code.
NONE_MEANS_CALLS = {
    "wrap `if store is not False:`": lambda ns, rec, v: ns["Service"](rec).wrap({"status": "new"}, store=v),
    "conjunct `and store is not False`": lambda ns, rec, v: ns["Service"](rec).conjunct({"status": "completed"}, "c", store=v),
    "wrap on `request.store`": lambda ns, rec, v: ns["Service"](rec).from_request(request(v)),
    "conjunct on `request.store`": lambda ns, rec, v: ns["Service"](rec).from_request_conjunct(request(v), "c"),
    "conjunct on an alias": lambda ns, rec, v: ns["Service"](rec).from_alias(request(v), "c"),
    "wrap on `body.get('store')`": lambda ns, rec, v: ns["Service"](rec).from_body({"input": "hi", "store": v}),
    "wrap on `store: bool | None`": lambda ns, rec, v: ns["Service"](rec).declared_optional({"status": "new"}, store=v),
}


@pytest.mark.parametrize("case", NONE_MEANS_CALLS)
def test_none_means_true_keeps_the_writes_of_true_and_none(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The openai pack's ``store``: True and None (the API default) write, False does not."""
    original, fixed = fixed_source(FIXES_DIR / "none_means.before.py", tmp_path, monkeypatch)
    for value in VALUES:
        before = writes(original, NONE_MEANS_CALLS[case], value)
        assert before, "the original code writes whatever the flag says"
        assert writes(fixed, NONE_MEANS_CALLS[case], value) == (before if value is not False else []), f"store={value!r}"


def test_the_conjunct_keeps_the_original_condition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original, fixed = fixed_source(FIXES_DIR / "none_means.before.py", tmp_path, monkeypatch)

    def exercise(ns, rec, value):
        ns["Service"](rec).conjunct({"status": "completed"}, None, store=value)
        ns["Service"](rec).conjunct({"status": "failed"}, "c", store=value)

    for value in VALUES:
        assert writes(original, exercise, value) == writes(fixed, exercise, value) == []


def test_every_shape_is_exercised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, fixed = fixed_source(FIXES_DIR / "none_means.before.py", tmp_path, monkeypatch)
    for text in (
        "if store is not False:",
        "and store is not False:",
        "if request.store is not False:",
        "and request.store is not False:",
        "and should_store is not False:",
        'if body.get("store") is not False:',
    ):
        assert text in fixed


def _report() -> SimpleNamespace:
    return SimpleNamespace(validate=lambda: None, render=lambda: "text")


def exercise_dry_run(ns, rec, value):
    ns["log"] = SimpleNamespace(info=lambda *args: None)
    ns["write_report"](rec, "text", dry_run=value)


def exercise_dry_run_none(ns, rec, value):
    ns["save_items"] = rec.save_items
    ns["export"](rec, _report(), dry_run=value)
    ns["export_ready"](["item"], True, dry_run=value)


@pytest.mark.parametrize(
    ("golden", "exercise", "permits"),
    [
        # none-means = false: an omitted dry_run is a real run; the fix writes ``not dry_run``
        pytest.param("dry_run/inverted.before.py", exercise_dry_run, lambda v: not v, id="dry_run"),
        # none-means = true: an omitted dry_run is a dry run; the fix writes ``dry_run is False``
        pytest.param("dry_run_none/inverted.before.py", exercise_dry_run_none, lambda v: v is False, id="dry_run_none"),
    ],
)
def test_inverted_flags(golden: str, exercise, permits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original, fixed = fixed_source(FIXES_DIR / golden, tmp_path, monkeypatch)
    for value in VALUES:
        before = writes(original, exercise, value)
        assert before
        assert writes(fixed, exercise, value) == (before if permits(value) else []), f"dry_run={value!r}"


def test_a_parameter_declared_bool_gets_the_plain_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``store: bool = True`` cannot be ``None``: the fix writes ``if store:``, the form a maintainer
    writes, and it behaves as the original for both values the declaration allows."""
    original, fixed = fixed_source(FIXES_DIR / "none_means.before.py", tmp_path, monkeypatch)
    assert "        if store:\n            self.responses_store.store_response_object(response)" in fixed
    call = lambda ns, rec, v: ns["Service"](rec).declared_bool({"status": "new"}, store=v)  # noqa: E731
    assert writes(fixed, call, True) == writes(original, call, True) != []
    assert writes(fixed, call, False) == []


def test_a_name_bound_by_a_mapping_pattern_rest_stays_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixer asks the analyzer's CFG what a run binds, ``case {**rest}`` included: the fixed
    handler still returns ``rest`` when the flag forbids storing (gating the whole run with the
    ``match`` left it unbound: UnboundLocalError), and writes exactly what it did otherwise."""
    original, fixed = fixed_source(FIXES_DIR / "match_rest.before.py", tmp_path, monkeypatch)
    returned: list = []

    def call(ns, rec, value) -> None:
        ns["save_event"], ns["save_rest"] = rec.save_event, rec.save_rest
        returned.append(ns["handler"]({"id": 1, "text": "hi"}, store=value))

    for value in VALUES:
        before = writes(original, call, value)
        assert writes(fixed, call, value) == (before if value is not False else [])
    assert returned == [{"text": "hi"}] * 6
