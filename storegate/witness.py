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
from collections.abc import Callable, Hashable, Sequence
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
        # The step an event or edge shows, per flag, in the scope being summarized: many sites'
        # witnesses share their paths.
        self._steps: dict[tuple[int, str], TraceStep | None] = {}
        self._origins: dict[tuple[int, str], tuple[TraceStep, ...]] = {}
        self._chains: dict[tuple[Hashable, str], _Steps | None] = {}

    def clear(self) -> None:
        """Forget the scope just summarized (its graphs and solutions are thrown away)."""
        self._searches.clear()
        self._trees.clear()
        self._steps.clear()
        self._origins.clear()
        self._chains.clear()

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
                return self._trace(graph, self._chain(found, _arrival_parent, flag, context), block, position, flag, context)
            if found is False:
                proven = True
                break
        if proven:
            return None
        tree = self._tree(graph, states, flag, context)

        def tree_parent(index: int) -> tuple[int, cfglib.Block, cfglib.Edge] | None:
            if index not in tree:
                return None
            source, edge = tree[index]
            return source.index, source, edge

        return self._trace(graph, self._chain(("tree", id(tree), block.index), _keyed(tree_parent), flag, context), block, position, flag, context)

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

    def _chain(self, node: Hashable, parent_of: Callable, flag: Flag, context) -> _Steps | None:
        """The steps of the path that ``node`` ends (an arrival of a search, or a block of a
        witness tree) at its block's entry, memoised per node: the witnesses of many sites share
        their paths' beginnings, so each prefix's steps are computed once. ``parent_of(node)``:
        ``(parent node, the parent's block, the edge from it)``, or ``None`` at the entry."""
        memo = self._chains
        pending = []
        current: Hashable | None = node
        while current is not None and (current, flag.name) not in memo:
            pending.append(current)
            up = parent_of(current)
            current = up[0] if up is not None else None
        for item in reversed(pending):
            up = parent_of(item)
            chain: _Steps | None = None
            if up is not None:
                parent, parent_block, edge = up
                earlier = memo[(parent, flag.name)]
                own = [step for event in parent_block.events if (step := self._binding(event, flag, context)) is not None]
                step = self._edge_step(edge, flag, context)
                if step is not None:
                    own.append(step)
                chain = _Steps(tuple(own), earlier) if own else earlier
            memo[(item, flag.name)] = chain
        return memo[(node, flag.name)]

    def _trace(
        self, graph: cfglib.CFG, chain: _Steps | None, block: cfglib.Block, position: int, flag: Flag, context
    ) -> tuple[TraceStep, ...]:
        """Where the flag came from, then each branch and assignment of the flag along the path
        (``chain``: its steps up to ``block``'s entry; ``relevant``: the branch mentions the flag
        or a location correlated with it)."""
        # Read from the site back to the entry, stopping past MAX_TRACE_STEPS: the steps nearest
        # the site tell the story.
        backwards = [
            step for event in reversed(block.events[:position]) if (step := self._binding(event, flag, context)) is not None
        ]
        while chain is not None and len(backwards) <= MAX_TRACE_STEPS:
            backwards.extend(reversed(chain.own))
            chain = chain.earlier
        if len(backwards) > MAX_TRACE_STEPS:
            backwards = [*backwards[:MAX_TRACE_STEPS], TraceStep(0, "...")]
        backwards.reverse()
        key = (id(graph), flag.name)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = self._origin(graph, flag, context)
        return (*origin, *backwards)

    def _edge_step(self, edge: cfglib.Edge, flag: Flag, context) -> TraceStep | None:
        """The step a branch or an exception edge shows (``relevant``: its condition mentions the
        flag or a location correlated with it)."""
        key = (id(edge), flag.name)
        if key in self._steps:
            return self._steps[key]
        step: TraceStep | None = None
        if edge.test is not None:
            line = self.locator.line(edge.owner) if edge.owner is not None else 0
            outcome = "true" if edge.polarity else "false"
            text = self._texts.get(id(edge.test))
            if text is None:
                text = self._texts[id(edge.test)] = _short(A._code(edge.test))
            near = context.relevant or {}
            mentioned = F.formula_paths(context.formula(edge.test))
            step = TraceStep(line, f"if {text} -> {outcome}", any(p in near for p in mentioned))
        elif edge.exceptional:
            line = self.locator.line(edge.owner) if edge.owner is not None else 0
            step = TraceStep(line, "exception -> handler")
        self._steps[key] = step
        return step

    def _origin(self, graph: cfglib.CFG, flag: Flag, context) -> tuple[TraceStep, ...]:
        """Where the flag comes from: a parameter of the scope, else the request field read (not
        a field of a comprehension's own item)."""
        scope = graph.scope
        if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
            params = scope.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                if flaglib.is_location(param.name.value, flag):
                    line = self.locator.parameter_line(scope, param) if isinstance(scope, cst.FunctionDef) else self.locator.line(param)
                    return (TraceStep(line, f"flag '{param.name.value}': parameter"),)
        for path in sorted(context.relevant or (), key=lambda p: (context.relevant[p], p)):
            if flaglib.is_location(path, flag) and not path.endswith(">") and path != flag.name and cfglib.LOCAL not in path:
                return (TraceStep(0, f"flag '{path}': request field"),)
        return ()

    def _binding(self, event: cfglib.Event, flag: Flag, context) -> TraceStep | None:
        """An assignment that defines an alias of the flag or rebinds it (``persist = bool(request.store)``)."""
        if not isinstance(event, cfglib.BindEvent) or event.value is None:
            return None
        key = (id(event), flag.name)
        if key not in self._steps:
            self._steps[key] = self._bound(event, flag, context)
        return self._steps[key]

    def _bound(self, event: cfglib.BindEvent, flag: Flag, context) -> TraceStep | None:
        """``_binding``'s step, computed once per event and flag."""
        assert event.value is not None
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


@dataclass(frozen=True, eq=False)
class _Steps:
    """The steps of a path's prefix, as a chain: the prefix's own last steps (never empty) and
    the nearest shorter prefix that has some."""

    own: tuple[TraceStep, ...]
    earlier: _Steps | None


def _arrival_parent(arrival: _Arrival) -> tuple[_Arrival, cfglib.Block, cfglib.Edge] | None:
    if arrival.parent is None or arrival.edge is None:
        return None
    return arrival.parent, arrival.parent.block, arrival.edge


def _keyed(parent_of: Callable) -> Callable:
    """A witness tree's ``parent_of`` over nodes ``("tree", id(tree), block index)``."""

    def parent(node: tuple) -> tuple | None:
        up = parent_of(node[2])
        return None if up is None else ((node[0], node[1], up[0]), up[1], up[2])

    return parent


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
