"""Route forms and route patterns (``storegate/routes.py``): which registrations name a
store-bearing route, how a path is spelled, and how a pattern matches a path with placeholders.
The analyzer's view of whole servers is in ``fixtures/cases/pkg_route_forms``."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import libcst as cst
import pytest

from storegate import cfg as cfglib
from storegate.routes import Names, globs_meet, handler_routes, included_routers, mounted_routes, named_routes, path_of, registered_routes, route_matches
from storegate.sinks import glob_matcher
from storegate.summary import FunctionSummary, ModuleSummary

DEFAULT = ("POST */responses", "POST */chat/completions")


@pytest.mark.parametrize(
    "method, path, expected",
    [
        ("POST", "/responses", True),
        ("POST", "/v1/responses", True),
        ("POST", "/api/v1/responses/", True),
        ("POST", "/v1/chat/completions", True),
        ("GET", "/v1/responses", False),
        ("POST", "/v1/responses/{response_id}", False),
        ("POST", "/v1/responses/compact", False),
        ("POST", "/v1/files", False),
        ("POST", "/v1/files/{file_id}", False),  # a path parameter is text, not any segment
        ("POST", "*/responses", True),  # f"{PREFIX}/responses"
        ("POST", "/v1/*", True),  # f"/v1/{kind}": the placeholder may be "responses"
        ("POST", "*/files", False),
        ("*", "/v1/responses", True),  # aiohttp's add_route("*", ...)
    ],
)
def test_default_patterns_take_any_prefix(method: str, path: str, expected: bool) -> None:
    assert any(route_matches(pattern, method, path) for pattern in DEFAULT) is expected


def test_globs_meet_agrees_with_a_search_over_short_texts() -> None:
    """Two globs meet exactly when some short text matches both (pattern: ``*``, ``?``, letters;
    route: ``*`` and letters)."""
    rng = random.Random(14)
    texts = ["".join(t) for n in range(7) for t in itertools.product("abc", repeat=n)]
    for _ in range(300):
        pattern = "".join(rng.choice("ab*?") for _ in range(rng.randint(0, 4)))
        route = "".join(rng.choice("ab*") for _ in range(rng.randint(0, 4)))
        both = any(glob_matcher(pattern)(t) and glob_matcher(route)(t) for t in texts)
        assert globs_meet(pattern, route) is both, (pattern, route)


def test_a_huge_path_is_no_route() -> None:
    assert not route_matches("POST */responses", "POST", "*" + "/x" * 2000 + "/responses")


def _names(source: str) -> Names:
    return Names.of(cst.parse_module(source))


def test_paths_from_constants_fstrings_and_concatenation() -> None:
    names = _names(
        'ROOT = "/api"\n'
        'V1 = f"{ROOT}/v1"\n'
        'RESPONSES = V1 + "/responses"\n'
        'TWICE = "/a"\n'
        'TWICE = "/b"\n'
        'FROM_ENV = os.getenv("P", "/v1")\n'
    )
    assert {k: v.text for k, v in names.constants.items()} == {"ROOT": "/api", "V1": "/api/v1", "RESPONSES": "/api/v1/responses"}

    def path(code: str) -> tuple[str, str]:
        found = path_of(cst.parse_expression(code), names.constants)
        return found.text, found.glob

    assert path("RESPONSES") == ("/api/v1/responses", "/api/v1/responses")
    assert path('f"{V1}/chat/completions"') == ("/api/v1/chat/completions", "/api/v1/chat/completions")
    assert path('f"{settings.prefix}/responses"') == ("{settings.prefix}/responses", "*/responses")
    assert path('f"{TWICE}/responses"') == ("{TWICE}/responses", "*/responses")  # not a constant
    assert path('FROM_ENV + "/responses"') == ("{FROM_ENV}/responses", "*/responses")
    assert path('f"/v1/files/{{file_id}}"') == ("/v1/files/{file_id}", "/v1/files/{file_id}")


def _decorated(source: str) -> tuple[str, ...]:
    module = cst.parse_module(source)
    function = next(s for s in module.body if isinstance(s, cst.FunctionDef))
    return handler_routes(function, DEFAULT, Names.of(module))


@pytest.mark.parametrize(
    "decorator, expected",
    [
        ('@app.post("/v1/responses")', ("POST /v1/responses",)),
        ('@router.post("/responses")', ("POST /v1/responses",)),  # router = APIRouter(prefix="/v1")
        ('@bp.route("/chat/completions", methods=["GET", "POST"])', ("POST /api/chat/completions",)),
        ('@app.api_route(PATH, methods=("post",))', ("POST /v1/responses",)),
        ('@app.api_route("/v1/responses", methods=VERBS)', ("* /v1/responses",)),  # methods not known
        ('@app.route("/v1/responses")', ()),  # GET by default
        ('@routes.route("POST", "/v1/responses")', ("POST /v1/responses",)),
        ('@routes.route("GET", "/v1/responses")', ()),
        ('@app.post(f"{settings.root}")', ()),  # nothing known of the path
        ('@app.websocket("/v1/responses")', ()),
    ],
)
def test_decorator_forms(decorator: str, expected: tuple[str, ...]) -> None:
    source = (
        'router = APIRouter(prefix="/v1")\nbp = Blueprint("b", __name__, url_prefix="/api")\nPATH = "/v1/responses"\n'
        f"{decorator}\nasync def handler(body): ...\n"
    )
    assert _decorated(source) == expected


def _registered(source: str) -> tuple[tuple[str, str], ...]:
    module = cst.parse_module(source)
    return registered_routes(cfglib.build(module), DEFAULT, Names.of(module))


@pytest.mark.parametrize(
    "call, expected",
    [
        ('app.add_api_route("/v1/responses", create, methods=["POST"])', (("POST /v1/responses", "create"),)),
        ('router.add_api_route("/responses", endpoint=self.create, methods=["POST"])', (("POST /v1/responses", "self.create"),)),
        # GET by default: a function answers no POST route; a class's methods may (routes.VIEW)
        ('app.add_api_route("/v1/responses", create)', (("VIEW /v1/responses", "create"),)),
        ('routes = [Route("/v1/responses", ResponsesEndpoint)]', (("VIEW /v1/responses", "ResponsesEndpoint"),)),
        ('app.add_url_rule("/v1/responses", view_func=Turns.as_view("turns"))', (("VIEW /v1/responses", "Turns"),)),
        ('app.add_url_rule("/v1/files", view_func=Turns.as_view("turns"))', ()),
        ('routes = [Route("/v1/responses", views.create, methods=["POST"])]', (("POST /v1/responses", "views.create"),)),
        ('app.add_route("/v1/responses", create, methods=["POST"])', (("POST /v1/responses", "create"),)),
        ('app.add_url_rule("/v1/responses", "create", create, methods=["POST"])', (("POST /v1/responses", "create"),)),
        ('app.router.add_post("/v1/chat/completions", handler)', (("POST /v1/chat/completions", "handler"),)),
        ('app.router.add_get("/v1/chat/completions", handler)', ()),
        ('app.router.add_route("POST", "/v1/responses", handler)', (("POST /v1/responses", "handler"),)),
        ('app.router.add_route("*", "/v1/responses", handler)', (("* /v1/responses", "handler"),)),
        ('app.add_routes([web.post("/v1/responses", handler)])', (("POST /v1/responses", "handler"),)),
        ('client.post("/v1/responses", payload)', ()),  # a test client's request, not a route
        ('client.post("/v1/responses", json=payload)', ()),
        ('app.add_api_route("/v1/responses", make_handler(), methods=["POST"])', ()),  # no name to resolve
        ('app.add_api_route("/v1/files", create, methods=["POST"])', ()),
    ],
)
def test_registration_forms(call: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert _registered(f'router = APIRouter(prefix="/v1")\n{call}\n') == expected


def test_registrations_survive_the_cache_format() -> None:
    function = FunctionSummary(
        name="<module>", kind="module", class_name=None, params=(), flags=(), closure_flags=(), routes=(),
        sites=(), nested=False, registered=(("POST /v1/responses", "views.create"),),
    )
    summary = ModuleSummary(path="app.py", module="app", imports=(), classes=(), functions=(function,))
    assert ModuleSummary.from_json(summary.to_json()) == summary


def test_a_route_pattern_may_start_with_a_wildcard(tmp_path) -> None:
    from storegate.config import load_config

    (tmp_path / "pyproject.toml").write_text('[tool.storegate]\nroutes = ["POST */v2/answers"]\n', encoding="utf-8")
    (tmp_path / "a.py").write_text("", encoding="utf-8")
    assert "POST */v2/answers" in load_config([str(tmp_path / "a.py")]).routes


@pytest.mark.parametrize(
    "call, expected",
    [
        ('app.include_router(turns.router, prefix="/v1/responses")', (("turns.router", "/v1/responses", "/v1/responses", "app"),)),
        ("app.include_router(router)", (("router", "", "", "app"),)),
        ('api.include_router(chat.router, prefix=f"{settings.root}/chat")', (("chat.router", "/v1{settings.root}/chat", "/v1*/chat", "api"),)),
        ('flask_app.register_blueprint(bp, url_prefix=BASE + "/responses")', (("bp", "/api/responses", "/api/responses", "flask_app"),)),
        ("app.include_router(*routers)", ()),
        ('app.mount("/static", files)', ()),
    ],
)
def test_mount_forms(call: str, expected: tuple[tuple[str, str, str, str], ...]) -> None:
    """The receiver's own prefix comes first (``api`` was built with ``prefix="/v1"``)."""
    module = cst.parse_module(f'BASE = "/api"\napi = APIRouter(prefix="/v1")\n{call}\n')
    assert included_routers(cfglib.build(module), Names.of(module)) == expected


