"""Snapshot tests of the control-flow graph builder (``storegate.cfg``), like ruff's CFG snapshots.

Each ``tests/cfg/NAME.py`` is parsed (never run); the graph of its module and of every scope nested
in it, outermost first, is dumped with ``storegate.cfg_dump.dump`` and must equal
``tests/cfg/NAME.cfg.txt``. The goldens were read edge by edge against Python's semantics: a
change to one is a change of what the analysis sees, to be reviewed like code.

``STOREGATE_UPDATE_GOLDEN=1 python -m pytest tests/test_cfg.py`` rewrites the golden files
(review the diff before committing); without it nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import libcst as cst
import pytest

from storegate import cfg
from storegate.cfg_dump import dump

CASES_DIR = Path(__file__).resolve().parent / "cfg"
CASES = sorted(CASES_DIR.glob("*.py"))
UPDATE = os.environ.get("STOREGATE_UPDATE_GOLDEN") == "1"


def dump_all(source: str) -> str:
    """The dumps of the module's graph and of each nested scope's, in preorder."""
    parts, pending = [], [cst.parse_module(source)]
    while pending:
        graph = cfg.build(pending.pop())
        parts.append(dump(graph))
        pending.extend(reversed(graph.nested))
    return "\n".join(parts)


def test_every_construct_has_a_snapshot() -> None:
    names = {case.stem for case in CASES}
    assert {
        "if_elif_else", "while_loop", "for_else", "try_except_else_finally", "try_finally_return",
        "with_statement", "match_guards", "short_circuit", "conditional_expression", "comprehensions",
        "nested_functions", "raise_assert", "early_return",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_snapshot(case: Path) -> None:
    actual = dump_all(case.read_text(encoding="utf-8"))
    golden = case.with_suffix(".cfg.txt")
    if UPDATE:
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden for {case.name}: run with STOREGATE_UPDATE_GOLDEN=1 and review it"
    assert actual == golden.read_text(encoding="utf-8")

