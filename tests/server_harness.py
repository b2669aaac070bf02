"""Run the sample Responses server (or its twin) in a uvicorn subprocess for a test."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from storegate.demo import running_server as _running_server


def bytecode_env() -> dict[str, str]:
    """What a server's environment adds so that it keeps its bytecode where the session keeps it.

    ``storegate.demo`` starts a server with PYTHONDONTWRITEBYTECODE, so that it writes nothing
    beside the server's sources. Where the session keeps every process's bytecode in a folder of
    its own (``conftest.bytecode_of_the_session``), nothing is written beside the sources anyway:
    the servers may write there, and fastapi, pydantic and uvicorn are compiled once per run
    instead of at every server start (the prefix hides their installed bytecode)."""
    return {"PYTHONDONTWRITEBYTECODE": ""} if os.environ.get("PYTHONPYCACHEPREFIX") else {}


@contextlib.contextmanager
def running_server(server_dir_parent: Path, db_path: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``python -m uvicorn responses_server.app:app --app-dir <parent>`` on a free loopback port with
    ``RESPONSES_SERVER_DB=<db_path>``; wait until it answers; yield ``http://127.0.0.1:PORT/v1``; stop it
    (terminate, wait, kill) on exit."""
    with _running_server(server_dir_parent, db_path, env={**bytecode_env(), **(env or {})}) as base_url:
        yield base_url