def test_only_a_module_level_router_on_an_unmatched_route_waits_for_its_mount() -> None:
    source = (
        "router = APIRouter()\n"
        "router = rebuilt()\n"  # bound twice: not known to be one router
        "other = APIRouter()\n"
        '@other.post("")\nasync def relative(body): ...\n'
        '@other.post("/v1/responses")\nasync def absolute(body): ...\n'
        '@router.post("")\nasync def rebound(body): ...\n'
        '@local.post("")\nasync def unknown(body): ...\n'
    )
    module = cst.parse_module(source)
    names = Names.of(module)
    found = {f.name.value: mounted_routes(f, DEFAULT, names) for f in module.body if isinstance(f, cst.FunctionDef)}
    assert found == {"relative": (("other", "POST", "", ""),), "absolute": (), "rebound": (), "unknown": ()}


def test_routers_mounted_in_a_cycle_end(tmp_path) -> None:
    """Two routers that mount each other (a mistake the analyzer must survive) give each handler
    the prefixes of the finite paths to the app, and the run ends."""
    from storegate.config import load_config
    from storegate.run.pipeline import check

    (tmp_path / "pyproject.toml").write_text("[tool.storegate]\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(
        "from fastapi import APIRouter, FastAPI\n"
        "app = FastAPI()\n"
        "a = APIRouter()\n"
        "b = APIRouter()\n"
        'a.include_router(b, prefix="/responses")\n'
        'b.include_router(a, prefix="/loop")\n'
        'app.include_router(a, prefix="/v1")\n'
        "KEPT = []\n"
        '@b.post("")\n'
        "async def create(body: dict):\n"
        "    KEPT.append(body)\n",
        encoding="utf-8",
    )
    result = check([tmp_path], load_config([tmp_path]), use_cache=False)
    assert [(f.line, f.code) for f in result.findings] == [(11, "SG004")]
    assert "POST /v1/responses" in result.findings[0].message


