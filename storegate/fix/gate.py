"""The gate test: the expression on the flag that holds exactly when the flag permits writes."""

from __future__ import annotations

import libcst as cst

from storegate.model import NONE, Flag


def gate_test(value: cst.BaseExpression, flag: Flag, never_none: bool = False) -> cst.BaseExpression:
    """The test on ``value`` (the flag as the scope reads it) that holds when ``flag`` permits writes.

    It must hold for ``None`` exactly when the flag's ``none-means`` permits: ``store is not False``
    for OpenAI's ``store`` (None is the API default, store), not ``store``, which would drop the
    writes of every request that omits it. Where ``value`` cannot be ``None`` (``never_none``: a
    parameter declared ``bool``), the plain forms agree with those and are what a maintainer writes.
    """
    if never_none:
        return _negate(value) if flag.inverted else value
    none_permitted = bool(flag.permitted & NONE)
    if flag.inverted:  # ``not dry_run`` lets None through; ``dry_run is False`` does not
        return _negate(value) if none_permitted else _compare(value, cst.Is(), "False")
    return _compare(value, cst.IsNot(), "False") if none_permitted else value


def declared_bool(scope: cst.CSTNode, value: cst.BaseExpression) -> bool:
    """Whether ``value`` is a parameter of ``scope`` annotated ``bool`` whose default is not ``None``."""
    if not isinstance(value, cst.Name) or not isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        return False
    params = scope.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == value.value:
            annotation = param.annotation.annotation if param.annotation is not None else None
            default_none = isinstance(param.default, cst.Name) and param.default.value == "None"
            return isinstance(annotation, cst.Name) and annotation.value == "bool" and not default_none
    return False


def _compare(value: cst.BaseExpression, operator: cst.BaseCompOp, constant: str) -> cst.Comparison:
    return cst.Comparison(left=value, comparisons=[cst.ComparisonTarget(operator=operator, comparator=cst.Name(constant))])


def _negate(expr: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(expr, (cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Comparison)) and not expr.lpar:
        expr = expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.UnaryOperation(operator=cst.Not(), expression=expr)
