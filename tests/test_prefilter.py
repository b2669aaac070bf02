"""The byte pre-filter is sound: it never changes a finding; the worker pool never changes order.

A file that the pre-filter does not select is never analyzed, so a pre-filter that missed a
file that matters would silently lose findings. Every comparison here is against a run that
parses every file (``use_prefilter=False``).
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest

from storegate.api import check
from storegate.config import load_config
from storegate.files import discover
from storegate.model import Result

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
CASES = FIXTURES / "cases"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
STDLIB_SUBSET = ["email", "json", "http", "logging", "unittest", "asyncio"]
# Flags and sinks that fire often on the stdlib (SG001 and SG002 both), to give the filter work.
OFTEN_FLAGS = ["verbose", "debug", "strict", "timeout", "block", "force", "shutdown", "check"]
OFTEN_SINKS = ["*.write", "*.append", "*.send", "*.close", "*.update", "*.add", "*.extend", "*.put*", "*.set*", "*.flush"]


def both(paths, config, **kwargs) -> tuple[Result, Result]:
    filtered = check(paths, config, use_cache=False, **kwargs)
    everything = check(paths, config, use_cache=False, use_prefilter=False, **kwargs)
    assert filtered.tracebacks == () and everything.tracebacks == ()
    return filtered, everything


def assert_same(filtered: Result, everything: Result) -> None:
    assert filtered.findings == everything.findings  # the same, in the same order
    assert filtered.errors == everything.errors
    assert filtered.files_checked == everything.files_checked


def test_fixture_cases_as_a_whole():
    config = load_config([str(CASES)])
    filtered, everything = both([str(CASES)], config, jobs=2)
    assert len(everything.findings) > 50
    assert_same(filtered, everything)


@pytest.mark.parametrize("package", sorted(p.name for p in CASES.iterdir() if p.name.startswith("pkg_")))
def test_fixture_packages(package):
    directory = CASES / package
    config = load_config([str(directory)])
    filtered, everything = both([str(directory)], config, jobs=1)
    assert everything.findings
    assert_same(filtered, everything)


def test_sample_server():
    directory = FIXTURES / "responses_server"
    config = load_config([str(directory)])
    filtered, everything = both([str(directory)], config, jobs=1)
    assert_same(filtered, everything)
    # and the worst case: every call a sink
    config = load_config([str(directory)], sinks=["*"])
    filtered, everything = both([str(directory)], config, jobs=1)
    assert len(everything.findings) > 10
    assert_same(filtered, everything)


# Chains the pre-filter has to follow over several rounds: none of these files but api.py and
# svc.py mentions the flag, and the sink is two or three modules away.
CHAINS = {
    "pkg/__init__.py": "from .deep import persist as exported\n",
    "pkg/deeper.py": "def really(x):\n    save_x(x)\n",
    "pkg/deep.py": "from .deeper import really\n\n\ndef persist(x):\n    really(x)\n",
    "pkg/base.py": "class Base:\n    def keep(self, x):\n        from pkg.deeper import really\n        really(x)\n",
    "pkg/mid.py": "from pkg.base import Base\n\n\nclass Mid(Base):\n    pass\n",
    "pkg/factory.py": "from pkg.mid import Mid\n\n\ndef make() -> Mid:\n    return Mid()\n",
    "pkg/aliases.py": "import pkg.deeper as d\n\n\ndef via_alias(x):\n    d.really(x)\n",
    "pkg/lost.py": "def maybe(x, store=True):\n    if store:\n        save_x(x)\n",
    "pkg/svc.py": (
        "from pkg.mid import Mid\n\n\nclass Svc(Mid):\n    def run(self, store, x):\n        self.keep(x)\n"
    ),
    "pkg/api.py": (
        "import pkg as p\n"
        "from pkg import exported\n"
        "from pkg.aliases import via_alias\n"
        "from pkg.factory import make\n"
        "from pkg.lost import maybe\n"
        "\n\n"
        "def handler(store, x):\n"
        "    exported(x)\n"
        "    p.exported(x)\n"
        "    via_alias(x)\n"
        "    make().keep(x)\n"
        "    maybe(x)\n"
        "    if store:\n"
        "        exported(x)\n"
        "\n\n"
        "from pkg.wired import keeper\n"
        "from pkg.holder import Holder\n"
        "from pkg.agent import Agent\n"
        "\n\n"
        "def typed(store, x, h: Holder, a: Agent, request):\n"
        "    keeper.keep(x)\n"
        "    h.k.keep(x)\n"
        "    request.app.state.keeper.keep(x)\n"
        "    a.run(x)\n"
    ),
    # Types (issue 15): the class a name or attribute holds is in a file none of the above
    # names but through an import, an ``app.state`` attribute or a construction.
    "pkg/keeper.py": "class Keeper:\n    def keep(self, x):\n        save_x(x)\n",
    "pkg/wired.py": "from pkg.keeper import Keeper\n\nkeeper = Keeper()\n",
    "pkg/holder.py": "from pkg.keeper import Keeper\n\n\nclass Holder:\n    def __init__(self, k: Keeper):\n        self.k = k\n",
    "pkg/boot.py": "from pkg.keeper import Keeper\n\n\ndef boot(app):\n    app.state.keeper = Keeper()\n",
    "pkg/agent.py": "class Agent:\n    def __init__(self, db):\n        self.db = db\n\n    def run(self, x):\n        self.db.keep(x)\n",
    "pkg/owner.py": "from pkg.agent import Agent\nfrom pkg.keeper import Keeper\n\n\ndef build(k: Keeper):\n    return Agent(k)\n",
    "unrelated.py": "def really(x):\n    return x\n\n\ndef keep(y):\n    return y\n",
}


def test_multi_round_chains(tmp_path, monkeypatch):
    for name, text in CHAINS.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.chdir(tmp_path)
    config = load_config(["."], isolated=True, flags=["store"], sinks=["save_*"])
    filtered, everything = both(["."], config, jobs=1)
    assert [(f.path, f.line, f.code) for f in everything.findings] == [
        ("pkg/api.py", 9, "SG002"),
        ("pkg/api.py", 10, "SG002"),
        ("pkg/api.py", 11, "SG002"),
        ("pkg/api.py", 12, "SG002"),
        ("pkg/api.py", 13, "SG003"),
        ("pkg/api.py", 24, "SG002"),
        ("pkg/api.py", 25, "SG002"),
        ("pkg/api.py", 26, "SG002"),
        ("pkg/api.py", 27, "SG002"),
        ("pkg/svc.py", 6, "SG002"),
    ]
    assert_same(filtered, everything)


@pytest.fixture(scope="module")
def stdlib_subset():
    paths = [str(STDLIB / name) for name in STDLIB_SUBSET]
    for path in paths:
        assert os.path.isdir(path), path
    config = load_config(paths, isolated=True, flags=OFTEN_FLAGS, sinks=OFTEN_SINKS)
    return paths, config, check(paths, config, use_cache=False, jobs=2)


def test_stdlib_subset_with_and_without_prefilter(stdlib_subset):
    """Also the whole-stdlib sweep of these packages (``test_whole_stdlib_has_no_internal_errors``
    leaves them to this test): every file summarized, the project's findings over them, with the
    sweep's flag and sink among others, and no internal error."""
    paths, config, filtered = stdlib_subset
    assert {"verbose"} <= {flag.name for flag in config.flags} and "*.write" in OFTEN_SINKS  # the sweep's
    assert filtered.tracebacks == ()
    codes = {f.code for f in filtered.findings}
    assert len(filtered.findings) > 20 and {"SG001", "SG002"} <= codes  # enough to compare (a method named like a flag is no flag)
    everything = check(paths, config, use_cache=False, use_prefilter=False, jobs=2)
    assert_no_internal_errors(everything)
    assert everything.files_checked > 100
    assert_same(filtered, everything)


