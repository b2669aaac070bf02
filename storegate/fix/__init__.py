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

The modules, one step each: ``planning`` (what to fix per code, and the rounds until the fixes
verify), ``locate`` (a finding's node, scope and statement chain), ``decide`` (a conjunct or a
wrap, or a refusal), ``names`` (what a run binds, how the scope reads the flag), ``gate`` (the
gate test), ``edits`` (the libcst transforms), ``verify`` (the round trip, the parse and the
re-analysis of each fix) and ``output`` (diff, summary, the atomic write).
"""

from storegate.fix.gate import gate_test
from storegate.fix.output import apply, summary, unified_diff
from storegate.fix.planning import GATE_CODES, KEYWORD_CODES, plan, plan_file
from storegate.fix.results import FileFix, Refusal

__all__ = [
    "GATE_CODES",
    "KEYWORD_CODES",
    "FileFix",
    "Refusal",
    "apply",
    "gate_test",
    "plan",
    "plan_file",
    "summary",
    "unified_diff",
]
