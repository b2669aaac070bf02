"""The pre-filter: which files can matter, decided before libcst parses them.

Every finding is about a function that can see a flag, or about an HTTP handler of a
store-bearing route, so the first round takes the files that may hold one (``screen``: the
words first, then the stdlib's tree for the files that mention them). What such a function
calls may persist in another file: each later round takes the files that mention a name that
the functions found so far reach but cannot resolve (``Project.unresolved``), until no new file
is selected. A file that no round selects cannot change a finding. Words match whole
identifiers only.
"""

from __future__ import annotations

import ast
import bisect
import gc
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import NamedTuple

from storegate.errors import SourceError
from storegate.model import Config

# ``paths.KEYED_READS`` (``body.get("store", True)``, ``body.pop(...)``), named here so that a
# warm run, which screens nothing, does not import libcst through ``paths``.
_KEYED_READS = frozenset({"get", "pop"})


def initial_words(config: Config) -> frozenset[str]:
    """Flag names, and a literal word of each route (``responses`` of ``POST /v1/responses``).

    A route word next to a wildcard is part of a longer word in the path (``resp`` of
    ``/v1/resp*``): it is marked with a ``*`` on that side, where it need not end a word.
    """
    return frozenset({flag.name for flag in config.flags}) | route_words(config)


def route_words(config: Config) -> frozenset[str]:
    """The literal word of each route (see ``initial_words``)."""
    words = set()
    for route in config.routes:
        path = route.rpartition(" ")[2]
        runs = list(re.finditer(r"[A-Za-z0-9_]+", path))
        if not runs:
            words.add("/")
            continue
        run = max(runs, key=lambda found: len(found.group()))
        left = "*" if path[run.start() - 1 : run.start()] in ("*", "?") else ""
        right = "*" if path[run.end() : run.end() + 1] in ("*", "?") else ""
        words.add(left + run.group() + right)
    return frozenset(words)


def mentions(source: str, words: frozenset[str] | None) -> bool:
    """Whether ``source`` holds one of ``words`` as a whole identifier (``store``, not ``restore``);
    a side marked ``*`` need not end the identifier; a word ending in ``=`` is a keyword passed
    (``kwargs=``, not ``kwargs==``); one ending in ``(`` is a callee's last name (``run(`` of
    ``jobs.run (x)`` or ``getattr(jobs, "run")(x)``, not of ``import run``)."""
    if words is None:
        return True
    present = frozenset(word for word in words if _plain(word) in source)  # most texts hold none
    return bool(present) and _pattern(present).search(source) is not None


def _plain(word: str) -> str:
    """The text that a source mentioning ``word`` holds as it is (``kwargs`` of ``kwargs=``,
    ``Store`` of a base ``(Store``, ``def run`` of ``def run(``)."""
    if word.startswith(DEFINED):
        return word[len(DEFINED) : -1]
    return word[:-1] if len(word) > 1 and word[-1] in "=(" else word.strip("*").removeprefix(SUBCLASSES)


@lru_cache(maxsize=256)
def _pattern(words: frozenset[str]) -> re.Pattern[str]:
    """Each word's text first, then what must (not) be around it: a pattern that starts with
    a literal is searched for by that literal, many times faster than one led by a lookbehind."""
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        text = _plain(word) or word
        before = "" if word.startswith("*") else f"(?<![A-Za-z0-9_]{re.escape(text)})"
        if word.endswith("=") and len(word) > 1:
            alternatives.append(re.escape(text) + before + r"\s*=(?!=)")
            continue
        if word.startswith(DEFINED) and word.endswith("("):  # defined: ``def run(``, ``async def run (``
            alternatives.append(r"\bdef\s+" + re.escape(word[len(DEFINED) : -1]) + r"\s*\(")
            continue
        if word.endswith("(") and len(word) > 1:  # called: by name, or by getattr's string
            alternatives.append(re.escape(text) + before + r"""(?:[\s\\]*|["']\s*\)[\s\\]*)\(""")
            continue
        after = "" if word.endswith("*") and len(word) > 1 else "(?![A-Za-z0-9_])"
        alternatives.append(re.escape(text) + before + after)
    return re.compile("|".join(alternatives))


