"""Hand-offs, keyword dictionaries and callbacks (``storegate/handoffs.py``).

The analyzer's behaviour on each form is in ``fixtures/cases`` (``handoff_forms.py``,
``keyword_dicts.py``, ``keyword_queue.py``, ``callbacks.py``, ``pkg_handoffs``, ``pkg_callbacks``); here: what a
hand-off call is read as, that a summary keeps what callbacks need through the cache, and that
the pre-filter reads every file a callback's findings depend on.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from storegate import handoffs, paths
from storegate.api import check
from storegate.config import load_config
from storegate.summary import Argument, FunctionSummary, ModuleSummary, Site, Span
from test_prefilter import assert_same, both


def _handed(code: str) -> tuple[str, list[str]] | None:
    """``(function, arguments)`` of the call a hand-off makes, as code."""
    call = cst.parse_expression(code)
    assert isinstance(call, cst.Call)
    found = handoffs.handed(call)
    if found is None:
        return None
    module = cst.Module(body=[])
    function, args = found
    return module.code_for_node(function), [module.code_for_node(arg).rstrip(", ").replace(" = ", "=") for arg in args]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("loop.run_in_executor(None, self._save, r)", ("self._save", ["r"])),
        ("asyncio.to_thread(save, r, store=store)", ("save", ["r", "store=store"])),
        ("functools.partial(save, r, store=store)", ("save", ["r", "store=store"])),
        ("background_tasks.add_task(save, r, **extra)", ("save", ["r", "**extra"])),
        ("pool.submit(save, r, store)", ("save", ["r", "store"])),
        ("loop.call_later(5, save, r)", ("save", ["r"])),
        ("threading.Thread(target=save, args=(r, *more), kwargs={'store': store})", ("save", ["r", "*more", "store=store"])),
        ("Thread(None, save, 'worker', items, options)", ("save", ["*items", "**options"])),
        ("Thread(target=save, kwargs=dict(store=store))", ("save", ["store=store"])),
        ("loop.run_in_executor(None, lambda: save(r))", ("save", ["r"])),  # a thunk: its call
        ("transaction.on_commit(lambda: save(r, store=store))", ("save", ["r", "store=store"])),
        ("transaction.on_commit(lambda: archive.delay(r))", ("archive", ["r"])),  # its call hands off in turn
        ("asyncio.get_running_loop().run_in_executor(pool, self._save, r)", ("self._save", ["r"])),  # any receiver
        ("anyio.to_thread.run_sync(save, r)", ("save", ["r"])),
    ],
)
def test_handed_call(code, expected):
    assert _handed(code) == expected


@pytest.mark.parametrize(
    ("code", "forwards"),
    [
        ("save(r)", True),  # no hand-off: a keyword goes to the callee itself
        ("functools.partial(save, r)", True),
        ("background_tasks.add_task(save, r)", True),
        ("save_turn.delay(r)", True),
        ("save_turn.apply_async((r,))", False),
        ("threading.Thread(target=save, args=(r,))", False),
        ("loop.call_soon(save, r)", False),
        ("transaction.on_commit(lambda: save(r))", False),  # a keyword would go to on_commit
        ("background_tasks.add_task(lambda: save(r))", False),  # or to the lambda
    ],
)
def test_a_keyword_reaches_the_function_only_through_a_hand_off_that_forwards_it(code, forwards):
    """What the fixer asks before it passes the flag through a hand-off (SG003)."""
    call = cst.parse_expression(code)
    assert isinstance(call, cst.Call)
    assert handoffs.forwards_keywords(call) is forwards


@pytest.mark.parametrize(
    "code",
    [
        "loop.run_in_executor(None, functools.partial(save, r))",  # the partial is its own hand-off
        "bus.on('done', lambda event: save(event))",  # a lambda with parameters is a callback
        "transaction.on_commit(lambda: r)",  # a thunk that calls nothing
        "pool.submit(*jobs)",
        "threading.Thread(name='idle')",
        "tasks.add(save, r)",
        "run_sync(self._repo.append, r, persist=store)",  # a project's own wrapper: resolved, not assumed
        "utils.run_sync(save, r)",
    ],
)
def test_not_handed(code):
    assert _handed(code) is None


def test_an_imported_api_is_handed_by_its_qualified_name():
    call = cst.parse_expression("run_sync(save, r)")
    assert isinstance(call, cst.Call)
    assert handoffs.handed(call, {"run_sync": "anyio.to_thread.run_sync"}) is not None
    assert handoffs.handed(call, {"run_sync": "app.utils.run_sync"}) is None


def test_summary_keeps_and_packed_survive_json():
    """What callbacks (``keeps``), queued keyword dictionaries (``packed``) and dispatch tables
    (``tables``, ``chosen``, ``made``) need, through the cache."""
    held = (Argument("store", "", (("store", False, True),), "store"),)
    site = Site(Span(3, 5, 3, 30), "Job", "call", None, None, (Argument("kwargs", "", (), "kw"),), packed=(("kwargs", held),))
    queued = Site(Span(4, 5, 4, 30), "self.jobs.submit", "call", None, None, (Argument(None, "", made=("Job", 'kind="export"')),))
    worker = Site(Span(5, 5, 5, 30), "self._handlers[*]", "call", None, None, (Argument(None, "", path="job"),), chosen="kind")
    init = FunctionSummary(
        "Relay.__init__", "method", "Relay", (), (), (), (), (site, queued, worker), False,
        keeps=(("forward", "forward", ""), ("_handlers", "handler", "kind")), tables=(("self._handlers", "ExportJob", "self._export"),),
    )
    summary = ModuleSummary("relay.py", "relay", (), (("Relay", ()),), (init,))
    assert ModuleSummary.from_json(summary.to_json()) == summary


def _scope(code: str):
    from storegate import cfg as cfglib

    module = cst.parse_module(code)
    return cfglib.build(module.body[0])


@pytest.mark.parametrize(
    ("callee", "expected"),
    [
        ("self._handlers[type(job)]", ("self._handlers", "type")),
        ("self._handlers[job.__class__]", ("self._handlers", "type")),
        ("self._handlers[type(job).__name__]", ("self._handlers", "type")),
        ("self._handlers[job.kind]", ("self._handlers", "kind")),
        ('HANDLERS[job["kind"]]', ("HANDLERS", "kind")),
        ('self._handlers.get(job.get("type"))', ("self._handlers", "type")),
        ("self._handlers[name]", ("self._handlers", "")),
        ("self._handlers[1:2]", None),
        ("make()[job.kind]", None),
    ],
)
def test_chosen_reads_what_a_table_is_keyed_by(callee, expected):
    assert handoffs.chosen(cst.parse_expression(callee)) == expected


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ('Job(kind="export", payload=p)', ("Job", 'kind="export"')),
        ('Job("export", p)', ("Job", '0="export"')),
        ("jobs.ExportJob(JobKind.EXPORT, text)", ("jobs.ExportJob", "0=JobKind.EXPORT")),
        ('"export"', ('"export"',)),
        ('"a whole prompt, with spaces"', ()),
        ("str(x)", ()),
        ("job", ("MemoryJob",)),
        ("payload", ()),
        ("Job(kind=kind.value, payload=p)", ("Job", "kind=*kind.value")),
    ],
)
def test_made_says_what_made_an_argument(argument, expected):
    """A label that is no constant is kept when it is a location of the parameters (``kind``)."""
    assigned = {"job": cst.parse_expression("MemoryJob(items)")}

    def located(value):
        path = paths.access_path(value)
        return path if path is not None and paths.root_name(path) == "kind" else None

    assert handoffs.made(cst.parse_expression(argument), assigned, located) == expected


def test_kept_and_tables_read_a_registry():
    register = _scope("def register(self, kind, handler):\n    self._handlers[kind] = handler\n    self._last = handler\n")
    assert handoffs.kept(register) == (("_handlers", "handler", "kind"), ("_last", "handler", ""))
    by_value = _scope("def register(self, kind, handler):\n    self._handlers[kind.value] = handler\n")
    assert handoffs.kept(by_value) == (("_handlers", "handler", "kind"),)
    init = _scope(
        "def __init__(self):\n"
        "    self._handlers = {ExportJob: self._export, 'tick': self._tick, name: self._other}\n"
        "    self._handlers[JobKind.USAGE] = record_usage\n"
    )
    assert handoffs.tables(init) == (
        ("self._handlers", "ExportJob", "self._export"),
        ("self._handlers", '"tick"', "self._tick"),
        ("self._handlers", "JobKind.USAGE", "record_usage"),
    )


# A receiver reached from the handler gets its callback from a module that never mentions the
# flag, and that callback is defined in a third such module: the pre-filter must read both.
TREE = {
    "pkg/__init__.py": "",
    "pkg/events.py": "def emit(item, listener=None):\n    if listener is not None:\n        listener(item)\n",
    "pkg/wiring.py": "from pkg.archive import archive\nfrom pkg.events import emit\n\n\ndef boot(item):\n    emit(item, archive)\n",
    "pkg/archive.py": "def archive(item):\n    save_item(item)\n",
    "pkg/api.py": "from pkg.events import emit\n\n\ndef handler(item, store=True):\n    emit(item)\n",
    "unrelated.py": "def archive(item):\n    return item\n",
}



def test_fix_passes_the_flag_only_where_a_keyword_reaches_the_function(tmp_path, monkeypatch):
    """SG003 on a hand-off: ``add_task`` and ``partial`` pass keywords on, ``Thread`` does not
    (``Thread(..., store=store)`` would not run): that one is refused, with the reason."""
    from storegate import fix

    (tmp_path / "jobs.py").write_text(
        "import threading\n"
        "from functools import partial\n\n\n"
        "def _keep(item, store=True):\n"
        "    if store:\n"
        "        save_item(item)\n\n\n"
        "def start(item, tasks, store=True):\n"
        "    tasks.add_task(_keep, item)\n"
        "    threading.Thread(target=_keep, args=(item,)).start()\n"
        "    return partial(_keep, item)\n"
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(["jobs.py"], isolated=True, flags=["store"], sinks=["save_*"])
    result = check(["jobs.py"], config, use_cache=False)
    assert [(f.line, f.code) for f in result.findings] == [(11, "SG003"), (12, "SG003"), (13, "SG003")]
    [plan] = fix.plan(result, config)
    assert [(r.finding.line, r.reason) for r in plan.refused] == [
        (12, "a keyword added here does not reach the function it hands off")
    ]
    assert "tasks.add_task(_keep, item, store=store)" in plan.fixed
    assert "partial(_keep, item, store=store)" in plan.fixed


# A private function called only with a queued dict: a producer that puts no flag in it sits in
# a module that mentions neither the flag nor the function; the pre-filter must read it.
QUEUED = {
    "svc/__init__.py": "",
    "svc/jobs.py": "class Job:\n    def __init__(self, kwargs):\n        self.kwargs = kwargs\n",
    "svc/api.py": (
        "from svc.jobs import Job\n\n\n"
        "def _keep(item, store):\n    save_item(item)\n\n\n"
        "def consume(job):\n    _keep(**job.kwargs)\n\n\n"
        "def produce(queue, item, store=True):\n"
        "    if store:\n        kw = {'item': item, 'store': store}\n        queue.put_nowait(Job(kwargs=kw))\n"
    ),
    "svc/other.py": "from svc.jobs import Job\n\n\ndef later(queue, item):\n    kw = {'item': item}\n    queue.put_nowait(Job(kwargs=kw))\n",
}


@pytest.mark.parametrize("tree", [TREE, QUEUED], ids=["callbacks", "queued"])
def test_prefilter_reads_what_callbacks_need(tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in tree.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text)
    filtered, everything = both(["."], load_config(["."], isolated=True, flags=["store"], sinks=["save_*"]), jobs=1)
    assert everything.findings
    assert_same(filtered, everything)
