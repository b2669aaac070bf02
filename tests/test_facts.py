"""The fact algebra (``storegate.facts``) on its own: conditions, clauses, meet, kill, implication.

The oracle is brute force. A *state* gives each location one abstract value (TRUE, FALSE or
NONE); a formula or a set of clauses holds in a state or not. Over two or three locations every
state can be enumerated, so "``x`` is implied by ``y``" is checked by looking at all of them, and
the soundness of each operation is checked as "every state the inputs allow, the output allows"
(the analysis may lose knowledge, never invent it: losing it reports more, inventing it less).
"""

from __future__ import annotations

import itertools
import random

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storegate import facts as F
from storegate.analysis import permits
from storegate.model import ANY, FALSE, NONE, TRUE, Flag

VALUES = (TRUE, FALSE, NONE)
PATHS = ("a", "b", "c")
ABSTRACT = {True: TRUE, False: FALSE, None: NONE}


@pytest.fixture(autouse=True, scope="module")
def no_budget():
    """``WORK`` is process-wide: these tests run without a limit and leave none behind."""
    F.WORK.start(None)
    yield
    F.WORK.start(None)


# -- the brute-force oracle -------------------------------------------------------------------


def holds(formula: F.Formula, state: dict[str, int]) -> bool:
    kind = formula[0]
    if kind == "const":
        return formula[1]
    if kind == "lit":
        return bool(state[formula[1]] & formula[2])
    if kind == "not":
        return not holds(formula[1], state)
    left, right = holds(formula[1], state), holds(formula[2], state)
    return left and right if kind == "and" else left or right


def satisfies(state: dict[str, int], clauses) -> bool:
    return all(any(state[path] & mask for path, mask in clause) for clause in clauses)


def states(paths=PATHS):
    for values in itertools.product(VALUES, repeat=len(paths)):
        yield dict(zip(paths, values))


def models(clauses, paths=PATHS) -> list[dict[str, int]]:
    return [state for state in states(paths) if satisfies(state, clauses)]


def formula_models(formula: F.Formula, paths=PATHS) -> list[dict[str, int]]:
    return [state for state in states(paths) if holds(formula, state)]


def truth_of(code: str) -> F.Formula:
    return F.truth(cst.parse_expression(code))


def lit(path: str, mask: int = TRUE) -> F.Formula:
    return ("lit", path, mask)


# -- strategies --------------------------------------------------------------------------------

masks = st.integers(min_value=1, max_value=ANY - 1)  # a literal that is neither false nor true
state_strategy = st.tuples(*(st.sampled_from(VALUES) for _ in PATHS)).map(lambda v: dict(zip(PATHS, v)))


@st.composite
def clauses(draw, paths=PATHS):
    chosen = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=len(paths), unique=True))
    return tuple(sorted((path, draw(masks)) for path in chosen))


fact_sets = st.frozensets(clauses(), max_size=5)


@st.composite
def facts_holding_in(draw, state: dict[str, int], min_size: int = 0, max_size: int = 5, paths=PATHS):
    """Clauses that all hold in ``state``: each drawn clause gets the state's value on one literal."""
    out = set()
    for clause in draw(st.lists(clauses(paths), min_size=min_size, max_size=max_size)):
        as_dict = dict(clause)
        path = draw(st.sampled_from(sorted(as_dict)))
        as_dict[path] |= state[path]
        if as_dict[path] == ANY:
            as_dict = {path: state[path]}
        out.add(tuple(sorted(as_dict.items())))
    return frozenset(out)


formulas = st.recursive(
    st.one_of(
        st.builds(lit, st.sampled_from(PATHS), st.integers(min_value=0, max_value=ANY)),
        st.sampled_from([F.TRUE_F, F.FALSE_F]),
    ),
    lambda inner: st.one_of(
        inner.map(F.negate),
        st.tuples(st.sampled_from(["and", "or"]), inner, inner),
    ),
    max_leaves=8,
)