def screen(source: str, config: Config) -> tuple[bool, SourceError | None, Defines | None]:
    """Whether the first round takes the file; its syntax error when it is not taken; and the
    names it defines (``defines``), which later rounds look for.

    Taken: a file the stdlib cannot parse but libcst may (newer syntax: the summary says), a
    file whose tree may hold a flag's location or register a route (``taken``), and one that
    may register a hook run around every request (``_registers_hooks``). Decided on the
    stdlib's tree, about ten times cheaper than libcst's, which the syntax check builds anyway.
    The collector is off while the tree is built and walked: it only finds garbage in the
    millions of young nodes.
    """
    from storegate.analysis import stdlib_parse, syntax_error

    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            tree, _ = stdlib_parse(source)
        except SourceError as exc:
            return False, exc, None
        if tree is None:
            wanted = mentions(source, initial_words(config)) or _named_route(source, config) or _registers_hooks(source, config)
            return wanted, None if wanted else syntax_error(source), None
        wanted = (mentions(source, initial_words(config)) or _named_route(source, config)) and taken(tree, source, config)
        wanted = wanted or _registers_hooks(source, config)
        return wanted, None, defines(tree, source)  # a file taken too: its ``own`` names
    finally:
        if collecting:
            gc.enable()


# The mark of a word that names a class among a file's classes' bases (``defines``): ``(Store``.
SUBCLASSES = "("
_SUBCLASS_EDGE = ">"  # ``(Base>Class`` among a file's defines: its class ``Class`` names ``Base`` among its bases
DEFINED = "def "  # a word ``def name(``: a file that defines a function or method ``name``


class Defines(NamedTuple):
    """What a module binds (``defines``)."""

    top: frozenset[str]
    own: frozenset[str]


def defines(tree: ast.Module, source: str) -> Defines | None:
    """The names a module may define for others: ``(top, own)``. ``top``: what its top
    level binds (definitions, assignments, imports that re-export) at any depth of ``if``/
    ``try``/``with``/``for``, the names of its ``global`` statements, and what it sets on the
    app's state; a bare name used in another module's function can only be one of these (or a
    local, or a builtin). ``own``: the names its own code can only mean as its globals (what its top
    level defines or assigns, not imports: the summary may not know an import made under ``if
    TYPE_CHECKING``; none if it has a star import, which may bind them too). ``top`` also holds the
    last name of each class's bases, marked (``SUBCLASSES``). ``None`` (anything) for
    a module with a top-level ``__getattr__`` (PEP 562; a class's ``__getattr__`` serves its
    instances, not the module)."""
    top: set[str] = set()
    members: set[str] = set()  # what classes' bodies bind: no global
    imported: set[str] = set()  # at any level: what an import binds is another module's
    bases: set[str] = set()  # the last names of its classes' bases
    edges: set[tuple[str, str]] = set()  # (base, class): which of its classes subclasses which
    renamed: dict[str, str] = {}  # ``import X as Y``: Y -> X
    star = False
    walrus = ":=" in source  # else only a target binds a name in an expression: one read binds none
    stack: list = [(node, top) for node in tree.body]
    while stack:
        node, names = stack.pop()
        kind = type(node)
        if not walrus and kind in _EXPRESSIONS and type(getattr(node, "ctx", None)) in (ast.Load, type(None)):
            continue  # a call, a literal, an operation, a read: module-level dicts of thousands of entries
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            names.add(node.name)
            continue  # a function's body binds its own locals
        if kind is ast.ClassDef:
            names.add(node.name)
            for base in node.bases:
                last = _last_name(base)
                if last:
                    bases.add(last)
                    edges.add((last, node.name))
            stack.extend((child, members) for child in node.body)
            continue
        if kind is ast.Name:
            if type(node.ctx) is not ast.Load:  # bound (an annotation's `str` is read)
                names.add(node.id)
        elif kind is ast.alias:
            names.add((node.asname or node.name).partition(".")[0])
            imported.add((node.asname or node.name).partition(".")[0])
            star = star or node.name == "*"
            if node.asname:
                renamed[node.asname] = node.name.rpartition(".")[2]
        elif kind in (ast.ExceptHandler, ast.MatchAs, ast.MatchStar) and node.name:
            names.add(node.name)
        elif kind in (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp):
            continue
        children: list = []
        _push_children(node, children)
        stack.extend((child, names) for child in children)
    if "__getattr__" in top:
        return None
    own = frozenset() if star else frozenset(top - imported)
    # a class's bases, marked ``(Base``: the files that subclass a class (``Project._overrides``)
    top.update(SUBCLASSES + name for base in bases for name in (base, renamed.get(base, base)))
    # and ``(Base>Class``: which of its classes subclasses which (``subclass_files``)
    top.update(f"{SUBCLASSES}{name}{_SUBCLASS_EDGE}{cls}" for base, cls in edges for name in (base, renamed.get(base, base)))
    if "global" in source and re.search(r"(?<![A-Za-z0-9_])global(?![A-Za-z0-9_])", source):  # a plain search first
        top.update(name for node in _statements(tree) if type(node) is ast.Global for name in node.names)
    if ".state" in source:
        top.update(_STATE_BINDING.findall(source))  # what the app's state holds, set in any function
    if _APPLICATION.search(source):  # what a Flask or Quart app holds (``app.store = Store()``): any name's attribute
        top.update(_ATTRIBUTE_BINDING.findall(source))
    return Defines(frozenset(top), own)


