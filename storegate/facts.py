"""What is known about values on a path: conditions -> clauses, meet, kill, implication.

A *literal* ``(path, mask)`` says that the location ``path`` holds one of the abstract values in
``mask`` (a bit set of TRUE, FALSE, NONE from ``model``). A *clause* is a disjunction of
literals; *facts* are a conjunction of clauses. Clauses (rather than single atoms) let
correlated conditions work: after ``if background and store is False: raise``, the clause
``not background or store is not False`` makes ``if background:`` imply that storing is allowed.

Conditions that are not about a location (``chunk.type in {...}``) become opaque atoms keyed by
their code, so the same test seen twice is recognised; an atom holding a call
(``random.random() < 0.5``) may differ at each evaluation, so what was known of it is forgotten
before it is tested again. Every operation is bounded in size; dropping a clause only ever loses
knowledge, which makes storegate report more, never less. The work itself is counted in
``WORK`` (steps, not time), so that the caller can give up on a file past a budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Union, overload

import libcst as cst

from storegate.model import ANY, CONSTANTS, FALSE, NONE, TRUE
from storegate.cfg import children
from storegate.paths import access_path, identifiers, is_under, read_default, root_name

Literal = tuple[str, int]
Clause = tuple[Literal, ...]  # sorted by path, one literal per path
Facts = frozenset  # of Clause

EMPTY: Facts = frozenset()
# The locations whose facts are kept, each with its distance from a flag location (0 for the
# flag's own; see ``analysis.relevant_paths``). ``None``: every location, all equally near.
Relevance = Mapping[str, int]

MAX_CLAUSE_LITERALS = 4
MAX_CLAUSES = 64
MAX_CNF = 32
IMPURE = "?!"  # the prefix of an opaque atom that holds a call


class TooMuchWork(Exception):
    """The step budget set in ``WORK`` is spent."""


class Work:
    """Steps of analysis done for the current file, against a limit (``None``: no limit).

    A step is a unit of work of the solver: a formula node turned into clauses, a clause
    scanned by unit propagation or combined by a join, a block visited. Counting them (rather
    than timing) gives the same verdict on every machine and under any load.
    """

    def __init__(self) -> None:
        self.steps = 0
        self.limit: int | None = None

    def start(self, limit: int | None) -> None:
        self.steps, self.limit = 0, limit

    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.limit is not None and self.steps > self.limit:
            raise TooMuchWork


WORK = Work()

# -- formulas ------------------------------------------------------------------------------
# ("lit", path, mask) | ("and", f, g) | ("or", f, g) | ("not", f) | ("const", bool)

Formula = Union[tuple]
TRUE_F: Formula = ("const", True)
FALSE_F: Formula = ("const", False)

_CONSTANT_MASKS = CONSTANTS
_EMPTY_MODULE = cst.Module(body=[])


def truth(expr: cst.BaseExpression) -> Formula:
    """The formula for "``expr`` is truthy" (exact node types: ``paths.access_path``).
    ``opaque`` follows its cases: a change here is one there."""
    if type(expr) is cst.Name and expr.value in _CONSTANT_MASKS:
        return TRUE_F if expr.value == "True" else FALSE_F
    if type(expr) is cst.Integer:
        return ("const", expr.evaluated_value != 0)
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Not:
        return ("not", truth(expr.expression))
    if type(expr) is cst.BooleanOperation:
        op = "and" if type(expr.operator) is cst.And else "or"
        return (op, truth(expr.left), truth(expr.right))
    if type(expr) is cst.IfExp:
        test = truth(expr.test)
        return ("or", ("and", test, truth(expr.body)), ("and", ("not", test), truth(expr.orelse)))
    if type(expr) is cst.NamedExpr:
        return truth(expr.target)
    if type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value == "bool":
        if len(expr.args) == 1 and not expr.args[0].keyword and not expr.args[0].star:
            return truth(expr.args[0].value)
    if type(expr) is cst.Call and (coerced := _coerced(expr)) is not None:
        return truth(coerced)
    if type(expr) is cst.Comparison:
        compared = _comparison(expr)
        if compared is not None:
            return compared
    path = access_path(expr)
    if path is not None:
        return ("lit", path, TRUE | _truthy_default(expr))
    prefix = IMPURE if _has_call(expr) else "?"
    return ("lit", prefix + _EMPTY_MODULE.code_for_node(expr), TRUE)


def opaque(expr: cst.BaseExpression) -> bool:
    """Whether ``truth(expr)`` is an opaque atom (``"?..."``), told without generating its text
    (what ``truth`` costs most): ``truth``'s cases, in its order, but for what each returns."""
    if type(expr) is cst.Name and expr.value in _CONSTANT_MASKS:
        return False
    if type(expr) in _READ_TYPES or (type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Not):
        return False
    if type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value == "bool":
        if len(expr.args) == 1 and not expr.args[0].keyword and not expr.args[0].star:
            return opaque(expr.args[0].value)
    if type(expr) is cst.Call and (coerced := _coerced(expr)) is not None:
        return opaque(coerced)
    if type(expr) is cst.Comparison and _comparison(expr) is not None:
        return False
    return access_path(expr) is None


