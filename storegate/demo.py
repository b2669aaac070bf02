"""``storegate demo``: the motivating bug, live, then found by the analyzer.

``run_demo()`` says what ``store: false`` promises, then runs the leaky twin of the sample Responses
server on 127.0.0.1 and replays the four steps of the bug (create a conversation; a streamed
``store=false`` response in it; the response is not retrievable; the conversation's items still hold
the turn). It shows what the API answered and, apart, the rows that leaked into the SQLite file, then
the analyzer's findings on the twin; then it does the same with the sample server (no leak, no
findings) and ends with what to try next. ``serve()`` runs either server in the foreground.

Both servers run from copies in a temporary directory (removed at the end, and never named in the
output: paths are shown relative to it), so nothing is written where storegate is installed. Only
loopback is used; servers are stopped even on error.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from storegate.twin import copy_server, leaky_diff, make_leaky_copy, server_source_dir

EXTRAS_MESSAGE = (
    "storegate demo needs the demo extras (fastapi, uvicorn, openai, httpx): "
    "pip install 'storegate[demo]' (in a checkout: pip install -e '.[demo]')"
)
DB_ENV = "RESPONSES_SERVER_DB"
LOOPBACK = "127.0.0.1"
QUESTION = "What is 2+2?"
ANSWER = "2 + 2 equals 4."
MODEL = "storegate-builtin"

Echo = Callable[..., Any]


def require_extras() -> None:
    """Fail with a clear message unless fastapi, uvicorn and openai are installed."""
    for name in ("fastapi", "uvicorn", "openai", "httpx"):
        if importlib.util.find_spec(name) is None:
            raise click.ClickException(EXTRAS_MESSAGE)


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_is_free(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return True  # let uvicorn report the bad host
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind(address)
        except OSError:
            return False
    return True


# Loopback only: never route the probe through an HTTP proxy from the environment.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(click.ClickException):
    """The sample server could not be started."""


def _wait_until_ready(process: subprocess.Popen, base: str, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode("utf-8", "replace").strip()
            raise ServerError(f"the sample server exited with status {process.returncode}:\n{output}")
        try:
            with _NO_PROXY.open(f"{base}/health", timeout=1.0) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ServerError(f"the sample server did not answer on {base} within {timeout:.0f}s")
        time.sleep(0.05)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_server(
    server_dir_parent: Path,
    db_path: Path,
    *,
    host: str = LOOPBACK,
    port: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[str]:
    """Run ``responses_server`` found in ``server_dir_parent`` in a uvicorn subprocess; yield its base URL
    (``http://127.0.0.1:PORT/v1``). The server is stopped on exit (terminate, then kill)."""
    Path(db_path).resolve().parent.mkdir(parents=True, exist_ok=True)
    attempts = 1 if port is not None else 3
    for attempt in range(attempts):
        chosen = port if port is not None else free_port(host)
        command = [
            sys.executable, "-m", "uvicorn", "responses_server.app:app",
            "--app-dir", str(Path(server_dir_parent).resolve()),
            "--host", host, "--port", str(chosen),
            "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2",
        ]  # fmt: skip
        child_env = {**os.environ, DB_ENV: str(Path(db_path).resolve()), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                command,
                cwd=str(Path(db_path).resolve().parent),
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                base = f"http://{host}:{chosen}"
                try:
                    _wait_until_ready(process, base, log, timeout)
                except ServerError:
                    # Another process may have taken the free port first: try another one.
                    if process.poll() is not None and attempt + 1 < attempts:
                        continue
                    raise
                yield f"{base}/v1"
                return
            finally:
                _stop(process)


def serve(
    *, leaky: bool, host: str = LOOPBACK, port: int = 8321, db: Path | None = None, echo: Echo = click.echo
) -> int:
    """Run the sample server (or its leaky twin) in the foreground until Ctrl-C."""
    require_extras()
    if not _port_is_free(host, port):
        raise click.ClickException(f"port {port} on {host} is already in use: choose another one with --port")
    import uvicorn

    db_path = Path(db) if db is not None else Path.cwd() / "responses_server.sqlite3"
    _check_database_path(db_path)
    with contextlib.ExitStack() as stack:
        if leaky:
            parent = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="storegate-twin-")))
            make_leaky_copy(parent)
        else:
            parent = server_source_dir().parent
        app = _load_app(parent, db_path)
        kind = "the LEAKY TWIN of the sample" if leaky else "the sample"
        echo(f"Serving {kind} Responses server on http://{host}:{port}/v1 (database: {db_path}).")
        echo(f"Try: OpenAI(base_url='http://{host}:{port}/v1', api_key='test'). Press Ctrl-C to stop.")
        try:
            uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=2)
        except KeyboardInterrupt:
            pass
    return 0