def subclass_files(defines: Mapping[str, frozenset[str]], texts: Callable[[str], str], bases: frozenset[str], methods: frozenset[str]) -> set[str]:
    """Of the files whose ``defines`` are given (by key), those that a search for the overrides of
    ``methods`` (words ``def name(``) in the subclasses of ``bases`` (words ``(Base``) needs: a file
    whose subclass, at any depth, defines one of them (its text says ``def name(``: ``texts(key)``),
    and each file of a class on the way down to it, which links it to the base. A subclass that
    defines none of them overrides nothing: its file need not be read for this search."""
    children: dict[str, list[tuple[str, str]]] = {}  # base -> (class, key of its file)
    for key, names in defines.items():
        for entry in names:
            if entry.startswith(SUBCLASSES) and _SUBCLASS_EDGE in entry:
                base, _, name = entry[len(SUBCLASSES) :].partition(_SUBCLASS_EDGE)
                children.setdefault(base, []).append((name, key))
    defining: dict[str, bool] = {}  # key -> whether its text defines one of ``methods``
    known: dict[tuple[str, str], bool] = {}  # (class, key) -> whether it or a subclass does
    chosen: set[str] = set()
    for base in bases:  # depth first, each class after its subclasses, without recursion (a generated
        # chain of thousands of classes is as deep)
        stack = [(child, where, False) for child, where in children.get(base.removeprefix(SUBCLASSES), ())]
        while stack:
            name, key, after = stack.pop()
            if not after:
                if (name, key) in known:
                    continue
                known[(name, key)] = False  # until its subclasses are known: a cycle of names adds nothing
                stack.append((name, key, True))
                stack.extend((child, where, False) for child, where in children.get(name, ()) if (child, where) not in known)
                continue
            if key not in defining:
                defining[key] = mentions(texts(key), methods)
            found = defining[key] or any(known.get(child, False) for child in children.get(name, ()))
            known[(name, key)] = found
            if found:
                chosen.add(key)
    return chosen


def foreign_names(source: str, own: frozenset[str] | None) -> set[str]:
    """The identifiers of ``source`` (strings and comments too) that may name something of
    another module: all but its ``own`` globals; any written after a dot (an attribute: what
    the app's state holds, ``Outer.Inner``) stays. ``own`` None: unknown, all stay."""
    names = set(_IDENTIFIER.findall(source))
    return names if own is None else (names - own) | set(_ATTRIBUTE.findall(source))