def test_stdlib_subset_jobs_1_equals_jobs_2(stdlib_subset):
    paths, config, two = stdlib_subset
    one = check(paths, config, use_cache=False, jobs=1)
    assert one.tracebacks == ()
    assert [f.to_json() for f in one.findings] == [f.to_json() for f in two.findings]  # same order
    assert one.errors == two.errors
    assert one.files_checked == two.files_checked


def assert_no_internal_errors(result: Result) -> None:
    """A result or a one-line error for every file: no internal error, no traceback."""
    assert result.tracebacks == (), "\n".join(result.tracebacks)
    for error in result.errors:
        assert "\n" not in error.message and "\r" not in error.message, error
        assert "internal error" not in error.message, error
        assert Path(error.path).is_file(), error


def test_whole_stdlib_has_no_internal_errors():
    """Every file of the stdlib gives a result or a one-line error, never an internal error.

    The stdlib ships deliberately broken files (bad encodings, Python 2 test data): they are
    reported as errors and the rest is analyzed. Every file is summarized (no pre-filter: the
    summarizer is where an internal error would be, and it costs a tenth less than screening
    first); the rounds over the stdlib are compared with and without it on a subset above.

    The subset's packages (``STDLIB_SUBSET``, 118 files) are left to
    ``test_stdlib_subset_with_and_without_prefilter``, which runs them through the same stages
    (every file summarized, no pre-filter, the project's findings) with this flag and sink among
    others and asserts more (the same findings as the pre-filtered run): between them, every
    file of the stdlib, once.
    """
    config = load_config([str(STDLIB)], isolated=True, flags=["verbose"], sinks=["*.write"], extend_exclude=STDLIB_SUBSET)
    every = load_config([str(STDLIB)], isolated=True, flags=["verbose"], sinks=["*.write"])
    left = {str(path) for path in discover([str(STDLIB)], every)[0]} - {str(path) for path in discover([str(STDLIB)], config)[0]}
    assert left and all(Path(path).relative_to(STDLIB).parts[0] in STDLIB_SUBSET for path in left)
    assert left == {str(path) for path in discover([str(STDLIB / name) for name in STDLIB_SUBSET], every)[0]}
    result = check([str(STDLIB)], config, jobs=2, use_cache=False, use_prefilter=False)
    assert_no_internal_errors(result)
    assert result.files_checked > 1000
    assert result.findings
    assert len(result.errors) < 20, result.errors


# The first round's screen (``prefilter.screen``): files that only name the flag as a storage
# object's attribute, a keyword or in a docstring are left to later rounds; the findings stay.
SCREENED = {
    "app/__init__.py": "",
    "app/handlers.py": (
        "from app.helpers import persist, persist_object\n\n\n"
        "def create(store, x):\n"
        "    if store:\n"
        "        persist_object(x)\n"
        "    persist(x)\n"
    ),
    "app/helpers.py": (
        '"""Helpers that store things."""\n\n\n'
        "class Keeper:\n"
        "    def keep(self, x):\n"
        "        self.store.put(x)\n"
        "        save_row(x)\n\n\n"
        "def persist(x):\n"
        "    save_row(x)\n\n\n"
        "def persist_object(x):\n"
        "    Keeper().keep(x)\n"
    ),
    "app/keyword_only.py": "def call(make):\n    return make(store=False)\n",
    "app/param.py": "def ungated(x, store):\n    save_row(x)\n",
    # the flag read as an optional attribute, or taken out of the body
    "app/optional.py": 'def first(req, x):\n    if getattr(req, "store", True):\n        save_row(x)\n    save_row(x)\n',
    "app/popped.py": 'def second(body, x):\n    if body.pop("store", True):\n        save_row(x)\n    save_row(x)\n',
}


def test_screen_takes_flag_locations_and_leaves_the_rest(tmp_path, monkeypatch):
    from storegate.prefilter import screen

    config = load_config(["."], isolated=True, flags=["store"], sinks=["save_*"])
    taken = {name: screen(text, config)[:2] for name, text in SCREENED.items()}
    assert taken == {
        "app/__init__.py": (False, None),
        "app/handlers.py": (True, None),
        "app/helpers.py": (False, None),
        "app/keyword_only.py": (False, None),
        "app/param.py": (True, None),
        "app/optional.py": (True, None),
        "app/popped.py": (True, None),
    }
    for name, text in SCREENED.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.chdir(tmp_path)
    filtered, everything = both(["."], config, jobs=1)
    assert [(f.path, f.line, f.code) for f in everything.findings] == [
        ("app/handlers.py", 7, "SG002"),
        ("app/optional.py", 4, "SG001"),
        ("app/param.py", 2, "SG001"),
        ("app/popped.py", 4, "SG001"),
    ]
    assert_same(filtered, everything)


def test_screen_reports_the_syntax_error_of_a_file_it_leaves(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "uses.py").write_text("def f(store, x):\n    if store:\n        save_row(x)\n")
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert [e.path.endswith("broken.py") for e in filtered.errors] == [True]
    assert_same(filtered, everything)


def _generated_corpus(root: Path, modules: int = 60) -> None:
    """Modules calling each other, naming the flag in each way the screen tells apart (a
    parameter, an attribute, a subscript, ``.get``, a class field, ``self.store``, a keyword, a
    docstring, a route), so that a file the screen leaves out but that matters would show."""
    import random

    rng = random.Random(16)
    shapes = [
        "def f{i}(x, store=True):\n    if store:\n        save_row(x)\n    g{j}(x)\n",
        "def f{i}(request, x):\n    if request.store:\n        g{j}(x)\n    save_row(x)\n",
        "def f{i}(body, x):\n    if not body[\"store\"]:\n        return\n    g{j}(x)\n",
        "def f{i}(body, x):\n    g{j}(x)\n    if body.get(\"store\"):\n        save_row(x)\n",
        "class F{i}:\n    store: bool = True\n\n    def f{i}(self, x):\n        g{j}(x)\n",
        "class F{i}:\n    def f{i}(self, x):\n        self.store.save_row(x)\n        g{j}(x)\n",
        "def f{i}(x):\n    \"\"\"We store x.\"\"\"\n    g{j}(x, store=False)\n",
        "@app.post(\"/v1/responses\")\ndef f{i}(x):\n    g{j}(x)\n",
    ]
    for i in range(modules):
        j = rng.randrange(modules)
        body = rng.choice(shapes).format(i=i, j=j)
        helper = f"def g{i}(x, *rest, **named):\n    save_row(x)\n" if rng.random() < 0.5 else f"def g{i}(x, *rest, **named):\n    return x\n"
        imports = f"from m{j} import g{j}\n" if j != i else ""
        (root / f"m{i}.py").write_text(f"{imports}{body}\n\n{helper}")


def test_generated_corpus_with_and_without_prefilter(tmp_path, monkeypatch):
    _generated_corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = load_config(["."], isolated=True, flags=["store"], sinks=["save_*"])
    filtered, everything = both(["."], config, jobs=2)
    assert len(everything.findings) > 10
    assert_same(filtered, everything)


def test_a_file_over_max_target_bytes_is_skipped_with_a_notice(tmp_path):
    from dataclasses import replace

    big = tmp_path / "big.py"
    big.write_text("def f(store, x):\n    save_row(x)\n" + "# padding\n" * 200)
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    small = check([str(tmp_path)], replace(config, max_target_bytes=1000), use_cache=False, jobs=1)
    assert small.findings == () and small.errors == ()
    assert len(small.notices) == 1 and "big.py" in small.notices[0] and "1000" in small.notices[0]
    unlimited = check([str(tmp_path)], replace(config, max_target_bytes=0), use_cache=False, jobs=1)
    assert [f.code for f in unlimited.findings] == ["SG001"] and unlimited.notices == ()


