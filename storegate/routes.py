"""HTTP handlers of store-bearing endpoints, in the forms web frameworks register them.

A route pattern from a pack is a path glob, optionally preceded by a method: ``/v1/responses``
(any method) or ``POST */responses``. ``*`` matches any characters, slashes included, so
``POST */responses`` is the Responses endpoint under any prefix (``/responses``,
``/v1/responses``, ``/api/v1/responses``).

A *route form* (``RouteForm``) is one way a framework registers a handler; ``ROUTE_FORMS`` is the
registry, consulted in order. A decorator form registers the function it decorates
(``handler_routes``); a call form names its handler (``registered_routes``: ``add_api_route(path,
handler)``, ``Route(path, endpoint)``), and the project stage resolves that name like a callee
(``Project.routes``), in this module or another; a class named there is a class-based view,
whose methods answer the HTTP methods they are named for (``VIEW``). A decorator of any name
with ``route=`` and ``method=`` keywords is a project's own (``@webmethod(route=...,
method="POST")``), often on an API protocol's methods: the project stage gives the route to the
methods overriding them. A new form is one entry in ``ROUTE_FORMS``.

A path is a literal, a module-level constant, an f-string or a ``+`` of these, after the prefix
of a module-level router (``router = APIRouter(prefix="/v1")``, a Flask ``Blueprint``'s
``url_prefix``). A part not known in the module (``f"{settings.prefix}/responses"``) is a
placeholder that matches any characters: such a route still matches a pattern that allows any
prefix. A path spelled only with such names (``@router.post(paths.RESPONSES)``,
``app.add_api_route(paths.RESPONSES, create)``) is no route as written: the project stage reads
what another module's constants spell (``named_routes``, ``Project._named``). A call in a loop
over a literal table (``for path, handler in ROUTES:``) registers once per row (``_loop_rows``).
A router's handler on a route no pattern matches as written (``@router.post("")``) waits
for its mounts (``mounted_routes``): the project stage joins the prefixes other modules mount the
router under (``included_routers``: ``app.include_router(router, prefix="/v1/responses")``). A path parameter (``{response_id}``) is
text: it matches a pattern's ``*``, never a literal segment (``/v1/files/{file_id}`` is not
``*/responses``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

import libcst as cst

from storegate.cfg import CFG, CallEvent, own_statements
from storegate.model import Flag, RouteDefault
from storegate.paths import callee_path, dotted_name, string_value
from storegate.sinks import callee_text, glob_matcher

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# What a route pattern names a WebSocket endpoint by (``WEBSOCKET */responses*``): a client sends
# the same requests over it, one frame each.
WEBSOCKET = "WEBSOCKET"
_VERBS = frozenset(method.lower() for method in HTTP_METHODS)
# The method of a route whose handler may be a class that answers each HTTP method with its method
# of that name (Starlette's ``Route(path, ResponsesEndpoint)``, an ``HTTPEndpoint``; Flask's
# ``view_func=ResponsesAPI.as_view("responses")``, a ``MethodView``): ``VIEW /v1/responses``
# matches a pattern of any method until the project stage knows the class (``view_routes``).
VIEW = "VIEW"
# A route path longer than this is no route (real ones are under 200 characters): matching two
# globs costs the product of their lengths.
_LONGEST_PATH = 2000


@dataclass(frozen=True)
class RoutePath:
    """A path as shown (``{PREFIX}/responses``) and as matched (``*/responses``)."""

    text: str
    glob: str

    def __add__(self, other: RoutePath) -> RoutePath:
        return RoutePath(self.text + other.text, self.glob + other.glob)


@dataclass(frozen=True)
class Names:
    """What a module's top level tells about its paths: string constants, routers' prefixes, and
    the names bound once to a call (``router = APIRouter()``), which another module may mount."""

    constants: dict[str, RoutePath]
    prefixes: dict[str, RoutePath]
    routers: frozenset[str] = frozenset()
    tables: dict[str, cst.List | cst.Tuple] = field(default_factory=dict)  # ``ROUTES = [(path, handler), ...]``

    @classmethod
    def of(cls, module: cst.Module) -> Names:
        """``PATH = "/v1/responses"``, ``API = f"{ROOT}/v1"`` (a name bound twice is not a
        constant); ``router = APIRouter(prefix=...)``, ``bp = Blueprint(..., url_prefix=...)``."""
        constants: dict[str, RoutePath] = {}
        prefixes: dict[str, RoutePath] = {}
        tables: dict[str, cst.List | cst.Tuple] = {}
        called: set[str] = set()
        bound: set[str] = set()
        rebound: set[str] = set()
        for statement, owner in _top_statements(module):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target, value = small.targets[0].target, small.value
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    target, value = small.target, small.value
                else:
                    continue
                if not isinstance(target, cst.Name):
                    continue
                name = owner + target.value
                if name in bound:
                    rebound.add(name)
                bound.add(name)
                if _stringish(value, constants):
                    constants[name] = path_of(value, constants)
                elif isinstance(value, (cst.List, cst.Tuple)) and not owner:
                    tables[name] = value
                elif isinstance(value, cst.Call) and not owner:
                    called.add(name)
                    for arg in value.args:
                        if arg.keyword is not None and arg.keyword.value in ("prefix", "url_prefix"):
                            prefixes[name] = path_of(arg.value, constants)
        for name in rebound:
            constants.pop(name, None)
            prefixes.pop(name, None)
            tables.pop(name, None)
        return cls(constants, prefixes, frozenset(called - rebound), tables)


NO_NAMES = Names({}, {})


def _top_statements(module: cst.Module) -> Iterator[tuple[cst.SimpleStatementLine, str]]:
    """The module's simple statements, and those of its classes' bodies, each with the prefix of
    the names it binds (``""``, ``"Paths."``): ``class Paths: RESPONSES = "/v1/responses"``."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield statement, ""
        elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for inner in statement.body.body:
                if isinstance(inner, cst.SimpleStatementLine):
                    yield inner, f"{statement.name.value}."


