"""Deciding the edits of one file: per scope and flag, a conjunct on an enclosing ``if`` or a
wrap of the smallest run of statements holding the writes, each refused (with the reason) when
gating it would change what the code after it sees; ``store=<flag>`` for a call that drops it.

``decide`` is a pure function of the located targets and of what the rounds before learnt (the
groups whose conjunct did not gate, the findings given up): it returns a new ``Decision``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import libcst as cst

from storegate.cfg import Scope
from storegate.fix.edits import Edits, Range
from storegate.fix.gate import declared_bool, gate_test
from storegate.fix.locate import Sink, Suite, Tree, index_of
from storegate.fix.names import bound_names, flag_expression, name_uses
from storegate.fix.results import Refusal
from storegate.model import Finding, Flag

_LOOPS = (cst.For, cst.While)

GroupKey = tuple[int, str]  # (id of the scope, flag name): the writes gated together


@dataclass(frozen=True)
class Group:
    scope: Scope
    flag: Flag
    sinks: tuple[Sink, ...]


@dataclass(frozen=True)
class KeywordSite:
    """A call that does not pass the flag to a callee that takes it (SG003)."""

    finding: Finding
    call: cst.Call
    scope: Scope
    flag: Flag


@dataclass(frozen=True)
class Targets:
    """What is to be fixed in one file, located; ``refusals``: what cannot be, found on the way."""

    groups: Mapping[GroupKey, Group]
    keyword_sites: tuple[KeywordSite, ...]
    refusals: tuple[Refusal, ...]


@dataclass(frozen=True)
class Decision:
    """One round's plan: the findings it fixes, the ones it refuses, the edits that fix them."""

    fixed: tuple[Finding, ...]
    refused: tuple[Refusal, ...]
    edits: Edits
    group_of: Mapping[Finding, GroupKey]  # the group each fixed gate finding belongs to
    conjunct_groups: frozenset[GroupKey]  # the groups fixed (at least partly) by a conjunct


@dataclass
class _Run:
    suite: Suite
    start: int
    end: int  # inclusive
    sinks: list[Sink]


def decide(
    tree: Tree, targets: Targets, no_conjunct: frozenset[GroupKey] = frozenset(), give_up: Mapping[Finding, str] = MappingProxyType({})
) -> Decision:
    """The edits for ``targets``: ``no_conjunct`` groups are wrapped, ``give_up`` findings refused."""
    return _Decider(tree).decide(targets, no_conjunct, give_up)