def python_conditions():
    """Source of a condition over ``a``, ``b``, ``c`` (each True, False or None), in the shapes
    ``truth`` understands."""
    name = st.sampled_from(PATHS)
    const = st.sampled_from(["True", "False", "None"])
    atoms = st.one_of(
        name,
        const,
        st.sampled_from(["0", "1"]),
        st.builds("{} {} {}".format, name, st.sampled_from(["is", "is not", "==", "!="]), const),
        st.builds("{} {} {}".format, const, st.sampled_from(["is", "is not", "==", "!="]), name),
        st.builds("bool({})".format, name),
    )
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.builds("not ({})".format, inner),
            st.builds("({}) and ({})".format, inner, inner),
            st.builds("({}) or ({})".format, inner, inner),
            st.builds("({}) if ({}) else ({})".format, inner, inner, inner),
            st.builds("bool({})".format, inner),
        ),
        max_leaves=6,
    )


# -- truth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("store", lit("store")),
        ("not store", ("not", lit("store"))),
        ("store is False", lit("store", FALSE)),
        ("store is not False", lit("store", TRUE | NONE)),
        ("store is None", lit("store", NONE)),
        ("store is not None", lit("store", TRUE | FALSE)),
        ("store == True", lit("store", TRUE)),
        ("store != True", lit("store", FALSE | NONE)),
        ("False is store", lit("store", FALSE)),
        ("None != store", lit("store", TRUE | FALSE)),
        ("bool(store)", lit("store")),
        ("bool(not store)", ("not", lit("store"))),
        ("request.store", lit("request.store")),
        ('body["store"]', lit('body["store"]')),
        ('body.get("store", True)', lit('body["store"]', TRUE | NONE)),  # a missing key reads as True
        ('body.get("store", False)', lit('body["store"]')),
        ('body.get("store")', lit('body["store"]')),
        ('body.get("store") is False', lit('body["store"]', FALSE)),
        ("(s := store)", lit("s")),
        ("store and not background", ("and", lit("store"), ("not", lit("background")))),
        ("store or x", ("or", lit("store"), lit("x"))),
        ("True", F.TRUE_F),
        ("False", F.FALSE_F),
        ("None", F.FALSE_F),
        ("0", F.FALSE_F),
        ("2", F.TRUE_F),
    ],
)
def test_truth_of_recognised_conditions(code: str, expected: F.Formula) -> None:
    assert truth_of(code) == expected


@pytest.mark.parametrize(
    ("code", "atom"),
    [
        ("random.random() < 0.5", "?!random.random() < 0.5"),
        ("self.enabled()", "?!self.enabled()"),
        ("bool(store, x)", "?!bool(store, x)"),
        ("await ready", "?!await ready"),
        ("chunk.type in {'a', 'b'}", "?chunk.type in {'a', 'b'}"),
        ("store < 3", "?store < 3"),
        ("store is None is x", "?store is None is x"),
        ("a is b", "?a is b"),
    ],
)
def test_truth_of_other_conditions_is_an_opaque_atom(code: str, atom: str) -> None:
    """Conditions not about one location are atoms keyed by their code; those that call
    something are marked impure (``?!``), since two evaluations may differ."""
    assert truth_of(code) == lit(atom)


def test_truth_shares_the_test_of_a_conditional_expression() -> None:
    formula = truth_of("x if store else y")
    assert formula == ("or", ("and", lit("store"), lit("x")), ("and", ("not", lit("store")), lit("y")))
    assert formula[1][1] is formula[2][1][1]  # one node, converted once by cnf


@settings(max_examples=100, deadline=None)
@given(python_conditions(), state_strategy)
def test_truth_agrees_with_python(code: str, state: dict[str, int]) -> None:
    """For flags that hold True, False or None, the formula is exactly the condition's truth."""
    concrete = {name: next(v for v, a in ABSTRACT.items() if a == state[name]) for name in PATHS}
    assert holds(truth_of(code), state) == bool(eval(code, {}, concrete))  # our own generated code, never the analyzed one


# -- cnf and negate ---------------------------------------------------------------------------


def test_cnf_of_constants_and_trivial_literals() -> None:
    assert F.cnf(F.TRUE_F) == []
    assert F.cnf(F.FALSE_F) is None
    assert F.cnf(lit("a", ANY)) == []
    assert F.cnf(lit("a", 0)) is None
    assert F.cnf(F.negate(F.TRUE_F)) is None
    assert F.cnf(F.negate(lit("a", TRUE))) == [(("a", FALSE | NONE),)]