def path_of(expr: cst.BaseExpression, constants: dict[str, RoutePath]) -> RoutePath:
    """The path ``expr`` spells; a part not known here is a placeholder (``{code}``, glob ``*``)."""
    value = string_value(expr)
    if value is not None:
        return RoutePath(value, value)
    name = _constant_name(expr)
    if name is not None and name in constants:
        return constants[name]
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return path_of(expr.left, constants) + path_of(expr.right, constants)
    if isinstance(expr, cst.FormattedString):
        path = RoutePath("", "")
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                text = part.value.replace("{{", "{").replace("}}", "}")
                path += RoutePath(text, text)
            elif isinstance(part, cst.FormattedStringExpression):
                if part.format_spec is None and part.conversion is None:
                    path += path_of(part.expression, constants)
                else:
                    path += _placeholder(part.expression)
        return path
    return _placeholder(expr)


def _placeholder(expr: cst.BaseExpression) -> RoutePath:
    name = _constant_name(expr)
    return RoutePath("{" + (name if name is not None else callee_text(expr)) + "}", "*")


def _constant_name(expr: cst.BaseExpression) -> str | None:
    """The dotted name a constant is read by: ``PATH``, ``paths.RESPONSES``, ``Paths.RESPONSES``
    (of a string ``Enum`` too, ``Paths.RESPONSES.value``)."""
    name = dotted_name(expr)
    return name.removesuffix(".value") if name is not None and "." in name.removesuffix(".value") else name


def named_parts(expr: cst.BaseExpression, constants: dict[str, RoutePath]) -> tuple[str, ...] | None:
    """The names a path is spelled with that the module does not define (``paths.RESPONSES`` of
    ``@router.post(paths.RESPONSES)``: another module's constants, ``Project._named``), or None
    when a part is no literal, constant or name (a call: ``settings.prefix()``)."""
    if string_value(expr) is not None:
        return ()
    name = _constant_name(expr)
    if name is not None:
        return () if name in constants else (name,)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        left, right = named_parts(expr.left, constants), named_parts(expr.right, constants)
        return None if left is None or right is None else (*left, *right)
    if isinstance(expr, cst.FormattedString):
        found: list[str] = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringExpression):
                inner = named_parts(part.expression, constants) if part.format_spec is None and part.conversion is None else None
                if inner is None:
                    return None
                found.extend(inner)
        return tuple(found)
    return None


def _stringish(expr: cst.BaseExpression, constants: dict[str, RoutePath]) -> bool:
    """Whether ``expr`` is sure to be a string built from literals and constants."""
    if string_value(expr) is not None or isinstance(expr, cst.FormattedString):
        return True
    name = _constant_name(expr)
    if name is not None:
        return name in constants
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _stringish(expr.left, constants) or _stringish(expr.right, constants)
    return False


