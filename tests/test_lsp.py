"""``storegate server`` end to end: a real LSP client (pytest-lsp) drives ``python -m storegate
server`` over stdio on a copy of ``fixtures/lsp/`` (one server for the module). The expected
findings are the fixtures' ``# expect:`` comments, read as tests/test_cases.py reads them."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from test_cases import parse_expectations

# A run elsewhere may be writing a cache into the fixtures right now: never copy one.
NO_CACHE = shutil.ignore_patterns(".storegate_cache")
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "lsp"
WAIT = 60  # seconds: only a hung server takes this long, and then the test fails

in_module_loop = pytest.mark.asyncio(loop_scope="module")  # the loop of the module's client


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the fixture project: the server writes its cache there."""
    root = tmp_path_factory.mktemp("lsp") / "project"
    shutil.copytree(FIXTURE, root, ignore=NO_CACHE)
    return root


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "storegate", "server"]))
async def client(lsp_client: LanguageClient, project: Path):
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=project.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="project")],
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)  # what an earlier test saw of it
    item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text())
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    return uri


def _close(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))


def _replace(client: LanguageClient, uri: str, version: int, text: str) -> None:
    change = types.TextDocumentContentChangeWholeDocument(text=text)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(version=version, uri=uri), [change])
    )


async def _diagnostics(client: LanguageClient, uri: str, until=lambda found: True) -> list[types.Diagnostic]:
    """The diagnostics of ``uri`` once some were published that satisfy ``until``."""

    async def wait():
        while uri not in client.diagnostics or not until(client.diagnostics[uri]):
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(client.diagnostics[uri])

    return await asyncio.wait_for(wait(), WAIT)


def _located(diagnostics: list[types.Diagnostic], uri: str) -> set[tuple[int, str]]:
    """(1-based line, code) of each diagnostic and of each grouped finding it carries."""
    found = {(d.range.start.line + 1, str(d.code)) for d in diagnostics}
    for d in diagnostics:
        for info in d.related_information or ():
            if info.message.startswith("also ") and info.location.uri == uri:
                found.add((info.location.range.start.line + 1, info.message.split()[1].rstrip(":")))
    return found


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """``edits`` applied to ``text`` (ASCII text: a character is a UTF-16 unit)."""
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        return sum(len(line) for line in lines[: position.line]) + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


@in_module_loop
async def test_open_publishes_the_findings_and_nothing_for_a_gated_file(client: LanguageClient, project: Path):
    leaky = project / "app" / "leaky.py"
    uri = _open(client, leaky)
    gated_uri = _open(client, project / "app" / "gated.py")
    diagnostics = await _diagnostics(client, uri)
    assert await _diagnostics(client, gated_uri) == []
    expected = set(parse_expectations(leaky.read_text()))
    assert _located(diagnostics, uri) == expected
    [first] = diagnostics  # the two writes one gate fixes are one diagnostic
    assert (first.source, first.code, first.range.start.line + 1, first.range.start.character + 1) == ("storegate", "SG001", 6, 9)
    assert first.range.end == types.Position(line=5, character=len("        save_reply(reply)"))
    assert first.message == "persistence call 'save_reply' is not gated by 'store'"
    assert first.code_description is not None and first.code_description.href.endswith("#sg001-ungated-sink")
    steps = [(info.location.range.start.line + 1, info.message) for info in first.related_information or ()]
    assert steps[0] == (4, "flag 'store': parameter")  # the witness path, then the grouped finding
    assert (6, "call save_reply") in steps
    assert (7, "also SG001: persistence call 'save_audit' is not gated by 'store'") in steps
    _close(client, uri)
    _close(client, gated_uri)


@in_module_loop
async def test_columns_are_in_the_clients_units(client: LanguageClient, project: Path):
    """storegate counts code points; the client (VS Code: UTF-16 only) counts UTF-16 units."""
    wide = project / "app" / "wide.py"
    uri = _open(client, wide)
    [diagnostic] = await _diagnostics(client, uri, until=bool)
    line = wide.read_text().splitlines()[4]
    before = line[: line.index("save_reply")]
    assert len(before.encode("utf-16-le")) // 2 == len(before) + 1  # the fixture is what it says
    assert diagnostic.range.start == types.Position(line=4, character=len(before) + 1)
    assert diagnostic.range.end == types.Position(line=4, character=len(before) + 1 + len("save_reply(reply)"))
    _close(client, uri)