def test_mounts_survive_the_cache_format() -> None:
    function = FunctionSummary(
        name="create", kind="function", class_name=None, params=(), flags=(), closure_flags=(), routes=(),
        sites=(), nested=False, mounted=(("router", "POST", "", ""),), includes=(("turns.router", "/v1", "/v1", "app"),),
    )
    summary = ModuleSummary(path="app.py", module="app", imports=(), classes=(), functions=(function,))
    assert ModuleSummary.from_json(summary.to_json()) == summary


def test_a_handler_at_two_routes_gives_one_finding_naming_both() -> None:
    """Two decorators, one write: one SG004, whose message names each route."""
    from storegate.config import load_config
    from storegate.run.pipeline import check

    package = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "pkg_route_forms"
    result = check([package], load_config([package]), use_cache=False)
    found = [f for f in result.findings if f.function == "create_at_two_paths"]
    assert [f.code for f in found] == ["SG004"]
    assert "handler for POST /v1/responses, POST /api/v1/responses persists" in found[0].message


def test_a_path_spelled_with_another_modules_names_waits_for_the_project() -> None:
    """A decorator whose path is made of names the module does not define (``paths.RESPONSES``,
    ``f"{V1}/responses"`` with ``V1`` imported has a word of its own and is a route now) is no
    route as written, but a named one, with the names; a class's constant of the module is
    known here (``Routes.CHAT``), and a call in the path (``prefix()``) names nothing."""
    module = cst.parse_module(
        "class Routes:\n    CHAT = '/v1/chat/completions'\n\n\n"
        "@router.post(paths.RESPONSES)\ndef a(body): ...\n\n\n"
        "@router.post(PREFIX + SUFFIX)\ndef b(body): ...\n\n\n"
        "@router.post(Routes.CHAT)\ndef c(body): ...\n\n\n"
        "@router.post(prefix())\ndef d(body): ...\n\n\n"
        "app.add_api_route(paths.RESPONSES, d, methods=['POST'])\n"
        "app.add_api_route('/v1/responses', d, methods=['POST'])\n"
    )
    names = Names.of(module)
    assert names.constants["Routes.CHAT"].text == "/v1/chat/completions"
    functions = [statement for statement in module.body if isinstance(statement, cst.FunctionDef)]
    assert [named_routes(f, cfglib.build(f), DEFAULT, names) for f in functions] == [
        (("router", "POST", "{paths.RESPONSES}", "paths.RESPONSES", ""),),
        (("router", "POST", "{PREFIX}{SUFFIX}", "PREFIX SUFFIX", ""),),
        (),
        (),
    ]
    assert [handler_routes(f, DEFAULT, names) for f in functions] == [(), (), ("POST /v1/chat/completions",), ()]
    graph = cfglib.build(module)  # a call's: the handler it names; a literal path is registered as it is
    assert named_routes(module, graph, DEFAULT, names) == (("app", "POST", "{paths.RESPONSES}", "paths.RESPONSES", "d"),)
    assert registered_routes(graph, DEFAULT, names) == (("POST /v1/responses", "d"),)