@dataclass(frozen=True)
class Registration:
    methods: tuple[str, ...]  # upper case; "*" for any
    path: RoutePath
    handler: str | None  # the handler as written (a call form); None: the decorated function
    receiver: str = ""  # the callee's receiver as written (``router`` of ``@router.post``)
    # the names its path is spelled with that another module defines (``named_parts``): no route
    # until the project stage knows what they spell (``named_routes``)
    named: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteForm:
    """One way of registering a handler, told by the callee's last name.

    ``method``: where the HTTP method comes from: ``"name"`` (``post``, ``add_post``),
    ``"methods"`` (a ``methods=[...]`` keyword; GET without it, as every framework does) or
    ``"first"`` (a literal first argument, aiohttp's ``add_route("POST", path, handler)``) or
    ``"keyword"`` (a literal ``method="POST"``, else a ``methods=[...]``; none: no route) or
    ``"any"`` (the handler answers every method: a Django view) or ``"websocket"`` (a WebSocket
    endpoint: ``WEBSOCKET``). No
    ``names``: any callee, when the path is given by ``path_keyword``. The path is the argument
    at ``path`` after a ``"first"`` method (or the ``path_keyword``); the handler, for a call
    form, the argument at ``handler`` (or one of ``handler_keywords``).
    ``receiver``: the last name the callee's receiver must have (``web`` of ``web.post``).
    """

    names: frozenset[str]
    decorator: bool
    method: str
    path_keyword: str = "path"
    path: int = 0
    handler: int | None = None
    handler_keywords: tuple[str, ...] = ()
    receiver: str | None = None
    regex: bool = False  # the path is a regex (Django's ``re_path``: ``_regex_path``)

    def match(self, call: cst.Call, names: Names) -> Registration | None:
        callee = callee_path(call.func)
        if callee is None:
            return None
        receiver, _, last = callee.rpartition(".")
        if (self.names and last not in self.names) or (self.receiver is not None and receiver.rpartition(".")[2] != self.receiver):
            return None
        positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
        offset = self.path
        methods: tuple[str, ...]
        if self.method == "first":
            method = string_value(positional[0]) if positional else None
            if method is None or (method.upper() not in HTTP_METHODS and method != "*"):
                return None
            methods, offset = (method.upper(),), offset + 1
        elif self.method == "name":
            methods = (last.removeprefix("add_").upper(),)
        elif self.method == "any":
            methods = ("*",)
        elif self.method == "websocket":
            methods = (WEBSOCKET,)
        elif self.method == "keyword":
            method = string_value(keywords["method"]) if "method" in keywords else None
            if method is None and "methods" not in keywords:
                return None
            methods = (method.upper(),) if method is not None else _declared_methods(keywords["methods"])
        else:
            methods = _declared_methods(keywords.get("methods"))
        if self.names:
            path_expr = positional[offset] if len(positional) > offset else keywords.get(self.path_keyword)
        else:
            path_expr = keywords.get(self.path_keyword)
        if path_expr is None and not (self.decorator and self.method == "name" and not receiver):
            return None
        # ``@post()`` (imported: Litestar's): its controller's path (``handler_routes``)
        path = path_of(path_expr, names.constants) if path_expr is not None else RoutePath("", "")
        if self.regex:
            path = _regex_path(path.text)
        if self.method == "any" and not path.text.startswith(("/", "{")):
            path = RoutePath("/", "/") + path  # Django's routes are written without their slash
        if receiver in names.prefixes:
            path = names.prefixes[receiver] + path
        named = named_parts(path_expr, names.constants) if path_expr is not None and not known_path(path) else ()
        if named is None or (not named and not known_path(path)):
            return None
        if self.decorator:
            return Registration(methods, path, None, receiver, named)
        handler = _argument(positional, keywords, self.handler, self.handler_keywords)
        if type(handler) is cst.Call and type(handler.func) is cst.Attribute and handler.func.attr.value == "as_view":
            handler, methods = handler.func.value, (VIEW,)  # a class's view: its methods answer
        elif self.method == "methods" and "methods" not in keywords:
            methods = (*methods, VIEW)  # a function answers GET; a class, what its methods are named
        name = dotted_name(handler) if handler is not None else None
        return None if name is None else Registration(methods, path, name, receiver, named)


def _argument(positional: list, keywords: dict, index: int | None, names: tuple[str, ...]) -> cst.BaseExpression | None:
    if index is not None and len(positional) > index:
        return positional[index]
    return next((keywords[name] for name in names if name in keywords), None)