@in_module_loop
@pytest.mark.parametrize(
    ("name", "title", "fixed_line"),
    [
        ("leaky.py", "Fix SG001: gate 'save_reply' (and 1 more) on 'store'", "    if reply.ok and store is not False:\n"),
        ("forward.py", "Fix SG003: pass 'store' to 'write_reply'", "    write_reply(reply, store=store)  # expect: SG003\n"),
    ],
)
async def test_the_code_action_edit_removes_the_finding(client: LanguageClient, project: Path, name, title, fixed_line):
    """The quick fix is ``--fix`` on the buffer, not on the file (a line was added above the
    finding and not saved): a gate for the group (SG001), the flag passed on (SG003)."""
    source = project / "app" / name
    uri = _open(client, source)
    text = "# a line typed and not saved\n" + source.read_text()
    _replace(client, uri, 2, text)
    line = min(parse_expectations(text))[0]
    [diagnostic] = await _diagnostics(client, uri, until=lambda found: [d.range.start.line + 1 for d in found] == [line])
    context = types.CodeActionContext(diagnostics=[diagnostic])
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(types.TextDocumentIdentifier(uri), diagnostic.range, context)
        ),
        WAIT,
    )
    [action] = actions or []
    assert isinstance(action, types.CodeAction) and action.kind == types.CodeActionKind.QuickFix
    assert action.title == title
    assert action.edit is not None and action.edit.changes is not None
    fixed = _apply(text, list(action.edit.changes[uri]))
    assert fixed_line in fixed.splitlines(keepends=True)
    _replace(client, uri, 3, fixed)  # applied in the buffer, unsaved: the server analyzes the buffer
    assert await _diagnostics(client, uri, until=lambda found: not found) == []
    _close(client, uri)


@in_module_loop
async def test_a_buffer_that_does_not_parse_is_one_error_on_its_line(client: LanguageClient, project: Path):
    uri = _open(client, project / "app" / "gated.py")
    assert await _diagnostics(client, uri) == []
    _replace(client, uri, 2, "def finish(reply:\n    return reply\n")
    [error] = await _diagnostics(client, uri, until=bool)
    assert (error.severity, error.source, error.code) == (types.DiagnosticSeverity.Error, "storegate", None)
    assert error.range.start.line == 0 and error.message.startswith("cannot parse")
    _close(client, uri)


@in_module_loop
async def test_a_change_in_a_helper_republishes_its_callers(client: LanguageClient, project: Path):
    helpers, service = project / "app" / "helpers.py", project / "app" / "service.py"
    service_uri = _open(client, service)
    helpers_uri = _open(client, helpers)
    assert await _diagnostics(client, service_uri) == []
    persisting = helpers.read_text().replace("    return item\n", "    save_item(item)\n    return item\n")
    _replace(client, helpers_uri, 2, persisting)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(helpers_uri)))
    [finding] = await _diagnostics(client, service_uri, until=bool)
    assert (finding.code, finding.range.start.line + 1) == ("SG002", 7)
    chain = [(info.location.uri, info.location.range.start.line + 1, info.message) for info in finding.related_information or ()]
    assert (helpers_uri, 5, "-> save_item") in chain  # the call's chain, down to the helper's write
    _close(client, helpers_uri)  # the helper is read from disk again: its callers are clean again
    assert await _diagnostics(client, service_uri, until=lambda found: not found) == []
    _close(client, service_uri)


def test_a_buffer_replaces_the_file_and_is_never_cached(tmp_path: Path):
    """``check(..., unsaved=)``, the server's hook: the text given is analyzed instead of the
    file's, and a run from disk afterwards, with the same cache, sees the disk's text again."""
    from storegate.config import load_config
    from storegate.run.pipeline import check

    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root, ignore=NO_CACHE)
    helpers = root / "app" / "helpers.py"
    config = load_config([root])
    persisting = {str(helpers): helpers.read_text().replace("    return item\n", "    save_item(item)\n    return item\n")}

    def located(**kwargs) -> set[tuple[str, int, str]]:
        result = check([root], config, cache_dir=tmp_path / "cache", jobs=1, **kwargs)
        return {(Path(f.path).name, f.line, f.code) for f in result.findings}

    leaks = {("forward.py", 5, "SG003"), ("leaky.py", 6, "SG001"), ("leaky.py", 7, "SG001"), ("wide.py", 5, "SG001")}
    assert located() == leaks  # the cache now holds every file
    assert located(unsaved=persisting) == leaks | {("service.py", 7, "SG002")}
    assert located() == leaks