_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_ATTRIBUTE = re.compile(r"\.\s*([^\W\d]\w*)")


# ``app.state.NAME = ...`` (annotated too): read back anywhere as ``app.state.NAME`` (``typefacts``).
_STATE_BINDING = re.compile(r"\.state\.([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)")
# ``app.NAME = ...`` in a module that makes or takes a web application (``typefacts.APPLICATIONS``).
_APPLICATION = re.compile(r"\b(?:Flask|Quart|Sanic|Starlette|FastAPI|Litestar)\b")
_ATTRIBUTE_BINDING = re.compile(r"(?<![\w.])[A-Za-z_]\w*\.([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)")


def taken(tree: ast.Module, source: str, config: Config) -> bool:
    """Whether ``tree`` may hold a flag's location or register a handler on a configured route.

    A flag's location (``flags.is_location``): its name (read or bound: a parameter, a class
    field), an attribute of anything but ``self``/``cls`` (of those too for a ``self_attribute``
    flag) that is not called (``tl.store(ptr, x)`` is a method), a constant subscript or
    ``.get`` key. Not one read under (``store.put(x)``, ``ctx.store.table``, ``store[k]``) nor
    a ``def``, ``class`` or ``import`` of the name: the analysis sees an object there
    (``flags.sight``, ``flags.holds_object``), and a scope that also holds the flag under that
    name has another of its locations. A superset of what the analysis sees: whether such a
    location holds a storage object instead is left to it, as is whether a function can see
    it at all.

    A route: a call of a registration form (``routes.ROUTE_FORMS``, or one that mounts a router
    under a prefix, ``routes.MOUNTS``, or takes a route table, ``routes.TABLE_CALLS``; by the callee's last name,
    ``getattr(app, "post")`` too, or by the path keyword of a form of any name: ``route=``) and a
    string that is not a docstring, without whitespace (``_path_like``), with a route's word, where a
    path can come from (a literal, a module constant, an f-string's text, a prefix).
    """
    names = {flag.name for flag in config.flags} if mentions(source, _flag_words(config)) else set()
    own = {flag.name for flag in config.flags if flag.self_attribute}
    words = route_words(config)
    forms = _form_names(config) if words and (mentions(source, words) or _named_route(source, config)) else frozenset()
    forms = forms if forms and mentions(source, forms) else frozenset()
    keywords = _form_keywords() if forms else frozenset()
    if not names and not forms:
        return False  # nothing in the tree can be a flag's location or a route's registration
    # only the statements and expressions on the lines that hold one of the words can: the walk
    # enters no other (``_apart``), most of a file that mentions ``store`` once
    # (and the lines with a backslash: an escape may spell a word in a string, ``"st\x6fre"``)
    lines = _lines_of(source, {"\\", *(_plain(word) for word in (*names, *(words | forms | keywords if forms else ())))})
    calls = strings = False
    docstrings: set[int] = set()
    called: set[int] = set()
    below: set[int] = set()  # what a path is read under (``store.put``, ``x.store.table``, ``store[k]``): an object
    placed: set[int] = set()  # calls where a decorator form registers: a decorator, one applied by hand
    stack: list = [tree]  # no recursion: the tree may be deep
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            if node.id in names and id(node) not in below:
                return True
        elif kind is ast.Attribute:
            if node.attr in names and id(node) not in called and id(node) not in below and (
                node.attr in own or type(node.value) is not ast.Name or node.value.id not in ("self", "cls")
            ):
                return True
            below.add(id(node.value))
        elif kind is ast.Constant:
            if forms and not strings and type(node.value) is str and id(node) not in docstrings:
                strings = mentions(node.value, words) and _path_like(node.value)
        elif kind is ast.Call:
            func = node.func
            if type(func) is ast.Attribute and func.attr in names:
                called.add(id(func))  # `tl.store(ptr, x)`: a method named like the flag, never a flag
            if names and type(func) is ast.Attribute and func.attr in _KEYED_READS and node.args and _constant(node.args[0]) in names:
                return True  # ``body.get("store", True)``, ``body.pop("store", True)``
            if names and type(func) is ast.Name and func.id == "getattr" and len(node.args) > 1 and _constant(node.args[1]) in names:
                return True  # ``getattr(request, "store", True)``
            if forms and type(func) is ast.Call and node.args:
                placed.add(id(func))  # ``app.post("/v1/responses")(create)``
            if forms and (not calls or _named_path(node)):
                registers = _registers(node, id(node) in placed, forms, keywords)
                if registers and _named_path(node):
                    return True  # ``@router.post(paths.RESPONSES)``: what it spells is another module's
                calls = calls or registers
        elif kind is ast.Subscript:
            if _constant(node.slice) in names:
                return True
            below.add(id(node.value))
        elif kind is ast.arg:
            if node.arg in names:
                return True
        elif kind in _NAMED:
            if node.name in names and kind not in _DOCUMENTED:  # a def or class binds an object
                return True
            if kind in _DOCUMENTED and node.body and type(node.body[0]) is ast.Expr:
                docstrings.add(id(node.body[0].value))
            if forms and kind in _DOCUMENTED:
                placed.update(id(decorator) for decorator in node.decorator_list)
        elif kind is ast.Module:
            if node.body and type(node.body[0]) is ast.Expr:
                docstrings.add(id(node.body[0].value))
        elif kind in (ast.Global, ast.Nonlocal):
            if not names.isdisjoint(node.names):
                return True
        if calls and strings:
            return True
        if kind is ast.JoinedStr:  # the positions inside an f-string are its own (before 3.12)
            _push_children(node, stack)
            continue
        children: list = []
        _push_children(node, children)
        stack.extend(child for child in children if not _apart(child, lines))
    return False


