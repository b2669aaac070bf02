"""Sink argument regexes, matched in linear time.

Python's ``re`` backtracks: ``^(a+)+$`` against 40 ``a`` and a ``!`` never ends, and even
``\\s*\\s*\\s*\\s*\\s*x`` is polynomial of a high degree. An argument regex comes from a
configuration file (a pull request can change it), so it is run by a Thompson simulation of its
automaton instead, with the state sets cached as a lazy DFA: linear in the text, whatever the
regex. What that cannot do (backreferences, lookarounds, atomic groups, possessive repeats) is
refused when the configuration is loaded. The syntax is ``re``'s: the stdlib's own parser reads it.
No libcst here: the configuration is loaded on runs that parse nothing.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterable

if sys.version_info >= (3, 11):
    import re._parser as sre_parse  # type: ignore[import-not-found]  # the parser re uses; private: no stub
else:  # pragma: no cover - Python 3.10, where ``re`` is still a module and the parser is ``sre_parse``
    import sre_parse

_MAX_PROGRAM = 10_000  # instructions of one compiled regex (x{1000} is copied out)
_MAX_CACHED = 20_000  # DFA transitions kept at a time


class UnsupportedRegex(ValueError):
    """A regex construct the linear matcher cannot run."""


def _category(code, flags: int) -> Callable[[str], bool]:
    ascii_only = flags & re.ASCII
    tests = {
        "DIGIT": lambda c: c.isdecimal() and (not ascii_only or c.isascii()),
        "SPACE": lambda c: c.isspace() and (not ascii_only or c.isascii()),
        "WORD": lambda c: (c.isalnum() or c == "_") and (not ascii_only or c.isascii()),
    }
    name = str(code).removeprefix("CATEGORY_")
    negated = name.startswith("NOT_")
    test = tests.get(name.removeprefix("NOT_"))
    if test is None:  # pragma: no cover - the parser emits only these for str patterns
        raise UnsupportedRegex(f"the class {name}")
    return (lambda c: not test(c)) if negated else test


def _range_test(low: int, high: int, ignore_case: bool) -> Callable[[str], bool]:
    """The test of a character range ``[low-high]`` (code points), in either case if ``ignore_case``."""
    if ignore_case:
        return lambda c: any(low <= ord(v) <= high for v in (c, c.lower(), c.upper()))
    return lambda c: low <= ord(c) <= high


def _char_test(op, av, flags: int) -> Callable[[str], bool]:
    """The one-character test of a LITERAL, NOT_LITERAL, ANY or IN item."""
    fold = (lambda c: c.lower()) if flags & re.IGNORECASE else (lambda c: c)
    name = str(op)
    if name == "LITERAL":
        wanted = fold(chr(av))
        return lambda c: fold(c) == wanted
    if name == "NOT_LITERAL":
        unwanted = fold(chr(av))
        return lambda c: fold(c) != unwanted
    if name == "ANY":
        return (lambda c: True) if flags & re.DOTALL else (lambda c: c != "\n")
    if name == "IN":
        negated = bool(av) and str(av[0][0]) == "NEGATE"
        tests: list[Callable[[str], bool]] = []
        for item_op, item_av in av[1:] if negated else av:
            kind = str(item_op)
            if kind == "RANGE":
                low, high = item_av
                tests.append(_range_test(low, high, bool(flags & re.IGNORECASE)))
            elif kind == "CATEGORY":
                tests.append(_category(item_av, flags))
            else:
                tests.append(_char_test(item_op, item_av, flags))
        if negated:
            return lambda c: not any(test(c) for test in tests)
        return lambda c: any(test(c) for test in tests)
    raise UnsupportedRegex(name)


class LinearRegex:
    """A regex run without backtracking; ``search`` has ``re.search``'s yes/no answer."""

    def __init__(self, regex: str) -> None:
        parsed = sre_parse.parse(regex)
        self.regex = regex
        self.program: list[tuple] = []
        self._emit_sequence(parsed.data, parsed.state.flags)
        self.program.append(("match",))
        self._cache: dict[tuple, tuple[frozenset[int], bool]] = {}
        # whether a match can only start at the start (``^\s*insert``): then, once no thread is
        # alive past it, the rest of the text cannot match, and is not read
        kinds = ("\n", "a", "u", "o")
        self._starts_only_first = not any(
            chars or matched
            for before in kinds
            for after in (*kinds, None)
            for chars, matched in [self._closure((0,), before, after, False), self._closure((0,), before, after, True)]
        )

    # compilation to instructions: ("char", test) ("split", a, b) ("jump", a) ("at", kind, flags) ("match",)

    def _add(self, instruction: tuple) -> int:
        if len(self.program) >= _MAX_PROGRAM:
            raise UnsupportedRegex("too many repetitions (the regex is too large)")
        self.program.append(instruction)
        return len(self.program) - 1

    def _emit_sequence(self, items: list, flags: int) -> None:
        for op, av in items:
            self._emit(op, av, flags)

    def _emit(self, op, av, flags: int) -> None:
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            self._add(("char", _char_test(op, av, flags)))
        elif name == "AT":
            self._add(("at", str(av), flags))
        elif name == "SUBPATTERN":
            _, add, remove, inner = av
            self._emit_sequence(list(inner), (flags | add) & ~remove)
        elif name == "BRANCH":
            jumps = []
            alternatives = av[1]
            for position, alternative in enumerate(alternatives):
                if position < len(alternatives) - 1:
                    split = self._add(("split", None, None))
                    self.program[split] = ("split", split + 1, None)
                    self._emit_sequence(list(alternative), flags)
                    jumps.append(self._add(("jump", None)))
                    self.program[split] = ("split", split + 1, len(self.program))
                else:
                    self._emit_sequence(list(alternative), flags)
            for jump in jumps:
                self.program[jump] = ("jump", len(self.program))
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):  # greedy or lazy: the same yes/no answer
            low, high, inner = av
            for _ in range(low):
                self._emit_sequence(list(inner), flags)
            if str(high) == "MAXREPEAT":
                split = self._add(("split", None, None))
                self._emit_sequence(list(inner), flags)
                self._add(("jump", split))
                self.program[split] = ("split", split + 1, len(self.program))
            else:
                splits = []
                for _ in range(high - low):
                    splits.append(self._add(("split", None, None)))
                    self._emit_sequence(list(inner), flags)
                for split in splits:
                    self.program[split] = ("split", split + 1, len(self.program))
        else:
            described = {
                "GROUPREF": "a backreference", "GROUPREF_EXISTS": "a conditional group",
                "ASSERT": "a lookaround", "ASSERT_NOT": "a lookaround",
                "ATOMIC_GROUP": "an atomic group", "POSSESSIVE_REPEAT": "a possessive repeat",
            }  # fmt: skip
            raise UnsupportedRegex(described.get(name, name))

    # simulation

    def _closure(self, pcs: Iterable[int], before: str | None, after: str | None, last: bool) -> tuple[list[int], bool]:
        """The ``char`` instructions reachable without reading, and whether ``match`` is."""
        chars, matched, seen, stack = [], False, set(), list(pcs)
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            instruction = self.program[pc]
            kind = instruction[0]
            if kind == "char":
                chars.append(pc)
            elif kind == "match":
                matched = True
            elif kind == "jump":
                stack.append(instruction[1])
            elif kind == "split":
                stack.extend((instruction[2], instruction[1]))
            elif _at(instruction[1], instruction[2], before, after, last):
                stack.append(pc + 1)
        return chars, matched

    def search(self, text: str) -> bool:
        state: frozenset[int] = frozenset()
        before: str | None = None  # the kind of the character before the position
        size = len(text)
        for position in range(size + 1):
            char = text[position] if position < size else None
            last = position == size - 1
            key = (state, before, char, last and char == "\n")
            step = self._cache.get(key)
            if step is None:
                chars, matched = self._closure((*state, 0), before, _kind(char), last)
                following = frozenset(pc + 1 for pc in chars if char is not None and self.program[pc][1](char))
                if len(self._cache) >= _MAX_CACHED:
                    self._cache.clear()
                step = self._cache[key] = (following, matched)
            state, matched = step
            if matched:
                return True
            if not state and self._starts_only_first:
                return False
            before = _kind(char)
        return False


