"""Mutation testing of the analyzer against the runtime truth.

Every mutant of the sample server that removes one store gate (an ``if store:`` made ``True``,
an ``and store`` conjunct dropped, an early ``if not store: return`` removed, a ``store=...``
argument dropped) is analyzed by storegate and run for real: a ``store=false`` request, streamed
and not, each in a conversation, then every table of the SQLite file is searched for it. The test
fails if any mutant leaks at runtime while storegate is silent about it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from storegate.analysis import summarize
from storegate.api import check
from storegate.config import load_config
from storegate.demo import rows_containing
from storegate.twin import Mutant, mutants, write_mutant, write_unflagged

from server_harness import running_server

MODEL = "storegate-builtin"
MUTANTS = mutants()


def leaks(base_url: str, db_path: Path) -> bool:
    """Whether anything of a store=false request (streamed, then not) reaches the database."""
    marker = f"marker-{uuid.uuid4().hex}"
    with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
        for stream in (True, False):
            conversation = client.post("/conversations", json={}).json()["id"]
            body = {"model": MODEL, "input": f"Please remember {marker}", "store": False, "conversation": conversation}
            if stream:
                with client.stream("POST", "/responses", json={**body, "stream": True}) as answer:
                    assert answer.status_code == 200
                    for _ in answer.iter_lines():
                        pass
            else:
                answer = client.post("/responses", json=body)
                assert answer.status_code == 200, answer.text
    return bool(rows_containing(db_path, [marker]))


def observe(mutant: Mutant | None, tmp_path: Path) -> tuple[list[str], bool]:
    """(storegate's codes and lines on the server, whether it leaks at runtime)."""
    if mutant is None:
        from storegate.twin import server_source_dir

        server = server_source_dir()
    else:
        server = write_mutant(mutant, tmp_path)
    return observe_server(server, tmp_path)


def observe_server(server: Path, tmp_path: Path) -> tuple[list[str], bool]:
    """(storegate's codes and lines on the server at ``server``, whether it leaks at runtime)."""
    result = check([server], load_config([server]), use_cache=False)
    assert result.errors == ()
    static = [f"{Path(f.path).name}:{f.line} {f.code}" for f in result.findings]
    db_path = tmp_path / "mutant.sqlite3"
    with running_server(server.parent, db_path) as base_url:
        leaked = leaks(base_url, db_path)
    return static, leaked


def test_the_generator_finds_every_kind_of_gate() -> None:
    kinds = {m.name.split(" ", 1)[1] for m in MUTANTS}
    assert "`if store:` -> `if True:`" in kinds
    assert "`and store` dropped" in kinds
    assert "`if not store: return` removed" in kinds
    assert "`store=...` argument dropped" in kinds
    assert all(m.source != "" for m in MUTANTS)


def test_no_mutant_leaks_unseen(tmp_path_factory, capsys) -> None:
    rows = []
    for index, mutant in enumerate([None, *MUTANTS]):
        static, leaked = observe(mutant, tmp_path_factory.mktemp(f"mutant{index}"))
        rows.append((mutant.name if mutant else "(the sample server itself)", static, leaked))

    width = max(len(name) for name, _, _ in rows)
    table = [f"{'mutant':<{width}}  {'static (storegate)':<40}  runtime", "-" * (width + 60)]
    for name, static, leaked in rows:
        table.append(f"{name:<{width}}  {', '.join(static) or 'silent':<40}  {'LEAK' if leaked else 'no leak'}")
    with capsys.disabled():
        print("\n" + "\n".join(table))

    original = rows[0]
    assert original[1] == [] and original[2] is False, "the sample server itself must be clean and leak-free"
    missed = [name for name, static, leaked in rows if leaked and not static]
    assert not missed, "mutants that leak at runtime but storegate does not report:\n" + "\n".join(table)
    assert any(leaked for _, _, leaked in rows[1:]), "no mutant leaked: the runtime probe cannot fail"


def test_the_server_that_ignores_store_is_reported(tmp_path) -> None:
    """Every store check removed, and every ``store`` parameter left unread: no function of the
    server reads the flag. Only the route tells where it enters: its handler is reported (SG004),
    and the runtime probe confirms the leak."""
    server = write_unflagged(tmp_path)
    config = load_config([server])
    for name in ("app.py", "service.py"):
        source = (server / name).read_text(encoding="utf-8")
        summary = summarize(source, name, config, f"responses_server.{name[:-3]}")
        assert [f.name for f in summary.functions if f.flags] == [], name
    static, leaked = observe_server(server, tmp_path)
    assert leaked, "the server that ignores store must leak at runtime"
    lines = (server / "app.py").read_text(encoding="utf-8").splitlines()
    (call,) = [number for number, line in enumerate(lines, 1) if "await _responses(request).create_response(" in line]
    assert static == [f"app.py:{call} SG004"]  # the handler's call into the service


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_differs_in_one_place(mutant: Mutant) -> None:
    from storegate.twin import server_source_dir

    original = (server_source_dir() / mutant.file).read_text(encoding="utf-8").splitlines()
    changed = mutant.source.splitlines()
    import difflib

    diff = [line for line in difflib.unified_diff(original, changed, lineterm="", n=0) if line[:1] in "+-"]
    diff = [line for line in diff if not line.startswith(("+++", "---"))]
    assert 1 <= len(diff) <= 4, diff