def test_cnf_drops_tautologies_and_false_operands() -> None:
    assert F.cnf(("or", lit("a", TRUE), lit("a", FALSE | NONE))) == []
    assert F.cnf(("or", F.FALSE_F, lit("a"))) == [(("a", TRUE),)]
    assert F.cnf(("and", F.FALSE_F, lit("a"))) is None
    assert F.cnf(("or", lit("a"), lit("b", NONE))) == [(("a", TRUE), ("b", NONE))]


@settings(max_examples=100, deadline=None)
@given(formulas)
def test_cnf_is_exact_within_the_bounds(formula: F.Formula) -> None:
    """Over three locations no clause is too long; with the count bound lifted, the clauses
    have exactly the formula's models (``None``: it has none)."""
    saved = F.MAX_CNF
    F.MAX_CNF = 10**6
    try:
        clauses = F.cnf(formula)
    finally:
        F.MAX_CNF = saved
    expected = formula_models(formula)
    if clauses is None:
        assert expected == []
    else:
        assert models(clauses) == expected


@settings(max_examples=100, deadline=None)
@given(st.recursive(formulas, lambda inner: st.tuples(st.sampled_from(["and", "or"]), inner, inner), max_leaves=24))
def test_cnf_is_implied_by_the_formula(formula: F.Formula) -> None:
    """With the default bounds, clauses are dropped, never invented: every state of the
    formula satisfies them, and ``None`` only for a formula that is false."""
    clauses = F.cnf(formula)
    expected = formula_models(formula)
    if clauses is None:
        assert expected == []
    else:
        assert all(satisfies(state, clauses) for state in expected)


@given(formulas, state_strategy)
def test_negate_flips_truth(formula: F.Formula, state: dict[str, int]) -> None:
    assert F.negate(formula) == ("not", formula)
    assert holds(F.negate(formula), state) == (not holds(formula, state))


def test_cnf_converts_a_shared_part_once() -> None:
    """``x if c else y`` nested in test position shares ``c``: a tree of 2**40 nodes is a DAG of
    41, and its conversion costs steps in proportion to the DAG."""
    formula = lit("a")
    for _ in range(40):
        formula = ("and", formula, formula)
    F.WORK.start(None)
    assert F.cnf(formula) == [(("a", TRUE),)]
    assert F.WORK.steps <= 2 * 41

    source = "store"
    for i in range(30):
        source = f"(x{i} if ({source}) else y{i})"
    F.WORK.start(None)
    clauses = F.cnf(truth_of(source))
    assert clauses is not None and len(clauses) <= F.MAX_CNF
    assert F.WORK.steps < 200_000
    F.WORK.start(None)


def test_cnf_bounds_drop_long_clauses_and_surplus_clauses() -> None:
    """A clause of more than MAX_CLAUSE_LITERALS literals is dropped (the disjunction is then
    unknown: ``[]``); of a conjunction, at most MAX_CNF clauses are kept, each one of its own."""
    names = [f"p{i}" for i in range(F.MAX_CLAUSE_LITERALS + 1)]
    long_or = lit(names[0])
    for name in names[1:]:
        long_or = ("or", long_or, lit(name))
    assert F.cnf(long_or) == []
    shorter = ("or", lit(names[0]), ("or", lit(names[1]), ("or", lit(names[2]), lit(names[3]))))
    assert F.cnf(shorter) == [tuple((name, TRUE) for name in names[:4])]

    conjuncts = [lit(f"q{i}") for i in range(F.MAX_CNF + 10)]
    conjunction = conjuncts[0]
    for part in conjuncts[1:]:
        conjunction = ("and", conjunction, part)
    kept = F.cnf(conjunction)
    assert len(kept) == F.MAX_CNF
    assert set(kept) <= {((f"q{i}", TRUE),) for i in range(F.MAX_CNF + 10)}


# -- assume -----------------------------------------------------------------------------------