def test_a_call_through_a_parameter_selects_no_other_file(tmp_path):
    """``make(x)`` where ``make`` is a parameter names no global: a module that happens to define
    ``make`` is not summarized (it cannot be what the call reaches)."""
    from storegate.run.pipeline import summarize_files

    (tmp_path / "api.py").write_text("def handler(store, make, x):\n    make(x)\n")
    (tmp_path / "other.py").write_text("def make(x):\n    save_row(x)\n")
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    summaries, errors, traces = summarize_files(sorted(tmp_path.glob("*.py")), config, jobs=1)
    assert [Path(s.path).name for s in summaries] == ["api.py"] and errors == [] and traces == []
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert_same(filtered, everything)


def test_a_later_round_takes_the_files_that_define_a_word_not_those_that_mention_it(tmp_path):
    """``helper(x)``, not imported (a star import or a global): the module that defines
    ``helper`` is summarized, one where it is only a local name is not; the caller of a
    private function with a flag is found by the mention of its name."""
    from storegate.run.pipeline import summarize_files

    (tmp_path / "api.py").write_text("from defs import *\n\n\ndef handler(store, x):\n    helper(x)\n")
    (tmp_path / "defs.py").write_text("def helper(x):\n    save_row(x)\n")
    (tmp_path / "mention.py").write_text("def other(x):\n    helper = x\n    return helper\n")
    (tmp_path / "private.py").write_text("def _keep(x, store):\n    save_row(x)\n")
    (tmp_path / "caller.py").write_text("from private import _keep\n\n\ndef go(x):\n    _keep(x, False)\n")
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    summaries, errors, traces = summarize_files(sorted(tmp_path.glob("*.py")), config, jobs=1)
    assert sorted(Path(s.path).name for s in summaries) == ["api.py", "caller.py", "defs.py", "private.py"]
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert_same(filtered, everything)


def test_screen_takes_a_route_registration_only_for_the_routes_methods():
    """With ``POST */responses`` the only route, ``@app.get("/v1/responses")`` registers no
    handler of it (and ``x.get(...)`` is everywhere): not taken; ``@app.post`` and
    ``add_api_route`` (whose methods are an argument) are."""
    from dataclasses import replace

    from storegate.prefilter import screen

    config = replace(load_config(["."], isolated=True, flags=["store"]), routes=("POST */responses",))
    get = '@app.get("/v1/responses")\ndef listing(request):\n    return request\n'
    post = '@app.post("/v1/responses")\ndef create(request):\n    return request\n'
    call = 'def create(request):\n    return request\n\n\napp.add_api_route("/v1/responses", create)\n'
    docstring = '"""Serves /v1/responses."""\n\n\n@app.post("/v1/models")\ndef models(request):\n    return request\n'
    # a string with whitespace is no path: a description that says "responses" registers nothing
    described = '@app.post("/v1/models", description="Lists the models responses may use")\ndef models(request):\n    return request\n'
    word = 'ROUTE = "responses"\n\n\n@app.post(f"/v1/{ROUTE}")\ndef create(request):\n    return request\n'
    texts = (get, post, call, docstring, described, word)
    assert [screen(text, config)[0] for text in texts] == [False, True, True, False, False, True]


def test_screen_leaves_a_method_named_like_the_flag():
    """``tl.store(ptr, x)`` (a GPU kernel's write) calls a method named like the flag: no flag,
    so the file is left to later rounds; a read of ``request.store`` or a call passing it is taken."""
    from storegate.prefilter import screen

    config = load_config(["."], isolated=True, flags=["store"])
    kernel = "import triton.language as tl\n\n\ndef kernel(ptr, x):\n    tl.store(ptr, x)\n"
    read = "def create(request):\n    if request.store:\n        save(request)\n"
    passed = "def create(request):\n    save(request, keep=request.store)\n"
    assert [screen(text, config)[0] for text in (kernel, read, passed)] == [False, True, True]


def test_screen_finds_what_is_on_a_line_of_its_own_in_a_long_text():
    """The screen walks only the lines that hold a word (``prefilter._apart``): a flag read on
    an inner line of a call spread over lines, a route's word in a decorator above its ``def``,
    a path in a module constant far from the registration, a keyword spelled with an escape
    (``"st\\x6fre"``) and a path inside an f-string are each found, among a hundred lines of other
    code; without them, nothing is taken."""
    from dataclasses import replace

    from storegate.prefilter import screen

    config = replace(load_config(["."], isolated=True, flags=["store"]), routes=("POST */responses",))
    filler = "".join(f"def helper_{i}(x):\n    return [x.get('k{i}'), x.post(x)]\n\n\n" for i in range(50))
    spread = filler + "def create(request):\n    return finish(\n        request,\n        request.store,\n    )\n"
    decorated = filler + '@app.post(\n    "/v1/responses"\n)\ndef create(request):\n    return request\n'
    constant = 'PATH = "/v1/responses"\n\n\n' + filler + "@app.post(PATH)\ndef create(request):\n    return request\n"
    escaped = "# the client's store\n" + filler + 'def create(body):\n    return body.get("st\\x6fre", True)\n'
    formatted = filler + 'ROOT = "v1"\n\n\n@app.post(f"/{ROOT}/responses")\ndef create(request):\n    return request\n'
    none = filler + "def create(request):\n    return restore(request)\n"
    texts = (spread, decorated, constant, escaped, formatted, none)
    assert [screen(text, config)[0] for text in texts] == [True, True, True, True, True, False]


# What is named like the flag but holds an object wherever it is used so: the analysis sees no
# flag in any of these (``flags.sight``), and the screen leaves them.
OBJECTS_NAMED_LIKE_THE_FLAG = {
    "a field's method": "def create(request):\n    request.store.save()\n",
    "a field's field": "def create(ctx):\n    return ctx.health().store.backend\n",
    "a name's method": "def create(x):\n    store.put(x)\n",
    "an item of it": "def create(request):\n    return request.store['a'], store[0]\n",
    "a method defined": "class Router:\n    def store(self) -> 'Cache':\n        return self._cache\n",
    "an import": "from .stores import store\nimport store\n",
}


@pytest.mark.parametrize("text", OBJECTS_NAMED_LIKE_THE_FLAG.values(), ids=OBJECTS_NAMED_LIKE_THE_FLAG.keys())
def test_screen_leaves_an_object_named_like_the_flag(text):
    from storegate.analysis import summarize
    from storegate.prefilter import screen

    config = load_config(["."], isolated=True, flags=["store"])
    assert not any(f.flags for f in summarize(text, "m.py", config, "m").functions)
    assert screen(text, config)[0] is False
    read_too = text + "\n\ndef handler(store=True):\n    return store\n"
    assert screen(read_too, config)[0] is True


def test_a_global_of_the_callers_own_module_selects_no_other_file(tmp_path):
    """``registry.note(x)`` where this module binds ``registry = get_registry(__name__)``: the
    files that bind a ``registry`` of their own (every module of a large project) are not
    summarized; the module that defines ``get_registry`` is."""
    from storegate.run.pipeline import summarize_files

    (tmp_path / "reg.py").write_text("def get_registry(name):\n    return name\n")
    (tmp_path / "api.py").write_text("from reg import get_registry\n\nregistry = get_registry(__name__)\n\n\ndef handler(store, x):\n    registry.note(x)\n")
    for n in range(3):
        (tmp_path / f"other{n}.py").write_text("from reg import get_registry\n\nregistry = get_registry(__name__)\n\n\ndef f(x):\n    save_row(x)\n")
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    summaries, errors, traces = summarize_files(sorted(tmp_path.glob("*.py")), config, jobs=1)
    assert sorted(Path(s.path).name for s in summaries) == ["api.py", "reg.py"] and errors == [] and traces == []
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert_same(filtered, everything)