def _lines_of(source: str, texts: set[str]) -> list[int]:
    """The sorted numbers (from 1) of the lines of ``source`` that hold one of ``texts`` (a line
    ends as Python's do: ``\\r\\n``, ``\\r`` or ``\\n``)."""
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    offsets = sorted({at for text in texts if text for at in _occurrences(source, text)})
    lines: list[int] = []
    line, last = 1, 0
    for offset in offsets:
        line += source.count("\n", last, offset)
        last = offset
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _occurrences(source: str, text: str) -> Iterator[int]:
    at = source.find(text)
    while at >= 0:
        yield at
        at = source.find(text, at + 1)


def _apart(node: ast.AST, lines: list[int]) -> bool:
    """Whether ``node`` spans none of ``lines`` (a node without a position spans them all; a
    definition's span starts at its first decorator)."""
    start = getattr(node, "lineno", None)
    if start is None:
        return False
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        start = min(start, decorators[0].lineno)
    end = getattr(node, "end_lineno", None) or start
    index = bisect.bisect_left(lines, start)
    return index == len(lines) or lines[index] > end



def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """Every statement of ``tree``, in any body (a function's too), without entering an
    expression: no statement is inside one, and expressions are most of a tree's nodes."""
    stack: list = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(item for item in value if isinstance(item, _BODIES))


_BODIES = (ast.stmt, ast.excepthandler, ast.match_case)


def _path_like(text: str) -> bool:
    """Whether a string can be (part of) a route's path: no whitespace (a description of
    "responses" configuration is no path; ``"/v1/responses"`` and ``"responses"`` can be)."""
    return _WHITESPACE.search(text) is None


_WHITESPACE = re.compile(r"\s")


def _push_children(node: ast.AST, stack: list) -> None:
    """Push ``node``'s child nodes (a walk without recursion or a generator per node)."""
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            stack.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            stack.append(value)