def test_assume_learns_and_detects_contradictions() -> None:
    known = F.assume(F.EMPTY, lit("store"))
    assert known == {(("store", TRUE),)}
    assert F.assume(known, F.negate(lit("store"))) is None
    assert F.assume(known, lit("store", TRUE | NONE)) is not None
    assert F.assume(F.EMPTY, F.FALSE_F) is None
    assert F.assume(known, F.TRUE_F) is known


def test_assume_keeps_only_relevant_locations() -> None:
    known = F.assume(F.EMPTY, ("and", lit("store"), lit("other")), relevant=frozenset({"store"}))
    assert known == {(("store", TRUE),)}
    assert F.assume(F.EMPTY, lit("other"), relevant=frozenset({"store"})) == F.EMPTY


def test_assume_relates_correlated_conditions() -> None:
    """After ``if background and store is False: raise``, ``if background:`` knows that storing
    is allowed (the README's example)."""
    after_raise = F.assume(F.EMPTY, F.negate(truth_of("background and store is False")))
    assert not F.entails(after_raise, "store", TRUE | NONE)
    in_background = F.assume(after_raise, truth_of("background"))
    assert F.entails(in_background, "store", TRUE | NONE)


def test_assume_forgets_an_impure_atom_before_testing_it_again() -> None:
    """``random.random() < 0.5`` may differ at each evaluation: its two outcomes in a row are no
    contradiction. A pure opaque atom (``x < y``) is the same each time."""
    impure = truth_of("random.random() < 0.5")
    first = F.assume(F.EMPTY, F.negate(impure))
    assert F.assume(first, impure) is not None
    assert F.impure_paths(("and", impure, lit("a"))) == [impure[1]]

    pure = truth_of("x < y")
    assert F.impure_paths(pure) == []
    assert F.assume(F.assume(F.EMPTY, F.negate(pure)), pure) is None


@settings(max_examples=100, deadline=None)
@given(st.data(), state_strategy, formulas)
def test_assume_is_sound(data, state: dict[str, int], formula: F.Formula) -> None:
    """In a state where the facts and the formula hold, the result is not ``None`` and holds."""
    known = data.draw(facts_holding_in(state))
    result = F.assume(known, formula)
    if holds(formula, state):
        assert result is not None
        assert satisfies(state, result)


# -- meet -------------------------------------------------------------------------------------


def test_meet_of_no_path_is_the_identity() -> None:
    some = frozenset({(("a", TRUE),)})
    assert F.meet(None, some) is some
    assert F.meet(some, None) is some
    assert F.meet(None, None) is None
    assert F.meet(some, some) is some


def test_meet_exact_keeps_the_disjunction_plain_keeps_the_common_clauses() -> None:
    true_store = frozenset({(("store", TRUE),), (("x", TRUE),)})
    none_store = frozenset({(("store", NONE),), (("x", TRUE),)})
    assert F.meet(true_store, none_store) == {(("store", TRUE | NONE),), (("x", TRUE),)}
    assert F.meet(true_store, none_store, exact=False) == {(("x", TRUE),)}


def test_meet_exact_keeps_correlations() -> None:
    """Joining "store and allowed" with "not store and not allowed" keeps that they agree."""
    one = F.assume(F.EMPTY, ("and", lit("store"), lit("allowed")))
    other = F.assume(F.EMPTY, ("and", F.negate(lit("store")), F.negate(lit("allowed"))))
    joined = F.meet(one, other)
    assert F.entails(F.assume(joined, lit("allowed")), "store", TRUE)
    assert F.meet(one, other, exact=False) == F.EMPTY


@settings(max_examples=100, deadline=None)
@given(fact_sets, fact_sets)
def test_meet_is_implied_by_both_sides(a, b) -> None:
    """Plain and exact meets hold wherever either side holds; the exact one (below the clause
    bounds) is exactly ``a or b``, and it knows at least what the plain one knows."""
    exact, plain = F.meet(a, b), F.meet(a, b, exact=False)
    either = [state for state in states() if satisfies(state, a) or satisfies(state, b)]
    assert all(satisfies(state, exact) for state in either)
    assert all(satisfies(state, plain) for state in either)
    assert models(exact) == either
    assert all(satisfies(state, plain) for state in models(exact))


