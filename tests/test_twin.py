"""storegate on the sample server and on its leaky twin, and the demo that shows both."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from storegate.api import check
from storegate.config import load_config
from storegate.demo import free_port
from storegate.twin import make_leaky_copy, server_source_dir

TWIN_EXPECT = re.compile(r"#\s*twin-expect:\s*(?P<codes>[A-Z0-9 ]+)$")


def test_the_sample_server_is_clean():
    server = server_source_dir()
    result = check([server], load_config([server]), use_cache=False)
    assert result.errors == ()
    assert result.findings == ()
    assert result.files_checked == len(list(server.glob("*.py")))


def test_the_twin_is_reported_exactly_on_its_ungated_calls(tmp_path):
    twin = make_leaky_copy(tmp_path)
    expected = set()
    for number, line in enumerate((twin / "service.py").read_text(encoding="utf-8").splitlines(), start=1):
        match = TWIN_EXPECT.search(line)
        if match:
            expected.update((number, code) for code in match.group("codes").split())
    assert expected, "service.py lost its twin-expect comments"
    result = check([twin], load_config([twin]), use_cache=False)
    assert result.errors == ()
    found = {(f.line, f.code) for f in result.findings}
    assert all(Path(f.path).name == "service.py" for f in result.findings)
    assert found == expected


def test_the_demo_shows_the_leak_and_the_finding_and_leaves_nothing(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "storegate", "demo"], capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"^ *-\s+and store$", out, re.M)  # the one-line difference of the twin
    assert "LEAK:" in out
    assert re.search(r"service\.py:\d+:\d+: SG002 call to 'self\._sync_response_to_conversation' persists", out)
    assert re.search(r"service\.py:\d+:\d+: SG001 persistence call 'self\.responses_store\.store_conversation_messages'", out)
    assert "call self._sync_response_to_conversation -> " in out  # the witness path's chain
    assert "No row of the SQLite file holds the question or the answer." in out
    assert "Summary: twin leaked=True, findings=2; sample leaked=False, findings=0" in out
    assert list(tmp_path.iterdir()) == [], "the demo left files behind"


def test_demo_serve_runs_until_interrupted(tmp_path):
    port = free_port()
    db = tmp_path / "demo.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "storegate", "demo", "serve", "--leaky", "--port", str(port), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/v1/conversations", json={}, trust_env=False)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the demo server did not start"
                time.sleep(0.2)
        assert answer.status_code == 200 and answer.json()["id"].startswith("conv_")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert db.exists()


def test_demo_serve_refuses_a_taken_port(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "storegate", "demo", "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode != 0
    assert "port" in done.stderr.lower() and str(port) in done.stderr
