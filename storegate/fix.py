"""Autofix: gate the ungated writes the way a maintainer would (``storegate check --fix`` / ``--diff``).

``plan(result, config)`` turns the findings of a (already filtered) ``Result`` into one ``FileFix``
per file: the original text, the fixed text, the findings it fixes and the findings it leaves,
each with a one-line reason. ``unified_diff`` shows the plans, ``apply`` writes them (atomically),
``summary`` reports them. Nothing here writes a file except ``apply``.

The fixes are built with libcst, so everything around them (comments, formatting, the newline
style, the final newline) stays as it was; a file that libcst would not print back byte for byte
(a form feed before a statement) is not fixed at all. The rules, in order:

1. Findings are fixed per function (more exactly per scope: a function or the module) and per
   flag, all together. SG004 (a route handler that never reads the flag) is never fixed: there is
   no flag in scope to gate with.
2. SG003 (the flag is not passed to a callee that takes it): ``store=<the caller's flag>`` is
   added as the last argument of the call, in the call's own layout.
3. SG001 / SG002: the *run* is the smallest sequence of sibling statements that holds every
   ungated sink of the scope (from the first statement holding one to the last, with the
   statements between them).

   a. **Conjunct.** If the run lies in the body of an ``if`` that has no ``else``/``elif``, and
      that body is the run plus, at most, plain assignments (``messages = list(...)``), ``pass``
      or docstrings, and gating the whole body is safe (rule 4), the flag is appended to the
      ``if``'s test as a last conjunct (the gate test, rule 6): ``if a and b:`` ->
      ``if a and b and store is not False:``. This climbs: while that ``if`` is itself the body
      (again with at most plain assignments beside it) of an enclosing ``if`` without ``else``,
      the conjunct goes to the enclosing one. The outermost such ``if`` gets it, as the
      maintainers did for the motivating bug (the conjunct on the outer multi-line condition, not
      on ``if conversation:``). In a parenthesised multi-line test the conjunct goes on its own
      line, in the style of the test's last operator; a comment on the test's last line stays on
      that line. A test whose top operator binds looser than ``and`` (``or``, ``x if c else y``,
      ``lambda``, ``:=``) is parenthesised.
   b. **Wrap.** Otherwise the run is wrapped in ``if <the gate test>:`` (rule 6), re-indented one
      level with the file's indentation unit. The blank lines and comments just above the run's
      first statement stay above the new ``if``.
   c. If the scope-wide run is not safe, each group of sinks that share a block is tried on its
      own (each gets its own conjunct or wrap, or its own refusal).

4. A run is **not** gated (the findings are left, with the reason) when gating it would change
   what the code after it sees: a name it binds (assignment, ``for``/``with`` target, import,
   ``def``, walrus, ...) is used after it (or anywhere in an enclosing loop, or in a nested
   function); or it contains a ``return``, a ``yield``, or a ``break``/``continue`` that leaves
   it. (Attribute and item writes are not tracked; a ``raise`` in the run is allowed.) A sink in
   a lambda, in a class body, in a one-line block (``for x in y: save(x)``) or in a decorator is
   not fixed either.
5. The flag is written as the scope sees it: the parameter (or a local or closure variable of
   the flag's name); else a local that is a pure copy of a flag location, assigned once before
   the fix (``should_store = request.store``); else the flag location as the scope reads it
   (``request.store``, ``body["store"]``, ``body.get("store", True)``), copied as written.
6. The gate test keeps the writes of every value under which the flag permits them, ``None``
   included (``Flag.permitted``), and stops them for ``False``: ``store is not False`` for a flag
   whose ``None`` means true (OpenAI's ``store``: omitted is the API default, store), plain
   ``store`` when ``None`` means false; for an inverted flag ``not dry_run`` when ``None`` means
   false (a real run), ``dry_run is False`` when it means true (a dry run).

A fixed file must parse, or nothing of it is fixed. After ``apply``, checking the same files
reports none of the fixed findings, so fixing again changes nothing (the fixes are idempotent).
"""

from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from storegate import disk, files
from storegate import flags as flaglib
from storegate.analysis import parse, parse_ast
from storegate.errors import SourceError, StoregateError
from storegate.model import NONE, Config, Finding, Flag, Result
from storegate.paths import access_path, root_name

