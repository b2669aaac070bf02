"""Runtime proof: the sample Responses server keeps nothing of a store=false request, its leaky twin does.

Every test talks HTTP to a real uvicorn process with the official ``openai`` client (or httpx), then
looks in the SQLite file itself: every column of every table, and the file's raw bytes.
"""

from __future__ import annotations

import functools
import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import httpx
import openai
from server_harness import running_server

from storegate.twin import server_source_dir  # noqa: E402

MODEL = "storegate-builtin"


@functools.lru_cache(maxsize=None)
def make_client(base_url: str):
    http_client = httpx.Client(trust_env=False, timeout=30.0)  # loopback: ignore any proxy settings
    return openai.OpenAI(api_key="test", base_url=base_url, max_retries=0, http_client=http_client)


def unique_question() -> tuple[str, str]:
    """A question no other test asks, and the built-in model's answer to it."""
    left, right = random.randrange(10**6, 10**7), random.randrange(10**6, 10**7)
    return f"What is {left}+{right}?", f"{left} + {right} equals {left + right}."


def marker() -> str:
    return f"mk{uuid.uuid4().hex[:16]}"


def db_hits(db_path: Path, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every value of every table that contains one of ``needles``."""
    import sqlite3

    hits = []
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [column[0] for column in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row):
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    hits.extend((table, column, needle) for needle in needles if needle in text)
    finally:
        conn.close()
    return hits


def file_bytes_contain(db_path: Path, needle: str) -> bool:
    """Whether the database file (or a journal beside it) holds ``needle`` anywhere, even in free pages."""
    data = needle.encode("utf-8")
    candidates = [db_path, *db_path.parent.glob(db_path.name + "-*")]
    return any(path.is_file() and data in path.read_bytes() for path in candidates)


def conversation_texts(client, conversation_id: str) -> list[tuple[str, str]]:
    page = client.conversations.items.list(conversation_id, order="asc", limit=100)
    return [(item.role, "".join(part.text for part in item.content)) for item in page.data]


def create(client, *, stream: bool, **params):
    """``responses.create``; for a stream, the final response (after checking the events)."""
    if not stream:
        return client.responses.create(model=MODEL, **params)
    events = list(client.responses.create(model=MODEL, stream=True, **params))
    types = [event.type for event in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    final = events[-1].response
    assert deltas == final.output_text
    return final


@dataclass
class Observed:
    response: object
    retrievable: bool
    conversation: list[tuple[str, str]]
    hits: list[tuple[str, str, str]]


def four_steps(base_url: str, db_path: Path, *, store: bool, stream: bool) -> tuple[Observed, str, str]:
    """The motivating bug's four steps: conversation, response in it, retrieve, list the conversation."""
    client = make_client(base_url)
    question, answer = unique_question()
    conversation = client.conversations.create()  # 1
    response = create(client, stream=stream, input=question, store=store, conversation=conversation.id)  # 2
    assert response.status == "completed"
    assert response.store is store
    assert response.output_text == answer
    try:  # 3
        client.responses.retrieve(response.id)
        retrievable = True
    except openai.NotFoundError:
        retrievable = False
    observed = Observed(
        response=response,
        retrievable=retrievable,
        conversation=conversation_texts(client, conversation.id),  # 4
        hits=db_hits(db_path, [question, answer]),
    )
    return observed, question, answer


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_store_false_keeps_nothing(correct_server, stream):
    base_url, db_path = correct_server
    observed, question, answer = four_steps(base_url, db_path, store=False, stream=stream)
    assert not observed.retrievable
    assert observed.conversation == []
    assert observed.hits == []
    assert not file_bytes_contain(db_path, question)
    assert not file_bytes_contain(db_path, answer)
    with pytest.raises(openai.NotFoundError):
        make_client(base_url).responses.input_items.list(observed.response.id)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_store_true_keeps_everything(correct_server, stream):
    base_url, db_path = correct_server
    observed, question, answer = four_steps(base_url, db_path, store=True, stream=stream)
    assert observed.retrievable
    assert observed.conversation == [("user", question), ("assistant", answer)]
    tables = {table for table, _, _ in observed.hits}
    assert {"responses", "response_input_items", "conversation_items", "conversation_messages"} <= tables

    client = make_client(base_url)
    kept = client.responses.retrieve(observed.response.id)
    assert kept.output_text == answer and kept.store is True and kept.conversation.id
    inputs = client.responses.input_items.list(observed.response.id)
    assert [(item.role, item.content[0].text) for item in inputs.data] == [("user", question)]

    # Deleting the response removes it (and its input items), not the conversation's items.
    client.responses.delete(observed.response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(observed.response.id)
    assert conversation_texts(client, kept.conversation.id) == [("user", question), ("assistant", answer)]


def test_leaky_twin_leaks_when_streaming(leaky_server):
    """The same probe fails on the twin: the response is not retrievable, yet the conversation kept it."""
    base_url, db_path = leaky_server
    observed, question, answer = four_steps(base_url, db_path, store=False, stream=True)
    assert not observed.retrievable
    assert observed.conversation == [("user", question), ("assistant", answer)]
    assert {table for table, _, _ in observed.hits} == {"conversation_items", "conversation_messages"}


def test_leaky_twin_differs_only_in_the_streaming_gate(leaky_server):
    base_url, db_path = leaky_server
    observed, _, _ = four_steps(base_url, db_path, store=False, stream=False)
    assert not observed.retrievable and observed.conversation == [] and observed.hits == []


def test_previous_response_id_of_unstored_response_is_refused(correct_server):
    base_url, _ = correct_server
    client = make_client(base_url)
    unstored = client.responses.create(model=MODEL, input="first turn", store=False)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="second turn", previous_response_id=unstored.id)
    assert refused.value.body["param"] == "previous_response_id"

    stored = client.responses.create(model=MODEL, input="first turn")
    follow_up = client.responses.create(model=MODEL, input="second turn", previous_response_id=stored.id)
    assert follow_up.previous_response_id == stored.id and follow_up.output_text == "You said: second turn"
    assert follow_up.usage.input_tokens > stored.usage.input_tokens  # the earlier turn is in the context


def test_previous_response_id_and_conversation_are_exclusive(correct_server):
    base_url, _ = correct_server
    client = make_client(base_url)
    stored = client.responses.create(model=MODEL, input="hello")
    conversation = client.conversations.create()
    with pytest.raises(openai.BadRequestError):
        client.responses.create(
            model=MODEL, input="again", previous_response_id=stored.id, conversation={"id": conversation.id}
        )
    assert conversation_texts(client, conversation.id) == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param", "code"),
    [
        ("GET", "/responses/resp_missing", None, 404, "response_id", "not_found"),
        ("GET", "/responses/resp_missing/input_items", None, 404, "response_id", "not_found"),
        ("DELETE", "/responses/resp_missing", None, 404, "response_id", "not_found"),
        ("GET", "/conversations/conv_missing", None, 404, "conversation_id", "not_found"),
        ("GET", "/conversations/conv_missing/items", None, 404, "conversation_id", "not_found"),
        ("DELETE", "/conversations/conv_missing", None, 404, "conversation_id", "not_found"),
        ("DELETE", "/conversations/conv_missing/items/msg_missing", None, 404, "conversation_id", "not_found"),
        ("POST", "/responses", {"model": MODEL}, 400, "input", "missing_required_parameter"),
        ("POST", "/responses", {"input": "hi"}, 400, "model", "missing_required_parameter"),
        ("POST", "/responses", {"model": MODEL, "input": "hi", "stor": False}, 400, "stor", "unknown_parameter"),
        ("POST", "/responses", {"model": MODEL, "input": "hi", "store": "sometimes"}, 400, "store", "invalid_type"),
        ("POST", "/responses", {"model": MODEL, "input": [{"role": "robot", "content": "x"}]}, 400, "input[0].role", None),
        ("POST", "/responses", {"model": MODEL, "input": 5}, 400, "input", "invalid_type"),
        ("POST", "/responses", {"model": MODEL, "input": "hi", "conversation": 5}, 400, "conversation", "invalid_type"),
        ("POST", "/responses", {"model": MODEL, "input": "hi", "metadata": {"a": 1, "b": 2}}, 400, "metadata.a", "invalid_type"),
        ("POST", "/responses", {"model": MODEL, "input": "hi", "conversation": "conv_missing"}, 404, "conversation", "not_found"),
        ("POST", "/responses", {"model": MODEL, "input": "hi", "background": True}, 400, "background", None),
        ("POST", "/responses", b"{not json", 400, None, "invalid_json"),
        ("GET", "/nowhere", None, 404, None, "unknown_url"),
        ("POST", "/chat/completions", {"model": MODEL, "messages": []}, 404, None, "unknown_url"),
        ("PUT", "/responses", {"model": MODEL, "input": "hi"}, 405, None, "method_not_allowed"),
    ],
)
def test_errors_are_openai_shaped(correct_server, method, path, body, status, param, code):
    base_url, _ = correct_server
    if isinstance(body, bytes):
        kwargs = {"content": body, "headers": {"content-type": "application/json"}}
    else:
        kwargs = {} if body is None else {"json": body}
    answer = httpx.request(method, base_url + path, timeout=10, trust_env=False, **kwargs)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["message"]
    assert (error["param"], error["code"]) == (param, code)
    if code in ("unknown_url", "method_not_allowed"):
        assert error["message"] == f"Invalid URL ({method} /v1{path})"