# A helper that converts a value to a boolean (``_as_bool(body["store"], "store")``, ``to_bool(x)``).
_COERCING = re.compile(r"_?(as|to|parse|coerce|ensure|str_?to)_?bool(ean)?")


def _coerced(call: cst.Call) -> cst.BaseExpression | None:
    """The location a boolean conversion helper converts, when its truth is that location's: the
    first argument of ``_as_bool(body["store"], "store")``; not when it is given a default of its
    own (``parse_bool(x, default=True)``, ``to_bool(x, True)``), which an omitted value becomes."""
    name = call.func.attr.value if type(call.func) is cst.Attribute else call.func.value if type(call.func) is cst.Name else ""
    if not call.args or not _COERCING.fullmatch(name):
        return None
    first, rest = call.args[0], call.args[1:]
    if first.keyword is not None or first.star or access_path(first.value) is None:
        return None
    if any(arg.star or (arg.keyword is not None and arg.keyword.value == "default") or (type(arg.value) is cst.Name and arg.value.value in _CONSTANT_MASKS) for arg in rest):
        return None
    return first.value


_READ_TYPES = frozenset({cst.Integer, cst.BooleanOperation, cst.IfExp, cst.NamedExpr})  # never an opaque atom


def _truthy_default(expr: cst.BaseExpression) -> int:
    """``NONE`` for ``body.get("store", True)`` (also ``pop``, ``getattr(request, "store", True)``):
    an omitted key reads as the truthy default."""
    if type(expr) is cst.Call:
        default = read_default(expr)
        return NONE if default is not None and _constant_mask(default) == TRUE else 0
    return 0


_CALLING = frozenset({cst.Call, cst.Await, cst.Yield})