ROUTE_FORMS: tuple[RouteForm, ...] = (
    # @app.post(path), @router.post(path), aiohttp's @routes.post(path)
    RouteForm(_VERBS, decorator=True, method="name"),
    # aiohttp's @routes.route("POST", path)
    RouteForm(frozenset({"route"}), decorator=True, method="first"),
    # FastAPI @app.api_route(path, methods=[...]), Flask / Quart @app.route(path, methods=[...])
    RouteForm(frozenset({"api_route", "route"}), decorator=True, method="methods"),
    # aiohttp router.add_route("POST", path, handler), web.route("POST", path, handler)
    RouteForm(frozenset({"add_route", "route"}), decorator=False, method="first", handler=2, handler_keywords=("handler",)),
    # FastAPI add_api_route(path, endpoint, methods=[...]) and APIRoute, Starlette Route(path,
    # endpoint, methods=[...]) and add_route(path, route, methods=[...])
    RouteForm(
        frozenset({"add_api_route", "add_route", "Route", "APIRoute"}),
        decorator=False,
        method="methods",
        handler=1,
        handler_keywords=("endpoint", "route"),
    ),
    # Sanic add_route(handler, uri, methods=[...]): the handler first (tried after Starlette's,
    # whose handler is no name when the path is a literal: ``add_route(create, "/v1/responses")``)
    RouteForm(frozenset({"add_route"}), decorator=False, method="methods", path_keyword="uri", path=1, handler=0, handler_keywords=("handler",)),
    # Flask add_url_rule(rule, endpoint, view_func, methods=[...])
    RouteForm(frozenset({"add_url_rule"}), decorator=False, method="methods", path_keyword="rule", handler=2, handler_keywords=("view_func",)),
    # Django's urlpatterns: path(route, view) and re_path(regex, view); a function view answers
    # any method, a class's view (``as_view()``) what its methods are named
    RouteForm(frozenset({"path"}), decorator=False, method="any", path_keyword="route", handler=1, handler_keywords=("view",)),
    RouteForm(frozenset({"re_path"}), decorator=False, method="any", path_keyword="route", handler=1, handler_keywords=("view",), regex=True),
    # aiohttp router.add_post(path, handler)
    RouteForm(frozenset(f"add_{verb}" for verb in _VERBS), decorator=False, method="name", handler=1, handler_keywords=("handler",)),
    # aiohttp web.post(path, handler), in a route list
    RouteForm(_VERBS, decorator=False, method="name", handler=1, handler_keywords=("handler",), receiver="web"),
    # WebSocket endpoints: FastAPI / Starlette / Quart / Sanic @app.websocket(path) and
    # @app.websocket_route(path); add_websocket_route(path, endpoint), WebSocketRoute(path, endpoint)
    RouteForm(frozenset({"websocket", "websocket_route"}), decorator=True, method="websocket"),
    RouteForm(frozenset({"add_websocket_route", "add_api_websocket_route", "WebSocketRoute", "APIWebSocketRoute"}), decorator=False, method="websocket", handler=1, handler_keywords=("endpoint",)),
    # A project's own route decorator, often on the methods of an API protocol that the
    # implementing classes override: @webmethod(route="/v1/chat/completions", method="POST")
    RouteForm(frozenset(), decorator=True, method="keyword", path_keyword="route"),
)


# The last names of the callees of every call form: a scope's other calls are passed over at once.
_CALL_NAMES = frozenset(name for form in ROUTE_FORMS if not form.decorator for name in form.names)

# Hooks an application runs around every request: Flask's and Quart's ``app.before_request(f)``,
# ``app.after_request(f)`` (a blueprint's ``before_app_request``, ``after_app_request``), as a
# decorator or a call, and FastAPI's and Starlette's ``@app.middleware("http")``. Each sees the
# requests of every route, the store-bearing ones too (``hook_routes``).
HOOKS = frozenset({"before_request", "after_request", "before_app_request", "after_app_request"})
MIDDLEWARE = "middleware"  # ``@app.middleware("http")``
# Error handlers run for the request that raised, whichever route it was: ``@app.errorhandler(E)``
# (Flask, Quart, a blueprint's ``app_errorhandler``), ``@app.exception_handler(E)`` (FastAPI);
# and by a call, with the handler second: ``app.register_error_handler(E, f)``,
# ``app.add_exception_handler(E, f)``; or in a table: ``exception_handlers={E: f}``.
ERROR_HOOKS = frozenset({"errorhandler", "app_errorhandler", "exception_handler"})
ERROR_REGISTRATIONS = frozenset({"register_error_handler", "add_exception_handler"})
ERROR_TABLE = "exception_handlers"


def hook_routes(patterns: Sequence[str]) -> tuple[str, ...]:
    """The routes a hook run around every request serves: each POST pattern, as written
    (``POST */responses``)."""
    return tuple(pattern for pattern in patterns if pattern.partition(" ")[0].upper() == "POST")


def _hook_decorator(decorator: cst.BaseExpression) -> bool:
    """Whether a decorator makes its function a hook run around every request (``HOOKS``,
    ``@app.middleware("http")``)."""
    if isinstance(decorator, cst.Attribute):
        return decorator.attr.value in HOOKS
    if isinstance(decorator, cst.Call) and isinstance(decorator.func, cst.Attribute) and decorator.func.attr.value == MIDDLEWARE:
        return bool(decorator.args) and string_value(decorator.args[0].value) == "http"
    return isinstance(decorator, cst.Call) and isinstance(decorator.func, cst.Attribute) and decorator.func.attr.value in ERROR_HOOKS


def _registration(call: cst.Call, names: Names, decorator: bool) -> Registration | None:
    for form in ROUTE_FORMS:
        if form.decorator == decorator:
            found = form.match(call, names)
            if found is not None:
                return found
    return None


def defines_handlers(graph: CFG, names: Names = NO_NAMES) -> bool:
    """Whether a function registers route handlers, on any route: it is an app factory
    (``def create_app(): ... @app.post(...)``), whose locals live as long as the application."""
    for child in graph.nested:
        if isinstance(child, cst.FunctionDef):
            for decorator in child.decorators:
                if isinstance(decorator.decorator, cst.Call) and _registration(decorator.decorator, names, decorator=True) is not None:
                    return True
    return any(
        isinstance(event, CallEvent) and _last_name(event.node.func) in _CALL_NAMES and _registration(event.node, names, decorator=False) is not None
        for block in graph.blocks
        for event in block.events
    )


