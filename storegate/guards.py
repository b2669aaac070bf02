"""Guard forms: what can make a site gated, as registered strategies the engine consults.

A site is gated when the facts on every path to it imply that a flag location permits storing
(``analysis.permits``). Facts come from two seams, each a registry read in order:

- ``CONDITIONS``: forms that read an expression's truth as a formula over locations. The solver
  assumes a branch's condition on each edge (``analysis.along``), and relates a value assigned
  or passed to the locations it tests, through ``truth``. Today one form, ``FlagCondition``
  (``facts.truth``): ``store``, ``not store``, ``store is False`` (with the exits that follow),
  ``body.get("store")``, a walrus, ``bool(...)``, ``and``/``or``/``if-else`` of these. ``assert``
  needs no form of its own: the CFG makes it a condition edge like ``if``.
- ``ENTRY_FORMS``: what is known at a function's entry, as ``EntryFact``s keyed by location.
  A fact is either ``always`` known (``Contracted``: what a request model's validators, or a
  dependency, guarantee, e.g. "``request.background`` is false or ``request.store`` is not
  False": ``contracts.py``) or known when every caller passes a permitting value (call-site
  facts): ``CallerPermits``, for a function that takes the flag as a parameter, reads it through
  one (``request.store``) or reads it from its enclosing function. Each such function is solved
  under both entries; the project stage (``project.permitted_entries``, through
  ``caller_decides``) says which entry applies.

A new form is one class here and one entry in its registry, plus its ``fixtures/cases``.
The project stage reads this module on a warm run that never parses: it imports no libcst.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from storegate.model import Flag
from storegate.summary import FunctionSummary

if TYPE_CHECKING:  # the analysis's types: libcst is not loaded for the project stage
    import libcst as cst

    from storegate import facts as F
    from storegate.cfg import CFG


class ConditionForm:
    """A way an expression's truth tells something about locations."""

    name: ClassVar[str]

    def formula(self, expr: cst.BaseExpression) -> F.Formula | None:
        """The formula for "``expr`` is truthy", or ``None`` if this form does not read it."""
        raise NotImplementedError


class FlagCondition(ConditionForm):
    """A condition on flag locations (and on any other location or opaque test): ``facts.truth``.
    It reads every expression, so it comes last."""

    name = "condition"

    def formula(self, expr: cst.BaseExpression) -> F.Formula:
        from storegate.facts import truth as flag_truth  # loaded with the analysis, not before

        return flag_truth(expr)


# Consulted in order; the first form that reads an expression gives its formula.
CONDITIONS: tuple[ConditionForm, ...] = (FlagCondition(),)


def truth(expr: cst.BaseExpression) -> F.Formula:
    """The formula for "``expr`` is truthy", by the first condition form that reads it."""
    for form in CONDITIONS:
        formula = form.formula(expr)
        if formula is not None:
            return formula
    raise AssertionError("FlagCondition reads every expression")  # pragma: no cover


@dataclass(frozen=True)
class EntryFact:
    """At a function's entry, ``location`` (an access path) holds one of ``values`` (a mask of
    ``model`` values), or one of the ``otherwise`` literals holds (a clause). ``flag``: with
    ``always`` False, the flag whose callers must guarantee it."""

    location: str
    values: int
    always: bool
    flag: str | None = None
    otherwise: tuple[tuple[str, int], ...] = ()

    def clause(self) -> F.Clause:
        return tuple(sorted(((self.location, self.values), *self.otherwise)))


@dataclass(frozen=True)
class EntryScope:
    """What an entry form may look at: the scope's graph, the flags it can see, and the flags
    whose value its callers decide (its parameters, and the flags a nested function reads from
    its enclosing function)."""

    graph: CFG
    flags: Sequence[Flag]
    from_callers: frozenset[str]
    given: tuple[F.Clause, ...] = ()  # what the project found guaranteed at entry (``contracts``)


class EntryForm:
    """A way something is known at a function's entry."""

    name: ClassVar[str]

    def facts(self, scope: EntryScope) -> Iterable[EntryFact]:
        raise NotImplementedError


class CallerPermits(EntryForm):
    """Call-site facts: a function that takes the flag from its callers (a parameter, or a
    location read through one: ``request.store``) knows, when every caller passes a permitting
    value, that the flag permits at its entry."""

    name = "callers"

    def facts(self, scope: EntryScope) -> Iterable[EntryFact]:
        from storegate.flags import is_location  # not at the top: the project stage reads this module without libcst

        for flag in scope.flags:
            for location in sorted(scope.from_callers):
                if location == flag.name or is_location(location, flag):  # ``store``, or read through a parameter: ``request.store``
                    yield EntryFact(location, flag.permitted, always=False, flag=flag.name)


class Contracted(EntryForm):
    """What others guarantee at the entry whatever the caller: the validators of a parameter's
    model class, a FastAPI dependency (``Project.contracts``)."""

    name = "contracts"

    def facts(self, scope: EntryScope) -> Iterable[EntryFact]:
        for (location, values), *otherwise in scope.given:
            yield EntryFact(location, values, always=True, otherwise=tuple(otherwise))


ENTRY_FORMS: tuple[EntryForm, ...] = (CallerPermits(), Contracted())


@dataclass(frozen=True)
class Entry:
    """The facts a scope is solved from: ``known`` whatever its callers pass, and per flag those
    known when every caller passes a permitting value (``known`` included)."""

    known: F.Facts
    if_permitted: dict[str, F.Facts]


def entry(scope: EntryScope) -> Entry:
    """What every entry form says of ``scope``'s entry."""
    always: set[F.Clause] = set()
    assumed: dict[str, set[F.Clause]] = {}
    for form in ENTRY_FORMS:
        for fact in form.facts(scope):
            clause = fact.clause()
            if fact.always:
                always.add(clause)
            elif fact.flag is not None:
                assumed.setdefault(fact.flag, set()).add(clause)
    known = frozenset(always)
    return Entry(known, {flag: known | clauses for flag, clauses in assumed.items()})


def caller_decides(summary: FunctionSummary, flag: Flag) -> bool:
    """Whether a summarized function takes ``flag`` from its callers (``CallerPermits``'s side in
    the project stage: such a function may be solved as if its entry permits)."""
    param = summary.param(flag.name)
    return (param is not None and not param.holds_object) or flag.name in summary.closure_flags
