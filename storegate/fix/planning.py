"""Planning the fixes of each file: what to fix per code, then rounds of decide, edit and verify
until the analysis finds every fix gated (a group whose conjunct did not gate is wrapped instead;
a finding whose fix still fails is given up, with the reason)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import libcst as cst

from storegate import checks, files, handoffs
from storegate import routes as routelib
from storegate.analysis import parse, parse_ast
from storegate.errors import SourceError
from storegate.fix.decide import Decision, Group, GroupKey, KeywordSite, Targets, decide
from storegate.fix.edits import apply_edits
from storegate.fix.locate import Sink, Tree
from storegate.fix.results import FileFix, Refusal
from storegate.fix.verify import NOT_GATED, faithful, parse_problem, still_ungated
from storegate.model import Config, Finding, Flag, Result

# The fix strategy of each code (storegate/checks/): a conjunct or a wrap, or ``store=``.
GATE_CODES = checks.fixed_by("gate")
KEYWORD_CODES = checks.fixed_by("keyword")


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


def plan_file(path: str, findings: Sequence[Finding], config: Config, source: str | None = None) -> FileFix:
    """The ``FileFix`` of one file for its ``findings``; of ``source`` instead of the file's
    content on disk when given (an editor's buffer: ``storegate server``)."""
    findings = sorted(set(findings), key=lambda f: f.sort_key)
    try:  # read once: the bytes ``apply`` compares with are the ones the plan was made from
        if source is None:
            data = files.read_bytes(Path(path))
            text, encoding = files.decode_with_encoding(data)
        else:  # already text: its coding cookie, if any, was the editor's business
            data, text, encoding = source.encode("utf-8", "surrogatepass"), source, "utf-8"
    except SourceError as exc:
        return FileFix(path, "", "", "utf-8", (), tuple(Refusal(f, exc.message) for f in findings), b"")
    try:  # the file may have changed since it was analyzed: libcst sees only what the guard lets through
        stdlib_error = parse_ast(text)[1]
        module = parse(text, stdlib_error)
    except SourceError as exc:
        reason = "the file does not parse" if exc.message.startswith("cannot parse") else exc.message
        return FileFix(path, text, text, encoding, (), tuple(Refusal(f, reason) for f in findings), data)
    module, problem = faithful(module, text)
    if problem is not None:
        return FileFix(path, text, text, encoding, (), tuple(Refusal(f, problem) for f in findings), data)
    tree = Tree(module)
    targets = _targets(tree, findings, {flag.name: flag for flag in config.flags}, config)
    fixed_findings, refused, fixed = _settle(tree, targets, findings, text, path, config, stdlib_error is None)
    refused = sorted(refused, key=lambda r: r.finding.sort_key)
    return FileFix(path, text, fixed, encoding, tuple(fixed_findings), tuple(refused), data)


def _targets(tree: Tree, findings: Sequence[Finding], flags: Mapping[str, Flag], config: Config) -> Targets:
    """The findings located and grouped by the fix their code gets (per scope and flag for a gate).
    A handler's flag has its route's default (``store is not False`` keeps an omitted flag, right
    on Responses, a leak on Chat Completions, where the gate is ``request.store``)."""
    names = routelib.Names.of(tree.module) if config.route_defaults else routelib.NO_NAMES
    groups: dict[GroupKey, tuple] = {}
    keyword_sites: list[KeywordSite] = []
    refusals: list[Refusal] = []
    for finding in findings:
        flag = flags.get(finding.flag) or Flag(finding.flag)
        if finding.code not in (*GATE_CODES, *KEYWORD_CODES):
            reason = checks.unfixable(finding.code, flag.name)
            refusals.append(Refusal(finding, reason))
            continue
        node = tree.locate(finding)
        if node is None:
            refusals.append(Refusal(finding, "cannot find the call at this position"))
            continue
        scope = tree.scope_of(node)
        if isinstance(scope, cst.Lambda):
            refusals.append(Refusal(finding, "inside a lambda"))
            continue
        if isinstance(scope, cst.ClassDef):
            refusals.append(Refusal(finding, "in a class body"))
            continue
        if isinstance(scope, cst.FunctionDef):
            flag = routelib.with_route_default(scope, flag, config.route_defaults, names)
        if finding.code in KEYWORD_CODES:
            if isinstance(node, cst.Call) and _passes(node, flag.name):
                refusals.append(Refusal(finding, f"the call passes '{flag.name}' already: the value passed is what to change"))
            elif isinstance(node, cst.Call) and not handoffs.forwards_keywords(node):
                refusals.append(Refusal(finding, "a keyword added here does not reach the function it hands off"))
            elif isinstance(node, cst.Call):
                keyword_sites.append(KeywordSite(finding, node, scope, flag))
            else:
                refusals.append(Refusal(finding, "cannot find the call at this position"))
            continue
        key = (id(scope), flag.name)
        group = groups.setdefault(key, (scope, flag, []))  # (first seen: the order of the groups)
        chain = tree.chain(node, scope)
        if isinstance(chain, str):
            refusals.append(Refusal(finding, chain))
            continue
        group[2].append(Sink(finding, node, chain))
    return Targets(
        groups={key: Group(scope, flag, tuple(sinks)) for key, (scope, flag, sinks) in groups.items()},
        keyword_sites=tuple(keyword_sites),
        refusals=tuple(refusals),
    )


def _settle(
    tree: Tree, targets: Targets, findings: Sequence[Finding], text: str, path: str, config: Config, compiles: bool
) -> tuple[tuple[Finding, ...], list[Refusal], str]:
    """(fixed findings, refusals, fixed text) once a round's fixes all verify; each round that
    fails takes a conjunct or a fix away, so the rounds end. ``compiles``: this Python parses
    ``text`` (then it must parse the fixed text too)."""
    no_conjunct: frozenset[GroupKey] = frozenset()
    give_up: dict[Finding, str] = {}
    for _ in range(2 * len(findings) + 2):
        decision = decide(tree, targets, no_conjunct, give_up)
        if not decision.fixed:
            return (), list(decision.refused), text
        fixed = apply_edits(tree.module, decision.edits)
        problem = parse_problem(fixed, compiles)
        if problem is not None:  # a bug of the fixer: never write a file that does not parse
            bug = f"internal error: the fix does not parse ({problem})"
            return (), [*decision.refused, *(Refusal(f, bug) for f in decision.fixed)], text
        failed = still_ungated(text, fixed, path, config, [f for f in decision.fixed if f.code in GATE_CODES])
        if not failed:
            return decision.fixed, list(decision.refused), fixed
        no_conjunct, give_up = _retreat(decision, failed, no_conjunct, give_up)
    return (), [Refusal(f, "internal error: no stable fix") for f in findings], text  # pragma: no cover


def _retreat(
    decision: Decision, failed: Mapping[Finding, str], no_conjunct: frozenset[GroupKey], give_up: Mapping[Finding, str]
) -> tuple[frozenset[GroupKey], dict[Finding, str]]:
    """What the next round must not try: a group's conjunct that did not gate (it is wrapped
    instead), or, for any other failure, the finding (refused with the reason)."""
    next_no_conjunct, next_give_up = set(no_conjunct), dict(give_up)
    for finding, reason in failed.items():
        key = decision.group_of[finding]
        if key in decision.conjunct_groups and key not in next_no_conjunct and reason == NOT_GATED:
            next_no_conjunct.add(key)
        else:
            next_give_up[finding] = reason
    return frozenset(next_no_conjunct), next_give_up


def _passes(call: cst.Call, flag: str) -> bool:
    """Whether a call passes the flag already, by keyword or as a name of its own (an SG003
    that names a rebound copy of it: a keyword added would pass it twice)."""
    return any(
        (arg.keyword is not None and arg.keyword.value == flag) or (arg.keyword is None and isinstance(arg.value, cst.Name) and arg.value.value == flag)
        for arg in call.args
    )