def handler_routes(function: cst.FunctionDef, patterns: Sequence[str], names: Names = NO_NAMES, owner: str | None = None) -> tuple[str, ...]:
    """``("POST /v1/responses",)`` for each decorator registering ``function`` on a matching route;
    a method's under its class's ``path`` (``owner``: the class, qualified in the module), as a
    Litestar controller's are (``class Turns(Controller): path = "/v1/responses"``, ``@post()``)."""
    if not patterns:
        return ()
    prefix = names.constants.get(f"{owner}.path") if owner is not None else None
    found: list[str] = []
    for decorator in function.decorators:
        if _hook_decorator(decorator.decorator):
            found.extend(hook_routes(patterns))
        elif isinstance(decorator.decorator, cst.Call):
            registration = _registration(decorator.decorator, names, decorator=True)
            if registration is not None:
                if prefix is not None and not registration.named:
                    slash = RoutePath("/", "/") if registration.path.text[:1] not in ("", "/") else RoutePath("", "")
                    registration = replace(registration, path=prefix + slash + registration.path)
                found.extend(matching(registration, patterns))
    return tuple(found)


def with_route_default(function: cst.FunctionDef, flag: Flag, defaults: Sequence[RouteDefault], names: Names = NO_NAMES, owner: str | None = None) -> Flag:
    """``flag`` with what an omitted value means on ``function``'s route, when a pack says it
    differs from the flag's own (Chat Completions do not keep by default); the last matching entry
    wins, so a config's overrides a pack's. Only decorator routes count: a handler registered by
    call, and the code a handler hands the request to, keep the flag's own default."""
    for default in reversed(defaults):
        if default.applies(flag) and handler_routes(function, (default.route,), names, owner):
            return replace(flag, none_means=default.none_means)
    return flag


def none_means_on(route: str, flag: Flag, defaults: Sequence[RouteDefault]) -> bool:
    """What an omitted flag means on ``route`` as a handler's routes give it (``"POST
    /v1/chat/completions"``; a path parameter matches any text): the last matching default's,
    else the flag's own."""
    method, _, text = route.partition(" ")
    glob = route_glob(text)
    for default in reversed(defaults):
        if default.applies(flag) and route_matches(default.route, method, glob):
            return default.none_means
    return flag.none_means


def mounted_routes(function: cst.FunctionDef, patterns: Sequence[str], names: Names = NO_NAMES) -> tuple[tuple[str, str, str, str], ...]:
    """``(router, method, path text, path glob)`` for each decorator registering ``function`` on a
    module-level router (``@router.post("")``) on a route no pattern matches as written: another
    module may mount the router under a prefix that makes it one (``Project.routes``)."""
    if not patterns or not names.routers:
        return ()
    found: list[tuple[str, str, str, str]] = []
    for decorator in function.decorators:
        if isinstance(decorator.decorator, cst.Call):
            registration = _registration(decorator.decorator, names, decorator=True)
            if registration is None or registration.named:
                continue
            if registration.receiver in names.routers and not matching(registration, patterns):
                path = registration.path
                found.extend((registration.receiver, method, path.text, path.glob) for method in registration.methods)
    return tuple(found)


def named_routes(scope: cst.CSTNode, graph: CFG, patterns: Sequence[str], names: Names = NO_NAMES) -> tuple[tuple[str, str, str, str, str], ...]:
    """``(router as written, method, path text, names, handler as written)`` for each registration
    on a path spelled with names another module defines (``@router.post(paths.RESPONSES)``,
    ``app.add_api_route(paths.RESPONSES, create)``; ``names``: those of ``Registration.named``,
    space-separated): the project stage reads what they spell (``Project._named``). A decorator
    of ``scope`` registers it (handler ``""``); a call of the scope, the handler it names."""
    if not patterns:
        return ()
    registrations: list[Registration] = []
    if isinstance(scope, cst.FunctionDef):
        for decorator in scope.decorators:
            if isinstance(decorator.decorator, cst.Call):
                registration = _registration(decorator.decorator, names, decorator=True)
                if registration is not None:
                    registrations.append(registration)
    registrations.extend(_call_registrations(graph, names))
    found: dict[tuple[str, str, str, str, str], None] = {}
    for registration in registrations:
        if registration.named:
            spelled, handler = " ".join(registration.named), registration.handler or ""
            found.update(dict.fromkeys((registration.receiver, method, registration.path.text, spelled, handler) for method in registration.methods))
    return tuple(found)


# Calls that mount a router under a prefix: the keyword that names the prefix.
MOUNTS = {"include_router": "prefix", "register_blueprint": "url_prefix"}


