"""Witness paths: a path from a scope's entry to a site along which the flag is not known to
permit, and whether there is one at all.

The must-analysis (``analysis.solve``) joins paths, so a site it finds ungated may be reachable
only along paths that assume one unchanged condition both true and false (``if persist:`` ...
``if background and persist:``). A *search* follows paths one at a time instead: facts along one
path, no joins (exact up to the clause bounds), states deduplicated by ``(block, facts)``, under a
step budget. When it explores every state and none reaches the site with the flag unknown, the
site is gated after all; when it finds one, that path is the witness; when the budget runs out,
the must-analysis's verdict stands, with a path of the breadth-first tree of its solution.

Two searches may run per solution: one over every location (its witnesses never assume a
condition both ways, whatever the condition), and, when that one runs out of budget, one over
the locations that bear on the flag (``analysis.relevant_paths``), whose states merge paths
that differ only in unrelated branches. Normal paths are explored before exception paths.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from storegate import analysis as A
from storegate import cfg as cfglib
from storegate import facts as F
from storegate import flags as flaglib
from storegate.model import Flag, TraceStep
from storegate.paths import access_path

# The steps one search may take (``facts.Work`` steps), and all the searches of one file: past
# them, the must-analysis's verdict stands (a search only ever removes findings).
SEARCH_STEPS = 60_000
FILE_SEARCH_STEPS = 2_000_000
# The steps a witness keeps: the nearest the site when a path is longer.
MAX_TRACE_STEPS = 200
_FAR = 1 << 30  # the distance of a location that does not bear on the flag


class _Everywhere(dict):
    """A ``facts.Relevance`` that keeps every location, the ones of ``near`` first."""

    def __contains__(self, path: object) -> bool:
        return True

    def get(self, path, default=None):
        return dict.get(self, path, _FAR)


@dataclass(eq=False)
class _Arrival:
    """A path from the entry to ``block``: the facts at its entry, and how it got there."""

    block: cfglib.Block
    facts: F.Facts
    parent: _Arrival | None
    edge: cfglib.Edge | None


class Search:
    """Every ``(block, facts)`` reachable from the entry, explored until the step budget is spent."""

    def __init__(self, graph: cfglib.CFG, entry: F.Facts, context, relevance: F.Relevance | None, steps: int) -> None:
        self.arrivals: dict[int, list[_Arrival]] = {}
        self.complete = False
        self.context = context
        self.relevance = relevance
        saved = context.relevant
        context.relevant = relevance
        start = F.WORK.steps
        seen: set[tuple[int, F.Facts]] = set()
        first = _Arrival(graph.entry, entry, None, None)
        # (exception edges taken, edges taken, order of discovery): normal and short paths first
        queue: list[tuple[int, int, int, _Arrival]] = [(0, 0, 0, first)]
        count = 0
        try:
            while queue:
                if F.WORK.steps - start > steps:
                    return
                raised_edges, length, _, arrival = heapq.heappop(queue)
                key = (arrival.block.index, arrival.facts)
                if key in seen:
                    continue
                seen.add(key)
                self.arrivals.setdefault(arrival.block.index, []).append(arrival)
                out, raised = A.block_exit(arrival.block, arrival.facts, context)
                for edge in arrival.block.edges:
                    incoming = A.along(edge, raised, out, context)
                    if incoming is None or (edge.target.index, incoming) in seen:
                        continue
                    count += 1
                    heapq.heappush(
                        queue, (raised_edges + edge.exceptional, length + 1, count, _Arrival(edge.target, incoming, arrival, edge))
                    )
            self.complete = True
        finally:
            context.relevant = saved

    def ungated(self, block: cfglib.Block, position: int, flag: Flag, also: Sequence[Flag] = ()) -> _Arrival | None | bool:
        """The first arrival at ``block`` whose facts before event ``position`` do not imply that the
        flag permits (nor any of ``also``: retention conditions that allow the write); ``False``
        when the search proves there is none, ``None`` when it cannot tell."""
        saved = self.context.relevant
        self.context.relevant = self.relevance
        try:
            for arrival in self.arrivals.get(block.index, ()):
                facts = arrival.facts
                for event in block.events[:position]:
                    facts = A.transfer(facts, event, self.context)
                if not A.permits(facts, flag) and not any(A.permits(facts, other) for other in also):
                    return arrival
        finally:
            self.context.relevant = saved
        return False if self.complete else None


class Witnesses:
    """The witnesses of one file's sites: searches and trees cached per solution, one budget."""

    def __init__(self, locator) -> None:
        self.locator = locator
        self.budget = FILE_SEARCH_STEPS
        self._searches: dict[tuple, Search | None] = {}
        self._trees: dict[tuple, dict] = {}
        self._texts: dict[int, str] = {}

    def clear(self) -> None:
        """Forget the scope just summarized (its graphs and solutions are thrown away)."""
        self._searches.clear()
        self._trees.clear()

    def find(
        self,
        graph: cfglib.CFG,
        states: dict[int, F.Facts],
        block: cfglib.Block,
        site: cst.CSTNode,
        flag: Flag,
        context,
        also: Sequence[Flag] = (),
    ) -> tuple[TraceStep, ...] | None:
        """A witness for ``site`` in ``block``, which the must-analysis of ``states`` finds ungated;
        ``None`` when no path reaches it without the flag (or one of ``also``) permitting: it is
        gated after all."""
        position = _position(block, site)
        entry = states.get(graph.entry.index, F.EMPTY)
        near = dict(context.relevant) if context.relevant is not None else {}
        proven = False
        for kind, relevance in (("every", _Everywhere(near)), ("relevant", context.relevant)):
            search = self._search(graph, states, flag, kind, entry, context, relevance)
            if search is None:
                break
            found = search.ungated(block, position, flag, also)
            if isinstance(found, _Arrival):
                return self._trace(graph, _path(found), block, position, flag, context)
            if found is False:
                proven = True
                break
        if proven:
            return None
        tree = self._tree(graph, states, flag, context)
        path: list[cfglib.Edge] = []
        current = block.index
        while current in tree:
            source, edge = tree[current]
            path.append(edge)
            current = source.index
        path.reverse()
        return self._trace(graph, path, block, position, flag, context)

    def _search(self, graph, states, flag, kind, entry, context, relevance) -> Search | None:
        """The search of one solution (``None``: the file's budget is spent)."""
        key = (id(graph), id(states), flag.name, kind)
        if key not in self._searches:
            if self.budget <= 0:
                return None
            before = F.WORK.steps
            self._searches[key] = Search(graph, entry, context, relevance, min(SEARCH_STEPS, self.budget))
            self.budget -= F.WORK.steps - before
        return self._searches[key]

    def _tree(self, graph, states, flag, context) -> dict[int, tuple[cfglib.Block, cfglib.Edge]]:
        key = (id(graph), id(states), flag.name)
        tree = self._trees.get(key)
        if tree is None:
            tree = self._trees[key] = _witness_tree(graph, states, flag, context)
        return tree

    # -- the steps ------------------------------------------------------------------------

    def _trace(
        self, graph: cfglib.CFG, path: list[cfglib.Edge], block: cfglib.Block, position: int, flag: Flag, context
    ) -> tuple[TraceStep, ...]:
        """Where the flag came from, then each branch and assignment of the flag along the path
        (``relevant``: the branch mentions the flag or a location correlated with it)."""
        near = context.relevant or {}
        steps: list[TraceStep] = []
        blocks = [graph.entry, *(edge.target for edge in path)]
        for index, current in enumerate(blocks):
            events = current.events[:position] if index == len(blocks) - 1 else current.events
            for event in events:
                step = self._binding(event, flag, context)
                if step is not None:
                    steps.append(step)
            if index < len(path):
                edge = path[index]
                if edge.test is not None:
                    line = self.locator.line(edge.owner) if edge.owner is not None else 0
                    outcome = "true" if edge.polarity else "false"
                    text = self._texts.get(id(edge.test))
                    if text is None:
                        text = self._texts[id(edge.test)] = _short(A._code(edge.test))
                    mentioned = F.formula_paths(context.formula(edge.test))
                    steps.append(TraceStep(line, f"if {text} -> {outcome}", any(p in near for p in mentioned)))
                elif edge.exceptional:
                    line = self.locator.line(edge.owner) if edge.owner is not None else 0
                    steps.append(TraceStep(line, "exception -> handler"))
        if len(steps) > MAX_TRACE_STEPS:  # the steps nearest the site tell the story
            steps = [TraceStep(0, "..."), *steps[-MAX_TRACE_STEPS:]]
        return (*self._origin(graph, flag, context), *steps)

    def _origin(self, graph: cfglib.CFG, flag: Flag, context) -> tuple[TraceStep, ...]:
        """Where the flag comes from: a parameter of the scope, else the request field read (not
        a field of a comprehension's own item)."""
        scope = graph.scope
        if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
            params = scope.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                if flaglib.is_location(param.name.value, flag):
                    return (TraceStep(self.locator.line(param), f"flag '{param.name.value}': parameter"),)
        for path in sorted(context.relevant or (), key=lambda p: (context.relevant[p], p)):
            if flaglib.is_location(path, flag) and not path.endswith(">") and path != flag.name and cfglib.LOCAL not in path:
                return (TraceStep(0, f"flag '{path}': request field"),)
        return ()

    def _binding(self, event: cfglib.Event, flag: Flag, context) -> TraceStep | None:
        """An assignment that defines an alias of the flag or rebinds it (``persist = bool(request.store)``)."""
        if not isinstance(event, cfglib.BindEvent) or event.value is None:
            return None
        target = access_path(event.target)
        if target is None:
            return None
        resolved = context.path(target)
        source = access_path(event.value)
        mentioned = {context.path(source)} if source is not None else F.formula_paths(context.formula(event.value))
        if not any(flaglib.is_location(p, flag) for p in (resolved, *mentioned) if p is not None):
            return None
        text = _short(f"{A._code(event.target)} = {A._code(event.value)}")
        return TraceStep(self.locator.line(event.node), text)


