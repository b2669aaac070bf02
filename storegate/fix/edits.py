"""The edits, as libcst transforms that keep the file's layout: a conjunct added to an ``if``'s
test, a run of statements wrapped in ``if <gate>:``, a keyword argument added to a call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst

Range = tuple[int, int, cst.BaseExpression]  # statements start..end (inclusive) of a block, and the gate


@dataclass(frozen=True)
class Edits:
    """The edits of one file, keyed by the ``id`` of the node they change in the planned module."""

    conjuncts: Mapping[int, cst.BaseExpression]  # id(If) -> the gate to add to its test
    wraps: Mapping[int, tuple[Range, ...]]  # id(IndentedBlock or Module) -> the runs to wrap
    keywords: Mapping[int, tuple[str, cst.BaseExpression]]  # id(Call) -> (keyword, value)


def apply_edits(module: cst.Module, edits: Edits) -> str:
    """The code of ``module`` with ``edits`` made."""
    return module.visit(_Apply(edits)).code


class _Apply(cst.CSTTransformer):
    def __init__(self, edits: Edits) -> None:
        self.edits = edits

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If:
        gate = self.edits.conjuncts.get(id(original_node))
        if gate is None:
            return updated_node
        return updated_node.with_changes(test=add_conjunct(updated_node.test, gate))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        ranges = self.edits.wraps.get(id(original_node))
        if not ranges:
            return updated_node
        return updated_node.with_changes(body=wrap(updated_node.body, ranges, updated_node.indent))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        ranges = self.edits.wraps.get(id(original_node))
        return updated_node.with_changes(body=wrap(updated_node.body, ranges)) if ranges else updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        keyword = self.edits.keywords.get(id(original_node))
        if keyword is None:
            return updated_node
        return add_keyword(updated_node, *keyword)


def wrap(
    body: Sequence[cst.BaseStatement], ranges: Iterable[Range], indent: str | None = None
) -> list[cst.BaseStatement]:
    """``body`` with each ``(start, end, gate)`` range of statements moved under ``if gate:``.

    The new block is indented like the block it is in (``indent``: its own indentation unit, or
    None for the module's). The blank lines and comments above a range's first statement stay
    above the ``if``.
    """
    out = list(body)
    for start, end, gate in sorted(ranges, reverse=True):
        run = out[start : end + 1]
        first = run[0]
        assert isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement))  # every statement is one
        run[0] = first.with_changes(leading_lines=())
        guarded = cst.If(test=gate, body=cst.IndentedBlock(body=run, indent=indent), leading_lines=first.leading_lines)
        out[start : end + 1] = [guarded]
    return out


def _needs_parentheses(expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` binds looser than ``and`` (as the left operand of ``x and y``)."""
    if expr.lpar:
        return False
    if isinstance(expr, cst.BooleanOperation):
        return isinstance(expr.operator, cst.Or)
    return isinstance(expr, (cst.IfExp, cst.Lambda, cst.NamedExpr))


def _plain_newline(whitespace: cst.ParenthesizedWhitespace) -> cst.ParenthesizedWhitespace:
    """The same line break and indentation, without a comment or blank lines."""
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=(), indent=whitespace.indent, last_line=whitespace.last_line)


def add_conjunct(test: cst.BaseExpression, gate: cst.BaseExpression) -> cst.BaseExpression:
    """``test and gate``, in the layout of ``test``.

    ``a and b`` -> ``a and b and gate`` (the new operator copies the last one's spacing, so a
    parenthesised multi-line test gets the conjunct on its own line); ``a or b`` -> ``(a or b) and
    gate``; anything else -> ``test and gate``.
    """
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        operator = test.operator
        before, after = operator.whitespace_before, operator.whitespace_after
        rpar = list(test.rpar)
        if isinstance(after, cst.ParenthesizedWhitespace):  # ``a and\n    b``: trailing operators
            after = _plain_newline(after)
        if isinstance(before, cst.ParenthesizedWhitespace):  # ``a\n    and b``: leading operators
            before = _plain_newline(before)
            if rpar and isinstance(rpar[-1].whitespace_before, cst.ParenthesizedWhitespace):
                # A comment on the last line of the test stays on that line, before the new one.
                closing = rpar[-1].whitespace_before
                before = before.with_changes(first_line=closing.first_line, empty_lines=closing.empty_lines)
                rpar[-1] = rpar[-1].with_changes(whitespace_before=_plain_newline(closing))
        inner = test.with_changes(lpar=(), rpar=())
        return cst.BooleanOperation(
            left=inner,
            operator=cst.And(whitespace_before=before, whitespace_after=after),
            right=gate,
            lpar=test.lpar,
            rpar=rpar,
        )
    left = test
    if _needs_parentheses(test):
        left = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.BooleanOperation(left=left, operator=cst.And(), right=gate)


def add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``name=value`` appended to its arguments, in the call's layout."""
    args = list(call.args)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
        separator = args[-2].comma.whitespace_after
    elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        separator = call.whitespace_before_args
    else:
        separator = cst.SimpleWhitespace(" ")
    if isinstance(separator, cst.ParenthesizedWhitespace):
        separator = _plain_newline(separator)
    trailing = last.comma
    if isinstance(trailing, cst.Comma):
        after = trailing.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace) and isinstance(separator, cst.ParenthesizedWhitespace):
            # ``a,  # note\n)``: the comment stays on a's line, the new argument gets a plain one
            separator = separator.with_changes(first_line=after.first_line, empty_lines=after.empty_lines)
            trailing = trailing.with_changes(whitespace_after=_plain_newline(after))
        middle = cst.Comma(whitespace_before=trailing.whitespace_before, whitespace_after=separator)
    else:
        middle = cst.Comma(whitespace_after=separator)
    args[-1] = last.with_changes(comma=middle, whitespace_after_arg=cst.SimpleWhitespace(""))
    args.append(new.with_changes(comma=trailing, whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)