def test_what_an_observing_call_leads_to_is_not_read(tmp_path):
    """No chain goes through a call named for observing (``metrics.record(x)``, a
    ``SlackAlerting`` method), nor is a parameter of such a class (``trace: RequestTrace``) the
    request, whose validators would matter: the files that would resolve them are not
    summarized, while a call of the same shape that may persist has its module read. The
    findings are those of a run that reads every file."""
    from storegate.run.pipeline import summarize_files

    (tmp_path / "telemetry.py").write_text("class Metrics:\n    def record(self, x):\n        save_row(x)\n")
    (tmp_path / "alerting.py").write_text("class SlackAlerting:\n    def send(self, x):\n        save_row(x)\n")
    (tmp_path / "turns.py").write_text("class Turns:\n    def keep(self, x):\n        save_row(x)\n")
    (tmp_path / "tracing.py").write_text("class RequestTrace:\n    def close(self, x):\n        save_row(x)\n")
    (tmp_path / "api.py").write_text(
        "from telemetry import Metrics\nfrom alerting import SlackAlerting\nfrom turns import Turns\nfrom tracing import RequestTrace\n\n"
        "metrics = Metrics()\nturns = Turns()\n\n\n"
        "def handler(store, x, trace: RequestTrace):\n    metrics.record(x)\n    SlackAlerting().send(x)\n    turns.keep(x)\n"
    )
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    summaries, errors, traces = summarize_files(sorted(tmp_path.glob("*.py")), config, jobs=1)
    assert sorted(Path(s.path).name for s in summaries) == ["api.py", "turns.py"] and errors == [] and traces == []
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert_same(filtered, everything)
    assert [(f.code, f.line) for f in filtered.findings] == [("SG002", 13)]


def test_a_local_of_the_caller_selects_no_file_but_an_import_inside_it_does(tmp_path):
    """``record = item.load(); record.refresh()`` where the function binds ``item`` itself (a
    loop's target), or ``extra.get(...)`` of its ``**extra``: what they hold is no global, so the
    files that define an ``item`` or an ``extra`` are not summarized. A name the function imports
    (``from db import keep``, a lazy import) is not a local of that kind: its module is read."""
    summarized, config = _summarized(tmp_path, {
        "api.py": (
            "def handler(store, items, **extra):\n"
            "    for item in items:\n"
            "        record = item.load()\n"
            "        record.refresh()\n"
            "    opts = extra.get('opts')\n"
            "    opts.apply()\n"
            "    from db import keep\n"
            "    keep(items)\n"
        ),
        "db.py": "def keep(x):\n    save_row(x)\n",
        "models.py": "class Item:\n    def load(self):\n        save_row(self)\n\n\nitem = Item()\nextra = Item()\n",
    })
    assert summarized == ["api.py", "db.py"]
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert [(f.line, f.code) for f in everything.findings] == [(8, "SG002")]
    assert_same(filtered, everything)


def test_the_producers_of_a_dict_passed_on_are_the_files_that_pass_its_field_as_a_keyword(tmp_path):
    """``_run(**job.params)``: a file that queues ``Job(params=kw)`` is read for what it puts in;
    one that only mentions ``params`` (or compares ``params == x``) is not. Nor is a producer for
    a public function (``run(**task.options)``): its callers are not all known, so what they
    pass is never assumed at its entry (``Project.permitted_entries``)."""
    summarized, config = _summarized(tmp_path, {
        "worker.py": (
            "def _run(x, store=True):\n    if store:\n        save_row(x)\n\n\ndef consume(job):\n    _run(**job.params)\n\n\n"
            "def run(x, store=True):\n    if store:\n        save_row(x)\n\n\ndef execute(task):\n    run(**task.options)\n"
        ),
        "producer.py": "from worker import consume\n\n\ndef go(x):\n    kw = {'x': x}\n    consume(Job(params=kw))\n",
        "tasks.py": "from worker import execute\n\n\ndef go(x):\n    kw = {'x': x}\n    execute(Task(options=kw))\n",
        "other.py": "def f(params, x):\n    return params == x\n",
    })
    assert summarized == ["producer.py", "worker.py"]
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert_same(filtered, everything)


# A call of a global that is not imported (``from defs import *``), and a parameter annotated with
# a nested class of a module not imported: which files the later rounds take.
GLOBALS = {
    "api.py": (
        "from defs import *\n\n\n"
        "def handler(store, x, options: Outer.Inner):\n"
        "    helper(x)\n"
    ),
    "defs.py": "from impl import *\n",
    "impl.py": "def _save(x):\n    save_row(x)\n\n\nhelper = _save\n",
    "other.py": "def helper(x):\n    save_row(x)\n",
    "fields.py": "class Model:\n    helper: str = ''\n\n    def run(self, x):\n        save_row(x)\n",
    "nested.py": "class Outer:\n    class Inner:\n        def __init__(self, x):\n            save_row(x)\n",
    "lazy.py": "def __getattr__(name):\n    if name == 'helper':\n        return object()\n    raise AttributeError(name)\n",
}


def _write(root: Path, files: dict[str, str]) -> list[Path]:
    """Each file written under ``root``, its folders made."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return sorted(root / name for name in files)


def _summarized(root: Path, files: dict[str, str]) -> tuple[list[str], object]:
    """The files (relative, posix) that the pre-filter's rounds summarize, with the flag ``store``
    and the sinks ``save_*``, and that configuration; no file may fail."""
    from storegate.run.pipeline import summarize_files

    paths = _write(root, files)
    config = load_config([str(root)], isolated=True, flags=["store"], sinks=["save_*"])
    summaries, errors, traces = summarize_files(paths, config, jobs=1)
    assert errors == [] and traces == []
    return sorted(Path(s.path).relative_to(root).as_posix() for s in summaries), config


def _read_alike(root: Path, files: dict[str, str]) -> list[str]:
    """``_summarized``'s files, once the findings are seen to be those of a run that reads every file."""
    summarized, config = _summarized(root, files)
    filtered, everything = both([str(root)], config, jobs=1)
    assert_same(filtered, everything)
    return summarized


def test_a_global_not_imported_is_looked_for_only_where_the_star_import_binds_it(tmp_path):
    """``helper(x)`` and ``Outer.Inner``, neither imported nor defined in ``api.py``, can only be
    what its star import binds: ``defs.py``, and ``impl.py``, which ``defs.py`` re-exports, are
    summarized; no other file is, though ``other.py`` defines a ``helper``, ``nested.py`` an
    ``Outer.Inner`` and ``lazy.py``'s module ``__getattr__`` (PEP 562) may give anything: none of
    them is star-imported."""
    from storegate.run.pipeline import summarize_files

    paths = _write(tmp_path, GLOBALS)
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    summaries, errors, traces = summarize_files(paths, config, jobs=1)
    assert sorted(Path(s.path).name for s in summaries) == ["api.py", "defs.py", "impl.py"]
    assert errors == [] and traces == []
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert_same(filtered, everything)


def test_a_global_of_a_module_without_a_star_import_selects_no_other_file(tmp_path):
    """``recorder: RecorderType`` where the module binds ``RecorderType = Any`` for the type
    checker, a call of a builtin (``list(x)``) and of a name bound nowhere: without a star import
    none of them can be another module's (a name resolves in its module or through its imports),
    so the files that define a ``RecorderType``, a ``list`` or a ``missing`` are not summarized."""
    summarized = _read_alike(tmp_path, {
        "api.py": (
            "from typing import TYPE_CHECKING, Any\n\n"
            "if TYPE_CHECKING:\n    from rec import Recorder as RecorderType\nelse:\n    RecorderType = Any\n\n\n"
            "def handler(store, x, recorder: RecorderType):\n"
            "    recorder.pre_call(x)\n"
            "    missing(list(x))\n"
        ),
        "rec.py": "class Recorder:\n    def pre_call(self, x):\n        save_row(x)\n",
        "alias.py": "from typing import Any\n\nRecorderType = Any\n",
        "defs.py": "def list(x):\n    save_row(x)\n\n\ndef missing(x):\n    save_row(x)\n",
    })
    assert summarized == ["api.py", "rec.py"]


# ``app.state.helper``, set in a module of its own: the later rounds look for the files that set it.
STATE = {
    "api.py": "def handler(store, request, x):\n    request.app.state.helper.save(x)\n",
    "boot.py": "from db import Helper\n\n\ndef start(app):\n    app.state.helper = Helper()\n",
    "db.py": "class Helper:\n    def save(self, x):\n        save_row(x)\n",
    "fields.py": "class Model:\n    helper: str = ''\n",
    "other.py": "def f(x):\n    return x\n",
}