def included_routers(graph: CFG, names: Names = NO_NAMES) -> tuple[tuple[str, str, str, str], ...]:
    """``(router as written, prefix text, prefix glob, receiver as written)`` for each call of a
    scope that mounts a router: FastAPI's ``app.include_router(router, prefix="/v1")``, Flask's
    ``app.register_blueprint(bp, url_prefix="/v1")``. The receiver's own prefix comes first."""
    found: dict[tuple[str, str, str, str], None] = {}
    for block in graph.blocks:
        for event in block.events:
            if not isinstance(event, CallEvent) or _last_name(event.node.func) not in MOUNTS:
                continue
            callee = callee_path(event.node.func) or ""
            receiver, _, last = callee.rpartition(".")
            positional = [arg.value for arg in event.node.args if arg.keyword is None and not arg.star]
            keywords = {arg.keyword.value: arg.value for arg in event.node.args if arg.keyword is not None}
            router = dotted_name(positional[0]) if positional else None
            if router is None:
                continue
            given = keywords.get(MOUNTS[last])
            prefix = path_of(given, names.constants) if given is not None else RoutePath("", "")
            if receiver in names.prefixes:
                prefix = names.prefixes[receiver] + prefix
            found[(router, prefix.text, prefix.glob, receiver)] = None
    return tuple(found)


def registered_routes(graph: CFG, patterns: Sequence[str], names: Names = NO_NAMES) -> tuple[tuple[str, str], ...]:
    """``(route, handler as written)`` for each call of a scope that registers a handler by name on
    a matching route (``app.add_api_route("/v1/responses", create, methods=["POST"])``, or a
    decorator applied by hand: ``app.post("/v1/responses")(create)``), or a hook run around every
    request (``app.after_request(self._capture)``: ``hook_routes``)."""
    if not patterns:
        return ()
    found: dict[tuple[str, str], None] = {}  # a ``finally`` body's calls are seen twice
    for registration in _call_registrations(graph, names):
        assert registration.handler is not None
        found.update(dict.fromkeys((route, registration.handler) for route in matching(registration, patterns)))
    for hook in _hook_calls(graph):
        found.update(dict.fromkeys((route, hook) for route in hook_routes(patterns)))
    return tuple(found)


def _hook_calls(graph: CFG) -> Iterator[str]:
    """The functions a scope's calls register as hooks run around every request, as written
    (``app.after_request(self._capture)``, ``app.middleware("http")(log_requests)``), or as
    error handlers (``ERROR_HOOKS``: ``app.register_error_handler(UpstreamError, on_upstream)``,
    ``Starlette(..., exception_handlers={UpstreamError: on_upstream})``)."""
    for block in graph.blocks:
        for event in block.events:
            if not isinstance(event, CallEvent):
                continue
            call = event.node
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == ERROR_TABLE and isinstance(arg.value, cst.Dict):
                    yield from (name for element in arg.value.elements if isinstance(element, cst.DictElement) and (name := dotted_name(element.value)))
            plain = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in ERROR_REGISTRATIONS and len(plain) == 2:
                handler = dotted_name(plain[1])
                if handler is not None:
                    yield handler
            if len(call.args) != 1 or call.args[0].keyword is not None:
                continue
            if _hook_decorator(call.func):  # (the same forms as a decorator: ``app.after_request``, ``app.middleware("http")``)
                handler = dotted_name(call.args[0].value)
                if handler is not None:
                    yield handler


def _call_registrations(graph: CFG, names: Names) -> Iterator[Registration]:
    """Each call of a scope that registers a handler it names (a call form, or a decorator
    applied by hand: ``app.post("/v1/responses")(create)``); in a loop over a literal table
    (``for path, handler in [("/v1/responses", create), ...]:``), one for each of its rows."""
    candidates = [
        event.node
        for block in graph.blocks
        for event in block.events
        if isinstance(event, CallEvent) and (_last_name(event.node.func) in _REGISTERING or isinstance(event.node.func, cst.Call))
    ]
    loops = _loop_rows(graph.scope, names.tables) if candidates else {}  # most scopes register nothing
    for node in candidates:
        for call in _unrolled(node, loops.get(id(node), ())):
            yield from _call_registrations_of(call, names)


# Calls that take a route table (the position of the table among their arguments): Tornado's
# ``Application([(r"/v1/responses", ResponsesHandler), url(...)])``, ``app.add_handlers(host, [...])``.
TABLE_CALLS = {"Application": 0, "add_handlers": 1}
_TABLE_ROWS = frozenset({"url", "URLSpec"})  # a row written as a call: ``url(r"/v1/responses", H)``
_REGISTERING = _CALL_NAMES | frozenset(TABLE_CALLS)  # the last names of the calls that may register