def _position(block: cfglib.Block, site: cst.CSTNode) -> int:
    """The index of the site's event in its block."""
    for index, event in enumerate(block.events):
        node = event.node if isinstance(event, cfglib.CallEvent) else event.target
        if node is site:
            return index
    return len(block.events)


def _path(arrival: _Arrival) -> list[cfglib.Edge]:
    edges: list[cfglib.Edge] = []
    while arrival.edge is not None:
        edges.append(arrival.edge)
        assert arrival.parent is not None  # an arrival through an edge has the one it left
        arrival = arrival.parent
    edges.reverse()
    return edges


def _witness_tree(
    graph: cfglib.CFG, states: dict[int, F.Facts], flag: Flag, context
) -> dict[int, tuple[cfglib.Block, cfglib.Edge]]:
    """Block -> (parent block, edge) over the must-analysis's solution: first through
    non-permitting edges only, then any (the witness when the searches ran out of budget)."""
    tree: dict[int, tuple[cfglib.Block, cfglib.Edge]] = {}
    reached = {graph.entry.index}
    for only_unpermitted in (True, False):
        queue = deque(graph.blocks[i] for i in sorted(reached))
        while queue:
            block = queue.popleft()
            facts = states.get(block.index)
            if facts is None:
                continue
            out, raised = A.block_exit(block, facts, context)
            for edge in sorted(block.edges, key=lambda e: e.exceptional):
                target = edge.target.index
                if target in reached:
                    continue
                incoming = A.along(edge, raised, out, context)
                if incoming is None or (only_unpermitted and A.permits(incoming, flag)):
                    continue
                reached.add(target)
                tree[target] = (block, edge)
                queue.append(edge.target)
    return tree


def _short(text: str, limit: int = 72) -> str:
    """Code as a witness shows it: a comprehension's own names as the source spells them
    (``cfg.LOCAL`` marks them apart in the graph), cut at ``limit`` characters."""
    text = text.replace(cfglib.LOCAL, "")
    return text if len(text) <= limit else text[: limit - 3] + "..."