def _check_database_path(db_path: Path) -> None:
    """Refuse a database (or a journal beside it) that is a link or not a regular file: SQLite
    follows links, so a planted ``responses_server.sqlite3 -> ~/.bashrc`` would be written."""
    for path in (db_path, *(db_path.with_name(db_path.name + s) for s in ("-journal", "-wal", "-shm"))):
        if os.path.islink(path):
            raise click.ClickException(f"{path}: is a symbolic link; the database is not written through links")
        if os.path.lexists(path) and not os.path.isfile(path):
            raise click.ClickException(f"{path}: not a regular file")


def _load_app(parent: Path, db_path: Path):
    """``responses_server.app.create_app(db_path)`` from ``parent``, without writing bytecode there."""
    sys.dont_write_bytecode = True
    for name in [name for name in sys.modules if name == "responses_server" or name.startswith("responses_server.")]:
        del sys.modules[name]
    sys.path.insert(0, str(parent))
    try:
        module = importlib.import_module("responses_server.app")
    finally:
        sys.path.remove(str(parent))
    return module.create_app(db_path)


# The demo proper.


def _short(value: Any, limit: int = 150) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(body: Any) -> Any:
    """A readable excerpt of a JSON answer."""
    if isinstance(body, dict) and body.get("object") == "list":
        return {"object": "list", "data": [_item_summary(item) for item in body.get("data", [])]}
    if isinstance(body, dict) and body.get("object") == "response":
        return {key: body.get(key) for key in ("id", "status", "store")} | {
            "output_text": "".join(_item_text(item) for item in body.get("output", []))
        }
    return body


def _item_text(item: dict) -> str:
    return "".join(part.get("text", "") for part in item.get("content", []) if isinstance(part, dict))


def _item_summary(item: dict) -> str:
    return f"{item.get('role')}: {_item_text(item)}"


class _Replay:
    def __init__(self, base_url: str, echo: Echo) -> None:
        import httpx

        self.client = httpx.Client(base_url=base_url, timeout=30.0, trust_env=False)
        self.echo = echo

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        self.echo(f"  -> {method} /v1{path}" + (f" {_short(body)}" if body is not None else ""))
        answer = self.client.request(method, path, json=body)
        data = answer.json()
        self.echo(f"  <- {answer.status_code} {_short(_summary(data))}")
        return answer.status_code, data

    def stream(self, path: str, body: dict) -> dict | None:
        self.echo(f"  -> POST /v1{path} {_short(body)}")
        final = None
        events: list[str] = []
        with self.client.stream("POST", path, json=body) as answer:
            for line in answer.iter_lines():
                if line.startswith("data: "):
                    event = json.loads(line.removeprefix("data: "))
                    events.append(event["type"])
                    if event["type"] in ("response.completed", "response.incomplete", "response.failed"):
                        final = event["response"]
            status = answer.status_code
        kinds = " ".join(dict.fromkeys(event.removeprefix("response.") for event in events))
        self.echo(f"  <- {status} text/event-stream, {len(events)} events ({kinds})")
        if final is not None:
            self.echo(f"     final response: {_short(_summary(final))}")
        return final

    def close(self) -> None:
        self.client.close()


def replay_motivating_bug(base_url: str, echo: Echo = click.echo) -> dict:
    """The four steps of the bug; what was observed (``retrieve_status``, ``conversation_items``)."""
    replay = _Replay(base_url, echo)
    try:
        echo("  1. create a conversation")
        _, conversation = replay.call("POST", "/conversations", {})
        echo("  2. a streamed response in it, with store=false")
        body = {"model": MODEL, "input": QUESTION, "store": False, "conversation": conversation["id"], "stream": True}
        response = replay.stream("/responses", body)
        if response is None:
            raise click.ClickException("the streamed response did not finish")
        echo("  3. ask for the response back")
        retrieve_status, _ = replay.call("GET", f"/responses/{response['id']}")
        echo("  4. list the conversation's items")
        _, items = replay.call("GET", f"/conversations/{conversation['id']}/items?order=asc")
        return {
            "conversation_id": conversation["id"],
            "response_id": response["id"],
            "retrieve_status": retrieve_status,
            "conversation_items": [_item_summary(item) for item in items.get("data", [])],
        }
    finally:
        replay.close()


def rows_containing(db_path: Path, needles: Sequence[str]) -> list[tuple[str, dict]]:
    """Every row of every table of the SQLite file at ``db_path`` with a value containing a needle."""
    found = []
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                if any(isinstance(value, str) and needle in value for value in row for needle in needles):
                    found.append((table, dict(row)))
    finally:
        conn.close()
    return found