# -- kill and bind ----------------------------------------------------------------------------


def test_kill_forgets_the_location_what_is_reached_through_it_and_atoms_naming_it() -> None:
    known = frozenset(
        {
            (("store", TRUE),),
            (("store.x", TRUE),),
            (('store["k"]', NONE),),
            (("?store < 3", TRUE),),
            (("?!check(store)", TRUE),),
            (("stored", TRUE),),
            (("restore", TRUE),),
            (("?!other()", TRUE), ("store", FALSE)),
        }
    )
    assert F.kill(known, "store") == {(("stored", TRUE),), (("restore", TRUE),)}
    assert F.kill(known, "store.x") == known - {(("store.x", TRUE),), (("?store < 3", TRUE),), (("?!check(store)", TRUE),)}
    assert F.kill(known, "unrelated") is known


def test_bind_a_copy_relates_both_locations() -> None:
    copied = F.bind(F.EMPTY, "s", ("path", "store"))
    for value in VALUES:
        assert F.entails(F.assume(copied, lit("store", value)), "s", value)
        assert F.entails(F.assume(copied, lit("s", value)), "store", value)
    assert F.bind(copied, "s", ("path", "s.inner")) == F.EMPTY  # a copy of itself: only forgotten


def test_bind_a_formula_relates_the_truth() -> None:
    bound = F.bind(F.EMPTY, "s", ("formula", truth_of("store and x")))
    assert F.entails(F.assume(bound, lit("s")), "store", TRUE)
    assert F.entails(F.assume(bound, lit("s")), "x", TRUE)
    assert F.entails(F.assume(bound, ("and", lit("store"), lit("x"))), "s", TRUE)
    assert F.entails(F.assume(bound, F.negate(lit("store"))), "s", FALSE | NONE)
    # the target in its own value (``s = not s``): forgotten, not related
    assert F.bind(frozenset({(("s", TRUE),)}), "s", ("formula", truth_of("not s"))) == F.EMPTY


def test_bind_forgets_first_and_skips_irrelevant_targets() -> None:
    known = frozenset({(("s", TRUE),), (("store", TRUE),)})
    assert F.bind(known, "s", None) == {(("store", TRUE),)}
    assert F.bind(known, "s", ("path", "store"), relevant=frozenset({"store"})) == {(("store", TRUE),)}


@pytest.mark.parametrize("constant", [F.TRUE_F, F.FALSE_F])
def test_bind_a_constant_is_sound(constant: F.Formula) -> None:
    """``s = not False`` reaches ``bind`` as the formula TRUE: what is learnt must hold for the
    bound value, and is its truth (``cnf``'s ``None``, "false", is not read as "no clauses")."""
    bound = F.bind(frozenset({(("s", NONE),)}), "s", ("formula", constant))
    value = TRUE if constant[1] else FALSE
    assert satisfies({"s": value}, bound)
    assert F.entails(bound, "s", TRUE if constant[1] else FALSE | NONE)


@pytest.mark.parametrize("value", VALUES)
def test_bind_a_constant_value_is_known(value: int) -> None:
    """``allowed = False`` (``("values", FALSE)``, as ``_Context.value`` reads a constant name)
    makes ``allowed`` exactly that value afterwards."""
    bound = F.bind(frozenset({(("s", TRUE),)}), "s", ("values", value))
    assert F.entails(bound, "s", value)
    assert F.assume(bound, lit("s", ANY & ~value)) is None


@settings(max_examples=100, deadline=None)
@given(
    st.data(),
    state_strategy,
    st.sampled_from(VALUES),
    st.sampled_from((*PATHS, "t")),
    st.one_of(st.sampled_from(PATHS).map(lambda p: ("path", p)), formulas.map(lambda f: ("formula", f))),
)
def test_bind_is_sound(data, state: dict[str, int], t: int, target: str, value: tuple) -> None:
    """The state after ``target = value`` satisfies the facts after ``bind``; a falsy value may
    be False or None, so both are tried. (``t`` is a target that the value never mentions.)"""
    state = {**state, "t": t}
    known = data.draw(facts_holding_in(state))
    kind, source = value
    if kind == "path":
        candidates = [state[source]]
    else:
        candidates = [TRUE] if holds(source, state) else [FALSE, NONE]
    bound = F.bind(known, target, value)
    for new in candidates:
        assert satisfies({**state, target: new}, bound)