def _table_registrations(call: cst.Call, names: Names) -> list[Registration]:
    """The rows of a route table a call takes (``TABLE_CALLS``): a literal list, or a
    module-level name bound to one (``Names.tables``); each row a tuple or a ``url(...)`` of a
    path and a handler class, whose methods answer (``VIEW``). A path is a regex
    (``_regex_path``)."""
    callee = callee_path(call.func)
    if callee is None:
        return []
    receiver, _, last = callee.rpartition(".")
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    index = TABLE_CALLS[last]
    table = positional[index] if len(positional) > index else next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value in ("handlers", "host_handlers")), None)
    if isinstance(table, cst.Name):
        table = names.tables.get(table.value)
    if not isinstance(table, (cst.List, cst.Tuple)):
        return []
    found = []
    for element in table.elements:
        row = element.value
        if isinstance(row, cst.Tuple) and len(row.elements) >= 2:
            path_expr, handler_expr = row.elements[0].value, row.elements[1].value
        elif isinstance(row, cst.Call) and _last_name(row.func) in _TABLE_ROWS and len(row.args) >= 2:
            path_expr, handler_expr = row.args[0].value, row.args[1].value
        else:
            continue
        text, handler = string_value(path_expr), dotted_name(handler_expr)
        if text is not None and handler is not None:
            path = _regex_path(text)
            if known_path(path):
                found.append(Registration((VIEW,), path, handler, receiver))
    return found


def _regex_path(text: str) -> RoutePath:
    """A path written as a regex (Tornado's, Django's ``re_path``) as a route's: anchors and an
    optional trailing slash dropped, each group or wildcard a parameter
    (``r"^/v1/responses/([^/]+)/?$"`` is ``/v1/responses/{1}``)."""
    shown = text.removeprefix("^").removesuffix("$").removesuffix("/?")
    shown = re.sub(r"\((?:[^()\\]|\\.)*\)|\.\*|\.\+", "{1}", shown)
    return RoutePath(shown, route_glob(shown))


def _call_registrations_of(call: cst.Call, names: Names) -> list[Registration]:
    """What one call registers: the first call form's reading of it; when that finds a path other
    modules' constants spell, the later forms' readings that find one too, since names do not
    tell Starlette's ``add_route(paths.RESPONSES, create)`` from Sanic's ``add_route(create,
    paths.RESPONSES)``: the project stage keeps the reading whose path a constant spells
    (``Project._registrations``)."""
    if _last_name(call.func) in TABLE_CALLS:
        return _table_registrations(call, names)
    if _last_name(call.func) in _CALL_NAMES:
        found = [r for form in ROUTE_FORMS if not form.decorator for r in (form.match(call, names),) if r is not None and r.handler is not None]
        return [found[0], *(r for r in found[1:] if r.named)] if found and found[0].named else found[:1]
    if isinstance(call.func, cst.Call) and call.args and call.args[0].keyword is None:
        decorated = _registration(call.func, names, decorator=True)
        handler = dotted_name(call.args[0].value)
        if decorated is not None and handler is not None:
            return [replace(decorated, handler=handler)]
    return []


# The rows of a literal table a loop unpacks: the loop variables' values, one dict per row.
Rows = tuple[dict[str, cst.BaseExpression], ...]


def _loop_rows(scope: cst.CSTNode, tables: dict[str, cst.List | cst.Tuple]) -> dict[int, Rows]:
    """The id of each call in the body of a ``for`` over a literal list, tuple or set, or a
    module-level name bound once to one (``tables``), in the scope's own statements, with the
    rows the loop binds its names to: ``for path in ("/v1/responses", "/responses"):``, ``for
    path, handler in ROUTES:``. A call in nested loops has the innermost one's rows."""
    body = getattr(scope, "body", None)
    statements = scope.body if isinstance(scope, cst.Module) else body.body if isinstance(body, cst.IndentedBlock) else ()
    found: dict[int, Rows] = {}
    for node in own_statements(statements):  # outer loops first: an inner loop's rows win
        if not isinstance(node, cst.For):
            continue
        table: cst.List | cst.Tuple | cst.Set | None = tables.get(node.iter.value) if isinstance(node.iter, cst.Name) else None
        if isinstance(node.iter, (cst.List, cst.Tuple, cst.Set)):
            table = node.iter
        rows = _rows(node.target, table) if table is not None else ()
        for inner in _calls_in(node.body) if rows else ():
            found[id(inner)] = rows
    return found


def _rows(target: cst.BaseAssignTargetExpression, table: cst.List | cst.Tuple | cst.Set) -> Rows:
    """One dict per element of ``table``: the loop variables of ``target`` to their values; none
    when an element does not unpack into them (a starred element, a row of another length)."""
    rows = []
    for element in table.elements:
        if not isinstance(element, cst.Element):
            return ()
        if isinstance(target, cst.Name):
            rows.append({target.value: element.value})
        elif isinstance(target, (cst.Tuple, cst.List)) and isinstance(element.value, (cst.Tuple, cst.List)):
            names = [item.value for item in target.elements]
            values = [item.value for item in element.value.elements]
            if len(names) != len(values) or not all(isinstance(name, cst.Name) for name in names):
                return ()
            rows.append({cast(cst.Name, name).value: value for name, value in zip(names, values)})
        else:
            return ()
    return tuple(rows)


def _calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            yield current
        if not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            stack.extend(current.children)