def test_named_routes_and_path_constants_survive_the_cache_format() -> None:
    function = FunctionSummary(
        name="create", kind="function", class_name=None, params=(), flags=(), closure_flags=(), routes=(),
        sites=(), nested=False, named=(("router", "POST", "{paths.RESPONSES}", "paths.RESPONSES", ""),),
    )
    summary = ModuleSummary(path="app.py", module="app", imports=(), classes=(), functions=(function,), constants=(("V1", "/v1"),))
    assert ModuleSummary.from_json(summary.to_json()) == summary


def test_a_registration_in_a_loop_over_a_literal_table_is_one_per_row() -> None:
    """``for path in (...)``, ``for prefix in [...]`` read in an f-string, ``for path, handler,
    methods in ROUTES`` with ``ROUTES`` a module-level list: each row registers its handler on
    its path; a row of another method or endpoint registers nothing that matches, and a loop
    over what a call returns says nothing of its rows."""
    module = cst.parse_module(
        "ROUTES = [('/v1/responses', create, ['POST']), ('/v1/files', upload, ['POST']), ('/v1/responses', listing, ['GET'])]\n"
        "for path in ('/v1/responses', '/responses'):\n    app.add_api_route(path, create, methods=['POST'])\n"
        "for prefix in ['', '/v1']:\n    app.add_api_route(f'{prefix}/chat/completions', chat, methods=['POST'])\n"
        "for path, handler, methods in ROUTES:\n    app.add_api_route(path, handler, methods=methods)\n"
        "for path in paths():\n    app.add_api_route(path, unknown, methods=['POST'])\n"
    )
    assert registered_routes(cfglib.build(module), DEFAULT, Names.of(module)) == (
        ("POST /v1/responses", "create"),
        ("POST /responses", "create"),
        ("POST /chat/completions", "chat"),
        ("POST /v1/chat/completions", "chat"),
    )


def test_add_route_takes_its_handler_first_or_second() -> None:
    """Starlette's ``add_route(path, route)`` and Sanic's ``add_route(handler, uri)`` (``uri=``
    too) register the same handler on the same route; aiohttp's takes the method first."""
    module = cst.parse_module(
        "app.add_route('/v1/responses', starlette_create, methods=['POST'])\n"
        "app.add_route(sanic_create, '/v1/responses', methods=['POST'])\n"
        "app.add_route(sanic_keyword, uri='/v1/responses', methods=['POST'])\n"
        "router.add_route('POST', '/v1/responses', aiohttp_create)\n"
    )
    assert registered_routes(cfglib.build(module), DEFAULT, Names.of(module)) == (
        ("POST /v1/responses", "starlette_create"),
        ("POST /v1/responses", "sanic_create"),
        ("POST /v1/responses", "sanic_keyword"),
        ("POST /v1/responses", "aiohttp_create"),
    )
    # names alone do not tell the two apart: both readings wait for the project, which keeps the
    # one whose path a constant spells
    named = cst.parse_module("app.add_route(create, paths.RESPONSES, methods=['POST'])\n")
    assert named_routes(named, cfglib.build(named), DEFAULT, Names.of(named)) == (
        ("app", "POST", "{create}", "create", "paths.RESPONSES"),
        ("app", "POST", "{paths.RESPONSES}", "paths.RESPONSES", "create"),
    )
