"""Run the sample Responses server (or its twin) in a uvicorn subprocess for a test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from storegate.demo import running_server as _running_server


@contextlib.contextmanager
def running_server(server_dir_parent: Path, db_path: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``python -m uvicorn responses_server.app:app --app-dir <parent>`` on a free loopback port with
    ``RESPONSES_SERVER_DB=<db_path>``; wait until it answers; yield ``http://127.0.0.1:PORT/v1``; stop it
    (terminate, wait, kill) on exit."""
    with _running_server(server_dir_parent, db_path, env=env) as base_url:
        yield base_url