def test_a_skipped_file_keeps_what_it_defines_in_the_cache(tmp_path):
    """A run after another file changed does not screen an unchanged skipped file again: its
    cache entry keeps the names it defines, so the later rounds still tell a field from what
    the app's state holds (without them, ``fields.py``, which mentions ``helper``, would be
    summarized)."""
    from storegate.cache import open_cache

    project = tmp_path / "project"
    project.mkdir()
    _write(project, STATE)
    cache = tmp_path / "cache"
    config = load_config([str(project)], isolated=True, flags=["store"], sinks=["save_*"])

    def statuses() -> dict[str, str]:
        kept = open_cache(cache, config)
        return {name: kept.get(os.path.abspath(project / name)).status for name in ("boot.py", "fields.py", "other.py")}

    first = check([str(project)], config, jobs=1, cache_dir=cache)
    assert statuses() == {"boot.py": "summary", "fields.py": "skipped", "other.py": "skipped"}
    (project / "api.py").write_text(STATE["api.py"] + "    request.app.state.helper.save(store)\n")
    second = check([str(project)], config, jobs=1, cache_dir=cache)
    assert statuses() == {"boot.py": "summary", "fields.py": "skipped", "other.py": "skipped"}
    assert first.tracebacks == second.tracebacks == ()
    assert second.findings == check([str(project)], config, jobs=1, use_cache=False, use_prefilter=False).findings
    assert [(f.line, f.code) for f in second.findings] == [(2, "SG002"), (3, "SG002")]


def test_a_global_the_callers_module_assigns_selects_no_other_file_unless_it_star_imports(tmp_path):
    """``_ADAPTER(x)`` where the caller's module assigns ``_ADAPTER`` itself: its own global, so a
    module that happens to define ``_ADAPTER`` too is not summarized. With a star import the
    caller's global may come from it: ``_HOOK`` is looked for, and ``hooks.py`` is summarized."""
    summarized, config = _summarized(tmp_path, {
        "api.py": "_ADAPTER = getattr(print, '__call__')\n\n\ndef handler(store, x):\n    _ADAPTER(x)\n",
        "other.py": "def _ADAPTER(x):\n    save_row(x)\n",
        "starred.py": "from hooks import *\n\n_HOOK = None\n\n\ndef handler(store, x):\n    _HOOK(x)\n",
        "hooks.py": "def _HOOK(x):\n    save_row(x)\n",
    })
    assert summarized == ["api.py", "hooks.py", "starred.py"]
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert_same(filtered, everything)


def _screen_noting_texts_held(task):
    """The screen, noting first how many file texts this worker's memory holds: a worker forked
    after the run read the texts holds a copy of every one (the pool is meant to start first)."""
    import gc

    from storegate.run import pipeline, workers

    held = sum(1 for obj in gc.get_objects() if type(obj) is pipeline._File and obj.source is not None)
    with open(os.environ["STOREGATE_TEST_NOTES"], "a") as notes:
        notes.write(f"{held}\n")
    return workers.screen_task(task)


def test_the_workers_start_before_the_texts_are_read(tmp_path, monkeypatch):
    """The worker processes are forked before the run reads any file's text (or decodes any
    summary): a fork copies this process's memory, and with 3,000 files read that copy is 50 MB
    more in each worker, a third of litellm's peak."""
    from storegate.run import pipeline

    notes = tmp_path / "notes.txt"
    monkeypatch.setenv("STOREGATE_TEST_NOTES", str(notes))
    monkeypatch.setattr(pipeline, "screen_task", _screen_noting_texts_held)
    project = tmp_path / "project"
    project.mkdir()
    for number in range(12):
        (project / f"m{number}.py").write_text(f"def f{number}(x):\n    return x\n")
    config = load_config([str(project)], isolated=True, flags=["store"], sinks=["save_*"])
    result = check([str(project)], config, jobs=2, use_cache=False)
    assert result.tracebacks == () and result.errors == ()
    held = [int(line) for line in notes.read_text().split()]
    assert len(held) == 12 and set(held) == {0}


