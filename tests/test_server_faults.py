"""The sample Responses server under faults: concurrent turns, a failure or a kill -9 half-way
through a turn (audit #11, table E: E14, E16).

Every test talks HTTP to a real uvicorn process on 127.0.0.1 and then looks in its SQLite file.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from server_harness import running_server

from storegate.demo import free_port, rows_containing
from storegate.twin import server_source_dir

MODEL = "storegate-builtin"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base_url, db_path) of a sample server of this module's own: a test that breaks it breaks no other."""
    db_path = tmp_path_factory.mktemp("faults-server") / "responses.sqlite3"
    with running_server(server_source_dir().parent, db_path) as base_url:
        yield base_url, db_path


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """The sample server streaming one token every 20 ms: concurrent turns surely overlap."""
    db_path = tmp_path_factory.mktemp("faults-slow-server") / "responses.sqlite3"
    with running_server(server_source_dir().parent, db_path, env={"RESPONSES_SERVER_TOKEN_DELAY": "0.02"}) as url:
        yield url, db_path


def marker() -> str:
    return f"mk{uuid.uuid4().hex[:16]}"


def post_turn(client: httpx.Client, body: dict) -> dict:
    """POST /responses (streamed or not); the final response object."""
    if not body.get("stream"):
        answer = client.post("/responses", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()
    final = None
    with client.stream("POST", "/responses", json=body) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                if event["type"] == "response.completed":
                    final = event["response"]
    assert final is not None, "the stream ended without response.completed"
    return final


def messages_of(items: list[dict]) -> list[dict]:
    """The chat messages of conversation items, as the server keeps them in its transcript."""
    return [
        {"role": item["role"], "content": "".join(part["text"] for part in item["content"])}
        for item in items
        if item["type"] == "message"
    ]


def stored_transcript(db_path: Path, conversation_id: str) -> list[dict]:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        row = conn.execute(
            "SELECT messages_json FROM conversation_messages WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
    finally:
        conn.close()
    return json.loads(row[0]) if row else []


def error_of(answer: httpx.Response, body: bytes | None = None) -> dict:
    """The OpenAI-shaped error of an answer (checking the shape)."""
    payload = json.loads(body if body is not None else answer.content)
    error = payload["error"]
    assert set(payload) == {"error"} and set(error) == {"message", "type", "param", "code"}, payload
    return error


# -- E14: concurrent turns in one conversation ---------------------------------------------------


def test_concurrent_turns_are_all_kept_in_the_transcript(slow_server):
    """Six store=true turns at once in one conversation (half streamed): each reads the history
    before any commits. All six must be in the items and in the transcript, the next turn's context."""
    base_url, db_path = slow_server
    turns = 6
    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as client:
        conversation = client.post("/conversations", json={}).json()["id"]
    start = threading.Barrier(turns)

    def turn(index: int) -> dict:
        words = " ".join(f"w{n}" for n in range(15))  # 20 ms a token: each turn streams for ~0.4 s
        body = {"model": MODEL, "input": f"turn{index} {marker()} {words}", "conversation": conversation}
        body["stream"] = index % 2 == 0
        with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as client:
            client.get("/conversations/" + conversation)  # connect before the barrier
            start.wait()
            return post_turn(client, body)

    with ThreadPoolExecutor(max_workers=turns) as pool:
        responses = list(pool.map(turn, range(turns)))
    assert all(response["status"] == "completed" for response in responses)

    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as client:
        items = client.get(f"/conversations/{conversation}/items", params={"order": "asc", "limit": 100}).json()
        kept = messages_of(items["data"])
        assert len(kept) == 2 * turns
        assert stored_transcript(db_path, conversation) == kept

        # The next turn's model context holds all of them: its input tokens count every word.
        follow_up = post_turn(client, {"model": MODEL, "input": "and now", "conversation": conversation})
    context = [*kept, {"role": "user", "content": "and now"}]
    assert follow_up["usage"]["input_tokens"] == sum(len(message["content"].split()) for message in context)


# -- E16: a turn is one transaction ---------------------------------------------------------------


@contextmanager
def failing_transcript_writes(db_path: Path, needle: str) -> Iterator[None]:
    """A real SQLite failure at the last write of a turn: triggers that abort any write of a
    transcript holding ``needle`` (the response and the conversation items come before it)."""
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        for event in ("INSERT", "UPDATE"):
            conn.execute(
                f"CREATE TRIGGER fail_{event.lower()} BEFORE {event} ON conversation_messages"
                f" WHEN instr(NEW.messages_json, '{needle}') > 0 BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )
        conn.commit()
        yield
    finally:
        conn.execute("DROP TRIGGER IF EXISTS fail_insert")
        conn.execute("DROP TRIGGER IF EXISTS fail_update")
        conn.commit()
        conn.close()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_turn_that_fails_half_way_leaves_nothing(server, stream):
    base_url, db_path = server
    word = marker()
    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as client:
        conversation = client.post("/conversations", json={}).json()["id"]
        body = {"model": MODEL, "input": f"Remember {word}", "conversation": conversation, "stream": stream}
        with failing_transcript_writes(db_path, word):
            if stream:
                events = []
                with pytest.raises(httpx.RemoteProtocolError):  # the server drops the stream
                    with client.stream("POST", "/responses", json=body) as answer:
                        events.extend(line for line in answer.iter_lines() if line.startswith("event: "))
                assert "event: response.completed" not in events
            else:
                answer = client.post("/responses", json=body)
                assert answer.status_code == 500 and error_of(answer)["type"] == "server_error"
        assert rows_containing(db_path, [word]) == []  # no response, input item, conversation item or transcript

        # The conversation goes on as if the failed turn had never been asked.
        post_turn(client, {"model": MODEL, "input": "next", "conversation": conversation, "stream": stream})
        items = client.get(f"/conversations/{conversation}/items", params={"order": "asc"}).json()["data"]
    assert messages_of(items) == [{"role": "user", "content": "next"}, {"role": "assistant", "content": "You said: next"}]
    assert stored_transcript(db_path, conversation) == messages_of(items)


@contextmanager
def killable_server(db_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The sample server in a uvicorn process of our own, to be killed with SIGKILL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "responses_server.app:app", "--app-dir", str(server_source_dir().parent),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "critical", "--no-access-log",
    ]  # fmt: skip
    env = {**os.environ, "RESPONSES_SERVER_DB": str(db_path), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            assert process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{base}/health", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield f"{base}/v1", process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)


def check_whole_turns(db_path: Path) -> int:
    """Check that every stored turn is whole and that every conversation's transcript is its items; how
    many responses are stored. (A read-write connection: SQLite rolls a hot journal back on opening.)"""
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        responses = [json.loads(row[0]) for row in conn.execute("SELECT object_json FROM responses")]
        for conversation_id, transcript in conn.execute("SELECT conversation_id, messages_json FROM conversation_messages"):
            items = [
                json.loads(row[0])
                for row in conn.execute(
                    "SELECT item_json FROM conversation_items WHERE conversation_id = ? ORDER BY position",
                    (conversation_id,),
                )
            ]
            assert json.loads(transcript) == messages_of(items), conversation_id
            expected = set()
            for response in responses:
                if (response["conversation"] or {}).get("id") == conversation_id:
                    inputs = conn.execute(
                        "SELECT item_id FROM response_input_items WHERE response_id = ?", (response["id"],)
                    ).fetchall()
                    assert inputs, f"{response['id']} has no input items"
                    expected.update(item_id for (item_id,) in inputs)
                    expected.update(item["id"] for item in response["output"])
            assert {item["id"] for item in items} == expected, conversation_id
    finally:
        conn.close()
    return len(responses)


def test_kill_9_under_load_leaves_every_turn_whole(tmp_path):
    """Three rounds: 6 clients send store=true turns into 2 conversations (half streamed) until the
    server gets SIGKILL 0.5-1.5 s in; after each, every stored turn is whole and every transcript
    equals its conversation's items."""
    db_path = tmp_path / "responses.sqlite3"
    rng = random.Random(11)
    conversations: list[str] = []
    for _ in range(3):
        with killable_server(db_path) as (base_url, process):
            with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
                while len(conversations) < 2:
                    conversations.append(client.post("/conversations", json={}).json()["id"])

            def load(worker: int) -> None:
                with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
                    for index in range(200):
                        body = {
                            "model": MODEL,
                            "input": f"{marker()} from {worker} number {index}",
                            "conversation": conversations[(worker + index) % 2],
                            "stream": (worker + index) % 2 == 0,
                        }
                        try:
                            post_turn(client, body)
                        except (httpx.TransportError, AssertionError):
                            return  # the server is gone

            with ThreadPoolExecutor(max_workers=6) as pool:
                workers = [pool.submit(load, worker) for worker in range(6)]
                time.sleep(rng.uniform(0.5, 1.5))
                process.kill()
                process.wait(timeout=60)
                for done in workers:
                    done.result(timeout=60)
        stored = check_whole_turns(db_path)
    assert stored > 0, "no turn was stored: the load never ran"
