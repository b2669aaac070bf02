"""Session-wide servers: the sample Responses server and its leaky twin, each over its own SQLite file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session", autouse=True)
def private_cache_key(tmp_path_factory):
    """The tests (and the processes they start) keep the cache's key in a home of their own,
    never in the real user's ~/.cache/storegate."""
    import os

    home = tmp_path_factory.mktemp("home")
    saved = {name: os.environ.get(name) for name in ("HOME", "XDG_CACHE_HOME")}
    os.environ["HOME"], os.environ["XDG_CACHE_HOME"] = str(home), str(home / ".cache")
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def correct_server(tmp_path_factory):
    """(base_url, db_path) of the sample server, which honours store=false."""
    from server_harness import running_server

    from storegate.twin import server_source_dir

    db_path = tmp_path_factory.mktemp("correct-server") / "responses.sqlite3"
    with running_server(server_source_dir().parent, db_path) as base_url:
        yield base_url, db_path


@pytest.fixture(scope="session")
def leaky_server(tmp_path_factory):
    """(base_url, db_path) of the leaky twin: the motivating bug put back by storegate.twin."""
    from server_harness import running_server

    from storegate.twin import make_leaky_copy

    root = tmp_path_factory.mktemp("leaky-server")
    twin = make_leaky_copy(root / "src")
    db_path = root / "responses.sqlite3"
    with running_server(twin.parent, db_path) as base_url:
        yield base_url, db_path