def test_a_module_name_that_a_summarized_file_holds_first_selects_no_later_namesake(tmp_path):
    """Files outside a package are named by their stem: ``a/helpers.py``, ``lib/helpers.py`` and
    ``z/helpers.py`` are all ``helpers`` (a real tree has dozens of ``utils.py``). ``api.py``
    calls the class ``pkg.Row``, which the package re-exports from ``lib/front.py``, which
    imports it relatively, as ``helpers.Row``: the project wants the module ``helpers``. Of
    namesakes it knows the first by path by that name and the others by a namespace name.
    ``lib/helpers.py`` (it has the flag) is summarized first: ``z/helpers.py``, after it, can
    never be what ``helpers`` means and is not summarized; ``a/helpers.py``, before it, is."""
    for folder in ("a", "lib", "pkg", "z"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")  # the project's root, for the namespace names
    summarized, config = _summarized(tmp_path, {
        "api.py": "import pkg\n\n\ndef handler(store, x):\n    pkg.Row(x)\n    save_row(x)\n",
        "pkg/__init__.py": "from lib.front import Row\n",
        "lib/front.py": "from .helpers import Row\n",
        "lib/helpers.py": "class Row:\n    pass\n\n\ndef keep(store, x):\n    if store:\n        save_row(x)\n",
        "a/helpers.py": "class Row:\n    pass\n",
        "z/helpers.py": "class Row:\n    pass\n",
    })
    assert summarized == ["a/helpers.py", "api.py", "lib/front.py", "lib/helpers.py", "pkg/__init__.py"]
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert [(Path(f.path).name, f.line, f.code) for f in everything.findings] == [("api.py", 6, "SG001")]
    assert_same(filtered, everything)



def test_the_screen_knows_the_keyed_reads_of_the_analysis():
    """The screen names ``paths.KEYED_READS`` itself (a warm run imports no libcst): the same set."""
    from storegate import paths, prefilter

    assert prefilter._KEYED_READS == paths.KEYED_READS


def test_screen_takes_a_verb_call_as_a_route_only_where_a_registration_can_be():
    """``self.client.post(base + "/chat/completions", json=body)`` is an HTTP client's request,
    not a registration: a verb form registers only as a decorator (on a definition, or applied by
    hand: ``app.post(path)(create)``) or as aiohttp's ``web.post(path, handler)``; a ``route=``
    keyword only on a decorator. The files that do register stay taken, and the findings stay."""
    from dataclasses import replace

    from storegate.prefilter import screen

    config = replace(load_config(["."], isolated=True, flags=["store"]), routes=("POST */chat/completions",))
    client = 'class Client:\n    def send(self, base, body):\n        return self.client.post(base + "/chat/completions", json=body)\n'
    keyword = 'def send(body):\n    return call(route="/v1/chat/completions", body=body)\n'
    by_hand = 'def create(request):\n    return request\n\n\napp.post("/v1/chat/completions")(create)\n'
    aiohttp = 'from aiohttp import web\n\n\nasync def create(request):\n    return request\n\n\nROUTES = [web.post("/v1/chat/completions", create)]\n'
    protocol = 'class Api:\n    @webmethod(route="/v1/chat/completions", method="POST")\n    def create(self, request):\n        ...\n'
    texts = (client, keyword, by_hand, aiohttp, protocol)
    assert [screen(text, config)[0] for text in texts] == [False, False, True, True, True]


def test_screen_takes_a_route_table_that_names_a_route():
    """Tornado's ``Application([(r"/v1/responses", Handler)])`` and ``add_handlers(host, [...])``
    register the rows of their tables (``routes.TABLE_CALLS``), with a module-level table too: the
    file is taken although it names no flag. A table of other routes, or a string of the route
    that no table call takes, leaves the file."""
    from storegate.prefilter import screen

    config = load_config(["."], isolated=True)
    handler = "class Turns(tornado.web.RequestHandler):\n    async def post(self):\n        keep(self.request.body)\n\n\n"
    literal = handler + 'app = tornado.web.Application([(r"^/v1/responses$", Turns)])\n'
    named = handler + 'ROUTES = [url(r"/v1/chat/completions/?", Turns)]\napp = Application(ROUTES)\n'
    hosts = handler + 'app.add_handlers(r".*", [(r"/v1/responses", Turns)])\n'
    other = handler + 'app = tornado.web.Application([(r"/health", Turns)])\n'
    unregistered = handler + 'DOCS = "/v1/responses"\n'
    texts = (literal, named, hosts, other, unregistered)
    assert [screen(text, config)[0] for text in texts] == [True, True, True, False, False]


def test_the_callers_of_a_function_at_the_call_depth_bound_are_not_read_for_its_callbacks(tmp_path):
    """``run_job`` calls its callback ``on_done``: the files that call ``run_job`` are read for
    what they pass (``caller.py`` passes ``keep``, which writes), unless ``run_job`` is as far
    from the handler as ``max-call-depth`` allows: a callback is one call further, past any chain
    reported. The findings stay those of a run that reads every file."""
    from dataclasses import replace

    from storegate.run.pipeline import summarize_files

    paths = _write(tmp_path, {
        "api.py": "from work import run_job\n\n\ndef handler(store, x):\n    run_job(x)\n",
        "work.py": "def run_job(x, on_done=None):\n    on_done(x)\n",
        "caller.py": "from work import run_job\n\n\ndef keep(x):\n    save_row(x)\n\n\ndef go(x):\n    run_job(x, on_done=keep)\n",
    })
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    for depth, read in ((2, ["api.py", "caller.py", "work.py"]), (1, ["api.py", "work.py"])):
        bounded = replace(config, max_call_depth=depth)
        summaries, errors, traces = summarize_files(paths, bounded, jobs=1)
        assert sorted(Path(s.path).name for s in summaries) == read and errors == [] and traces == []
        filtered, everything = both([str(tmp_path)], bounded, jobs=1)
        assert_same(filtered, everything)


def test_the_callers_of_a_callback_receiver_are_the_files_that_call_it(tmp_path):
    """A callback receiver's callers are read for what they pass: ``go.py`` calls ``run_job``
    (so does ``by_name.py``, through ``getattr``), ``mention.py`` only imports it and names it in
    a string: it is not read. A keyword passed with spaces (``run_job(x, on_done = keep)``) is
    still passed."""
    summarized = _read_alike(tmp_path, {
        "api.py": "from work import run_job\n\n\ndef handler(store, x):\n    run_job(x)\n",
        "work.py": "def run_job(x, on_done=None):\n    on_done(x)\n",
        "go.py": "from work import run_job\n\n\ndef keep(x):\n    save_row(x)\n\n\ndef go(x):\n    run_job(x, on_done = keep)\n",
        "by_name.py": "import work\n\n\ndef keep(x):\n    save_row(x)\n\n\ndef go(x):\n    getattr(work, 'run_job')(x, keep)\n",
        "mention.py": "from work import run_job\n\nJOBS = {'run_job': run_job}\n",
    })
    assert summarized == ["api.py", "by_name.py", "go.py", "work.py"]


def test_a_callback_named_for_observing_or_cls_reads_no_caller(tmp_path):
    """``print_verbose(x)`` is a callback named for observing, through which no chain goes, and
    ``cls(x)`` builds the class: the files that call ``run_job`` and ``Job.make`` are not read
    for what they pass, while those that call ``run_other`` for its ``on_done`` are."""
    summarized = _read_alike(tmp_path, {
        "api.py": "from work import Job, run_job, run_other\n\n\ndef handler(store, x):\n    run_job(x)\n    Job.make(x)\n    run_other(x)\n",
        "work.py": (
            "def run_job(x, print_verbose=print):\n    print_verbose(x)\n\n\n"
            "def run_other(x, on_done=None):\n    on_done(x)\n\n\n"
            "class Job:\n    @classmethod\n    def make(cls, x):\n        return cls(x)\n"
        ),
        "verbose.py": "from work import run_job\n\n\ndef shout(x):\n    save_row(x)\n\n\ndef go(x):\n    run_job(x, print_verbose=shout)\n",
        "maker.py": "from work import Job\n\n\ndef go(x):\n    Job.make(x)\n",
        "other.py": "from work import run_other\n\n\ndef keep(x):\n    save_row(x)\n\n\ndef go(x):\n    run_other(x, on_done=keep)\n",
    })
    assert summarized == ["api.py", "other.py", "work.py"]


@pytest.mark.parametrize(
    "prefix, read, route",
    [('"/internal"', False, False), ('"/v1/responses"', True, True), ("settings.PREFIX", True, True), ("settings.prefix()", True, False)],
)
def test_a_mounted_router_is_read_when_its_prefix_may_make_a_store_bearing_route(tmp_path, prefix, read, route):
    """``app.include_router(admin.router, prefix=...)``: the router's module is read when the
    prefix spells a route's word or is not known here; under ``/internal`` a store-bearing route
    would need that word in ``admin.py`` itself, where the first round would have found it. The
    findings are those of a run that reads every file: under ``/v1/responses`` the handler that
    writes is reported, and so it is under ``settings.PREFIX``, which ``settings.py`` spells so
    (``Project._includes``); under a prefix not known at all its route says nothing (``POST
    {settings.prefix()}``, which would match any route), as a registration's would not."""
    summarized = _read_alike(tmp_path, {
        "main.py": f"import admin\nimport settings\n\n\ndef build(app, store):\n    app.include_router(admin.router, prefix={prefix})\n",
        "settings.py": "PREFIX = '/v1/responses'\n\n\ndef prefix():\n    return PREFIX\n",
        "admin.py": (
            "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
            "@router.post('')\ndef create(body: dict):\n    save_row(body)\n"
        ),
    })
    assert ("admin.py" in summarized) is read
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    found = [(Path(f.path).name, f.line, f.code) for f in check([str(tmp_path)], config, use_cache=False, jobs=1).findings]
    assert found == ([("admin.py", 8, "SG004")] if route else [])


def test_a_call_through_a_module_path_reads_that_module_not_the_packages_above_it(tmp_path):
    """``keep(x)``, imported ``from pkg.sub.mod``, is looked up in ``pkg/sub/mod.py``, the
    longest prefix of ``pkg.sub.mod.keep`` that is a module: ``pkg/__init__.py`` and
    ``pkg/sub/__init__.py`` are not read (in a large project, a package's ``__init__.py`` is
    often its largest file). If ``mod.py`` cannot be analyzed, the lookup falls back to
    ``pkg/sub/__init__.py`` (and what its star import binds), read in a later round."""
    package = {
        "api.py": "from pkg.sub.mod import keep\n\n\ndef handler(store, x):\n    keep(x)\n",
        "pkg/__init__.py": "def keep(x):\n    save_row(x)\n",
        "pkg/sub/__init__.py": "from pkg.sub.impl import *\n",
        "pkg/sub/impl.py": "def helper(x):\n    save_row(x)\n",
        "pkg/sub/mod.py": "def keep(x):\n    save_row(x)\n",
    }
    (tmp_path / "pkg/sub").mkdir(parents=True)
    assert _read_alike(tmp_path, package) == ["api.py", "pkg/sub/mod.py"]
    broken = tmp_path / "broken"
    (broken / "pkg/sub").mkdir(parents=True)
    _write(broken, {**package, "pkg/sub/mod.py": "def keep(x:\n"})
    config = load_config([str(broken)], isolated=True, flags=["store"], sinks=["save_*"])
    from storegate.run.pipeline import summarize_files

    summaries, errors, _ = summarize_files(sorted(broken.rglob("*.py")), config, jobs=1)
    assert sorted(Path(s.path).relative_to(broken).as_posix() for s in summaries) == ["api.py", "pkg/sub/__init__.py", "pkg/sub/impl.py"]
    assert [Path(e.path).name for e in errors] == ["mod.py"]
    assert_same(*both([str(broken)], config, jobs=1))


def test_a_run_names_each_module_as_files_module_name_does(tmp_path, monkeypatch):
    """The run walks the packages around a directory once for all its files, from what discovery
    saw in each directory (``files.Directories``) or, for files it was given, from the disk: the
    names are still ``files.module_name``'s, in a package, a namespace portion inside one (or
    under a project marker, which ends it), through a linked directory, and outside."""
    from storegate import files
    from storegate.run.pipeline import CheckOptions, _Run

    names = ("pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/space/c.py", "pkg/space/d.py", "loose/e.py", "loose/f.py", "top.py")
    names += ("pkg/sub/__init__.py", "pkg/sub/g.py", "pkg/space/inner/__init__.py", "pkg/space/inner/h.py", "pkg/sub/A.py")
    names += ("pkg/vendored/setup.py", "pkg/vendored/lib/m.py", "pkg/vendored/lib/__init__.py", "pkg/fake/__init__.py/x.py")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "pkg/linked").symlink_to(tmp_path / "pkg/sub", target_is_directory=True)
    monkeypatch.chdir(tmp_path / "pkg")
    config = load_config([str(tmp_path)], isolated=True)
    directories = files.Directories()
    discovered, errors = files.discover(["..", "space"], config, directories=directories)  # relative, as given
    assert not errors and any("linked" in path.parts for path in discovered)
    for found, given in ((discovered, directories), (sorted(tmp_path.rglob("*.py")), None)):
        run = _Run(found, config, CheckOptions(use_cache=False), directories=given)
        assert [item.module for item in run.files] == [files.module_name(path) for path in found]
        assert [item.key for item in run.files] == [os.path.abspath(path) for path in found]
        modules = {item.module for item in run.files}
        assert modules >= {"pkg", "pkg.a", "pkg.space.c", "e", "top", "pkg.space.inner", "pkg.space.inner.h", "lib.m", "x"}
        assert "pkg.linked.g" in modules if given is not None else "pkg.sub.g" in modules  # one name of a file reached twice


