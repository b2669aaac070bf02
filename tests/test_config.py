"""storegate.config: finding [tool.storegate], validating it, rule packs, command-line overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storegate.config import (
    available_packs,
    find_config_file,
    load_config,
    load_pack,
    packs_dir,
    parse_flag_spec,
    parse_sink_spec,
)
from storegate.errors import ConfigError
from storegate.model import Flag, Retention, RouteDefault, Sink

OPENAI_STORE = Flag("store", none_means=True)
DRY_RUN = Flag("dry_run", inverted=True)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def pyproject(directory: Path, body: str) -> Path:
    return write(directory / "pyproject.toml", "[tool.storegate]\n" + body)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config_error(**kwargs) -> str:
    paths = kwargs.pop("paths", ["."])
    with pytest.raises(ConfigError) as info:
        load_config(paths, **kwargs)
    return str(info.value)


# --- discovery ------------------------------------------------------------------------------


def test_walks_up_to_the_first_pyproject_with_a_storegate_table(in_tmp):
    top = pyproject(in_tmp / "proj", 'flags = ["top"]\n')
    write(in_tmp / "proj/svc/pyproject.toml", "[project]\nname = 'svc'\n[tool.black]\n")
    target = write(in_tmp / "proj/svc/pkg/a.py", "")
    assert find_config_file([target]) == top
    config = load_config([target])
    assert config.source == top.resolve()
    assert Flag("top") in config.flags


def test_nearest_storegate_table_wins(in_tmp):
    pyproject(in_tmp / "proj", 'flags = ["top"]\n')
    inner = pyproject(in_tmp / "proj/svc", 'flags = ["inner"]\n')
    write(in_tmp / "proj/svc/a.py", "")
    config = load_config(["proj/svc/a.py"])
    assert config.source == inner.resolve()
    assert [f.name for f in config.flags] == ["store", "inner"]


def test_discovery_starts_at_the_common_parent_of_the_paths(in_tmp):
    pyproject(in_tmp / "proj", "")
    inner = pyproject(in_tmp / "proj/a", "")
    write(in_tmp / "proj/a/x.py", "")
    write(in_tmp / "proj/b/y.py", "")
    assert find_config_file(["proj/a/x.py"]) == inner.resolve()
    assert find_config_file(["proj/a/x.py", "proj/b/y.py"]) == (in_tmp / "proj/pyproject.toml")


def test_no_config_gives_the_default_openai_pack(in_tmp):
    write(in_tmp / "a.py", "")
    config = load_config(["a.py"])
    assert config.source is None
    assert config.packs == ("openai", "state", "libraries")
    assert config.flags == (OPENAI_STORE,)
    assert Sink("*.response_store[]") in config.sinks
    assert "POST */responses" in config.routes


def test_broken_toml_is_a_config_error(in_tmp):
    write(in_tmp / "pyproject.toml", "[tool.storegate\n")
    message = config_error()
    assert "pyproject.toml" in message and "invalid TOML" in message


def test_isolated_ignores_config_files(in_tmp):
    pyproject(in_tmp, 'rules = ["dry-run"]\nbogus = 1\n')
    config = load_config(["."], isolated=True)
    assert config.source is None
    assert config.packs == ("openai", "state", "libraries")


def test_isolated_and_config_file_conflict(in_tmp):
    toml = write(in_tmp / "storegate.toml", "")
    assert "--isolated" in config_error(config_file=toml, isolated=True)


def test_explicit_standalone_config_file(in_tmp):
    pyproject(in_tmp, 'flags = ["ignored"]\n')
    toml = write(in_tmp / "conf/storegate.toml", 'rules = []\nflags = ["go"]\nsinks = ["persist"]\n')
    config = load_config(["."], config_file=toml)
    assert config.source == toml.resolve()
    assert config.flags == (Flag("go"),)
    assert config.sinks == (Sink("persist"),)
    assert config.packs == ()


def test_explicit_pyproject_uses_its_tool_table(in_tmp):
    project = pyproject(in_tmp / "elsewhere", 'rules = ["dry-run"]\n')
    config = load_config(["."], config_file=project)
    assert config.packs == ("dry-run",)
    assert config.source == project.resolve()


def test_missing_config_file(in_tmp):
    assert "not found" in config_error(config_file=in_tmp / "nope.toml")


# --- validation -----------------------------------------------------------------------------


def test_unknown_key_names_the_key_and_the_file(in_tmp):
    pyproject(in_tmp, "flagz = []\n")
    message = config_error()
    assert "'flagz'" in message
    assert "pyproject.toml" in message


def test_unknown_key_suggests_the_kebab_case_spelling(in_tmp):
    pyproject(in_tmp, 'extend_exclude = ["x"]\n')
    assert "did you mean 'extend-exclude'" in config_error()


def test_unknown_key_in_a_flag_table(in_tmp):
    pyproject(in_tmp, 'flags = [{name = "store", none_means = true}]\n')
    assert "'none_means'" in config_error()


@pytest.mark.parametrize(
    "body, needle",
    [
        ('rules = "openai"\n', "'rules' must be a list"),
        ('flags = "store"\n', "'flags' must be a list"),
        ("flags = [1]\n", "names or tables"),
        ('flags = [{inverted = true}]\n', "no 'name'"),
        ('flags = [{name = "store", inverted = "yes"}]\n', "'inverted' must be true or false"),
        ('flags = ["not-an-identifier"]\n', "invalid flag name 'not-an-identifier'"),
        ('sinks = [{argument = "x"}]\n', "no 'pattern'"),
        ("sinks = [3]\n", "patterns or tables"),
        ('routes = ["v1/responses"]\n', "invalid route 'v1/responses'"),
        ("exclude = [1]\n", "'exclude' entries"),
        ("rules = [1]\n", "'rules' entries must be strings"),
        ('[tool.storegate.flags]\nname = "x"\n', "'flags' must be a list"),
        ('state = ["dict"]\n', "'state' must be a table"),
        ('state = {containers = "dict"}\n', "'containers' must be a list"),
        ('state = {containers = ["dict"], ignored = []}\n', "did you mean 'ignore'"),
        ('state = {containers = ["collections.*"]}\n', "must be a qualified name, not a glob"),
        ('state = {containers = ["a b"]}\n', "invalid entry 'a b'"),
        ('state = {ignore = ["*task*"]}\n', "names no 'containers'"),
    ],
)
def test_wrong_types_are_config_errors(in_tmp, body, needle):
    pyproject(in_tmp, body)
    assert needle in config_error()


def test_bad_argument_regex_is_named(in_tmp):
    pyproject(in_tmp, "sinks = [{pattern = \"*.execute\", argument = '(?i)^insert('}]\n")
    message = config_error()
    assert "'(?i)^insert('" in message
    assert "*.execute" in message


@pytest.mark.parametrize(
    "pattern",
    ["", " ", "save response", "a..b", ".a", "a.", "a[", "a[]]", "a[]b", "a("],
)
def test_bad_sink_patterns_are_rejected(in_tmp, pattern):
    pyproject(in_tmp, f"sinks = [{pattern!r}]\n".replace("'", '"'))
    message = config_error()
    assert "'sinks'" in message
    assert repr(pattern) in message


@pytest.mark.parametrize(
    "pattern", ["save_*", "*.response_store[]", "db.save?", "requests.*.post", "sqlite3.*.execute", "*", "*.*"]
)
def test_good_sink_patterns_are_accepted(in_tmp, pattern):
    pyproject(in_tmp, f'rules = []\nsinks = ["{pattern}"]\n')
    assert load_config(["."]).sinks == (Sink(pattern),)


def test_full_table_is_parsed(in_tmp):
    pyproject(
        in_tmp,
        'rules = []\n'
        'flags = ["store", {name = "dry_run", inverted = true, none-means = false, '
        "self-attribute = true}]\n"
        "sinks = [\"save_*\", {pattern = \"*.execute\", argument = '(?i)^\\s*insert'}]\n"
        'routes = ["/v1/responses"]\n'
        'exclude = ["gen"]\n'
        'extend-exclude = ["tests/fixtures"]\n',
    )
    config = load_config(["."])
    assert config.flags == (Flag("store"), Flag("dry_run", inverted=True, self_attribute=True))
    assert config.sinks == (Sink("save_*"), Sink("*.execute", r"(?i)^\s*insert"))
    assert config.routes == ("/v1/responses",)
    assert config.exclude == ("gen",)
    assert config.extend_exclude == ("tests/fixtures",)
    assert config.packs == ()


# --- merging --------------------------------------------------------------------------------


def test_config_flags_sinks_routes_are_added_to_the_packs(in_tmp):
    pyproject(in_tmp, 'flags = ["persist"]\nsinks = ["save_thing"]\nroutes = ["/v2/x"]\n')
    config = load_config(["."])
    assert config.packs == ("openai", "state", "libraries")
    assert config.flags == (OPENAI_STORE, Flag("persist"))
    assert config.sinks[-1] == Sink("save_thing")
    assert Sink("*.store_response_object") in config.sinks
    assert config.routes[-1] == "/v2/x" and "POST */responses" in config.routes


def test_openai_pack_says_chat_completions_do_not_keep_by_default(in_tmp):
    openai = load_pack("openai", None)
    assert openai.routes == ("POST */responses", "POST */chat/completions", "WEBSOCKET */responses*")
    assert openai.route_defaults == (RouteDefault("POST */chat/completions", none_means=False),)


def test_route_tables_give_a_route_its_default(in_tmp):
    pyproject(in_tmp, 'routes = [{ route = "POST */v2/chat", none-means = false, flag = "store" }]\n')
    config = load_config(["."])
    assert config.routes[-1] == "POST */v2/chat"
    assert config.route_defaults[-1] == RouteDefault("POST */v2/chat", none_means=False, flag="store")


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ('{ route = "POST */v2/chat" }', "needs 'route' and 'none-means'"),
        ('{ none-means = false }', "needs 'route' and 'none-means'"),
        ('{ route = "POST */v2/chat", none-means = "no" }', "'none-means' must be true or false"),
        ('{ route = "v2/chat", none-means = false }', "invalid route 'v2/chat'"),
        ('{ route = "POST */v2/chat", none-means = false, flag = "a-b" }', "invalid flag name 'a-b'"),
        ('{ route = "POST */v2/chat", none-mean = false }', "unknown key 'none-mean'"),
    ],
)
def test_bad_route_tables_are_refused_in_one_line(in_tmp, entry, reason):
    pyproject(in_tmp, f"routes = [{entry}]\n")
    message = config_error()
    assert reason in message and "pyproject.toml" in message and "\n" not in message


def test_later_flag_definition_wins(in_tmp):
    pyproject(
        in_tmp,
        'flags = [{name = "store", none-means = false}, "other", {name = "other", inverted = true}]\n',
    )
    config = load_config(["."])
    assert config.flags == (Flag("store"), Flag("other", inverted=True))


def test_configured_rules_replace_the_default(in_tmp):
    pyproject(in_tmp, 'rules = ["dry-run"]\n')
    config = load_config(["."])
    assert config.packs == ("dry-run",)
    assert config.flags == (DRY_RUN,)
    assert Sink("shutil.rmtree") in config.sinks
    assert Sink("*.response_store[]") not in config.sinks


def test_the_state_pack_loads_by_default_and_a_config_can_drop_it(in_tmp):
    state = load_pack("state", None).state
    assert state is not None and {"dict", "collections.deque", "cachetools.TTLCache"} <= set(state.containers)
    assert "*task*" in state.ignore and "*create_task" in state.ignore_values and "*pool" in state.ignore_classes
    assert load_config(["."]).state == state
    pyproject(in_tmp, 'rules = ["openai"]\n')
    assert load_config(["."]).state is None
    assert load_config(["."], rules=["openai", "state"]).state == state


def test_config_state_is_added_to_the_packs_and_sink_replaces_it(in_tmp):
    pyproject(in_tmp, 'state = {containers = ["mylib.Store", "dict"], ignore-values = ["mylib.stamp"], ignore-classes = ["*broker"]}\n')
    config = load_config(["."])
    assert config.state is not None
    assert config.state.containers[-1] == "mylib.Store" and config.state.containers.count("dict") == 1
    assert config.state.ignore_values[-1] == "mylib.stamp" and config.state.ignore_classes[-1] == "*broker"
    # --sink replaces all sinks, the state containers too
    assert load_config(["."], sinks=["*.save"]).state is None


def test_several_packs_are_combined(in_tmp):
    pyproject(in_tmp, 'rules = ["openai", "dry-run"]\n')
    config = load_config(["."])
    assert config.packs == ("openai", "dry-run")
    assert config.flags == (OPENAI_STORE, DRY_RUN)
    # the same (pattern, argument) twice is one sink; *.execute differs in its regex, so twice
    assert len(config.sinks) == len(set(config.sinks))
    assert [s.pattern for s in config.sinks].count("*.execute") == 2


def test_command_line_rules_replace_configured_rules(in_tmp):
    pyproject(in_tmp, 'rules = ["dry-run"]\nflags = ["extra"]\n')
    config = load_config(["."], rules=["openai"])
    assert config.packs == ("openai",)
    assert config.flags == (OPENAI_STORE, Flag("extra"))  # config flags are still added


def test_command_line_flags_replace_all_flags(in_tmp):
    pyproject(in_tmp, 'flags = ["extra"]\n')
    config = load_config(["."], flags=["custom"])
    assert config.flags == (Flag("custom"),)
    assert Sink("*.store_response_object") in config.sinks  # sinks untouched


def test_command_line_flag_inherits_the_pack_settings(in_tmp):
    assert load_config(["."], flags=["store"]).flags == (OPENAI_STORE,)
    assert load_config(["."], rules=["dry-run"], flags=["dry_run"]).flags == (DRY_RUN,)


@pytest.mark.parametrize("spec", ["not dry_run", "!dry_run", "! dry_run", "  not   dry_run "])
def test_inverted_command_line_flag(in_tmp, spec):
    assert load_config(["."], isolated=True, flags=[spec]).flags == (DRY_RUN,)


def test_bad_command_line_flag(in_tmp):
    message = config_error(flags=["not"])
    assert "--flag" in message
    assert "invalid flag name" in config_error(flags=["store-it"])


def test_command_line_sinks_replace_all_sinks(in_tmp):
    pyproject(in_tmp, 'sinks = ["configured"]\n')
    config = load_config(["."], sinks=["save_response", r"*.execute::(?i)^\s*insert", "save_response"])
    assert config.sinks == (Sink("save_response"), Sink("*.execute", r"(?i)^\s*insert"))
    assert config.flags == (OPENAI_STORE,)


def test_bad_command_line_sink(in_tmp):
    assert "--sink" in config_error(sinks=["a b"])
    message = config_error(sinks=["*.execute::(unclosed"])
    assert "--sink" in message and "'(unclosed'" in message


def test_spec_parsers():
    assert parse_sink_spec("db.save") == Sink("db.save")
    assert parse_sink_spec("db.execute::a::b") == Sink("db.execute", "a::b")
    assert parse_flag_spec("store") == Flag("store")
    assert parse_flag_spec("not store", [OPENAI_STORE]) == Flag("store", inverted=True, none_means=True)


# --- retention ------------------------------------------------------------------------------

OPENAI_RETENTION = Retention(
    "store", "background", ("ttl", "ex", "px", "exat", "pxat", "expire", "expires", "expires_in", "expiry"),
    ("*.background_responses[]", "*.poll_cache.set"),
)


def test_openai_pack_declares_background_retention_and_its_expiring_stores_are_sinks(in_tmp):
    openai = load_pack("openai", None)
    assert openai.retention == (OPENAI_RETENTION,)
    assert "timeout" not in OPENAI_RETENTION.expiry_arguments  # a database call's timeout keeps nothing shorter
    assert {Sink(p) for p in OPENAI_RETENTION.expiring} <= set(openai.sinks)
    assert load_pack("dry-run", None).retention == ()


def test_config_retention_is_added_to_the_packs(in_tmp):
    pyproject(
        in_tmp,
        '[[tool.storegate.retention]]\nflag = "store"\nwhen = "background"\n'
        'expiry-arguments = ["timeout", "timeout"]\n',
    )
    config = load_config(["."])
    assert config.retention == (OPENAI_RETENTION, Retention("store", "background", ("timeout",)))
    assert load_config(["."], rules=["dry-run"]).retention == (Retention("store", "background", ("timeout",)),)


@pytest.mark.parametrize(
    "body, needle",
    [
        ('retention = {flag = "store"}\n', "'retention' must be a list"),
        ('retention = ["background"]\n', "'retention' entries must be tables, not a string"),
        ('retention = [{when = "background", expiring = ["*.c[]"]}]\n', "has no 'flag'"),
        ('retention = [{flag = "store", expiring = ["*.c[]"]}]\n', "has no 'when'"),
        ('retention = [{flag = "store", when = "background"}]\n', "'store': allows nothing (give 'expiry-arguments' or 'expiring')"),
        ('retention = [{flag = "store", when = "back-ground", expiring = ["*.c[]"]}]\n', "invalid condition name 'back-ground'"),
        ('retention = [{flag = "store", when = "x", expiry-arguments = ["ex=600"]}]\n', "invalid argument name 'ex=600'"),
        ('retention = [{flag = "store", when = "x", expiry-arguments = "ttl"}]\n', "'expiry-arguments' must be a list"),
        ('retention = [{flag = "store", when = "x", expiring = ["a..b"]}]\n', "'expiring': invalid sink pattern 'a..b'"),
        ('retention = [{flag = 3, when = "x", expiring = ["*.c[]"]}]\n', "invalid flag name 3"),
        ('retention = [{flag = "store", when = "x", expiry_arguments = ["ttl"]}]\n', "did you mean 'expiry-arguments'?"),
    ],
)
def test_bad_retention_is_a_one_line_error_naming_the_key(in_tmp, body, needle):
    pyproject(in_tmp, body)
    message = config_error()
    assert needle in message and "pyproject.toml" in message and "\n" not in message


def test_pack_retention_is_validated(in_tmp):
    write(in_tmp / "p.toml", 'retention = [{flag = "store", when = "background", expiring = ["c[]]"]}]\n')
    message = config_error(rules=["p.toml"])
    assert "p.toml" in message and "'expiring'" in message and "'c[]]'" in message


def test_excludes_are_validated(in_tmp):
    pyproject(in_tmp, 'extend-exclude = [""]\n')
    assert "'extend-exclude'" in config_error()


# --- packs ----------------------------------------------------------------------------------


def test_shipped_packs(in_tmp):
    assert {"openai", "dry-run"} <= set(available_packs())
    assert (packs_dir() / "openai.toml").is_file()
    openai = load_pack("openai", None)
    assert openai.name == "openai"
    assert openai.flags == (OPENAI_STORE,)
    assert "POST */chat/completions" in openai.routes
    execute = [s for s in openai.sinks if s.pattern == "*.execute"]
    assert len(execute) == 1
    regex = re.compile(execute[0].argument)
    assert regex.search("  INSERT INTO responses VALUES (?)")
    assert regex.search("update t set x = 1")
    assert not regex.search("SELECT * FROM responses")
    assert not regex.search("inserted_at")
    dry = load_pack("dry-run", None)
    assert dry.flags == (DRY_RUN,)
    assert Sink("os.remove") in dry.sinks


def test_unknown_pack_lists_the_available_ones(in_tmp):
    message = config_error(rules=["nope"])
    assert "'nope'" in message
    assert "openai" in message and "dry-run" in message
    pyproject(in_tmp, 'rules = ["packs/missing.toml"]\n')
    assert "not found" in config_error()


def test_pack_path_is_relative_to_the_config_file(in_tmp):
    write(
        in_tmp / "proj/packs/mine.toml",
        'name = "mine"\nflags = [{name = "persist", self-attribute = true}]\nsinks = ["keep_*"]\n',
    )
    pyproject(in_tmp / "proj", 'rules = ["packs/mine.toml", "openai"]\n')
    write(in_tmp / "proj/src/a.py", "")
    config = load_config(["proj/src"])
    assert config.packs == ("mine", "openai")
    assert config.flags == (Flag("persist", self_attribute=True), OPENAI_STORE)
    assert config.sinks[0] == Sink("keep_*")


def test_command_line_pack_path_is_relative_to_the_cwd(in_tmp):
    write(in_tmp / "p/x.toml", 'flags = ["x"]\n')
    config = load_config(["."], rules=["p/x.toml"])
    assert config.packs == ("x",)  # the name defaults to the file's stem
    assert config.flags == (Flag("x"),)


def test_pack_files_are_validated(in_tmp):
    write(in_tmp / "bad.toml", 'name = "bad"\nflag = ["x"]\n')
    message = config_error(rules=["bad.toml"])
    assert "bad.toml" in message and "'flag'" in message
    write(in_tmp / "bad2.toml", 'sinks = ["a..b"]\n')
    assert "'a..b'" in config_error(rules=["bad2.toml"])
    write(in_tmp / "bad3.toml", "name = 3\n")
    assert "'name'" in config_error(rules=["bad3.toml"])


def test_config_never_executes_code(in_tmp):
    # A module-looking rule spec is just an unknown pack name, never imported.
    marker = in_tmp / "evil.py"
    write(marker, "raise SystemExit('imported!')\n")
    assert "unknown rule pack 'evil'" in config_error(rules=["evil"])


def test_a_sink_table_may_say_its_kind_and_which_argument_its_regex_reads(in_tmp):
    pyproject(
        in_tmp,
        'sinks = [{pattern = "open", argument = "[wa]", position = 1, keyword = "mode", kind = "file"}, '
        '{pattern = "redis.*()*.set", key = 0}, "shelve.open()[]"]\n',
    )
    config = load_config(["."], rules=[])
    assert config.sinks == (Sink("open", "[wa]", "file", 1, "mode"), Sink("redis.*()*.set", key=0), Sink("shelve.open()[]"))


@pytest.mark.parametrize(
    "body, needle",
    [
        ('sinks = [{pattern = "open", position = -1}]\n', "'position' must be a whole number from 0"),
        ('sinks = [{pattern = "open", position = true}]\n', "'position' must be a whole number from 0"),
        ('sinks = [{pattern = "redis.*()*.set", key = "0"}]\n', "'key' must be a whole number from 0"),
        ('sinks = [{pattern = "open", keyword = "mode="}]\n', "invalid argument name 'mode='"),
        ('sinks = [{pattern = "open", kind = "a file"}]\n', "invalid kind name 'a file'"),
        ('sinks = ["redis.Redis(x).set"]\n', "invalid sink pattern 'redis.Redis(x).set'"),
        ('sinks = ["redis.()"]\n', "invalid sink pattern 'redis.()'"),
    ],
)
def test_bad_sink_table_keys_are_one_line_errors(in_tmp, body, needle):
    pyproject(in_tmp, body)
    message = config_error()
    assert needle in message and "pyproject.toml" in message and "\n" not in message


# --- standalone config files and command-line excludes ---------------------------------------


def test_a_standalone_file_is_found_before_the_pyproject_of_its_directory(in_tmp):
    pyproject(in_tmp, 'rules = []\nflags = ["from_pyproject"]\n')
    standalone = write(in_tmp / "storegate.toml", 'rules = []\nflags = ["from_standalone"]\n')
    write(in_tmp / "pkg/a.py", "")
    assert find_config_file(["pkg/a.py"]) == standalone
    config = load_config(["pkg/a.py"])
    assert config.source == standalone.resolve()
    assert config.flags == (Flag("from_standalone"),)
    hidden = write(in_tmp / ".storegate.toml", 'rules = []\nflags = ["from_hidden"]\n')
    assert load_config(["pkg/a.py"]).source == hidden.resolve()  # .storegate.toml first, as .ruff.toml


def test_a_standalone_file_counts_even_empty_and_the_nearest_directory_wins(in_tmp):
    write(in_tmp / "storegate.toml", 'rules = []\nflags = ["top"]\n')
    inner = write(in_tmp / "svc/.storegate.toml", "")
    write(in_tmp / "svc/pyproject.toml", "[project]\nname = 'svc'\n")
    assert load_config(["svc"]).source == inner.resolve()
    assert load_config(["svc"]).packs == ("openai", "state", "libraries")
    nearer = pyproject(in_tmp / "svc/sub", 'flags = ["sub"]\n')
    assert load_config(["svc/sub"]).source == nearer.resolve()


def test_a_standalone_file_has_the_keys_at_its_top_level_and_the_same_rules(in_tmp):
    write(in_tmp / "storegate.toml", '[tool.storegate]\nflags = ["store"]\n')
    message = config_error()
    assert "storegate.toml" in message and "unknown key 'tool'" in message
    write(in_tmp / "storegate.toml", 'flagz = ["store"]\n')
    assert "storegate.toml: unknown key 'flagz'" in config_error()
    write(in_tmp / "outside.toml", 'name = "outside"\n')
    write(in_tmp / "proj/storegate.toml", 'rules = ["../outside.toml"]\n')
    assert "outside the project" in config_error(paths=["proj"])


def test_a_standalone_file_linked_out_of_its_directory_is_not_read(in_tmp):
    write(in_tmp / "elsewhere/policy.toml", 'rules = []\n')
    (in_tmp / "proj").mkdir()
    (in_tmp / "proj/storegate.toml").symlink_to(in_tmp / "elsewhere/policy.toml")
    assert "symbolic link out of its directory" in config_error(paths=["proj"])


def test_command_line_exclude_replaces_and_extend_exclude_adds(in_tmp):
    pyproject(in_tmp, 'exclude = ["configured"]\nextend-exclude = ["extended"]\n')
    config = load_config(["."], exclude=["given"], extend_exclude=["added"])
    assert config.exclude == ("given",)
    assert config.extend_exclude == ("extended", "added")
    config = load_config(["."], extend_exclude=["added"])
    assert config.exclude == ("configured",)
    assert "--extend-exclude" in config_error(extend_exclude=[" "])


@pytest.mark.parametrize("key, field", [("max-target-bytes", "max_target_bytes"), ("max-call-depth", "max_call_depth")])
def test_limit_keys_take_whole_numbers_and_the_command_line_wins(in_tmp, key, field):
    pyproject(in_tmp, f"{key} = 7\n")
    assert getattr(load_config(["."]), field) == 7
    assert getattr(load_config(["."], **{field: 0}), field) == 0  # 0: no limit, from the option
    for bad in ("-1", '"5"', "1.5", "true"):
        pyproject(in_tmp, f"{key} = {bad}\n")
        with pytest.raises(ConfigError, match=rf"'{key}' must be a whole number of \w+ \(0: no limit\)"):
            load_config(["."])