def analyze(path: Path, echo: Echo = click.echo) -> int:
    """Run the analyzer on ``path`` with the configuration found there; print findings; how many.
    Uncached: the demo's trees are temporary (or installed), no place for a cache."""
    from storegate.config import load_config
    from storegate.run.pipeline import check

    from storegate.report.text import format_error, format_finding, format_trace

    config = load_config([path])
    result = check([path], config, use_cache=False)
    for finding in result.findings:
        echo(format_finding(finding))
        for line in format_trace(finding):
            echo(line)
    for error in result.errors:
        echo(format_error(error))
    noun = "finding" if len(result.findings) == 1 else "findings"
    echo(f"{len(result.findings)} {noun} in {result.files_checked} files")
    return len(result.findings)


PROMISE = (
    'What `store: false` promises: a client that sends "store": false asks the server to keep nothing\n'
    "of the request: not the response, not its input, not the turn appended to a conversation."
)

STEPS = f"""\
This demo runs a small OpenAI-style Responses server on 127.0.0.1 twice: first its leaky twin (the
real-world bug put back), then the sample server itself. Each time it
  1. creates a conversation,
  2. asks {QUESTION!r} in it, streamed, with "store": false,
  3. asks for that response back (it must not exist),
  4. lists the conversation's items (they must not hold the question or the answer),
then looks in the server's SQLite database, and runs `storegate check` on the server's code."""

NEXT_STEPS = """\
Next: check your own server, with the path from each function's entry to each finding:
  storegate check --explain path/to/your/server
storegate already knows OpenAI's `store` flag and routes and common database libraries (its default
rule packs); if your server persists through functions of its own, name them in your pyproject.toml:
  [tool.storegate]
  sinks = ["*.history.remember", "myapp.db.save_*"]
`storegate demo serve [--leaky]` runs either server for your own client; `storegate rules` lists
what is configured."""


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Run the block in ``path``: the analyzer shows paths relative to the working directory, so the
    findings name ``responses_server/service.py``, not a temporary directory that is gone after."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _act(title: str, server_dir: Path, db_path: Path, port: int | None, echo: Echo) -> tuple[bool, int]:
    """Run one server, replay the bug, show the rows and the findings: (leaked, number of findings)."""
    echo("")
    echo(click.style(title, bold=True))
    echo("What the API answered:")
    with running_server(server_dir.parent, db_path, port=port) as base_url:
        observed = replay_motivating_bug(base_url, echo)
    echo(f"What is in the database (the server's SQLite file, {db_path.name}):")
    rows = rows_containing(db_path, [QUESTION, ANSWER])
    leaked = bool(observed["conversation_items"]) or bool(rows)
    if rows:
        echo(click.style(f"  LEAK: {len(rows)} rows of the store=false request are in the database:", fg="red"))
        for table, row in rows:
            echo(f"    {table}: {_short(row, 140)}")
    else:
        echo(click.style("  No row of the SQLite file holds the question or the answer.", fg="green"))
    echo(f"What storegate finds in the server's code (storegate check --explain {server_dir.name}):")
    with _working_directory(server_dir.parent):
        findings = analyze(Path(server_dir.name), lambda text="", **style: echo(f"  {text}", **style))
    return leaked, findings


def run_demo(*, port: int | None = None, echo: Echo = click.echo) -> int:
    """The whole demo; 0 when the twin leaks and is flagged and the sample server does neither, else 1."""
    require_extras()
    echo(PROMISE)
    echo("")
    echo(STEPS)
    echo("")
    echo("The leaky twin differs from the sample server by one line of service.py (the `and store` of a condition):")
    for line in leaky_diff().splitlines():
        echo(f"  {line}")
    with tempfile.TemporaryDirectory(prefix="storegate-demo-") as tmp:
        tmp_dir = Path(tmp)
        twin = make_leaky_copy(tmp_dir / "twin")
        twin_leaked, twin_findings = _act(
            "First, the leaky twin (the motivating bug)", twin, tmp_dir / "twin.sqlite3", port, echo
        )
        sample = copy_server(tmp_dir / "sample")
        sample_leaked, sample_findings = _act(
            "Then, the sample server (store: false honoured)", sample, tmp_dir / "sample.sqlite3", port, echo
        )
    echo("")
    expected = twin_leaked and twin_findings > 0 and not sample_leaked and sample_findings == 0
    echo(
        f"Summary: twin leaked={twin_leaked}, findings={twin_findings}; "
        f"sample leaked={sample_leaked}, findings={sample_findings}"
        + ("" if expected else "  (NOT what the demo expects)")
    )
    echo("")
    echo(NEXT_STEPS)
    return 0 if expected else 1