@pytest.mark.parametrize(
    ("field", "value"),
    [("store", "false"), ("store", 0), ("store", "no"), ("stream", "true"), ("stream", 1), ("background", "false")],
)
def test_the_flags_accept_only_booleans(correct_server, field, value):
    """``"store": "false"`` is refused, as OpenAI refuses it: read as false (pydantic's lax booleans),
    a client that meant something else would believe nothing was kept; nothing is created either."""
    base_url, db_path = correct_server
    word = marker()
    body = {"model": MODEL, "input": f"Note {word}", field: value}
    answer = httpx.post(f"{base_url}/responses", json=body, timeout=10, trust_env=False)
    assert answer.status_code == 400, answer.text
    got = "a string" if isinstance(value, str) else "an integer"
    assert answer.json() == {
        "error": {
            "message": f"Invalid type for '{field}': expected a boolean, but got {got} instead.",
            "type": "invalid_request_error",
            "param": field,
            "code": "invalid_type",
        }
    }
    assert db_hits(db_path, [word]) == []


def test_null_flags_take_the_defaults(correct_server):
    """``null`` is the API's default (store: true, no stream), not a type error."""
    base_url, _ = correct_server
    body = {"model": MODEL, "input": "What is 1+1?", "store": None, "stream": None, "background": None}
    answer = httpx.post(f"{base_url}/responses", json=body, timeout=10, trust_env=False)
    assert answer.status_code == 200 and answer.json()["store"] is True