def _has_call(expr: cst.CSTNode) -> bool:
    """Whether evaluating ``expr`` may call something (so two evaluations may differ)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) in _CALLING:
            return True
        stack.extend(children(node))
    return False


def _comparison(expr: cst.Comparison) -> Formula | None:
    """``x is None``, ``x is not False``, ``x == True`` ... about one location; also a membership
    in a literal of such constants (``x in (False, None)``, ``x not in (True, 1)``)."""
    if len(expr.comparisons) != 1:
        return None
    target = expr.comparisons[0]
    left, right, op = expr.left, target.comparator, target.operator
    if type(op) is cst.In or type(op) is cst.NotIn:
        members = _members_mask(right)
        path = access_path(left.target if isinstance(left, cst.NamedExpr) else left) if members is not None else None
        if members is None or path is None:
            return None
        return ("lit", path, members if type(op) is cst.In else ANY & ~members)
    constant = _constant_mask(right)
    if constant is None:
        left, right = right, left
        constant = _constant_mask(right)
    if constant is None:
        return None
    path = access_path(left.target if isinstance(left, cst.NamedExpr) else left)  # `(x := f()) is None`
    if path is None:
        return None
    if isinstance(op, (cst.Is, cst.Equal)):
        return ("lit", path, constant)
    if isinstance(op, (cst.IsNot, cst.NotEqual)):
        return ("lit", path, ANY & ~constant)
    return None


def _members_mask(expr: cst.BaseExpression) -> int | None:
    """The values a literal tuple, list or set of ``True``/``False``/``None``/``1``/``0`` holds
    (``1 == True``, ``0 == False``); None for any other element, or a starred one."""
    if not isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return None
    mask = 0
    for element in expr.elements:
        value = element.value if type(element) is cst.Element else None
        if type(value) is cst.Integer and value.value in ("0", "1"):
            mask |= TRUE if value.value == "1" else FALSE
            continue
        constant = _constant_mask(value) if value is not None else None
        if constant is None:
            return None
        mask |= constant
    return mask


def _constant_mask(expr: cst.BaseExpression) -> int | None:
    if isinstance(expr, cst.Name):
        return _CONSTANT_MASKS.get(expr.value)
    return None


def negate(formula: Formula) -> Formula:
    return ("not", formula)


def formula_paths(formula: Formula) -> set[str]:
    """The locations a formula mentions. A formula is a DAG (``x if c else y`` shares ``c``):
    each shared part is walked once."""
    out: set[str] = set()
    seen: set[int] = set()
    stack = [formula]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        kind = node[0]
        if kind == "lit":
            out.add(node[1])
        elif kind != "const":
            stack.extend(node[1:])
    WORK.charge(len(seen))
    return out


def cnf(formula: Formula, positive: bool = True, memo: dict | None = None) -> list[Clause] | None:
    """Clauses equivalent to (or, past the size bounds, implied by) the formula.

    ``None`` means the formula is false. Clauses past the bounds are dropped. Each shared part
    of the formula is converted once per polarity (``memo``), so nested ``x if c else y`` in
    test position stay polynomial.
    """
    if memo is None:
        memo = {}
    key = (id(formula), positive)
    if key in memo:
        return memo[key]
    WORK.charge(1)
    kind = formula[0]
    result: list[Clause] | None
    if kind == "const":
        result = [] if formula[1] == positive else None
    elif kind == "lit":
        _, path, mask = formula
        mask = mask if positive else ANY & ~mask
        result = None if mask == 0 else [] if mask == ANY else [((path, mask),)]
    elif kind == "not":
        result = cnf(formula[1], not positive, memo)
    else:
        result = _combine(kind, cnf(formula[1], positive, memo), cnf(formula[2], positive, memo), positive)
    memo[key] = result
    return result


def _combine(kind: str, left: list[Clause] | None, right: list[Clause] | None, positive: bool) -> list[Clause] | None:
    """The clauses of ``left and right`` or ``left or right`` (after the polarity is applied)."""
    if (kind == "and") == positive:
        if left is None or right is None:
            return None
        return _bounded(left + right)
    if left is None:
        return right
    if right is None:
        return left
    if not left or not right:
        return []  # one side is true
    WORK.charge(len(left) * len(right))
    out = []
    for a in left:
        for b in right:
            clause = _disjoin(a, b)
            if clause is not None:
                out.append(clause)
    return _bounded(out)


def _bounded(clauses: list[Clause]) -> list[Clause]:
    kept = [c for c in dict.fromkeys(clauses) if len(c) <= MAX_CLAUSE_LITERALS]
    return kept[:MAX_CNF]


def _disjoin(a: Clause, b: Clause) -> Clause | None:
    """``a or b`` as one clause; ``None`` if it is a tautology."""
    merged = dict(a)
    for path, mask in b:
        merged[path] = merged.get(path, 0) | mask
        if merged[path] == ANY:
            return None
    return tuple(sorted(merged.items()))


# -- facts ---------------------------------------------------------------------------------


def assume(facts: Facts, formula: Formula, relevant: Relevance | None = None) -> Facts | None:
    """Facts after learning ``formula``; ``None`` if that is impossible (an infeasible edge).

    Only clauses about ``relevant`` locations are kept (all of them when it is ``None``).
    """
    clauses = cnf(formula)
    if clauses is None:
        return None
    impure = impure_paths(formula)
    if impure:  # a new evaluation of the call: a new value, unrelated to the last one
        facts = frozenset(c for c in facts if not any(p in impure for p, _ in c))
    clauses = _only(clauses, relevant)
    if not clauses:
        return facts
    combined = facts | frozenset(clauses)
    if _propagate(combined, {}) is None:
        return None
    return _limit(combined, relevant)


def impure_paths(formula: Formula) -> list[str]:
    """The atoms of ``formula`` that hold a call."""
    if formula[0] == "lit":  # the common case: one atom
        return [formula[1]] if formula[1].startswith(IMPURE) else []
    return [path for path in formula_paths(formula) if path.startswith(IMPURE)]


@overload
def meet(a: Facts | None, b: Facts, exact: bool = True, relevant: Relevance | None = None) -> Facts: ...
@overload
def meet(a: Facts, b: Facts | None, exact: bool = True, relevant: Relevance | None = None) -> Facts: ...
@overload
def meet(a: Facts | None, b: Facts | None, exact: bool = True, relevant: Relevance | None = None) -> Facts | None: ...


def meet(a: Facts | None, b: Facts | None, exact: bool = True, relevant: Relevance | None = None) -> Facts | None:
    """What holds on both paths: ``a or b`` as clauses (``exact``) or plain intersection.

    ``None`` stands for "no path reaches here yet" and is the identity. Past the bound, the
    clauses nearest the flag are kept (``relevant``; see ``_limit``).
    """
    if a is None:
        return b
    if b is None or a == b:
        return a
    common = a & b
    if not exact:
        return common
    out = set(common)
    only_b = b - common
    WORK.charge(len(a) + len(b) + (len(a) - len(common)) * len(only_b))
    for x in a - common:
        for y in only_b:
            clause = _disjoin(x, y)
            if clause is not None and len(clause) <= MAX_CLAUSE_LITERALS:
                out.add(clause)
    return frozenset(_without_subsumed(out, relevant))


def kill(facts: Facts, path: str) -> Facts:
    """Forget everything about ``path`` and what is reached through it (it was assigned)."""
    if not facts:
        return facts
    root = root_name(path)
    below, inside = path + ".", path + "["
    keep = []
    for clause in facts:  # ``_touches`` written out: a generator per clause cost more than the test
        for p, _ in clause:
            if (root in identifiers(p)) if p[:1] == "?" else (p == path or p.startswith(below) or p.startswith(inside)):
                break
        else:
            keep.append(clause)
    return facts if len(keep) == len(facts) else frozenset(keep)


def _touches(candidate: str, path: str, root: str) -> bool:
    if candidate.startswith("?"):
        return root in identifiers(candidate)
    return is_under(candidate, path)


def bind(facts: Facts, path: str, value: tuple | None, relevant: Relevance | None = None) -> Facts:
    """``path = value``: kill ``path``, then relate it to ``value`` when that is understood.

    ``value``: ``("values", mask)`` for a constant (``True``: ``TRUE``), ``("path", location)``
    for a copy, ``("formula", formula)`` for the truth of a boolean expression, ``None`` for
    anything else.
    """
    facts = kill(facts, path)
    if value is None or (relevant is not None and path not in relevant):
        return facts
    kind, data = value
    if kind == "values":
        return _limit(facts | {((path, data),)})
    root = root_name(path)
    if kind == "path":
        if _touches(data, path, root):
            return facts
        return _limit(facts | frozenset(_only(_equal(path, data), relevant)), relevant)
    formula = data
    if any(_touches(p, path, root) for p in formula_paths(formula)):
        return facts
    clauses: set[Clause] = set()
    # path truthy -> formula; formula -> path truthy
    memo: dict = {}
    if cnf(formula, True, memo) is None:  # always false (``s = not True``)
        clauses.add(((path, FALSE | NONE),))
    if cnf(formula, False, memo) is None:  # always true
        clauses.add(((path, TRUE),))
    for clause in cnf(formula, True, memo) or []:
        extended = _disjoin(clause, ((path, FALSE | NONE),))
        if extended is not None:
            clauses.add(extended)
    for clause in cnf(formula, False, memo) or []:
        extended = _disjoin(clause, ((path, TRUE),))
        if extended is not None:
            clauses.add(extended)
    return _limit(facts | frozenset(_only(clauses, relevant)), relevant)


def rename(formula: Formula, name: Callable[[str], str]) -> Formula:
    """The formula with each location ``p`` read as ``name(p)`` (shared parts stay shared)."""
    memo: dict[int, Formula] = {}

    def walk(node: Formula) -> Formula:
        done = memo.get(id(node))
        if done is None:
            kind = node[0]
            if kind == "lit":
                renamed = name(node[1])
                done = node if renamed == node[1] else ("lit", renamed, node[2])
            elif kind == "const":
                done = node
            else:
                done = (kind, *(walk(part) for part in node[1:]))
            memo[id(node)] = done
        return done

    WORK.charge(1)
    return walk(formula)


def _only(clauses: Iterable[Clause], relevant: Relevance | None) -> list[Clause]:
    if relevant is None:
        return list(clauses)
    return [clause for clause in clauses if all(path in relevant for path, _ in clause)]


def _equal(a: str, b: str) -> frozenset:
    clauses = set()
    for value in (TRUE, FALSE, NONE):
        clauses.add(tuple(sorted(((a, ANY & ~value), (b, value)))))
        clauses.add(tuple(sorted(((b, ANY & ~value), (a, value)))))
    return frozenset(clauses)


def entails(facts: Facts, path: str, mask: int) -> bool:
    """Whether the facts imply that ``path`` holds a value in ``mask`` (refutation by unit propagation)."""
    if mask == ANY:
        return True
    return _propagate(facts, {path: ANY & ~mask}) is None


def paths_in(facts: Facts) -> set[str]:
    return {path for clause in facts for path, _ in clause}


def _propagate(clauses: Iterable[Clause], domains: dict[str, int]) -> dict[str, int] | None:
    """Unit propagation; ``None`` on a contradiction. The clauses are taken in a fixed order: a
    set's order follows the strings' hashes, which differ from run to run, and the work charged
    (the passes this makes) must not, or a search's budget would end at another state."""
    pending = sorted(clauses)
    changed = True
    while changed and pending:
        WORK.charge(len(pending))
        changed = False
        rest = []
        for clause in pending:
            live: Literal | None = None
            count = 0
            satisfied = False
            for path, mask in clause:
                domain = domains.get(path, ANY)
                if domain & ~mask == 0:
                    satisfied = True
                    break
                if domain & mask:
                    count += 1
                    live = (path, mask)
            if satisfied:
                continue
            if count == 0:
                return None
            if count == 1:
                assert live is not None  # count counts the literals kept in live
                path, mask = live
                domains[path] = domains.get(path, ANY) & mask
                changed = True
            else:
                rest.append(clause)
        pending = rest
    return domains