# -- entails, permits, unit propagation, subsumption ------------------------------------------


def test_entails_over_masks() -> None:
    known = frozenset({(("store", TRUE | NONE),)})
    assert F.entails(known, "store", TRUE | NONE)
    assert F.entails(known, "store", ANY)
    assert not F.entails(known, "store", TRUE)
    assert F.entails(F.EMPTY, "store", ANY)
    assert not F.entails(F.EMPTY, "store", TRUE)


def test_permits_reads_the_flags_mask() -> None:
    """``store`` with None as the API default permits TRUE and NONE; ``dry_run`` permits falsy."""
    maybe_none = frozenset({(("store", TRUE | NONE),)})
    assert permits(maybe_none, Flag("store", none_means=True))
    assert not permits(maybe_none, Flag("store"))
    assert permits(frozenset({(("request.store", TRUE),)}), Flag("store"))
    assert permits(frozenset({(("dry_run", FALSE),)}), Flag("dry_run", inverted=True))
    assert not permits(frozenset({(("dry_run", TRUE | FALSE),)}), Flag("dry_run", inverted=True))


def test_unit_propagation_follows_chains_and_finds_contradictions() -> None:
    chain = frozenset({(("a", TRUE),), (("a", FALSE | NONE), ("b", TRUE)), (("b", FALSE | NONE), ("c", NONE))})
    assert F._propagate(chain, {}) == {"a": TRUE, "b": TRUE, "c": NONE}
    assert F.entails(chain, "c", NONE)
    assert F._propagate(chain | {(("c", TRUE),)}, {}) is None
    assert F.assume(chain, lit("c", TRUE)) is None


def test_unit_propagation_is_incomplete_but_never_wrong() -> None:
    """Unless ``a``, ``b`` and ``c`` would have to be both truthy and not: so ``a``. Refuting
    ``a`` leaves only two-literal clauses (no unit), so it is not entailed: incompleteness only
    loses knowledge."""
    known = frozenset(
        tuple(sorted((("a", TRUE), ("b", b), ("c", c)))) for b in (TRUE, FALSE | NONE) for c in (TRUE, FALSE | NONE)
    )
    assert all(state["a"] == TRUE for state in models(known))
    assert not F.entails(known, "a", TRUE)


@settings(max_examples=100, deadline=None)
@given(fact_sets, st.sampled_from(PATHS), masks)
def test_entails_is_sound(known, path: str, mask: int) -> None:
    if F.entails(known, path, mask):
        assert all(state[path] & mask for state in models(known))


def test_subsumption_keeps_the_stronger_clause() -> None:
    strong = (("a", TRUE),)
    weaker = [(("a", TRUE | NONE),), (("a", TRUE), ("b", NONE)), (("a", TRUE | FALSE), ("c", TRUE))]
    unrelated = (("a", NONE), ("b", TRUE))
    assert F._without_subsumed({strong, *weaker, unrelated}) == [strong, unrelated]
    many = {((f"p{i}", TRUE),) for i in range(F.MAX_CLAUSES + 5)}
    assert len(F._without_subsumed(many)) == F.MAX_CLAUSES


def test_meet_drops_subsumed_clauses() -> None:
    a = frozenset({(("a", TRUE),), (("b", TRUE),)})
    b = frozenset({(("a", TRUE),), (("c", TRUE),)})
    assert F.meet(a, b) == {(("a", TRUE),), (("b", TRUE), ("c", TRUE))}


# -- the clause limits: dropping only loses knowledge -----------------------------------------

MANY_PATHS = tuple(f"p{i}" for i in range(6))


