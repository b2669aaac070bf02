"""What a name or an attribute may hold, from what the code says about it: the facts that let
``Project`` resolve ``self.serving.create()``, ``store.save()`` or ``request.app.state.svc.run()``
to the methods of the classes they hold.

Plain data, without libcst: the project stage reads it from summaries (and a warm run from
the cache) without parsing. Gathered from one module at summary time (``typegather.Gatherer``), as plain ``Fact`` tuples ``(scope, name,
value, where)``:

- ``scope``: where the name lives: ``""`` a module global (``store = Store()``); a class's
  qualified name for its attribute ``self.name`` (``self.x = Cls()``, ``self.x: Cls``, a field
  ``x: Cls`` of a dataclass or pydantic model, a ``@property`` annotated ``-> Cls``); a function's
  qualified name for its parameters and locals; ``STATE`` for ``app.state.name = Cls()``, read
  back anywhere in the project as ``app.state.name`` or ``request.app.state.name``.
- ``value``: what it holds, as written, evaluated in the function named ``where``: a class or a
  path (``Cls``, ``self._db``, ``session_db``), or a call (``Cls()``, ``make()``,
  ``self.factory.build()``), whose class ``Project`` finds by the callee's return annotation.

A function that always returns an object it built itself (``p = Progress(); ...; return p``, or
``return Progress()``) has the fact ``(function, RETURN, "Progress()", function)``: its callers
hold a fresh object (``Project.made_here``) of that class, when it has no return annotation to
say so (``Project._evaluate``). ``RETURN`` is a keyword, never a name.

A name may hold several classes (two assignments, ``A | B``, ``A() if x else B()``, ``a or B()``):
each is a fact. Nothing here
resolves across modules; ``Project.classes_of`` does, from the facts of every module.
"""

from __future__ import annotations

import re

Fact = tuple[str, str, str, str]  # (scope, name, value, where)

STATE = "@state"  # the scope of ``app.state.x``: one namespace for the whole project
# The mark of a library's object among the classes a name may hold (``Project.classes_of``):
# ``@lib:redis.asyncio.Redis`` for what ``Redis(...)`` built, or a parameter annotated ``Redis``,
# holds; ``@lib:aiosqlite.connect`` for what that call returned; what an attribute or an item of
# one holds, written from its instance (``@lib:pymongo.MongoClient()[].turns``: ``library_object``).
# A pack names its methods as ``redis.*()*.hset`` (``inherited.Inherited.held``).
LIBRARY = "@lib:"
# The mark of a typed key (aiohttp's ``RESPONSES = web.AppKey("responses", Service)``: the value
# ``@key:Service``): an item under it (``request.app[RESPONSES]``, the value
# ``request.app[RESPONSES]``) holds that class (``Project._evaluate``).
KEYED = "@key:"
# The mark of a factory annotated as a callable that returns a class (``Callable[[], UnitOfWork]``,
# a parameter or an alias of it: the value ``@calls:UnitOfWork``): what calling it makes holds
# that class (``Project._evaluate``).
CALLS = "@calls:"
# The classes of web applications a server hangs its services on (``app.store = Store()`` with
# Flask or Quart, read back as ``current_app.store`` or through a parameter ``app: Quart``): what
# is set on such an application lives in ``app.state``'s namespace (``STATE``).
APPLICATIONS = frozenset({"Flask", "Quart", "Sanic", "Starlette", "FastAPI", "Litestar"})
# The proxies of the running application (``current_app``, and its ``_get_current_object()``).
APPLICATION_PROXIES = frozenset({"flask.current_app", "quart.current_app"})


def application(held: str) -> bool:
    """Whether a class a name holds (``Project.classes_of``) is a web application's."""
    return held.startswith(LIBRARY) and "(" not in held and held.rpartition(".")[2] in APPLICATIONS


def library_object(held: str) -> str:
    """The type, as ``receivers`` writes it, of the library's object a name holds: an instance
    of what ``@lib:redis.Redis`` names (``redis.Redis()``); what is reached through one is
    written whole (``@lib:pymongo.MongoClient()[].turns``: an attribute of an item of a client)."""
    named = held[len(LIBRARY) :]
    return named if "(" in named else named + "()"


RETURN = "return"  # the name of what a function returns, when it is always a construction


# The methods of ``str``, and those of ``dict`` and ``list`` that read: on a parameter whose type
# the code does not say, a string's or a container's (``sep.join(parts)``, ``kwargs.get("x")``),
# whatever the callers pass; a store's ``get`` reads too. Such a call is no site (``analysis``).
PLAIN_METHODS = frozenset(
    "join split rsplit splitlines strip lstrip rstrip startswith endswith lower upper casefold title "
    "replace format format_map encode decode partition rpartition removeprefix removesuffix isdigit isalnum "
    "get items keys values copy count index".split()
)


def typed_names(facts: tuple[Fact, ...]) -> frozenset[str]:
    """The names some fact of the module types (in any scope): calls on them may resolve."""
    return frozenset(name for scope, name, _, _ in facts if scope != STATE and "(" not in name and name != RETURN)


def argument_name(callee: str, parameter: str | int) -> str:
    """How a fact names what a call passes, built on the spot, for a parameter (a keyword or a
    position): ``Agent(session_db)``, ``Agent(#0)``."""
    return f"{callee}({parameter})" if isinstance(parameter, str) else f"{callee}(#{parameter})"


def state_attribute(parts: list[str]) -> int | None:
    """The index of ``x`` in ``app.state.x...`` (any receiver before ``.state``), or in Sanic's
    ``app.ctx.x...`` (``request.app.ctx.x``: the application's namespace; a bare ``ctx`` is
    anyone's context), or None."""
    for index in range(1, len(parts) - 1):
        if namespace(parts[: index + 1]):
            return index + 1
    return None


def application_item(parts: list[str]) -> tuple[int, str] | None:
    """The index of the part ``app["name"]`` of a path, with ``name``: an aiohttp application's
    item under a string (``app["responses"] = ResponsesService(...)``, read back as
    ``request.app["responses"]``), a name of its namespace like ``app.state.name``; else None."""
    for index in range(len(parts) - 1, -1, -1):
        found = _APPLICATION_ITEM.fullmatch(parts[index])
        if found is not None:
            return index, found.group(1)
    return None


def application_key(path: str) -> str | None:
    """``name`` when ``path`` ends at an application's item under a string (``app["name"]``,
    ``request.app["name"]``: ``application_item``), the item set or called on; else None."""
    parts = path.split(".")
    item = application_item(parts)
    return item[1] if item is not None and item[0] == len(parts) - 1 else None


_APPLICATION_ITEM = re.compile(r'app\["(\w+)"\]')


def namespace(parts: list[str]) -> bool:
    """Whether a path ends at an application's namespace: ``app.state``, ``request.app.state``,
    ``app.ctx`` (Sanic's)."""
    return len(parts) > 1 and (parts[-1] == "state" or (parts[-1] == "ctx" and parts[-2] == "app"))