def _without_subsumed(clauses: set[Clause], relevant: Relevance | None = None) -> list[Clause]:
    """The clauses no other one implies, at most ``MAX_CLAUSES`` of them: the first in the
    order ``_limit`` keeps (so the result is ``_limit`` of all the unsubsumed ones, at a fraction
    of the cost when a join makes thousands of candidates). A clause that implies another is
    about some of its locations, with fewer values: that order puts it first."""
    kept: list[tuple[Clause, frozenset[str]]] = []
    for clause in sorted(clauses, key=_order(relevant)):
        WORK.charge(1 + len(kept))
        as_dict = dict(clause)
        paths = frozenset(as_dict)
        for other, other_paths in kept:  # a loop, not ``any``: this runs for every join
            if other_paths <= paths and all(as_dict[p] & m == m for p, m in other):
                break
        else:
            kept.append((clause, paths))
            if len(kept) == MAX_CLAUSES:
                break
    return [clause for clause, _ in kept]


def _order(relevant: Relevance | None) -> Callable[[Clause], tuple]:
    """Which clauses ``_limit`` keeps first: those about locations nearest a flag (a clause is as
    far as its farthest location), then the shortest. Dropping a clause only loses knowledge;
    this order makes the knowledge lost the least likely to bear on the flag, whatever the
    locations are called (by name alone, ``should <-> request.store`` lost to the many
    ``not a or not background`` of a long handler)."""
    if relevant is None:
        return _size_order

    def order(clause: Clause) -> tuple:
        return (max(relevant.get(path, 0) for path, _ in clause), len(clause), clause)

    return order


def _size_order(clause: Clause) -> tuple:
    return (len(clause), clause)


def _limit(facts: Facts, relevant: Relevance | None = None) -> Facts:
    if len(facts) <= MAX_CLAUSES:
        return facts
    return frozenset(sorted(facts, key=_order(relevant))[:MAX_CLAUSES])