def test_a_model_saved_by_what_it_inherits_has_its_bases_read(tmp_path):
    """``await StoredResponse.create(...)``: a sink only through the ORM base that the model
    derives from by a base of the project's own in a module nothing else leads to
    (``inherited.py``). The rounds read that module for the class's unknown bases."""
    (tmp_path / "app").mkdir()
    _write(tmp_path, {
        "app/__init__.py": "",
        "app/db.py": "from tortoise.models import Model\n\n\nclass Base(Model):\n    pass\n",
        "app/models.py": "from app.db import Base\n\n\nclass StoredResponse(Base):\n    pass\n",
        "app/handlers.py": (
            "from app.models import StoredResponse\n\n\n"
            "async def create(rid, store: bool = True):\n    await StoredResponse.create(id=rid)\n"
        ),
    })
    config = load_config([str(tmp_path)], isolated=True)
    filtered, everything = both([str(tmp_path)], config, jobs=1)
    assert [(Path(f.path).name, f.line, f.code) for f in everything.findings] == [("handlers.py", 5, "SG001")]
    assert_same(filtered, everything)


def test_a_hook_called_on_each_registered_object_reads_the_subclasses_that_override_it(tmp_path):
    """``for hook in self._hooks: hook.on_done(event)`` over a base class whose ``on_done`` is a no-op:
    the rounds read each subclass that defines ``on_done`` and the intermediate class that links
    it to the base, not a subclass that only defines other hooks; the findings are those of a
    run that reads every file."""
    summarized = _read_alike(tmp_path, {
        "app/__init__.py": "",
        "app/hooks/__init__.py": "",
        "app/hooks/base.py": "class Hook:\n    def on_done(self, event):\n        pass\n\n    def on_start(self, event):\n        pass\n",
        "app/hooks/batched.py": "from app.hooks.base import Hook\n\n\nclass Batched(Hook):\n    def flush(self):\n        pass\n",
        "app/hooks/disk.py": (
            "from app.hooks.batched import Batched\n\n\nclass ToDisk(Batched):\n"
            "    def on_done(self, event):\n        save_event(event)\n"
        ),
        "app/hooks/quiet.py": (
            "from app.hooks.base import Hook\n\n\nclass Quiet(Hook):\n"
            "    def on_start(self, event):\n        save_event(event)\n"
        ),
        "app/registry.py": (
            "from app.hooks.base import Hook\n\n\nclass Hooks:\n    def __init__(self):\n        self._hooks: list[Hook] = []\n\n"
            "    def done(self, event):\n        for hook in self._hooks:\n            hook.on_done(event)\n"
        ),
        "app/handlers.py": (
            "from app.registry import Hooks\n\nhooks = Hooks()\n\n\n"
            "def finish(event, store: bool = True):\n    hooks.done(event)\n"
        ),
    })
    assert "app/hooks/disk.py" in summarized and "app/hooks/batched.py" in summarized
    assert "app/hooks/quiet.py" not in summarized


def test_a_class_a_field_names_through_a_package_that_re_exports_it_is_read(tmp_path):
    """``services.archive.record(...)`` where a container's field is annotated ``archive:
    Archive``, imported from ``..storage``, whose ``__init__`` re-exports it from ``.archive``:
    the rounds read the module that defines it, not only the package."""
    summarized = _read_alike(tmp_path, {
        "app/__init__.py": "",
        "app/storage/__init__.py": "from .archive import Archive\n\n__all__ = [\"Archive\"]\n",
        "app/storage/archive.py": "class Archive:\n    def record(self, entry):\n        save_entry(entry)\n",
        "app/services/__init__.py": "from .container import Services, get_services\n",
        "app/services/container.py": (
            "from __future__ import annotations\n\nfrom dataclasses import dataclass\n\nfrom flask import current_app\n\n"
            "from ..storage import (\n    Archive,\n)\n\n\n@dataclass\nclass Services:\n"
            "    archive: Archive\n\n\ndef get_services() -> Services:\n    return current_app.extensions[\"services\"]\n"
        ),
        "app/handlers.py": (
            "from .services import get_services\n\n\n"
            "def finish(entry, store: bool = True):\n    services = get_services()\n    services.archive.record(entry)\n"
        ),
    })
    assert "app/storage/archive.py" in summarized


def test_the_screen_names_the_bases_of_a_files_classes():
    """The files that may subclass an abstract receiver's class are those whose classes name it
    among their bases, through a module or an imported alias, on one line or several; and a file
    the stdlib cannot read is looked for by the plain word."""
    import ast

    from storegate import prefilter

    source = "from app.stores import ResponseStore as Base\nimport app.events as events\n\nclass Memory(Base):\n    pass\n\nclass Replay(\n    events.EventSink,\n    Generic[T],\n):\n    pass\n"
    found = prefilter.defines(ast.parse(source), source)
    assert found is not None
    marked = {name for name in found.top if name.startswith(prefilter.SUBCLASSES)}
    assert marked == {"(Base", "(ResponseStore", "(EventSink", "(Base>Memory", "(ResponseStore>Memory", "(EventSink>Replay"}
    assert not any(name.startswith(prefilter.SUBCLASSES) for name in found.own)
    assert prefilter.mentions("class Replay(\n    EventSink,\n):", frozenset({"(EventSink"}))
    assert not prefilter.mentions("class Replay(EventSinks):", frozenset({"(EventSink"}))


