"""``max-call-depth``: how far a write is followed from a function that sees the flag. The bound
is the length of the chain a finding shows (a shortest one), and the pre-filter reads no file
that only a longer chain would need, so the findings are the same with and without it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from storegate.api import check
from storegate.config import load_config
from storegate.run.pipeline import summarize_files

# handler -> step1 -> step2 -> step3 -> step4, each in its own module; step4 writes.
STEPS = 4


def _chain(root: Path) -> None:
    (root / "api.py").write_text("from step1 import step1\n\n\ndef handler(x, store=True):\n    step1(x)\n")
    for n in range(1, STEPS + 1):
        body = "    save_row(x)\n" if n == STEPS else f"    step{n + 1}(x)\n"
        head = "" if n == STEPS else f"from step{n + 1} import step{n + 1}\n\n\n"
        (root / f"step{n}.py").write_text(f"{head}def step{n}(x):\n{body}")


@pytest.mark.parametrize("depth, reported", [(0, True), (STEPS + 1, True), (STEPS, True), (STEPS - 1, False), (1, False)])
def test_a_chain_is_reported_within_the_bound_and_read_no_further(tmp_path, depth, reported):
    _chain(tmp_path)
    config = replace(load_config([str(tmp_path)], isolated=True, flags=["store"], sinks=["save_*"]), max_call_depth=depth)
    filtered = check([str(tmp_path)], config, use_cache=False, jobs=1)
    everything = check([str(tmp_path)], config, use_cache=False, use_prefilter=False, jobs=1)
    assert filtered.findings == everything.findings and filtered.tracebacks == ()
    assert [(f.path.rpartition("/")[2], f.line, f.code) for f in filtered.findings] == ([("api.py", 5, "SG002")] if reported else [])
    if reported:  # the chain shown is the whole chain, as long as the bound allows at most
        assert "'step1' persists (-> step2 -> step3 -> step4 -> save_row)" in filtered.findings[0].message
    summaries, _, _ = summarize_files(sorted(tmp_path.glob("*.py")), config, jobs=1)
    read = sorted(Path(s.path).stem for s in summaries)
    limit = STEPS if depth == 0 else min(depth, STEPS)
    assert read == sorted(["api", *(f"step{n}" for n in range(1, limit + 1))])


def test_the_command_line_bound_overrides_the_config(tmp_path):
    from click.testing import CliRunner

    from storegate.cli import main

    _chain(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.storegate]\nrules = []\nflags = ["store"]\nsinks = ["save_*"]\nmax-call-depth = 2\n')
    runner = CliRunner()
    short = runner.invoke(main, ["check", "--no-cache", str(tmp_path)])
    deep = runner.invoke(main, ["check", "--no-cache", "--max-call-depth", "0", str(tmp_path)])
    assert short.exit_code == 0 and "SG002" not in short.output
    assert deep.exit_code == 1 and "api.py:5:5: SG002" in deep.output
