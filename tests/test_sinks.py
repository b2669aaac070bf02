"""Sink kinds as registered strategies (``storegate.sinks``): each configured sink is held by the
kind that claims it, and each site of a summary names the kind that matched it."""

from __future__ import annotations

from storegate.analysis import summarize
from storegate.config import load_config
from storegate.model import Sink
from storegate.sinks import SINK_KINDS, CallSinks, ContainerSinks, LibrarySinks, SinkMatcher, glob_matcher, sink_glob

SOURCE = '''
from app.db import save

def handler(request, store=True):
    save(request)
    db.insert("INSERT INTO t", request)
    request.cache[request.id] = request
    request.cache.append(request)
    log(request)
'''


def test_each_sink_is_held_by_the_kind_that_claims_it() -> None:
    sinks = [Sink("app.db.*"), Sink("*.cache[]"), Sink("db.insert", "^INSERT"), Sink("redis.Redis().set"), Sink("shelve.open()[]")]
    matcher = SinkMatcher(sinks)
    held = {type(kind): list(kind.sinks) for kind in matcher.kinds}
    assert held == {CallSinks: [sinks[0], sinks[2]], ContainerSinks: [sinks[1]], LibrarySinks: [sinks[3], sinks[4]]}
    assert [kind.name for kind in SINK_KINDS] == ["library", "call", "container", "state"]


def test_a_site_names_the_kind_of_sink_it_matched() -> None:
    config = load_config(["."], isolated=True, flags=["store"], sinks=["app.db.*", "*.cache[]", "db.insert"])
    summary = summarize(SOURCE, "app/handler.py", config, "app.handler")
    (function,) = [f for f in summary.functions if f.name == "handler"]
    kinds = {(site.text, site.sink_kind) for site in function.sites if site.sink is not None}
    assert kinds == {
        ("save", "call"),
        ("db.insert", "call"),
        ("request.cache[...]", "container"),
        ("request.cache.append", "container"),
    }
    assert type(summary).from_json(summary.to_json()) == summary  # the kind survives the cache


def test_a_leading_star_dot_also_matches_the_bare_name() -> None:
    pattern = sink_glob("*.conversation_store.store_*")
    assert pattern("self.conversation_store.store_messages")
    assert pattern("conversation_store.store_messages")
    assert not pattern("my_conversation_store.store_messages")
    assert not pattern("store_messages")
    assert sink_glob("*.response_store")("response_store") and not sink_glob("*.response_store")("xresponse_store")
    assert sink_glob("*store")("xstore")  # no dot after the star: a plain glob
    assert not glob_matcher("*.response_store")("response_store")  # route and plain globs are unchanged


LIBRARY_SOURCE = '''
import json
import redis

def handler(request, rid, settings, store=True):
    r = redis.Redis()
    r.set(rid, request)
    settings.set(rid, request)
    with open(rid, "w") as f:
        json.dump(request, f)
    open(rid).read()
    open(rid, mode="rb").read()
'''


def test_library_sinks_are_named_by_the_receivers_type_and_say_their_kind() -> None:
    """``r.set`` is a sink because ``r`` is a ``redis.Redis()``; ``settings.set`` is not; an
    ``open`` for writing (mode as argument 2) is a ``file`` sink, for reading it is none."""
    config = load_config(["."], isolated=True, rules=["libraries"], flags=["store"])
    summary = summarize(LIBRARY_SOURCE, "app/handler.py", config, "app.handler")
    (function,) = [f for f in summary.functions if f.name == "handler"]
    kinds = {(site.text, site.span.line, site.sink_kind) for site in function.sites if site.sink is not None}
    assert kinds == {("r.set", 7, "library"), ("open", 9, "file"), ("json.dump", 10, "file")}


def test_a_library_sink_is_tried_by_its_methods_name_or_its_wildcard_in_the_configurations_order() -> None:
    """Library sinks are indexed by their method's name, as call sinks are: a method matched by
    a wildcard (``h*``) is still found, a method no pattern names is not, and where two match,
    the first configured wins."""
    source = "import redis\n\ndef handler(rid, request, store=True):\n    r = redis.Redis()\n    r.hset(rid, request)\n    r.set(rid, request)\n    r.get(rid)\n"
    config = load_config(["."], isolated=True, flags=["store"], sinks=["redis.Redis().h*", "redis.Redis().*set", "redis.Redis().set"])
    (function,) = [f for f in summarize(source, "app/handler.py", config, "app.handler").functions if f.name == "handler"]
    sinks = {site.text: site.sink for site in function.sites if site.sink is not None}
    assert sinks == {"r.hset": "redis.Redis().h*", "r.set": "redis.Redis().*set"}