class _Decider:
    """The state of one ``decide`` call (never reused)."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.refused: list[Refusal] = []
        self.fixed: list[Finding] = []
        self.group_of: dict[Finding, GroupKey] = {}
        self.conjunct_groups: set[GroupKey] = set()
        self.conjuncts: dict[int, cst.BaseExpression] = {}
        self.wraps: dict[int, list[Range]] = defaultdict(list)
        self.keywords: dict[int, tuple[str, cst.BaseExpression]] = {}

    def refuse(self, finding: Finding, reason: str) -> None:
        self.refused.append(Refusal(finding, reason))

    def decide(self, targets: Targets, no_conjunct: frozenset[GroupKey], give_up: Mapping[Finding, str]) -> Decision:
        self.refused.extend(targets.refusals)
        for key, group in targets.groups.items():
            sinks = list(group.sinks)
            if not sinks:
                continue
            if give_up:
                for sink in sinks:
                    if sink.finding in give_up:
                        self.refuse(sink.finding, give_up[sink.finding])
                sinks = [sink for sink in sinks if sink.finding not in give_up]
                if not sinks:
                    continue
            before = len(self.fixed)
            self.gate(group.scope, group.flag, sinks, allow_conjunct=key not in no_conjunct, key=key)
            for finding in self.fixed[before:]:
                self.group_of[finding] = key
        for site in targets.keyword_sites:
            if any(isinstance(arg.star, str) and arg.star == "**" for arg in site.call.args):
                self.refuse(site.finding, "the call passes **kwargs")
                continue
            value = flag_expression(self.tree, site.scope, site.flag, self.tree.start(site.call))
            if value is None:
                self.refuse(site.finding, f"no '{site.flag.name}' in scope")
                continue
            self.keywords[id(site.call)] = (site.flag.name, value)
            self.fixed.append(site.finding)
        edits = Edits(
            conjuncts=MappingProxyType(self.conjuncts),
            wraps=MappingProxyType({key: tuple(ranges) for key, ranges in self.wraps.items()}),
            keywords=MappingProxyType(self.keywords),
        )
        return Decision(tuple(self.fixed), tuple(self.refused), edits, MappingProxyType(self.group_of), frozenset(self.conjunct_groups))

    def gate(self, scope: Scope, flag: Flag, sinks: list[Sink], *, allow_conjunct: bool, key: GroupKey) -> None:
        def conjunct(run: _Run) -> cst.If | None:
            return self.plan_conjunct(scope, run) if allow_conjunct else None

        whole = _common_run(sinks)
        attempts = [whole]
        if self.check_run(scope, whole) is not None and conjunct(whole) is None:
            attempts = _runs_per_block(sinks)
        for run in attempts:
            target = conjunct(run)
            if target is not None:
                self.conjunct_groups.add(key)
            anchor = self.tree.start(target if target is not None else run.suite.body[run.start])
            value = flag_expression(self.tree, scope, flag, anchor)
            if value is None:
                for sink in run.sinks:
                    self.refuse(sink.finding, f"no '{flag.name}' in scope")
                continue
            gate = gate_test(value, flag, never_none=declared_bool(scope, value))
            if target is not None:
                if id(target) in self.conjuncts:
                    self.conjuncts[id(target)] = cst.BooleanOperation(self.conjuncts[id(target)], cst.And(), gate)
                else:
                    self.conjuncts[id(target)] = gate
                self.fixed.extend(sink.finding for sink in run.sinks)
                continue
            problem = self.check_run(scope, run)
            if problem is None and any(s <= run.end and run.start <= e for s, e, _ in self.wraps[id(run.suite)]):
                problem = "overlaps another fix"
            if problem is not None:
                for sink in run.sinks:
                    self.refuse(sink.finding, problem)
                continue
            self.wraps[id(run.suite)].append((run.start, run.end, gate))
            self.fixed.extend(sink.finding for sink in run.sinks)

    def plan_conjunct(self, scope: Scope, run: _Run) -> cst.If | None:
        """The outermost ``if`` (without else) whose whole body is the run (transitively)."""
        parents = self.tree.parents
        chosen = None
        suite, start, end = run.suite, run.start, run.end
        while True:
            owner = parents.get(suite)
            if not isinstance(owner, cst.If) or owner.orelse is not None or owner.body is not suite:
                break
            body = list(suite.body)
            if not all(_is_preparation(statement) for statement in body[:start] + body[end + 1 :]):
                break
            if self.check_run(scope, _Run(suite, 0, len(body) - 1, [])) is not None:
                break
            chosen = owner
            parent = parents.get(owner)
            if not isinstance(parent, cst.IndentedBlock):
                break
            index = index_of(parent.body, owner)
            if index is None:
                break
            suite, start, end = parent, index, index
        return chosen

    def check_run(self, scope: Scope, run: _Run) -> str | None:
        """Why gating the statements of ``run`` would change what later code sees, or None."""
        statements = list(run.suite.body[run.start : run.end + 1])
        exit_kind = _control_exit(statements)
        if exit_kind is not None:
            return f"the statements to gate contain a {exit_kind}"
        bound = bound_names(self.tree, scope, statements)
        if not bound:
            return None
        tree = self.tree
        run_start, run_end = tree.start(statements[0]), tree.end(statements[-1])
        loops = []
        current = tree.parents.get(run.suite)
        while current is not None and current is not scope:
            if isinstance(current, _LOOPS):
                loops.append((tree.start(current), tree.end(current)))
            current = tree.parents.get(current)
        for name, where, nested in name_uses(tree, scope):
            if name not in bound:
                continue
            start, end = (where.start.line, where.start.column), (where.end.line, where.end.column)
            if run_start <= start and end <= run_end:
                continue  # inside the run
            later = start >= run_end
            in_loop = any(s <= start and end <= e for s, e in loops)
            if later or in_loop or nested:
                return f"'{name}' is assigned in the statements to gate and used after them"
        return None


def _common_run(sinks: list[Sink]) -> _Run:
    # chain[depth][0] is a suite all share (the scope's body, at first); go down while they
    # also share the statement and the suite below it
    depth = 0
    first = sinks[0].chain
    while all(
        len(s.chain) > depth + 1 and s.chain[depth][1] == first[depth][1] and s.chain[depth + 1][0] is first[depth + 1][0]
        for s in sinks
    ):
        depth += 1
    suite = sinks[0].chain[depth][0]
    indices = [s.chain[depth][1] for s in sinks]
    return _Run(suite, min(indices), max(indices), list(sinks))


def _runs_per_block(sinks: list[Sink]) -> list[_Run]:
    """The sinks grouped by the block holding their statement; a group whose statements are
    inside another group's run joins it."""
    groups: dict[int, list[Sink]] = defaultdict(list)
    order: list[int] = []
    for sink in sinks:
        suite = sink.chain[-1][0]
        if id(suite) not in groups:
            order.append(id(suite))
        groups[id(suite)].append(sink)
    runs = [_common_run(groups[key]) for key in order]
    merged: list[_Run] = []
    for run in sorted(runs, key=lambda r: len(r.sinks[0].chain)):
        host = next((m for m in merged if _inside(run, m)), None)
        if host is not None:
            host.sinks.extend(run.sinks)
        else:
            merged.append(run)
    return merged


def _inside(run: _Run, host: _Run) -> bool:
    for sink in run.sinks:
        for suite, index in sink.chain:
            if suite is host.suite and host.start <= index <= host.end:
                break
        else:
            return False
    return True


def _is_preparation(statement: cst.CSTNode) -> bool:
    """A statement that only prepares for the run: plain assignments, ``pass``, a docstring."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, (cst.Assign, cst.Pass)):
            continue
        if isinstance(small, cst.AnnAssign) and small.value is not None:
            continue
        if isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
            continue
        return False
    return True


class _Exits(cst.CSTVisitor):
    def __init__(self) -> None:
        self.loops = 0
        self.found: str | None = None

    def _note(self, what: str) -> None:
        if self.found is None:
            self.found = what

    def visit_FunctionDef(self, node) -> bool:
        return False

    def visit_Lambda(self, node) -> bool:
        return False

    def visit_ClassDef(self, node) -> bool:
        return False

    def visit_For(self, node) -> None:
        self.loops += 1

    def leave_For(self, original_node: cst.For | cst.While) -> None:
        self.loops -= 1

    visit_While = visit_For
    leave_While = leave_For

    def visit_Return(self, node) -> None:
        self._note("return")

    def visit_Yield(self, node) -> None:
        self._note("yield")

    def visit_Break(self, node) -> None:
        if self.loops == 0:
            self._note("break")

    def visit_Continue(self, node) -> None:
        if self.loops == 0:
            self._note("continue")


def _control_exit(statements: Sequence[cst.CSTNode]) -> str | None:
    visitor = _Exits()
    for statement in statements:
        statement.visit(visitor)
    return visitor.found