# The expression node types (a target is one too, with a ``Store`` or ``Del`` context).
_EXPRESSIONS = frozenset(cls for cls in vars(ast).values() if isinstance(cls, type) and issubclass(cls, ast.expr))
_DOCUMENTED = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_NAMED = (*_DOCUMENTED, ast.ExceptHandler, ast.MatchAs, ast.MatchStar)


def _flag_words(config: Config) -> frozenset[str]:
    return frozenset(flag.name for flag in config.flags)


def _form_names(config: Config) -> frozenset[str]:
    """The callee names that may register a handler on a configured route (``routes.
    ROUTE_FORMS``): a form named after its method (``post``, ``add_post``) only for the routes'
    methods (``get`` registers no ``POST`` route)."""
    from storegate.routes import HTTP_METHODS, WEBSOCKET

    methods = set()
    for route in config.routes:
        method, space, _ = route.partition(" ")
        methods |= {method.upper()} if space and method.upper() in HTTP_METHODS | {WEBSOCKET} else set(HTTP_METHODS)
    return _forms_for(frozenset(methods))


@lru_cache(maxsize=8)
def _forms_for(methods: frozenset[str]) -> frozenset[str]:
    from storegate.routes import MOUNTS, ROUTE_FORMS, TABLE_CALLS

    registrations = frozenset(
        name for form in ROUTE_FORMS for name in form.names
        if form.method != "name" or name.removeprefix("add_").upper() in methods
    )
    # a router mounted under a route's prefix; a route table (Tornado's ``Application([...])``)
    return registrations | frozenset(MOUNTS) | frozenset(TABLE_CALLS)


@lru_cache(maxsize=1)
def _form_keywords() -> frozenset[str]:
    """The path keywords of the forms that any callee may have (``@webmethod(route=..., method=...)``)."""
    from storegate.routes import ROUTE_FORMS

    return frozenset(form.path_keyword for form in ROUTE_FORMS if not form.names)


def _registers_hooks(source: str, config: Config) -> bool:
    """Whether ``source`` may register a hook that serves every route (``routes.hook_routes``):
    the first round takes it, as it takes a route's registration."""
    return bool(config.routes) and _hook_text().search(source) is not None


@lru_cache(maxsize=1)
def _hook_text() -> re.Pattern[str]:
    """A hook run around every request (``routes.HOOKS``, ``@app.middleware("http")``) or an
    error handler (``routes.ERROR_HOOKS``), as a decorator or a call:
    ``app.after_request(self._capture)``, ``exception_handlers={...}``."""
    from storegate.routes import ERROR_HOOKS, ERROR_REGISTRATIONS, ERROR_TABLE, HOOKS, MIDDLEWARE

    names = "|".join(map(re.escape, sorted(HOOKS | ERROR_HOOKS | ERROR_REGISTRATIONS)))
    return re.compile(rf"\.(?:{names})\b|\.{MIDDLEWARE}\(\s*[\"']http[\"']|\b{ERROR_TABLE}\s*=")


def _named_route(source: str, config: Config) -> bool:
    """Whether ``source`` may register a handler on a path spelled with another module's
    constants, which need not mention a route's word (``_named_forms``). Most texts name no
    form at all, which ``mentions`` tells first, at the cost of a substring search."""
    if not config.routes:
        return False
    forms = _form_names(config)
    return mentions(source, forms) and _named_forms(forms).search(source) is not None