def _unrolled(call: cst.Call, rows: Rows) -> Iterator[cst.Call]:
    """``call``, or for each row of its loop, ``call`` with the loop variables its arguments (and
    those of a decorator applied by hand) name replaced by the row's values."""
    if not rows:
        yield call
        return
    for row in rows:
        func = call.func
        if isinstance(func, cst.Call):
            func = func.with_changes(args=_substituted(func.args, row))
        yield call.with_changes(func=func, args=_substituted(call.args, row))


def _substituted(args: Sequence[cst.Arg], row: dict[str, cst.BaseExpression]) -> list[cst.Arg]:
    return [arg.with_changes(value=_put(arg.value, row)) for arg in args]


def _put(expr: cst.BaseExpression, row: dict[str, cst.BaseExpression]) -> cst.BaseExpression:
    """``expr`` with the loop variables it is spelled with (as a path is: itself, a ``+``'s
    operands, an f-string's expressions) replaced by the row's values."""
    if isinstance(expr, cst.Name):
        return row.get(expr.value, expr)
    if isinstance(expr, cst.BinaryOperation):
        return expr.with_changes(left=_put(expr.left, row), right=_put(expr.right, row))
    if isinstance(expr, cst.FormattedString):
        parts = [part.with_changes(expression=_put(part.expression, row)) if isinstance(part, cst.FormattedStringExpression) else part for part in expr.parts]
        return expr.with_changes(parts=parts)
    return expr


def matching(registration: Registration, patterns: Iterable[str]) -> list[str]:
    """``"POST /v1/responses"`` for each method of ``registration`` that a pattern matches (none
    for a path named by another module's constants: ``named_routes``)."""
    if registration.named:
        return []
    return [
        f"{method} {registration.path.text}"
        for method in registration.methods
        if any(route_matches(pattern, method, registration.path.glob) for pattern in patterns)
    ]


def view_routes(route: str, answered: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """The routes of a ``VIEW`` registration (``"VIEW /v1/responses"``) whose handler is a class
    with methods of the ``answered`` HTTP methods (upper case): each that a pattern matches."""
    path = route.partition(" ")[2]
    glob = route_glob(path)
    return [f"{method} {path}" for method in sorted(answered) if any(route_matches(pattern, method, glob) for pattern in patterns)]


def route_glob(text: str) -> str:
    """A route's path as shown (``/v1/responses/{response_id}``) as a glob: each parameter any text."""
    return re.sub(r"\{[^{}]*\}", "*", text)


def route_matches(pattern: str, method: str, path: str) -> bool:
    """Whether a route (``path`` a glob whose ``*`` are placeholders) may be one that ``pattern``
    names: some concrete path matches both (a ``method`` of ``*`` or ``VIEW`` is any)."""
    wanted_method, _, wanted_path = pattern.rpartition(" ")
    if wanted_method and wanted_method.upper() != method and method not in ("*", VIEW):
        return False
    if len(path) > _LONGEST_PATH:
        return False
    wanted, path = wanted_path.rstrip("/") or "/", path.rstrip("/") or "/"
    if "*" not in path:
        return glob_matcher(wanted)(path)
    return globs_meet(wanted, path)


def globs_meet(pattern: str, route: str) -> bool:
    """Whether some text matches both ``pattern`` (``*`` any characters, ``?`` one) and ``route``
    (``*`` any characters, anything else literal): a search over pairs of positions, so at most
    the product of their lengths."""
    end = (len(pattern), len(route))
    seen = {(0, 0)}
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) == end:
            return True
        a = pattern[i] if i < len(pattern) else None
        b = route[j] if j < len(route) else None
        steps = []
        if a == "*":
            steps.append((i + 1, j))  # the pattern's star ends
        if b == "*":
            steps.append((i, j + 1))  # the route's star ends
        if a is not None and b is not None:
            # one character read by both: a star stays where it is, anything else moves on
            if a in "*?" or b == "*" or a == b:
                steps.append((i if a == "*" else i + 1, j if b == "*" else j + 1))
        for step in steps:
            if step not in seen:
                seen.add(step)
                todo.append(step)
    return False


def _last_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def _declared_methods(value: cst.BaseExpression | None) -> tuple[str, ...]:
    """The methods of a ``methods=[...]`` keyword: GET without one; any (``*``) when not literal."""
    if value is None:
        return ("GET",)
    if not isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return ("*",)
    methods = []
    for element in value.elements:
        method = string_value(element.value) if isinstance(element, cst.Element) else None
        methods.append(method.upper() if method is not None else "*")
    return tuple(dict.fromkeys(methods))


def known_path(path: RoutePath) -> bool:
    """Whether a path says something beyond its placeholders (``{PREFIX}`` and ``{PREFIX}/`` do
    not: they would match any route). A registration's path, or a mounted router's route once
    its prefixes are put before it (``Project._mounted``), that says nothing is no route."""
    return "*" not in path.glob or path.glob.strip("/*") != ""
