"""The must-analysis of one scope over its CFG, and the per-module driver.

A sink is gated when, on every path from the scope's entry to it, the facts imply that a flag
location holds a permitted value. Facts flow forward; joins take what holds on both sides.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from storegate import cfg as cfglib
from storegate import facts as F
from storegate import flags as flaglib
from storegate.errors import SourceError
from storegate.model import Config, Finding, Flag, Sink
from storegate.paths import access_path
from storegate.sinks import SinkMatcher

# A block visited more often than this joins by plain intersection, which always terminates.
_EXACT_JOIN_VISITS = 8


def analyze_source(source: str, path: str, config: Config, module: str | None = None) -> list[Finding]:
    """Findings for one file's source text. Raises ``SourceError`` if it does not parse."""
    if not config.flags or not config.sinks:
        return []
    if not any(flag.name in source for flag in config.flags):
        return []  # no scope of this file can see a flag
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise SourceError(f"cannot parse: {exc.message} (line {exc.raw_line}, column {exc.raw_column + 1})", exc.raw_line) from None
    return ModuleAnalysis(tree, path, config, module).findings()


@dataclass(frozen=True)
class Ungated:
    """A sink that some path reaches without the flag's permission."""

    node: cst.CSTNode
    sink_text: str
    sink: Sink
    flag: Flag
    function: str
    kind: str  # "call" or "write"


class ModuleAnalysis:
    def __init__(self, tree: cst.Module, path: str, config: Config, module: str | None) -> None:
        self.tree = tree
        self.path = path
        self.config = config
        self.matcher = SinkMatcher(config.sinks)
        self.imports = collect_imports(tree, module)

    def findings(self) -> list[Finding]:
        ungated: list[Ungated] = []
        stack: list[tuple[cfglib.Scope, str]] = [(self.tree, "<module>")]
        while stack:
            scope, name = stack.pop()
            graph = cfglib.build(scope)
            ungated.extend(self.check_scope(graph, name))
            prefix = "" if name == "<module>" else name + "."
            for child in graph.nested:
                stack.append((child, prefix + ("<lambda>" if isinstance(child, cst.Lambda) else child.name.value)))
        if not ungated:
            return []
        positions = MetadataWrapper(self.tree, unsafe_skip_copy=True).resolve(PositionProvider)
        out = []
        for item in ungated:
            where = positions[item.node]
            noun = "persistence call" if item.kind == "call" else "persistence write"
            message = f"{noun} '{item.sink_text}' is not gated by '{item.flag.gate_text}'"
            out.append(
                Finding(
                    path=self.path,
                    line=where.start.line,
                    column=where.start.column + 1,
                    end_line=where.end.line,
                    end_column=where.end.column + 1,
                    code="SG001",
                    message=message,
                    sink=item.sink_text,
                    flag=item.flag.name,
                    function=item.function,
                )
            )
        return out

    def check_scope(self, graph: cfglib.CFG, name: str) -> list[Ungated]:
        flags = [f for f in self.config.flags if flaglib.available(f, graph.params, graph.names, graph.accessed)]
        if not flags:
            return []
        sinks = list(self._sink_events(graph))
        if not sinks:
            return []
        states = solve(graph)
        verdicts: dict[int, tuple[cst.CSTNode, str, Sink, str, set[str]]] = {}
        for block in graph.blocks:
            facts = states.get(block.index)
            if facts is None:
                continue  # unreachable
            for event in block.events:
                match = self._match(event)
                if match is not None:
                    node, text, sink, kind = match
                    entry = verdicts.setdefault(id(node), (node, text, sink, kind, set()))
                    for flag in flags:
                        if not permits(facts, flag):
                            entry[4].add(flag.name)
                facts = transfer(facts, event)
        out = []
        by_name = {flag.name: flag for flag in flags}
        for node, text, sink, kind, missing in verdicts.values():
            for flag_name in sorted(missing):
                out.append(Ungated(node, text, sink, by_name[flag_name], name, kind))
        return out

    def _sink_events(self, graph: cfglib.CFG) -> Iterator[cfglib.Event]:
        for block in graph.blocks:
            for event in block.events:
                if self._match(event) is not None:
                    yield event

    def _match(self, event: cfglib.Event) -> tuple[cst.CSTNode, str, Sink, str] | None:
        if isinstance(event, cfglib.CallEvent):
            found = self.matcher.match_call(event.node, self.imports)
            return None if found is None else (event.node, found[0], found[1], "call")
        if event.kind in ("assign", "augassign", "annassign", "delete"):
            found = self.matcher.match_write(event.target, self.imports)
            return None if found is None else (event.target, found[0], found[1], "write")
        return None