GATE_CODES = ("SG001", "SG002")
KEYWORD_CODE = "SG003"

_Scope = (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)
_Loop = (cst.For, cst.While)
_Suite = (cst.IndentedBlock, cst.Module)


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class Refusal:
    """A finding that is not fixed, and why (one line)."""

    finding: Finding
    reason: str

    def line(self) -> str:
        f = self.finding
        return f"{f.path}:{f.line}:{f.column}: {f.code} not fixed: {self.reason}"


@dataclass(frozen=True)
class FileFix:
    """The fixes of one file: ``original`` -> ``fixed`` (equal when nothing could be fixed)."""

    path: str  # as the findings name it (relative to the current directory, or as given)
    original: str
    fixed: str
    encoding: str  # what to write ``fixed`` with (``utf-8-sig`` keeps a BOM)
    fixed_findings: tuple[Finding, ...] = ()
    refused: tuple[Refusal, ...] = ()
    original_bytes: bytes = field(default=b"", repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    @property
    def remaining(self) -> int:
        return len(self.refused)


def plan(result: Result, config: Config) -> list[FileFix]:
    """One ``FileFix`` per file that has findings in ``result``, sorted by path.

    ``result`` is what is to be fixed: pass it after ``--select``/``--ignore``, suppressions and
    the baseline have filtered it. Nothing is written.
    """
    from storegate.run.workers import with_deep_stack  # a large stack: libcst recurses per nesting level

    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_path[finding.path].append(finding)
    return [with_deep_stack(plan_file, path, findings, config) for path, findings in sorted(by_path.items())]


def plan_file(path: str, findings: Sequence[Finding], config: Config) -> FileFix:
    """The ``FileFix`` of one file for its ``findings``."""
    findings = sorted(set(findings), key=lambda f: f.sort_key)
    try:
        data = Path(path).read_bytes()
        text = files.read_source(Path(path))
        encoding = _encoding(data)
    except (OSError, SourceError) as exc:
        reason = exc.message if isinstance(exc, SourceError) else f"cannot read file: {exc.strerror or exc}"
        return FileFix(path, "", "", "utf-8", (), tuple(Refusal(f, reason) for f in findings), b"")
    try:  # the file may have changed since it was analyzed: libcst sees only what the guard lets through
        module = parse(text, parse_ast(text)[1])
    except SourceError as exc:
        reason = "the file does not parse" if exc.message.startswith("cannot parse") else exc.message
        return FileFix(path, text, text, encoding, (), tuple(Refusal(f, reason) for f in findings), data)
    module, problem = _faithful(module, text)
    if problem is not None:
        return FileFix(path, text, text, encoding, (), tuple(Refusal(f, problem) for f in findings), data)
    flags = {flag.name: flag for flag in config.flags}
    planner = _Planner(module, flags)
    for finding in findings:
        planner.add(finding)
    no_conjunct: set = set()
    give_up: dict = {}
    for _ in range(2 * len(findings) + 2):  # each round takes a conjunct or a fix away: it ends
        fixed_findings, refused = planner.decide(no_conjunct, give_up)
        fixed = text
        if not fixed_findings:
            break
        fixed = module.visit(_Apply(planner)).code
        problem = _parse_problem(fixed, text)
        if problem is not None:  # a bug of the fixer: never write a file that does not parse
            refused = [*refused, *(Refusal(f, f"internal error: the fix does not parse ({problem})") for f in fixed_findings)]
            fixed_findings, fixed = [], text
            break
        failed = _still_ungated(text, fixed, path, config, [f for f in fixed_findings if f.code in GATE_CODES])
        if not failed:
            break
        for finding, reason in failed.items():
            key = planner.group_of[finding]
            if key in planner.conjunct_groups and key not in no_conjunct and reason == _NOT_GATED:
                no_conjunct.add(key)
            else:
                give_up[finding] = reason
    else:  # pragma: no cover - the rounds always settle
        fixed_findings, refused, fixed = [], [Refusal(f, "internal error: no stable fix") for f in findings], text
    refused = sorted(refused, key=lambda r: r.finding.sort_key)
    return FileFix(path, text, fixed, encoding, tuple(fixed_findings), tuple(refused), data)


def _faithful(module: cst.Module, text: str) -> tuple[cst.Module, str | None]:
    """``module`` made to print as ``text`` again, or why it cannot be (then nothing is fixed).

    libcst does not see the final newline of a file whose lines end in a lone CR (classic Mac),
    and drops a form feed that precedes a statement on its line: a fix would change those bytes
    too, far from the write it gates.
    """
    if module.code == text:
        return module, None
    repaired = module.with_changes(has_trailing_newline=True)
    if repaired.code == text:
        return repaired, None
    code = module.code
    same = next((i for i, (a, b) in enumerate(zip(code, text)) if a != b), min(len(code), len(text)))
    line = len(re.findall(r"\r\n?|\n", text[:same])) + 1
    return module, f"the file cannot be rewritten without also changing its line {line} (libcst does not reproduce it)"


def _encoding(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return encoding


def _parse_problem(code: str, original: str) -> str | None:
    """Why ``code`` (the fixed ``original``) does not parse, or None."""
    try:
        cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        return exc.message
    if _compile_error(code) is not None and _compile_error(original) is None:
        return _compile_error(code)  # (newer syntax than this Python's fails both: libcst decides)
    return None


def _compile_error(code: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<fixed>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return str(getattr(exc, "msg", None) or exc)
    return None


# ---------------------------------------------------------------------------------------------
# Output


def unified_diff(file_fixes: Iterable[FileFix]) -> str:
    """The unified diff (``a/path`` -> ``b/path``) of every file the plans change."""
    out: list[str] = []
    for fix in file_fixes:
        if not fix.changed:
            continue
        lines = difflib.unified_diff(
            fix.original.splitlines(keepends=True),
            fix.fixed.splitlines(keepends=True),
            fromfile=f"a/{fix.path}",
            tofile=f"b/{fix.path}",
        )
        for line in lines:
            if line.endswith("\n"):
                out.append(line)
            else:  # the last line of a file without a final newline
                out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def apply(file_fixes: Iterable[FileFix]) -> dict[str, str]:
    """Write every changed file atomically; what could not be written, by path, with the reason.

    A file that changed since it was planned, or that ``disk.write_atomic`` refuses (a symbolic
    link, read-only, hard-linked, ...), is left as it is; the other files are still written.
    """
    problems: dict[str, str] = {}
    for fix in file_fixes:
        if not fix.changed:
            continue
        path = Path(fix.path)
        try:
            current = disk.read_regular(path, len(fix.original_bytes) + 1, follow_links=False)
            if fix.original_bytes and current != fix.original_bytes:
                problems[fix.path] = "changed since it was read; not fixed"
                continue
            disk.write_atomic(path, fix.fixed.encode(fix.encoding))
        except OSError as exc:
            problems[fix.path] = f"{disk.reason_of(exc).removesuffix('; not written')}; not fixed"
    return problems


def summary(file_fixes: Iterable[FileFix]) -> list[str]:
    """Per file ``path: fixed N, remaining M``, then one line per finding left unfixed."""
    out: list[str] = []
    for fix in file_fixes:
        out.append(f"{fix.path}: fixed {len(fix.fixed_findings)}, remaining {fix.remaining}")
        out.extend(refusal.line() for refusal in fix.refused)
    return out


# ---------------------------------------------------------------------------------------------
# Deciding the fixes of one file


@dataclass
class _Sink:
    finding: Finding
    node: cst.CSTNode
    chain: list[tuple[cst.CSTNode, int]]  # (suite, index of the statement) from the scope down


@dataclass
class _Run:
    suite: cst.CSTNode
    start: int
    end: int  # inclusive
    sinks: list[_Sink]


class _Planner:
    def __init__(self, module: cst.Module, flags: dict[str, Flag]) -> None:
        self.module = module
        self.flags = flags
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.positions: dict[cst.CSTNode, CodeRange] = wrapper.resolve(PositionProvider)
        self.parents: dict[cst.CSTNode, cst.CSTNode] = wrapper.resolve(ParentNodeProvider)
        self._by_span: dict[tuple[int, int, int, int], list[cst.CSTNode]] = defaultdict(list)
        for node, where in self.positions.items():
            if isinstance(node, (cst.Call, cst.Subscript, cst.Attribute, cst.Name)):
                self._by_span[(where.start.line, where.start.column, where.end.line, where.end.column)].append(node)
        self.refused: list[Refusal] = []
        self.located_refusals: list[Refusal] = []
        self.group_of: dict[Finding, tuple] = {}
        self.conjunct_groups: set = set()
        self.fixed: list[Finding] = []
        # (scope, flag name) -> sinks to gate
        self.groups: dict[tuple[int, str], tuple[cst.CSTNode, Flag, list[_Sink]]] = {}
        self.keyword_sites: list[tuple[Finding, cst.Call, cst.CSTNode, Flag]] = []
        # the edits
        self.conjuncts: dict[int, cst.BaseExpression] = {}  # id(If) -> gate expression
        self.wraps: dict[int, list[tuple[int, int, cst.BaseExpression]]] = defaultdict(list)
        self.keywords: dict[int, tuple[str, cst.BaseExpression]] = {}  # id(Call) -> (keyword, value)
        self._uses: dict[int, list] = {}

    # -- collecting --------------------------------------------------------------------------

    def refuse(self, finding: Finding, reason: str) -> None:
        self.refused.append(Refusal(finding, reason))

    def _refuse_early(self, finding: Finding, reason: str) -> None:
        self.located_refusals.append(Refusal(finding, reason))

    def add(self, finding: Finding) -> None:
        flag = self.flags.get(finding.flag) or Flag(finding.flag)
        if finding.code not in (*GATE_CODES, KEYWORD_CODE):
            if finding.code == "SG004":
                self._refuse_early(finding, f"no '{flag.name}' in scope")
            else:
                self._refuse_early(finding, f"no automatic fix for {finding.code}")
            return
        node = self.locate(finding)
        if node is None:
            self._refuse_early(finding, "cannot find the call at this position")
            return
        scope = self.scope_of(node)
        if isinstance(scope, cst.Lambda):
            self._refuse_early(finding, "inside a lambda")
            return
        if isinstance(scope, cst.ClassDef):
            self._refuse_early(finding, "in a class body")
            return
        if finding.code == KEYWORD_CODE:
            if not isinstance(node, cst.Call):
                self._refuse_early(finding, "cannot find the call at this position")
                return
            self.keyword_sites.append((finding, node, scope, flag))
            return
        key = (id(scope), flag.name)
        if key not in self.groups:
            self.groups[key] = (scope, flag, [])
        chain = self.chain(node, scope)
        if isinstance(chain, str):
            self._refuse_early(finding, chain)
            return
        self.groups[key][2].append(_Sink(finding, node, chain))

    def locate(self, finding: Finding) -> cst.CSTNode | None:
        span = (finding.line, finding.column - 1, finding.end_line, finding.end_column - 1)
        exact = self._by_span.get(span)
        if exact:
            for kind in (cst.Call, cst.Subscript, cst.Attribute, cst.Name):
                for node in exact:
                    if isinstance(node, kind):
                        return node
        best = None
        best_size = None
        start, end = (span[0], span[1]), (span[2], span[3])
        for node, where in self.positions.items():
            if not isinstance(node, (cst.Call, cst.Subscript, cst.Attribute)):
                continue
            s, e = (where.start.line, where.start.column), (where.end.line, where.end.column)
            if s <= start and end <= e:
                size = (e[0] - s[0], e[1] - s[1])
                if best_size is None or size < best_size:
                    best, best_size = node, size
        return best

    def scope_of(self, node: cst.CSTNode) -> cst.CSTNode:
        current = self.parents.get(node)
        while current is not None and not isinstance(current, _Scope):
            current = self.parents.get(current)
        return current if current is not None else self.module

    def chain(self, node: cst.CSTNode, scope: cst.CSTNode) -> list[tuple[cst.CSTNode, int]] | str:
        """The (suite, statement index) pairs from ``scope`` down to the statement holding ``node``,
        or why there is none."""
        out: list[tuple[cst.CSTNode, int]] = []
        child, current = node, self.parents.get(node)
        while current is not None:
            if isinstance(current, cst.SimpleStatementSuite):
                return "in a one-line block"  # ``for x in y: save(x)``
            if isinstance(current, _Suite):
                index = _index(current.body, child)
                if index is None:
                    return "not in a statement block that can be gated"
                out.append((current, index))
            if current is scope:
                break
            if isinstance(current, _Scope):
                return "not in a statement block that can be gated"
            child, current = current, self.parents.get(current)
        if not out or out[-1][0] is not _body_suite(scope):
            return "not in the body of its function"  # e.g. in a decorator or a default value
        out.reverse()
        return out

    # -- deciding ----------------------------------------------------------------------------

    def decide(self, no_conjunct: set = frozenset(), give_up: dict | None = None) -> tuple[list[Finding], list[Refusal]]:
        """Plan the edits (again): ``no_conjunct`` groups are wrapped, ``give_up`` groups refused."""
        self.refused = list(self.located_refusals)
        self.fixed = []
        self.conjuncts, self.wraps, self.keywords = {}, defaultdict(list), {}
        self.group_of, self.conjunct_groups = {}, set()
        for key, (scope, flag, sinks) in self.groups.items():
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
            self.gate(scope, flag, sinks, allow_conjunct=key not in no_conjunct, key=key)
            for finding in self.fixed[before:]:
                self.group_of[finding] = key
        for finding, call, scope, flag in self.keyword_sites:
            if any(isinstance(arg.star, str) and arg.star == "**" for arg in call.args):
                self.refuse(finding, "the call passes **kwargs")
                continue
            value = self.flag_expression(scope, flag, _pos(self.positions[call].start))
            if value is None:
                self.refuse(finding, f"no '{flag.name}' in scope")
                continue
            self.keywords[id(call)] = (flag.name, value)
            self.fixed.append(finding)
        return self.fixed, self.refused

    def gate(self, scope: cst.CSTNode, flag: Flag, sinks: list[_Sink], *, allow_conjunct: bool, key) -> None:
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
            anchor = _pos(self.positions[target if target is not None else run.suite.body[run.start]].start)
            value = self.flag_expression(scope, flag, anchor)
            if value is None:
                for sink in run.sinks:
                    self.refuse(sink.finding, f"no '{flag.name}' in scope")
                continue
            gate = gate_test(value, flag, never_none=_declared_bool(scope, value))
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

    def plan_conjunct(self, scope: cst.CSTNode, run: _Run) -> cst.If | None:
        """The outermost ``if`` (without else) whose whole body is the run (transitively)."""
        chosen = None
        suite, start, end = run.suite, run.start, run.end
        while True:
            owner = self.parents.get(suite)
            if not isinstance(owner, cst.If) or owner.orelse is not None or owner.body is not suite:
                break
            body = list(suite.body)
            if not all(_is_preparation(statement) for statement in body[:start] + body[end + 1 :]):
                break
            if self.check_run(scope, _Run(suite, 0, len(body) - 1, [])) is not None:
                break
            chosen = owner
            parent = self.parents.get(owner)
            if not isinstance(parent, cst.IndentedBlock):
                break
            index = _index(parent.body, owner)
            if index is None:
                break
            suite, start, end = parent, index, index
        return chosen

    def check_run(self, scope: cst.CSTNode, run: _Run) -> str | None:
        """Why gating the statements of ``run`` would change what later code sees, or None."""
        statements = list(run.suite.body[run.start : run.end + 1])
        exit_kind = _control_exit(statements)
        if exit_kind is not None:
            return f"the statements to gate contain a {exit_kind}"
        bound = set()
        for statement in statements:
            bound |= _bound_names(statement)
        if not bound:
            return None
        run_start = _pos(self.positions[statements[0]].start)
        run_end = _pos(self.positions[statements[-1]].end)
        loops = []
        current = self.parents.get(run.suite)
        while current is not None and current is not scope:
            if isinstance(current, _Loop):
                where = self.positions[current]
                loops.append((_pos(where.start), _pos(where.end)))
            current = self.parents.get(current)
        for name, where, nested in self.name_uses(scope):
            if name not in bound:
                continue
            start, end = _pos(where.start), _pos(where.end)
            if run_start <= start and end <= run_end:
                continue  # inside the run
            later = start >= run_end
            in_loop = any(s <= start and end <= e for s, e in loops)
            if later or in_loop or nested:
                return f"'{name}' is assigned in the statements to gate and used after them"
        return None

    def name_uses(self, scope: cst.CSTNode) -> list[tuple[str, CodeRange, bool]]:
        """Every name occurrence in ``scope``: (name, range, inside a nested scope)."""
        cached = self._uses.get(id(scope))
        if cached is None:
            visitor = _Uses(self.positions)
            body = _body_suite(scope)
            for statement in body.body if body is not None else ():
                statement.visit(visitor)
            cached = self._uses[id(scope)] = visitor.found
        return cached

    # -- the flag as the scope sees it -------------------------------------------------------

    def flag_expression(self, scope: cst.CSTNode, flag: Flag, before) -> cst.BaseExpression | None:
        """How ``scope`` reads ``flag``, usable at position ``before``; None if it does not."""
        params = _param_names(scope)
        if flag.name in params:
            return cst.Name(flag.name)
        facts = _ScopeReader(flag)
        body = _body_suite(scope)
        for statement in body.body:
            statement.visit(facts)
        bindings = facts.bindings
        positions = self.positions
        if flag.name in facts.reads or flag.name in bindings:
            first = [_pos(positions[n].start) for n in bindings.get(flag.name, [])]
            if not first or min(first) < before:
                return cst.Name(flag.name)
        for alias, node in facts.aliases:
            binds = bindings.get(alias, [])
            if alias in params or len(binds) != 1 or self._after(binds[0], before):
                continue
            return cst.Name(alias)
        for node in facts.locations:
            root = root_name(access_path(node) or "")
            binds = bindings.get(root, [])
            if root in params or (binds and all(not self._after(b, before) for b in binds)) or (
                not binds and root in facts.reads
            ):
                return node.deep_clone().with_changes(lpar=[], rpar=[])
        return None

    def _after(self, node: cst.CSTNode, before) -> bool:
        return _pos(self.positions[node].end) > before


def _pos(position) -> tuple[int, int]:
    return (position.line, position.column)


def _index(body: Sequence[cst.CSTNode], child: cst.CSTNode) -> int | None:
    for index, statement in enumerate(body):
        if statement is child:
            return index
    return None


def _body_suite(scope: cst.CSTNode) -> cst.CSTNode | None:
    if isinstance(scope, cst.Module):
        return scope
    body = getattr(scope, "body", None)
    return body if isinstance(body, cst.IndentedBlock) else None


def _common_run(sinks: list[_Sink]) -> _Run:
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


def _runs_per_block(sinks: list[_Sink]) -> list[_Run]:
    """The sinks grouped by the block holding their statement; a group whose statements are
    inside another group's run joins it."""
    groups: dict[int, list[_Sink]] = defaultdict(list)
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


def _declared_bool(scope: cst.CSTNode, value: cst.BaseExpression) -> bool:
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


# ---------------------------------------------------------------------------------------------
# Names: what a run binds, where names are used, how a scope reads the flag


def _target_names(target: cst.CSTNode) -> Iterable[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


class _Binder(cst.CSTVisitor):
    """The names a statement binds in its scope (nested scopes' bodies are not entered)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.names.update(_target_names(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.names.update(_target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.names.update(_target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.names.update(_target_names(node.target))

    def visit_AsName(self, node: cst.AsName) -> None:
        self.names.update(_target_names(node.name))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.names.update(_target_names(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self.names.update(_target_names(node.target))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is None:
            name = node.name
            while isinstance(name, cst.Attribute):
                name = name.value
            if isinstance(name, cst.Name):
                self.names.add(name.value)

    def visit_Global(self, node: cst.Global) -> None:
        self.names.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.names.update(item.name.value for item in node.names)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _bound_names(statement: cst.CSTNode) -> set[str]:
    binder = _Binder()
    statement.visit(binder)
    return binder.names


class _Uses(cst.CSTVisitor):
    def __init__(self, positions) -> None:
        self.positions = positions
        self.depth = 0
        self.found: list[tuple[str, object, bool]] = []

    def _enter(self, node) -> None:
        self.depth += 1

    def _leave(self, node) -> None:
        self.depth -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        where = self.positions.get(node)
        if where is not None:
            self.found.append((node.value, where, self.depth > 0))


class _ScopeReader(cst.CSTVisitor):
    """How one scope (not its nested scopes) reads and binds names, and reads the flag."""

    def __init__(self, flag: Flag) -> None:
        self.flag = flag
        self.reads: set[str] = set()
        self.bindings: dict[str, list[cst.CSTNode]] = defaultdict(list)
        self.aliases: list[tuple[str, cst.CSTNode]] = []  # (alias, its assignment)
        self.locations: list[cst.BaseExpression] = []

    def _bind(self, target: cst.CSTNode, statement: cst.CSTNode) -> None:
        for name in _target_names(target):
            self.bindings[name].append(statement)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.bindings[node.name.value].append(node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.bindings[node.name.value].append(node)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and self._is_location(node.value):
            self.aliases.append((node.targets[0].target.value, node))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node)
        if isinstance(node.target, cst.Name) and node.value is not None and self._is_location(node.value):
            self.aliases.append((node.target.value, node))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, node)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, node)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bind(node.name, node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if self._is_location(node):
            self.locations.append(node)
        node.value.visit(self)
        return False

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self._is_location(node):
            self.locations.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if self._is_location(node):
            self.locations.append(node)

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.reads.add(node.value)

    def _is_location(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return False
        path = access_path(expr)
        return path is not None and flaglib.is_location(path, self.flag)


def _param_names(scope: cst.CSTNode) -> set[str]:
    if not isinstance(scope, cst.FunctionDef):
        return set()
    p = scope.params
    names = {param.name.value for param in (*p.posonly_params, *p.params, *p.kwonly_params)}
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


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

    def leave_For(self, node) -> None:
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


# ---------------------------------------------------------------------------------------------
# Applying the edits


class _Apply(cst.CSTTransformer):
    def __init__(self, planner: _Planner) -> None:
        self.planner = planner

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If:
        gate = self.planner.conjuncts.get(id(original_node))
        if gate is None:
            return updated_node
        return updated_node.with_changes(test=add_conjunct(updated_node.test, gate))

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        ranges = self.planner.wraps.get(id(original_node))
        if not ranges:
            return updated_node
        return updated_node.with_changes(body=wrap(updated_node.body, ranges, updated_node.indent))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        ranges = self.planner.wraps.get(id(original_node))
        return updated_node.with_changes(body=wrap(updated_node.body, ranges)) if ranges else updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        keyword = self.planner.keywords.get(id(original_node))
        if keyword is None:
            return updated_node
        return add_keyword(updated_node, *keyword)


def wrap(
    body: Sequence[cst.BaseStatement], ranges: Iterable[tuple[int, int, cst.BaseExpression]], indent: str | None = None
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
        middle = cst.Comma(whitespace_before=last.comma.whitespace_before, whitespace_after=separator)
    else:
        middle = cst.Comma(whitespace_after=separator)
    args[-1] = last.with_changes(comma=middle, whitespace_after_arg=cst.SimpleWhitespace(""))
    args.append(new.with_changes(comma=trailing, whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


# ---------------------------------------------------------------------------------------------
# Checking a plan with the analyzer


_NOT_GATED = "a gate here would not make the write gated (is the flag reassigned before it?)"
_DEAD = "the write is only reached when the flag forbids storing: a gate would make it dead code"


def _still_ungated(original: str, fixed: str, path: str, config: Config, findings: Sequence[Finding]) -> dict[Finding, str]:
    """The ``findings`` whose site the analysis of ``fixed`` does not find gated, and why.

    Sites are matched by function, callee text and order: a fix moves sites, never reorders them;
    a site that the fix made unreachable disappears (dead code: refused).
    """
    if not findings:
        return {}
    from storegate.analysis import summarize

    module_name = files.module_name(Path(path))
    try:
        before = summarize(original, path, config, module_name)
        after = summarize(fixed, path, config, module_name)
    except SourceError:
        return {finding: "internal error: the fixed file cannot be analyzed" for finding in findings}
    failed: dict[Finding, str] = {}
    for finding in findings:
        old_sites = _sites(before, finding)
        new_sites = _sites(after, finding)
        index = next(
            (i for i, site in enumerate(old_sites) if (site.span.line, site.span.column) == (finding.line, finding.column)),
            None,
        )
        if index is None or len(old_sites) != len(new_sites):
            failed[finding] = _DEAD if len(new_sites) < len(old_sites) else "internal error: the fix moved the write"
            continue
        verdict = new_sites[index].verdict(finding.flag)
        if verdict is None or not verdict.gated:
            failed[finding] = _NOT_GATED
    return failed


def _sites(summary, finding: Finding) -> list:
    for function in summary.functions:
        if function.name == finding.function:
            return sorted((s for s in function.sites if s.text == finding.sink), key=lambda s: (s.span.line, s.span.column))
    return []