def _kind(char: str | None) -> str | None:
    """What the assertions need to know of a character: the start/end (None), a newline, an
    ASCII word character, another word character, or anything else."""
    if char is None or char == "\n":
        return char
    if char.isalnum() or char == "_":
        return "a" if char.isascii() else "u"
    return "o"


def _at(kind: str, flags: int, before: str | None, after: str | None, last: bool) -> bool:
    """Whether an assertion holds between characters of the kinds ``before`` and ``after``."""
    multiline = bool(flags & re.MULTILINE)
    if kind == "AT_BEGINNING":
        return before is None or (multiline and before == "\n")
    if kind == "AT_BEGINNING_STRING":
        return before is None
    if kind == "AT_END":
        return after is None or (after == "\n" and (last or multiline))
    if kind == "AT_END_STRING":
        return after is None
    if kind in ("AT_BOUNDARY", "AT_NON_BOUNDARY"):
        words = ("a",) if flags & re.ASCII else ("a", "u")
        boundary = (before in words) != (after in words)
        return boundary if kind == "AT_BOUNDARY" else not boundary
    raise UnsupportedRegex(kind)  # pragma: no cover - the parser emits only these


@functools.lru_cache(maxsize=None)
def compiled(regex: str) -> LinearRegex:
    """The program of ``regex``, built once per process: a project's every rebuild (one per
    pre-filter round) and every file's matcher share it; its memo of threads only grows."""
    return LinearRegex(regex)
