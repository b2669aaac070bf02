"""What every check module is made of: its ``Code`` (documentation, level, fix strategy, how it is
suppressed, its decision) and the ``At`` it decides on (one site of the resolved project, for one
flag, with the questions a check may ask about it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from storegate.model import Finding, Flag, TraceStep

if TYPE_CHECKING:
    from storegate.project import Chain, Project, _Function
    from storegate.summary import FunctionSummary, ModuleSummary, Site

Level = Literal["error", "warning", "note"]
FixStrategy = Literal["gate", "keyword"]
# Which sites a code judges: those of functions that have the flag, or those of route handlers
# that do not. The sites of other functions are never judged (most sites, on a large tree).
Scope = Literal["has_flag", "route_handler"]


@dataclass(frozen=True)
class Code:
    """One code: its documentation, how it is reported and fixed, and its decision.

    ``bad`` and ``good`` are real examples: under the default configuration (the ``openai`` pack,
    ``--report-unused-ignores``), ``bad`` yields this code once and ``good`` nothing
    (``tests/test_checks.py`` runs them). ``level`` is the SARIF level. ``fix`` is what
    ``storegate check --fix`` does: ``"gate"`` puts the call under the flag, ``"keyword"`` passes
    the flag to the callee, ``None`` refuses with ``unfixable`` (``{flag}`` and ``{code}`` are
    filled in). ``suppress`` tells how to silence it (by default: a comment, ``--ignore`` or a
    baseline). ``decide`` gives the findings of one ``At`` of its ``scope``; ``None`` for a code
    that is not a judgement of the project (SG100 comes from the suppression filter).
    """

    code: str
    name: str
    summary: str
    what: str
    why: str
    bad: str
    good: str
    decide: Callable[[At], Iterable[Finding]] | None
    scope: Scope = "has_flag"
    # also judges a route handler's site behind a field that carries the flag (``if options.keep:``,
    # ``fields.py``), where the handler reads no flag itself
    field_gated: bool = False
    level: Level = "error"
    fix: FixStrategy | None = None
    unfixable: str = "no automatic fix for {code}"
    suppress: str = ""

    def __post_init__(self) -> None:
        if not self.suppress:
            object.__setattr__(
                self,
                "suppress",
                f"Put `# storegate: ignore[{self.code}]` (or `# noqa: {self.code}`) at the end of the "
                f"reported line, pass `--ignore {self.code}`, or record the finding in a baseline "
                "(`--write-baseline FILE`, then `--baseline FILE`).",
            )


class At:
    """One site (call or container write) of one function, judged for one flag.

    A plain class with slots, not a dataclass: one is made per site and flag.
    """

    __slots__ = ("project", "flag", "derived", "module", "function", "site", "target", "entry_permitted")

    def __init__(
        self,
        project: Project,
        flag: Flag,
        derived: dict[str, Chain],
        module: ModuleSummary,
        function: FunctionSummary,
        site: Site,
        target: _Function | None,
        entry_permitted: bool,
    ) -> None:
        self.project = project
        self.flag = flag
        self.derived = derived  # the derived sinks of this flag: fq -> the chain to the sink
        self.module = module
        self.function = function
        self.site = site
        self.target = target  # the resolved callee, if any
        self.entry_permitted = entry_permitted  # every caller passes a flag that permits storing

    def ungated(self) -> tuple[TraceStep, ...] | None:
        """The witness of a path that reaches the site with the flag unchecked; ``None`` when
        every path checks it, when the flag chose the object it calls (``Project.chosen_by_flag``),
        or when the site was not judged for this flag."""
        verdict = self.site.verdict(self.flag.name)
        if verdict is None:
            return self._carried()
        if self.entry_permitted:
            trace = None if verdict.gated_if_permitted else verdict.trace_if_permitted
        else:
            trace = None if verdict.gated else verdict.trace
        if trace is None or self.project.chosen_by_flag(self.module, self.function, self.site, self.flag):
            return None  # the object the flag chose is asked last, of an ungated site only
        if self.site.gates and self.project.gate_passed(self.module, self.function, self.site, self.flag):
            return None  # ``if persist:`` where every caller passes ``persist=should_store(request)``
        return trace

    def _carried(self) -> tuple[TraceStep, ...] | None:
        """For a function that takes the flag inside an object and never reads it
        (``Project.carriers``), every path leaves it unchecked, unless each caller permits; not
        a write into the object's own containers (a stream's iterator banking the items of a
        response that echoes ``store``, itself or through ``self._bank(r)``): what the object
        keeps, its owner decides. Another object's (``self.feed.record(entry)``, a feed the app
        holds) keeps what it is given."""
        carried = self.project.carriers(self.flag).get(f"{self.module.module}.{self.function.name}")
        if carried is None or self.entry_permitted or self.project.chosen_by_flag(self.module, self.function, self.site, self.flag):
            return None
        derived = self._derived()
        own = derived is not None and derived[0].fq in self.project.own_state.get(self.flag.name, ())
        if self.site.sink_kind == "instance" or (own and self.site.text.count(".") == 1 and self.site.text.startswith(("self.", "cls."))):
            return None
        return (TraceStep(self.site.span.line, f"flag '{self.flag.name}' carried by {carried}, never checked"),)

    def derived_chain(self) -> Chain | None:
        """The calls from the callee down to a configured sink, when the callee persists (any
        callee, when its receiver may hold several classes: ``Project.resolve_all``)."""
        found = self._derived()
        return None if found is None else found[1]

    def chains(self) -> tuple[Chain, ...]:
        """The derived chain, then each other write the same callee reaches through a call or a
        write of its own (``Project.ways``): a report names every write behind the call, not only
        the nearest, the object's own containers too when the object outlives the request (a
        registry the app holds, keeping a stream's events after it ends). Empty when the callee
        does not persist."""
        found = self._derived()
        if found is None:
            return ()
        target, chain = found
        lasting = not (self.project.made_here(self.module, self.function, self.site) or self.project.made_per_request(target))
        ways = self.project.ways(self.flag, self.derived, target.fq, own_writes=lasting)
        if ways and chain[-1] not in {way[-1] for way in ways}:
            return tuple(ways)  # the shortest chain runs through a write a parameter switches off (``if persist:``)
        return (chain, *(way for way in ways if way[-1] != chain[-1]))

    def _derived(self) -> tuple[_Function, Chain] | None:
        from storegate.project import enters, records_status  # (a warm run never needs the project)

        if self.target is None or records_status(self.site):
            return None
        own = self.project.own_state.get(self.flag.name, set())
        found: tuple[_Function, Chain] | None = None
        for target in self.project.resolve_all(self.module, self.function, self.site):
            chain = self.derived.get(target.fq) if enters(f"{self.module.module}.{self.function.name}", self.site, target) else None
            if chain is None or (target.fq in own and (self.project.made_here(self.module, self.function, self.site) or self.project.made_per_request(target))):
                continue
            if self.project.fills_cache(self.flag, target):
                continue
            if self.project.closed(self.flag, self.derived, self.site, target, self._caller()):
                continue  # its writes are switched off here (``log_prompt(body, enabled=should_store)``)
            if not self.project.into_scratch(self.module, self.function, self.site, target, chain):
                if target.fq not in own:
                    return target, chain
                found = found or (target, chain)  # the object's own containers: another class's may persist
        return found

    def switched_off(self) -> bool:
        """Whether the call switches off every write of each callee (``Project.closed``:
        ``log_prompt(body, enabled=should_store)``): what it calls keeps nothing here."""
        if self.target is None or self.site.kind != "call":
            return False
        targets = self.project.resolve_all(self.module, self.function, self.site)
        caller = self._caller()
        return bool(targets) and all(self.project.closed(self.flag, self.derived, self.site, target, caller) for target in targets)

    def scratch(self) -> bool:
        """Whether the site writes its own object's containers, an object made only while a
        request is handled (``Project.made_per_request``: a ``StreamingRun`` a handler builds):
        the request's scratch, as a local is."""
        caller = self._caller()
        return self.site.sink_kind == "instance" and caller is not None and self.project.made_per_request(caller)

    def _caller(self) -> _Function | None:
        return self.project.functions.get(f"{self.module.module}.{self.function.name}")

    def drops_flag(self) -> bool:
        """A call that does not pass the flag to a callee whose default for it permits storing."""
        from storegate.project import drops_flag  # not at the top: the registry is read on a warm run, which never needs the project

        return drops_flag(self.site, self.target, self.flag)

    def passes_rebound_flag(self) -> str | None:
        """The flag location the call passes for the callee's flag that the caller rebound to a value that may keep (``project.passes_rebound_flag``)."""
        from storegate.project import passes_rebound_flag  # (see ``drops_flag``)

        return passes_rebound_flag(self.site, self.target, self.flag)

    def call_trace(self, chain: Chain | None = None, others: Iterable[Chain] = ()) -> tuple[TraceStep, ...]:
        """The call step of a trace, with the chain of calls down to the sink it reaches (the
        derived sink's, unless ``chain`` is given), then a step for each of ``others``."""
        chain = chain if chain is not None else self.derived_chain()
        if chain is None:
            return (TraceStep(self.site.span.line, f"call {self.site.text}"),)
        path = self.module.path

        def step(chain: Chain, lead: str) -> TraceStep:
            rest = " -> ".join(f"{line} {text}" if where == path else f"{where}:{line} {text}" for where, line, text in chain)
            return TraceStep(self.site.span.line, f"{lead} {self.site.text} -> {rest}")

        return (step(chain, "call"), *(step(other, "also through") for other in others))

    def finding(self, code: str, message: str, trace: Iterable[TraceStep] = (), kind: str | None = None) -> Finding:
        """A finding on this site; ``kind`` (why its sink is persistence) defaults to the kind of
        its sink, or of the sink its callee's chain ends at (``Project.sink_kind``)."""
        span = self.site.span
        return Finding(
            path=self.module.path,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
            code=code,
            message=message,
            sink=self.site.text,
            flag=self.flag.name,
            function=self.function.name,
            trace=tuple(trace),
            kind=kind if kind is not None else self.project.sink_kind(self.site, self.derived_chain()),
        )


# The chains a message shows; the trace has them all.
SHOWN_CHAINS = 3


def arrows(chains: Sequence[Chain]) -> str:
    """Chains of calls as a message shows them: ``-> a -> b; -> c``, the first ``SHOWN_CHAINS``
    and how many more the trace (``--explain``) lists."""
    shown = "; ".join("-> " + " -> ".join(text for _, _, text in chain) for chain in chains[:SHOWN_CHAINS])
    more = len(chains) - SHOWN_CHAINS
    return f"{shown}; {more} more write{'s' if more > 1 else ''} (--explain)" if more > 0 else shown
