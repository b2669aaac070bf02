"""Contracts (``storegate.contracts``): what a validator, a raising or an error-returning helper
and a dependency guarantee, as clauses carried in the summaries, and how the project stage and
the pipeline give them to the functions that rely on them, across modules and through the cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from storegate import contracts
from storegate.analysis import summarize
from storegate.api import check
from storegate.config import load_config
from storegate.model import FALSE, NONE, TRUE
from storegate.project import Project
from storegate.summary import ModuleSummary

CONFIG = load_config(["."], isolated=True, flags=["store"], sinks=["save_*"])
NOT_BACKGROUND = FALSE | NONE  # "background" is falsy
# `not background or store permits` (the flag store: None means the API default, store)
RULE = ((f"{contracts.FIELDS}.background", NOT_BACKGROUND), (f"{contracts.FIELDS}.store", TRUE))


def _function(source: str, name: str, module: str = "app"):
    summary = summarize(source, f"{module}.py", CONFIG, module)
    return next(f for f in summary.functions if f.name == name)


@pytest.mark.parametrize(
    "decorators, signature, test",
    [
        ('@model_validator(mode="before")\n    @classmethod', "cls, data", 'data.get("background") and not data.get("store")'),
        ('@model_validator(mode="before")\n    @classmethod', "cls, data",
         'isinstance(data, dict) and data["background"] and not data["store"]'),
        ('@model_validator(mode="after")', "self", "self.background and not self.store"),
        ('@field_validator("background")\n    @classmethod', "cls, v, info", 'v and not info.data.get("store")'),
        ("@root_validator(pre=True)", "cls, values", 'values.get("background") and not values.get("store")'),
        ("@root_validator", "cls, values", 'values["background"] and not values["store"]'),
        ('@validator("background")', "cls, v, values", 'v and not values.get("store")'),
    ],
)
def test_a_validator_that_raises_gives_its_model_an_invariant(decorators: str, signature: str, test: str) -> None:
    source = (
        "class Req(BaseModel):\n"
        f"    {decorators}\n"
        f"    def check({signature}):\n"
        f"        if {test}:\n"
        "            raise ValueError('background requires store')\n"
        f"        return {signature.split(', ')[1] if ', ' in signature else 'self'}\n"
    )
    assert _function(source, "Req.check").invariants == (RULE,)


def test_a_validator_of_something_else_gives_no_invariant() -> None:
    source = (
        "class Req(BaseModel):\n"
        '    @model_validator(mode="after")\n'
        "    def check(self):\n"
        "        if self.background and not self.model:\n"
        "            raise ValueError('background requires a model')\n"
        "        return self\n"
    )
    assert _function(source, "Req.check").invariants == ()


def test_an_undecorated_method_is_no_validator() -> None:
    source = "class Req:\n    def check(self, data):\n        if data['background'] and not data['store']:\n            raise ValueError\n"
    function = _function(source, "Req.check")
    assert function.invariants == ()
    assert function.guarantees == ((('data["background"]', NOT_BACKGROUND), ('data["store"]', TRUE)),)


RAISING = "def check(request):\n    if request.background and not request.store:\n        raise HTTPException(400)\n"


def test_a_raising_helper_guarantees_the_negated_condition_on_its_parameter() -> None:
    assert _function(RAISING, "check").guarantees == ((("request.background", NOT_BACKGROUND), ("request.store", TRUE)),)


@pytest.mark.parametrize(
    "source",
    [
        RAISING + "    yield request\n",  # a generator's body runs when iterated, not when called
        RAISING.replace("def check(request):\n", "def check(request):\n    request = copy(request)\n"),  # rebound
        "def check(self):\n    if self.background and not self.store:\n        raise HTTPException(400)\n",  # self
        "def check(request):\n    try:\n        if not request.store:\n            raise ValueError\n    except ValueError:\n        pass\n",
    ],
    ids=["generator", "rebound", "self", "caught"],
)
def test_no_guarantee_where_the_caller_cannot_rely_on_it(source: str) -> None:
    assert _function(source, "check").guarantees == ()


ERROR = (
    "def validate(request):\n"
    "    if request.background and not request.store:\n"
    "        return ErrorResponse('background requires store')\n"
    "    {other}\n"
)


@pytest.mark.parametrize("other", ["return None", "return", "pass"])
def test_an_error_returning_helper_guarantees_on_its_none_exits(other: str) -> None:
    function = _function(ERROR.format(other=other), "validate")
    assert function.if_none == ((("request.background", NOT_BACKGROUND), ("request.store", TRUE)),)
    assert function.guarantees == ()


def test_a_helper_that_also_returns_false_is_no_error_returning_helper() -> None:
    assert _function(ERROR.format(other="return False"), "validate").if_none == ()


def test_the_summary_keeps_contracts_and_hooks_through_json() -> None:
    source = (
        "@router.post('/v1/responses', dependencies=[Depends(require_store)])\n"
        "async def create(request: 'Req', checked: None = Depends(other)):\n"
        "    err = validate(request)\n"
        "    if err:\n"
        "        return err\n"
        "    save_x(request.store)\n"
    ) + ERROR.format(other="return None")
    summary = summarize(source, "app.py", CONFIG, "app")
    assert ModuleSummary.from_json(json.loads(json.dumps(summary.to_json()))) == summary
    create = next(f for f in summary.functions if f.name == "create")
    assert create.depends == ("require_store",)
    assert [(p.name, p.annotation, p.default) for p in create.params] == [
        ("request", "'Req'", None), ("checked", "None", "Depends(other)")
    ]
    call = next(s for s in create.sites if s.text == "validate")
    assert call.bound == "err" and call.args[0].path == "request"


@pytest.mark.parametrize(
    "annotation, expected",
    [("Req", "Req"), ("'models.Req'", "models.Req"), ("Req | None", "Req"), ("Optional[Req]", "Req"),
     ("Annotated[Req, Body()]", "Req"), ("dict[str, Req]", None), ("Req | Other", None), (None, None), ("(", None)],
)
def test_the_class_an_annotation_names(annotation: str | None, expected: str | None) -> None:
    assert contracts.annotated_class(annotation) == expected


def test_dependencies_named_in_code() -> None:
    assert contracts.dependencies("[Depends(a), fastapi.Depends(m.b), Security(c)]") == ("a", "m.b")
    assert contracts.dependencies("Annotated[None, Depends(check)]") == ("check",)


MODELS = (
    "class Base(BaseModel):\n"
    '    @model_validator(mode="after")\n'
    "    def check(self):\n"
    "        if self.background and not self.store:\n"
    "            raise ValueError\n"
    "        return self\n\n\n"
    "class Req(Base):\n"
    "    stream: bool = False\n"
)
SERVICE = (
    "from pkg.models import Req\n\n\n"
    "def create(body: Req):\n"
    "    if body.background:\n"
    "        save_x(body)\n"
    "    elif body.store:\n"
    "        save_x(body)\n"
)


def test_the_project_gives_a_subclass_parameter_its_base_validators_renamed_and_sorted() -> None:
    summaries = [summarize(MODELS, "pkg/models.py", CONFIG, "pkg.models"), summarize(SERVICE, "pkg/service.py", CONFIG, "pkg.service")]
    given = Project(summaries, CONFIG).contracts()
    assert given == {"pkg/service.py": {"functions": {"create": {"entry": [[["body.background", NOT_BACKGROUND], ["body.store", TRUE]]]}}}}
    assert Project(list(reversed(summaries)), CONFIG).contracts() == given
    assert json.loads(json.dumps(given)) == given


def _write(path: Path, text: str, stamp: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(stamp, stamp))


def test_a_warm_run_that_changed_only_the_handler_still_knows_the_model_from_the_cache(tmp_path, monkeypatch) -> None:
    """The model's summary comes from the cache; its invariant still reaches the handler."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "pkg" / "__init__.py", "", 1_700_000_000_000_000_000)
    _write(tmp_path / "pkg" / "models.py", MODELS, 1_700_000_000_000_000_000)
    _write(tmp_path / "pkg" / "service.py", SERVICE, 1_700_000_000_000_000_000)
    cache = tmp_path / "cache"

    def found() -> list[tuple[str, int]]:
        result = check(["pkg"], CONFIG, cache_dir=cache, jobs=1)
        assert result.errors == () and result.tracebacks == ()
        return [(f.path, f.line) for f in result.findings]

    assert found() == []
    unguarded = SERVICE + "\n\ndef create_plain(body):\n    if body.background:\n        save_x(body)\n    elif body.store:\n        save_x(body)\n"
    _write(tmp_path / "pkg" / "service.py", unguarded, 1_700_000_001_000_000_000)
    assert found() == [("pkg/service.py", 13)]


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("True", True),
        ("False", False),
        ("Field(default=True, description='keep')", True),
        ("Field(description='keep', default=True)", True),
        ("pydantic.Field(True)", True),
        ("field(default=False)", False),
        ("Body(True)", True),
        ("fastapi.Query(default=False, alias='s')", False),
        ("Body(...)", None),
        ("Field(*defaults)", None),
        ("None", None),
        ("1", None),
        ("Depends(get_store)", None),
        ("settings.KEEP", None),
        ("((((", None),
    ],
)
def test_a_boolean_default_is_read_from_its_code(code, value):
    """What a field or a parameter hands a client that sends nothing (SG006): the constant, or
    the first argument or ``default=`` of the calls that declare one."""
    assert contracts.boolean_default(code) is value


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Service.run_background", True),
        ("_start_background", True),
        ("BackgroundRunner.run", True),
        ("JobsBackground.work", True),
        ("Service.create", False),
        ("backgrounded", False),
        ("Service.foreground_run", False),
    ],
)
def test_a_function_named_for_background_work(name, expected):
    """What ``Given.in_background`` applies to: a word of the name, or of its class's."""
    assert contracts.runs_in_background(name) is expected