def test_deleting_a_response_deletes_its_input_items(correct_server):
    base_url, db_path = correct_server
    client = make_client(base_url)
    word = marker()
    response = client.responses.create(model=MODEL, input=f"Note {word}")
    assert {table for table, _, _ in db_hits(db_path, [word])} == {"responses", "response_input_items"}
    deleted = client.responses.delete(response.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    assert db_hits(db_path, [word]) == []
    assert not file_bytes_contain(db_path, word)  # secure_delete: no readable bytes left
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(response.id)


def test_deleting_a_conversation_deletes_its_items_and_transcript(correct_server):
    """Its items and its transcript go; the responses created in it stay, as in OpenAI's API."""
    base_url, db_path = correct_server
    client = make_client(base_url)
    word = marker()
    conversation = client.conversations.create(items=[{"type": "message", "role": "user", "content": f"Hi {word}"}])
    response = client.responses.create(model=MODEL, input=f"Note {word}", conversation=conversation.id)
    assert len(conversation_texts(client, conversation.id)) == 3
    answer = httpx.delete(f"{base_url}/conversations/{conversation.id}", timeout=10, trust_env=False)
    assert answer.status_code == 200
    assert answer.json() == {"id": conversation.id, "object": "conversation.deleted", "deleted": True}
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conversation.id)
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.list(conversation.id)
    assert {table for table, _, _ in db_hits(db_path, [word])} == {"responses", "response_input_items"}
    assert client.responses.retrieve(response.id).output_text == f"You said: Note {word}"
    again = httpx.delete(f"{base_url}/conversations/{conversation.id}", timeout=10, trust_env=False)
    assert again.status_code == 404


def test_deleting_a_conversation_item_removes_it_from_the_transcript(correct_server):
    """The item goes, and its message leaves the transcript (the model's context for the next turn)."""
    import sqlite3

    base_url, db_path = correct_server
    client = make_client(base_url)
    word = marker()
    conversation = client.conversations.create()
    client.responses.create(model=MODEL, input=f"Note {word}", conversation=conversation.id)
    question, _ = client.conversations.items.list(conversation.id, order="asc").data
    assert client.conversations.items.retrieve(question.id, conversation_id=conversation.id).id == question.id
    answer = httpx.delete(f"{base_url}/conversations/{conversation.id}/items/{question.id}", timeout=10, trust_env=False)
    assert answer.status_code == 200 and answer.json()["id"] == conversation.id
    reply = f"You said: Note {word}"
    assert conversation_texts(client, conversation.id) == [("assistant", reply)]
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as conn:
        (transcript,) = conn.execute(
            "SELECT messages_json FROM conversation_messages WHERE conversation_id = ?", (conversation.id,)
        ).fetchone()
    assert json.loads(transcript) == [{"role": "assistant", "content": reply}]
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(question.id, conversation_id=conversation.id)


def test_stream_helper_of_the_client(correct_server):
    base_url, _ = correct_server
    client = make_client(base_url)
    with client.responses.stream(model=MODEL, input="What is 6 * 7?", store=False) as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "6 * 7 equals 42."