def _random_facts_holding_in(rng: random.Random, state: dict[str, int], count: int) -> frozenset:
    """``count`` distinct clauses over MANY_PATHS, each true in ``state`` (too many for hypothesis
    to draw one by one quickly)."""
    out: set = set()
    while len(out) < count:
        chosen = rng.sample(MANY_PATHS, rng.randint(1, len(MANY_PATHS)))
        clause = {path: rng.randint(1, ANY - 1) for path in chosen}
        path = rng.choice(chosen)
        clause[path] |= state[path]
        if clause[path] == ANY:
            clause = {path: state[path]}
        out.add(tuple(sorted(clause.items())))
    return frozenset(out)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_limits_keep_a_subset_of_what_holds(seed: int) -> None:
    """Past MAX_CLAUSES, ``_limit``, ``assume``, ``meet`` and ``bind`` keep a subset of the clauses
    (the shortest), and the state that the inputs described still satisfies what is kept."""
    rng = random.Random(seed)
    state = {path: rng.choice(VALUES) for path in MANY_PATHS}
    big = _random_facts_holding_in(rng, state, F.MAX_CLAUSES + rng.randint(1, 30))
    other = _random_facts_holding_in(rng, state, F.MAX_CLAUSES + rng.randint(1, 30))
    limited = F._limit(big)
    assert len(limited) == F.MAX_CLAUSES and limited <= big and satisfies(state, limited)
    assert max(map(len, limited)) <= min(map(len, big - limited))

    assumed = F.assume(big, lit("p0", state["p0"]))
    assert assumed is not None and len(assumed) <= F.MAX_CLAUSES and satisfies(state, assumed)
    joined = F.meet(big, other)
    assert len(joined) <= F.MAX_CLAUSES and satisfies(state, joined)
    bound = F.bind(big, "p1", ("path", "p2"))
    assert len(bound) <= F.MAX_CLAUSES and satisfies({**state, "p1": state["p2"]}, bound)


def test_a_join_past_the_limit_keeps_what_holds_on_either_side() -> None:
    """Ten facts on each side make a hundred two-literal clauses; MAX_CLAUSES of them are kept,
    and they still hold where either side did."""
    a = frozenset(((f"x{i}", TRUE),) for i in range(10))
    b = frozenset(((f"y{i}", TRUE),) for i in range(10))
    joined = F.meet(a, b)
    assert len(joined) == F.MAX_CLAUSES
    assert joined <= {((f"x{i}", TRUE), (f"y{j}", TRUE)) for i in range(10) for j in range(10)}
    everything = [f"x{i}" for i in range(10)] + [f"y{i}" for i in range(10)]
    for side in ("x", "y"):
        state = {path: TRUE if path.startswith(side) else NONE for path in everything}
        assert satisfies(state, joined)


# -- the step budget --------------------------------------------------------------------------


def test_work_charge_raises_past_the_limit() -> None:
    work = F.Work()
    work.charge(10**9)  # no limit: never raises
    work.start(5)
    assert work.steps == 0
    work.charge(5)  # at the limit: still allowed
    with pytest.raises(F.TooMuchWork):
        work.charge(1)


def test_the_budget_stops_an_operation() -> None:
    a = frozenset({((f"x{i}", TRUE), (f"y{i}", TRUE)) for i in range(20)})
    b = frozenset({((f"x{i}", NONE), (f"z{i}", TRUE)) for i in range(20)})
    F.WORK.start(50)
    try:
        with pytest.raises(F.TooMuchWork):
            F.meet(a, b)
    finally:
        F.WORK.start(None)
    assert F.meet(a, b) is not None  # the same join, without a limit


def test_unit_propagation_charges_the_same_work_in_any_order():
    """A set of clauses iterates in the order of its strings' hashes, which differ from run to
    run (``PYTHONHASHSEED``): the work charged must not, or a witness search's step budget ends
    at another state and the same file gives another summary (a chain ``a``, ``a -> b``,
    ``b -> c``, ... takes one pass in one order and one per link in the other)."""
    chain = [(("a", TRUE),), (("a", ANY & ~TRUE), ("p0", TRUE))]
    chain += [((f"p{i}", ANY & ~TRUE), (f"p{i + 1}", TRUE)) for i in range(8)]
    charged = []
    for order in (chain, chain[::-1]):
        before = F.WORK.steps
        domains = F._propagate(order, {})
        charged.append(F.WORK.steps - before)
        assert domains is not None and domains["p8"] == TRUE
    assert charged[0] == charged[1]
