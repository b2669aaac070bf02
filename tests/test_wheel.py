"""A built wheel, installed in a fresh virtual environment, runs ``storegate demo`` and ``storegate demo
serve``: the sample server ships inside it (package data built from fixtures/responses_server).

One wheel build and one environment for the module. The environment sees the interpreter's own
site-packages (``--system-site-packages``) for the demo's dependencies, so nothing is downloaded; the
wheel is installed into the environment itself, which comes first on its ``sys.path``, and the test
checks that storegate is imported from there and not from a checkout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from storegate.demo import free_port

REPO = Path(__file__).resolve().parent.parent


def clean_env(tmp: Path) -> dict[str, str]:
    """The environment of a user who installed the wheel: no PYTHONPATH to a checkout, a temp of its own."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    return env | {"TMPDIR": str(tmp), "NO_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin directory of the environment, a working directory, its environment variables)."""
    root = tmp_path_factory.mktemp("wheel")
    work = root / "work"
    work.mkdir()
    env = clean_env(root)
    dist = root / "dist"
    # No build isolation: the backend (hatchling, a test dependency) is taken from this interpreter.
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)]
    run([sys.executable, "-m", "pip", *build], work, env)
    (wheel,) = dist.glob("storegate-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], work, env)
    python = venv / "bin" / "python"
    # Into the venv, from the wheel alone (its dependencies are in the system site-packages).
    install = ["install", "-q", "--no-deps", "--no-index", "--force-reinstall", str(wheel)]
    run([sys.executable, "-m", "pip", "--python", str(python), *install], work, env)
    return venv / "bin", work, env


def test_the_wheel_holds_the_sample_server_and_is_the_one_imported(installed):
    bin_dir, work, env = installed
    done = run(
        [str(bin_dir / "python"), "-c", "import storegate.twin as t; print(t.__file__); print(t.server_source_dir())"],
        work, env,
    )  # fmt: skip
    module, server = (Path(line) for line in done.stdout.splitlines())
    site = bin_dir.parent / "lib"
    assert module.is_relative_to(site), module
    assert server == module.parent / "_sample_server" / "responses_server"
    shipped = sorted(path.name for path in server.iterdir() if path.name != "__pycache__")  # pip compiles
    tracked = run(["git", "ls-files", "fixtures/responses_server"], REPO, env).stdout.split()
    assert shipped == sorted(Path(name).name for name in tracked)
    assert (server / "service.py").read_bytes() == (REPO / "fixtures" / "responses_server" / "service.py").read_bytes()


def test_storegate_demo_from_the_wheel(installed):
    bin_dir, work, env = installed
    done = run([str(bin_dir / "storegate"), "demo"], work, env)
    assert "Summary: twin leaked=True, findings=2; sample leaked=False, findings=0" in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert list(work.iterdir()) == [], "the demo wrote in the working directory"
    assert not any(Path(env["TMPDIR"]).glob("storegate-*")), "the demo left its temporary folder"


def test_storegate_demo_serve_from_the_wheel(installed):
    """``demo serve`` answers, stops on Ctrl-C, and writes its database where ``--help`` says: in the
    current directory, when ``--db`` is not given."""
    bin_dir, work, env = installed
    here = work.parent / "serve"
    here.mkdir()
    help_text = run([str(bin_dir / "storegate"), "demo", "serve", "--help"], here, env).stdout
    assert "responses_server.sqlite3 in the current directory" in " ".join(help_text.split())
    port = free_port()
    process = subprocess.Popen(
        [str(bin_dir / "storegate"), "demo", "serve", "--port", str(port)],
        cwd=here, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", trust_env=False, timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.2)
        assert health.status_code == 200
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/responses",
            json={"model": "m", "input": "What is 2+2?", "store": True},
            trust_env=False,
            timeout=30,
        )
        assert answer.status_code == 200 and answer.json()["output"][0]["content"][0]["text"] == "2 + 2 equals 4."
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    database = here / "responses_server.sqlite3"
    assert f"(database: {database})" in output
    assert database.is_file()