@lru_cache(maxsize=8)
def _named_forms(forms: frozenset[str]) -> re.Pattern[str]:
    """A decorator of a form's name whose path is a name, or with a form's path keyword given a
    name, or a call of a call form's name (with its receiver, ``web.post(``): the text of a
    route's word need not be near it, since its path may be another module's constant
    (``@router.post(paths.RESPONSES)``, ``app.add_api_route(paths.RESPONSES, create)``:
    ``routes.named_parts``)."""
    from storegate.routes import ROUTE_FORMS

    decorators = sorted({name for form in ROUTE_FORMS if form.decorator for name in form.names if name in forms})
    # each alternative starts with a literal character (no ``\b``): the regex engine then skips
    # to where one may start; a longer name ending in a form's name only walks one more file
    calls = sorted({
        (f"{form.receiver}\\." if form.receiver else "") + name
        for form in ROUTE_FORMS if not form.decorator for name in form.names if name in forms
    })
    keywords = sorted(_form_keywords())
    return re.compile(
        # a decorator's path: a name first (``f"..."`` too; comments before it), or after a method's literal name
        rf"@[\w. \t]*\b(?:{'|'.join(map(re.escape, decorators))})\s*\((?:\s|#[^\n]*)*(?:[A-Za-z_]|[\"'][\w*]+[\"']\s*,\s*[A-Za-z_])"
        rf"|@[\w. \t]*\((?:[^()]|\([^()]*\))*\b(?:{'|'.join(keywords)})\s*=\s*[A-Za-z_]"
        rf"|(?:{'|'.join(calls)})\s*\("
    )


def _named_path(call: ast.Call) -> bool:
    """Whether a registration's path may be spelled with names (``paths.RESPONSES``, ``PREFIX +
    RESPONSES``): where a path goes (the first argument, the second after a method's literal
    name, or a path keyword), an argument that is not a literal. Asked of every call of a text
    that names a form: the common answers come first."""
    args = call.args
    path = args[0] if args else None
    if type(path) is ast.Constant and len(args) > 1:
        from storegate.routes import HTTP_METHODS

        method = _constant(path)
        if method is not None and (method.upper() in HTTP_METHODS or method == "*"):
            path = args[1]
    if type(path) in _SPELLED:
        return True
    return bool(call.keywords) and any(keyword.arg in _PATH_KEYWORDS and type(keyword.value) in _SPELLED for keyword in call.keywords)


_SPELLED = frozenset({ast.Name, ast.Attribute, ast.BinOp, ast.JoinedStr})  # a path not a literal: ``_named_path``
_PATH_KEYWORDS = frozenset({"path", "route", "rule"})  # the path keywords of ``routes.ROUTE_FORMS``


def _registers(call: ast.Call, placed: bool, forms: frozenset[str], keywords: frozenset[str]) -> bool:
    """Whether ``call`` may register a handler as some form of ``routes.ROUTE_FORMS`` does (or
    mount a router): a decorator form only where a decorator is (``placed``: on a definition, or
    applied by hand), a call form anywhere, with the receiver it needs (``web.post(path,
    handler)``, never ``client.post(url, json=body)``, the HTTP client's request)."""
    from storegate.routes import MOUNTS, ROUTE_FORMS, TABLE_CALLS

    last = _last_name(call.func)
    if last in MOUNTS or last in TABLE_CALLS:
        return last in forms
    for form in ROUTE_FORMS:
        if form.decorator and not placed:
            continue
        if form.names and (last not in form.names or last not in forms):
            continue
        if not form.names and not any(keyword.arg == form.path_keyword and keyword.arg in keywords for keyword in call.keywords):
            continue
        if form.receiver is None or _receiver_name(call.func) == form.receiver:
            return True
    return False


def _receiver_name(func: ast.expr) -> str | None:
    """``web`` of ``web.post``, ``aiohttp.web.post`` or ``getattr(web, "post")``."""
    if type(func) is ast.Call and _last_name(func.func) == "getattr" and func.args:
        value = func.args[0]
    elif type(func) is ast.Attribute:
        value = func.value
    else:
        return None
    return value.id if type(value) is ast.Name else value.attr if type(value) is ast.Attribute else None


def _last_name(func: ast.expr) -> str | None:
    """``post`` of ``app.post``, ``Route`` of ``Route``, ``post`` of ``getattr(app, "post")``."""
    if type(func) is ast.Attribute:
        return func.attr
    if type(func) is ast.Name:
        return func.id
    if type(func) is ast.Call and _last_name(func.func) == "getattr" and len(func.args) >= 2:
        return _constant(func.args[1])
    return None


def _constant(node: ast.expr) -> str | None:
    return node.value if type(node) is ast.Constant and type(node.value) is str else None