def permits(facts: F.Facts, flag: Flag) -> bool:
    """Whether the facts imply that some location of ``flag`` allows writing."""
    candidates = {p for p in F.paths_in(facts) if flaglib.is_location(p, flag)}
    return any(F.entails(facts, p, flag.permitted) for p in candidates)


def transfer(facts: F.Facts, event: cfglib.Event) -> F.Facts:
    if isinstance(event, cfglib.BindEvent):
        target = event.target
        path = access_path(target)
        if path is not None:
            return F.bind(facts, path, event.value)
        if isinstance(target, (cst.Subscript, cst.Attribute)):
            base = access_path(target.value)
            if base is not None:
                return F.kill(facts, base)
    return facts


def solve(graph: cfglib.CFG) -> dict[int, F.Facts]:
    """Facts at the entry of every reachable block (a forward must-analysis to a fixpoint)."""
    states: dict[int, F.Facts] = {graph.entry.index: F.EMPTY}
    visits: dict[int, int] = {}
    formulas: dict[int, F.Formula] = {}
    work = deque([graph.entry])
    queued = {graph.entry.index}
    while work:
        block = work.popleft()
        queued.discard(block.index)
        entry = states[block.index]
        out = entry
        for event in block.events:
            out = transfer(out, event)
        for edge in block.edges:
            if edge.exceptional:
                incoming: F.Facts | None = entry
            elif edge.test is None:
                incoming = out
            else:
                formula = formulas.get(id(edge.test))
                if formula is None:
                    formula = formulas[id(edge.test)] = F.truth(edge.test)
                incoming = F.assume(out, formula if edge.polarity else F.negate(formula))
                if incoming is None:
                    continue  # this outcome is impossible here
            target = edge.target.index
            old = states.get(target)
            count = visits[target] = visits.get(target, 0) + 1
            new = F.meet(old, incoming, exact=count <= _EXACT_JOIN_VISITS)
            if old is None or new != old:
                states[target] = new
                if target not in queued:
                    queued.add(target)
                    work.append(edge.target)
    return states


def collect_imports(tree: cst.Module, module: str | None) -> dict[str, str]:
    """Local name -> qualified name for every import statement of the module."""
    imports: dict[str, str] = {}
    package = module.rsplit(".", 1)[0] if module and "." in module else ""
    for stmt in _all_small_statements(tree.body):
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                full = _dotted(alias.name)
                if alias.asname is not None:
                    imports[alias.asname.name.value] = full
                else:
                    root = full.split(".", 1)[0]
                    imports[root] = root
        elif isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar):
            base = _dotted(stmt.module) if stmt.module is not None else ""
            if stmt.relative:
                parts = package.split(".") if package else []
                up = len(stmt.relative) - 1
                parts = parts[: len(parts) - up] if up else parts
                base = ".".join(p for p in [*parts, base] if p)
            for alias in stmt.names:
                name = _dotted(alias.name)
                local = alias.asname.name.value if alias.asname is not None else name
                imports[local] = f"{base}.{name}" if base else name
    return imports


def _dotted(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr.value}"
    return ""


def _all_small_statements(body) -> Iterator[cst.BaseSmallStatement]:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        else:
            for suite in _suites(stmt):
                if isinstance(suite, cst.IndentedBlock):
                    yield from _all_small_statements(suite.body)
                elif isinstance(suite, cst.SimpleStatementSuite):
                    yield from suite.body


def _suites(stmt: cst.BaseCompoundStatement) -> Iterator[cst.BaseSuite]:
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield body
    for name in ("orelse", "finalbody"):
        other = getattr(stmt, name, None)
        if isinstance(other, cst.If):
            yield from _suites(other)
        elif other is not None:
            yield other.body
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    for case in getattr(stmt, "cases", ()):
        yield case.body