def test_concurrent_mixed_load(correct_server):
    """40 requests, 8 at a time, over 4 shared conversations: every kept request is whole, no other is kept."""
    base_url, db_path = correct_server
    client = make_client(base_url)
    conversations = [client.conversations.create().id for _ in range(4)]
    plans = []
    for index in range(40):
        word = marker()
        plans.append(
            {
                "word": word,
                "input": f"Note {word} for request {index}",
                "store": index % 2 == 0,
                "stream": index % 3 == 0,
                "conversation": conversations[index % 4] if index % 5 else None,
            }
        )

    def run(plan):
        params = {"input": plan["input"], "store": plan["store"]}
        if plan["conversation"]:
            params["conversation"] = plan["conversation"]
        return create(client, stream=plan["stream"], **params)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(run, plans))

    transcripts = {conversation: conversation_texts(client, conversation) for conversation in conversations}
    for plan, response in zip(plans, responses):
        answer = f"You said: {plan['input']}"
        assert response.output_text == answer
        if plan["store"]:
            kept = client.responses.retrieve(response.id)
            assert kept.output_text == answer and kept.status == "completed"
            inputs = client.responses.input_items.list(response.id)
            assert [item.content[0].text for item in inputs.data] == [plan["input"]]
            if plan["conversation"]:
                transcript = transcripts[plan["conversation"]]
                position = transcript.index(("user", plan["input"]))
                assert transcript[position + 1] == ("assistant", answer)  # appended together
        else:
            with pytest.raises(openai.NotFoundError):
                client.responses.retrieve(response.id)
            assert db_hits(db_path, [plan["word"]]) == []
            assert not file_bytes_contain(db_path, plan["word"])
    for conversation, transcript in transcripts.items():
        expected = sum(1 for plan in plans if plan["store"] and plan["conversation"] == conversation)
        assert len(transcript) == 2 * expected


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """The sample server streaming one token every 20 ms, so a client can leave half-way."""
    db_path = tmp_path_factory.mktemp("slow-server") / "responses.sqlite3"
    with running_server(server_source_dir().parent, db_path, env={"RESPONSES_SERVER_TOKEN_DELAY": "0.02"}) as url:
        yield url, db_path


@pytest.mark.parametrize("store", [False, True], ids=["store-false", "store-true"])
def test_client_disconnect_mid_stream_stores_nothing(slow_server, store):
    """A stream is persisted on its terminal event; a client that leaves before it keeps nothing."""
    base_url, db_path = slow_server
    client = make_client(base_url)
    conversation = client.conversations.create()
    word = marker()
    words = 40
    text = f"{word} " + " ".join(f"w{index}" for index in range(words))
    body = {"model": MODEL, "input": text, "store": store, "conversation": conversation.id, "stream": True}
    response_id = None
    with httpx.Client(timeout=10, trust_env=False) as http:
        with http.stream("POST", f"{base_url}/responses", json=body) as answer:
            assert answer.status_code == 200
            for line in answer.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line.removeprefix("data: "))
                if event["type"] == "response.created":
                    response_id = event["response"]["id"]
                if event["type"] == "response.output_text.delta":
                    break  # leave after the first token
    assert response_id is not None
    time.sleep(words * 0.02 + 0.5)  # past the time the whole answer would have taken

    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response_id)
    assert conversation_texts(client, conversation.id) == []
    assert db_hits(db_path, [word]) == []
    assert not file_bytes_contain(db_path, word)


def test_finished_slow_stream_is_stored(slow_server):
    """The control for the test above: the same slow server keeps a stream that was read to the end."""
    base_url, db_path = slow_server
    client = make_client(base_url)
    word = marker()
    response = create(client, stream=True, input=f"{word} w1 w2", store=True)
    assert client.responses.retrieve(response.id).output_text == f"You said: {word} w1 w2"
    assert db_hits(db_path, [word])


def test_twin_differs_from_the_server_by_one_line(tmp_path):
    from storegate.twin import leaky_diff, make_leaky_copy

    changed = [
        line for line in leaky_diff().splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert [" ".join(line.split()) for line in changed] == ["- and store"]

    twin = make_leaky_copy(tmp_path)
    original = server_source_dir()
    names = sorted(path.name for path in original.iterdir() if path.is_file() and path.suffix != ".pyc")
    assert sorted(path.name for path in twin.iterdir()) == names
    for name in names:
        same = (twin / name).read_bytes() == (original / name).read_bytes()
        assert same == (name != "service.py"), name
    with pytest.raises(FileExistsError):
        make_leaky_copy(tmp_path)
