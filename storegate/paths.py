"""Access paths: the canonical text of a name, attribute chain or constant-key subscript.

``store``, ``request.store``, ``body["store"]`` and ``body.get("store", True)`` each denote one
storage location; facts are kept per location, so this is the one place that names them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import libcst as cst


# Methods whose call with a literal key reads the item (or a default when it is missing):
# ``body.get("store", True)``, ``body.pop("store", True)`` (taken out before the body is passed on).
KEYED_READS = frozenset({"get", "pop"})


def access_path(expr: cst.BaseExpression) -> str | None:
    """``a``, ``a.b.c``, ``a["k"]`` (also for ``a.get("k", ...)`` and ``a.pop("k", ...)``),
    ``a.b`` for ``getattr(a, "b", ...)``, or ``None`` for anything else.

    ``type(...) is``, not isinstance: libcst's nodes are ABCs, whose isinstance is slow when it
    fails, and every pass asks this of most nodes (no concrete node type has subclasses)."""
    if type(expr) is cst.Name:
        return expr.value
    if type(expr) is cst.Attribute:
        base = access_path(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    if type(expr) is cst.Subscript:
        key = _constant_key(expr)
        if key is None:
            return None
        base = access_path(_or_empty(expr.value))
        return None if base is None else f"{base}[{json.dumps(key)}]"
    if type(expr) is cst.Call:
        func, args = expr.func, expr.args
        if type(func) is cst.Attribute and func.attr.value in KEYED_READS:
            key = read_key(expr)
            base = access_path(_or_empty(func.value)) if key is not None else None
            return None if base is None else f"{base}[{json.dumps(key)}]"
        elif type(func) is cst.Name and func.value == "getattr" and len(args) in (2, 3):
            if not any(arg.keyword or arg.star for arg in args):
                name = string_value(args[1].value)
                base = access_path(args[0].value)
                if name is not None and name.isidentifier() and base is not None:
                    return f"{base}.{name}"
    return None


def _or_empty(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``a`` of ``(a or {})``, ``(a or dict())`` and ``(a or [])``: keyed reads of either read
    the same item of ``a`` or find nothing (``(body.get("extra") or {}).get("store")``)."""
    if type(expr) is cst.BooleanOperation and type(expr.operator) is cst.Or:
        right = expr.right
        if isinstance(right, (cst.Dict, cst.List)) and not right.elements:
            return expr.left
        if type(right) is cst.Call and type(right.func) is cst.Name and right.func.value == "dict" and not right.args:
            return expr.left
    return expr


def read_key(call: cst.Call) -> str | None:
    """The literal key of a keyed read, ``"store"`` of ``x.get("store", True)`` or
    ``x.pop("store")``, whatever ``x`` is; None for any other call."""
    func, args = call.func, call.args
    if type(func) is cst.Attribute and func.attr.value in KEYED_READS and args and not args[0].keyword and not args[0].star:
        return string_value(args[0].value)
    return None


def read_default(call: cst.Call) -> cst.BaseExpression | None:
    """The default a keyed read or ``getattr`` gives when the item is missing: ``True`` of
    ``body.get("store", True)`` and ``getattr(request, "store", True)``."""
    position = 2 if type(call.func) is cst.Name else 1
    args = call.args
    if len(args) == position + 1 and not args[position].keyword and not args[position].star:
        return args[position].value
    return None


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a pure Name/Attribute chain, else ``None`` (exact types: ``access_path``)."""
    if type(expr) is cst.Name:
        return expr.value
    if type(expr) is cst.Attribute:
        base = dotted_name(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


def callee_path(func: cst.BaseExpression) -> str | None:
    """The dotted name of a callee; ``getattr(obj, "name")`` (a literal name) reads as ``obj.name``."""
    name = dotted_name(func)
    if name is not None:
        return name
    if isinstance(func, cst.Call) and dotted_name(func.func) == "getattr" and len(func.args) in (2, 3):
        target, attribute = func.args[0], func.args[1]
        if not any(arg.keyword or arg.star for arg in func.args[:2]):
            base, attr = dotted_name(target.value), string_value(attribute.value)
            if base is not None and attr is not None and attr.isidentifier():
                return f"{base}.{attr}"
    return None


def root_name(path: str) -> str:
    """The variable a path starts from: ``request`` for ``request.store``."""
    return path.partition(".")[0].partition("[")[0]  # what is before the first "." or "["


def is_under(path: str, prefix: str) -> bool:
    """Whether a write to ``prefix`` changes ``path`` (it is the same or reached through it)."""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


@lru_cache(maxsize=4096)
def identifiers(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))


def string_value(expr: cst.BaseExpression) -> str | None:
    """The value of a plain string literal (also implicitly concatenated), else ``None``."""
    if type(expr) is cst.SimpleString:
        text = expr.value
        quote = text[-1]
        if "\\" not in text:  # the common cases, without libcst's literal_eval
            start = text.index(quote)  # after the prefix
            if start and "b" in text[:start].lower():
                return None  # bytes
            body = text[start + 3 : -3] if text[start : start + 3] == quote * 3 else text[start + 1 : -1]
            if start == 0 and len(body) == len(text) - 2:
                return body
            if body.isascii() and "\r" not in body and "\0" not in body:
                return body  # (``r``, ``u``, a triple quote: the text itself, but for new lines)
        try:
            value = expr.evaluated_value
        except Exception:  # pragma: no cover - odd escapes
            return None
        return value if isinstance(value, str) else None
    if type(expr) is cst.ConcatenatedString:  # its evaluated_value, without a literal_eval of each part
        left, right = string_value(expr.left), string_value(expr.right)
        return None if left is None or right is None else left + right
    return None


def literal_text(expr: cst.BaseExpression) -> str | None:
    """The literal text of a string argument, f-strings included (their holes left out)."""
    value = string_value(expr)
    if value is not None:
        return value
    if isinstance(expr, cst.FormattedString):
        return "".join(part.value for part in expr.parts if isinstance(part, cst.FormattedStringText))
    if isinstance(expr, cst.ConcatenatedString):
        left, right = literal_text(expr.left), literal_text(expr.right)
        if left is not None and right is not None:
            return left + right
    return None


def _constant_key(expr: cst.Subscript) -> str | None:
    if len(expr.slice) != 1:
        return None
    element = expr.slice[0].slice
    if isinstance(element, cst.Index) and element.star is None:
        return string_value(element.value)
    return None


def partial_function(expr: cst.BaseExpression) -> str | None:
    """``f`` of ``partial(f, ...)`` or ``functools.partial(f, ...)``: the function a partial object
    calls, as a value put in a list of callbacks or passed for one; else None."""
    if type(expr) is not cst.Call or not expr.args or expr.args[0].keyword is not None or expr.args[0].star:
        return None
    callee = dotted_name(expr.func)
    return dotted_name(expr.args[0].value) if callee in ("partial", "functools.partial") else None