def test_a_search_for_overrides_reads_the_subclasses_that_define_them_and_the_way_down():
    """Of the files that subclass a base whose method's overrides are wanted, those whose class,
    or a subclass of it at any depth, defines the method (``def name(``), with each file of a
    class on the way down (it links the override to the base); not a subclass that defines none,
    nor one of another base."""
    import ast

    from storegate import prefilter

    texts = {
        "middle.py": "from base import Hook\nclass Batched(Hook):\n    def flush(self):\n        pass\n",
        "leaf.py": "from middle import Batched\nclass ToDisk(Batched):\n    async def  on_done (self, event):\n        pass\n",
        "plain.py": "from base import Hook\nclass Quiet(Hook):\n    def on_start(self):\n        pass\n",
        "other.py": "class Unrelated(Thing):\n    def on_done(self):\n        pass\n",
        "cycle.py": "class A(B):\n    pass\nclass B(A):\n    pass\n",
    }
    defines = {}
    for key, text in texts.items():
        found = prefilter.defines(ast.parse(text), text)
        assert found is not None
        defines[key] = found.top
    chosen = prefilter.subclass_files(defines, texts.__getitem__, frozenset({"(Hook", "(A"}), frozenset({"def on_done("}))
    assert chosen == {"middle.py", "leaf.py"}
    assert prefilter.subclass_files(defines, texts.__getitem__, frozenset({"(Hook"}), frozenset({"def on_start("})) == {"plain.py"}
    # a generated chain of thousands of subclasses, the last defining the method: every file on the way
    chain = {f"c{i}.py": f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, 5000)}
    chain["c5000.py"] = "class C5000(C4999):\n    def on_done(self):\n        pass\n"
    tops = {key: frozenset({f"(C{int(key[1:-3]) - 1}>C{key[1:-3]}"}) for key in chain}
    assert prefilter.subclass_files(tops, chain.__getitem__, frozenset({"(C0"}), frozenset({"def on_done("})) == set(chain)


@pytest.mark.parametrize("walrus", [False, True])
def test_the_screen_names_what_a_modules_statements_bind(walrus):
    """What a module binds for others: its top level's targets (tuples, starred, ``with ... as``,
    ``except ... as``, a ``match`` capture, ``del``), through ``if``/``try``/``for``; the names
    its ``global`` statements declare in any function, handler, loop or ``match`` case; a
    walrus anywhere in a top-level expression; not what an expression only reads or a
    comprehension binds."""
    import ast

    from storegate import prefilter

    source = (
        "import os\nTABLE = {'a': [x for x in range(3)], 'b': call(READ)}\n"
        "first, *rest = load()\n"
        "with open(p) as handle:\n    pass\n"
        "try:\n    import fast as impl\nexcept ImportError as error:\n    impl = None\n"
        "for key, value in TABLE.items():\n    del value\n"
        "match os.name:\n    case 'nt' as system:\n        pass\n"
        "class Holder:\n    slot = 1\n"
        "def setup():\n    try:\n        pass\n    except OSError:\n        global FROM_HANDLER\n"
        "    for _ in ():\n        while True:\n            global FROM_LOOP\n"
        "    match 1:\n        case 1:\n            global FROM_CASE\n"
        "    def inner():\n        global FROM_INNER\n"
    )
    if walrus:
        source += "print(WALRUS := 1)\n"
    found = prefilter.defines(ast.parse(source), source)
    assert found is not None
    bound = {
        "os", "TABLE", "first", "rest", "handle", "impl", "error", "key", "value", "system", "Holder", "setup",
        "FROM_HANDLER", "FROM_LOOP", "FROM_CASE", "FROM_INNER",
    }
    assert found.top == bound | ({"WALRUS"} if walrus else set())


def test_the_last_round_s_project_serves_the_findings_when_no_contract_changes_a_summary(tmp_path, monkeypatch):
    """Each round builds a project of every summary to choose the next files; when no contract
    then changes a summary, the findings are those of that same project (no second one is built
    of the same summaries), and they are those of a run without the pre-filter."""
    from storegate import checks
    from storegate.run import pipeline

    (tmp_path / "api.py").write_text("from db import persist\n\n\ndef handler(store, x):\n    persist(x)\n")
    (tmp_path / "db.py").write_text("def persist(x):\n    save_row(x)\n")
    (tmp_path / "other.py").write_text("def unrelated(x):\n    return x\n")  # chosen by no round
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    built, judged = [], []
    reachable, run = pipeline._Run._reachable, checks.run

    def noting_the_round(self, known):
        words = reachable(self, known)
        built.append(self.project)
        return words

    def noting_the_judged(project):
        judged.append(project)
        return run(project)

    monkeypatch.setattr(pipeline._Run, "_reachable", noting_the_round)
    monkeypatch.setattr(checks, "run", noting_the_judged)
    filtered = check([str(tmp_path)], config, jobs=1, use_cache=False)
    assert len(built) == 2 and len(judged) == 1 and judged[0] is built[-1]
    everything = check([str(tmp_path)], config, jobs=1, use_cache=False, use_prefilter=False)
    assert [(f.path, f.line, f.code) for f in filtered.findings] == [(f.path, f.line, f.code) for f in everything.findings]
    assert [f.code for f in filtered.findings] == ["SG002"]


def test_screen_takes_a_registration_whose_path_is_spelled_with_names():
    """``@router.post(paths.RESPONSES)`` need not mention a route's word: its path may be another
    module's constant (``Project._named``), so a decorator of a form's name whose path is a name,
    an attribute, an f-string or a ``+`` is taken, and so is a call form's registration with
    such a path (after the method, for aiohttp's ``add_route``). A decorator of a form for another
    method, one of no form, a literal path of another route, and an HTTP client's ``post`` of a
    URL are not."""
    from dataclasses import replace

    from storegate.prefilter import screen

    config = replace(load_config(["."], isolated=True, flags=["store"]), routes=("POST */responses",))
    body = "\ndef create(request):\n    return request\n"
    texts = [
        "@router.post(paths.RESPONSES)" + body,
        "@app.post(RESPONSES)" + body,
        "@app.api_route(Routes.RESPONSES, methods=['POST'])" + body,
        "@app.post(f'{V1}{SUFFIX}')" + body,
        "@webmethod(method='POST', route=Paths.RESPONSES)" + body,
        "@app.get(RESPONSES)" + body,
        "@lru_cache(MAXSIZE)" + body,
        "@app.post('/v1/models')" + body,
        "@app.post(RESPONSES)" + body + "\n\n@app.post('/v1/models')" + body.replace("create", "models"),
        body + "\n\napp.add_api_route(paths.RESPONSES, create, methods=['POST'])\n",
        body + "\n\nROUTES = [Route(RESPONSES, create, methods=['POST'])]\n",
        body + "\n\nrouter.add_route('POST', Routes.RESPONSES, create)\n",
        body + "\n\nrouter.add_route('POST', '/v1/models', create)\n",
        "def send(client, url, body):\n    return client.post(url, json=body)\n",
    ]
    expected = [True, True, True, True, True, False, False, False, True, True, True, True, False, False]
    assert [screen(text, config)[0] for text in texts] == expected


def test_the_module_whose_constant_spells_a_route_is_read_in_a_later_round(tmp_path):
    """``@app.post(paths.RESPONSES)``: ``paths.py`` mentions no flag and registers nothing, so the
    first round leaves it; the project then wants it for the constant, and the handler is one of
    ``POST /v1/responses``. ``other.py``, whose constant no route names, is not read."""
    summarized = _read_alike(tmp_path, {
        "api.py": (
            "from fastapi import FastAPI\n\nimport paths\n\napp = FastAPI()\n\n\n"
            "@app.post(paths.RESPONSES)\ndef create(body: dict):\n    save_row(body)\n"
        ),
        "paths.py": "V1 = '/v1'\nRESPONSES = f'{V1}/responses'\n",
        "other.py": "RESPONSES = '/v1/responses'\n",
    })
    assert sorted(summarized) == ["api.py", "paths.py"]
    config = load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"])
    found = [(Path(f.path).name, f.line, f.code, f.message) for f in check([str(tmp_path)], config, use_cache=False, jobs=1).findings]
    assert found == [("api.py", 10, "SG004", "handler for POST /v1/responses persists without checking 'store'")]
