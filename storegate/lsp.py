"""``storegate server``: the Language Server (``pygls``; ``pip install 'storegate[lsp]'``).

The analysis is per project (a finding in one file may come from a helper in another), so every
run checks the whole workspace root, as ``storegate check`` run there would (same configuration,
same cache), with the text of every open buffer in place of its file on disk
(``check(..., unsaved=...)``: such files are never cached). A run follows an open, a save and,
after a pause in typing, a change; runs never overlap (a request during a run makes one more run
after it). After each run, every open document whose diagnostics changed gets them again: a
change in a helper republishes the files that call it.

A diagnostic is one item of the reports (``storegate.related``): the first finding of a group,
with the witness path's steps, the chain of calls down to the sink (``-> path:line text`` in a
call step) and the group's other findings as ``relatedInformation``. The code action
"Fix ..." is ``--fix`` on the buffer, for the finding's group, when the fixer fixes all of it.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from storegate._version import __version__
from storegate.checks import CODES
from storegate.config import load_config
from storegate.errors import ConfigError
from storegate.files import source_lines
from storegate.model import Config, FileError, Finding, Result
from storegate.related import Group, group
from storegate.report.sarif import _anchor as help_uri
from storegate.run.pipeline import check

SOURCE = "storegate"
DEBOUNCE_SECONDS = 0.5  # a change is analyzed once typing pauses this long
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "note": types.DiagnosticSeverity.Information}
# One link of a call step's chain: ``12 text`` in the same file, ``path:12 text`` in another.
_LINK = re.compile(r"^(?:(?P<path>.+?):)?(?P<line>\d+) (?P<text>.+)$")


@dataclass
class _Published:
    """What a document was last told, and from what text (a code action needs both)."""

    text: str
    diagnostics: list[types.Diagnostic]
    groups: list[tuple[types.Diagnostic, Group]] = field(default_factory=list)


class StoregateServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("storegate", __version__)
        self.published: dict[str, _Published] = {}  # uri -> the last publication
        self.config: Config | None = None
        self.on_change = True  # initializationOptions {"onChange": false}: analyze on open and save only
        self._wanted = False
        self._running = False
        self._pending: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks
        self._problem = ""  # the last problem shown to the user: said once, not on every run

    # -- runs ----------------------------------------------------------------------------------

    def root(self) -> Path:
        """The workspace root (the first folder), else the current directory."""
        if self.workspace.root_path:
            return Path(self.workspace.root_path)
        for folder in self.workspace.folders.values():
            path = to_fs_path(folder.uri)
            if path:
                return Path(path)
        return Path.cwd()

    def buffers(self) -> dict[str, tuple[str, str]]:
        """Open Python file's path -> its URI (as the client wrote it) and its text."""
        out = {}
        for uri, document in self.workspace.text_documents.items():
            path = _python_file(uri)
            if path is not None:
                out[path] = (uri, document.source)
        return out

    def schedule(self, delay: float = 0.0) -> None:
        """A run after ``delay`` seconds (a later call's delay replaces an earlier one's)."""
        if self._pending is not None:
            self._pending.cancel()
        self._pending = asyncio.get_running_loop().call_later(delay, self._start)

    def _start(self) -> None:
        task = asyncio.get_running_loop().create_task(self.refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh(self) -> None:
        """Analyze the project and republish; one run at a time, and one more if asked meanwhile."""
        self._wanted = True
        if self._running:
            return
        self._running = True
        try:
            while self._wanted:
                self._wanted = False
                buffers = self.buffers()
                if not buffers:
                    continue
                try:
                    result = await asyncio.to_thread(self.analyze, {path: text for path, (_, text) in buffers.items()})
                except Exception as exc:  # noqa: BLE001 - a bug of storegate: said, and the server goes on
                    result = f"internal error: {type(exc).__name__}: {exc}"
                if isinstance(result, Result):
                    self._problem = ""
                    self.publish(result, buffers)
                elif result != self._problem:
                    self._problem = result
                    self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"storegate: {result}"))
        finally:
            self._running = False

    def analyze(self, buffers: dict[str, str]) -> Result | str:
        """The project's findings with the buffers' text (in a worker thread), or why the
        configuration cannot be loaded. Open files outside the root are checked too."""
        root = self.root()
        outside = [Path(path) for path in buffers if not _inside(path, str(root))]
        try:
            self.config = load_config([root, *outside])
        except ConfigError as exc:
            return str(exc)
        return check([root, *outside], self.config, unsaved=buffers)

    def publish(self, result: Result, buffers: dict[str, tuple[str, str]]) -> None:
        """Publish the diagnostics of each open document that were not published already."""
        findings: dict[str, list[Finding]] = {}
        errors: dict[str, list[FileError]] = {}
        for finding in result.findings:
            findings.setdefault(os.path.abspath(finding.path), []).append(finding)
        for error in result.errors:
            errors.setdefault(os.path.abspath(error.path), []).append(error)
        for path, (uri, text) in buffers.items():
            if uri not in self.workspace.text_documents:  # closed meanwhile
                continue
            lines = source_lines(text)
            groups = [(self.diagnostic(item, lines), item) for item in group(findings.get(path, []))]
            diagnostics = [d for d, _ in groups] + [_error_diagnostic(e) for e in errors.get(path, [])]
            last = self.published.get(uri)
            self.published[uri] = _Published(text, diagnostics, groups)
            if last is None or last.diagnostics != diagnostics:
                document = self.workspace.get_text_document(uri)
                version = document.version if document.source == text else None  # else a run is coming
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, version))

    def forget(self, uri: str) -> None:
        """A closed document: its diagnostics cleared."""
        if self.published.pop(uri, None) is not None:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- diagnostics ---------------------------------------------------------------------------

    def client_range(self, lines: list[str], line: int, column: int, end_line: int, end_column: int) -> types.Range:
        """A finding's range (1-based lines, 1-based code-point columns, end exclusive) in the
        client's position encoding (UTF-16 unless it chose another)."""
        server = ServerTextRange(ServerTextPosition(line - 1, column - 1), ServerTextPosition(end_line - 1, end_column - 1))
        return self.workspace.position_codec.range_to_client_units(lines, server)

    def diagnostic(self, item: Group, lines: list[str]) -> types.Diagnostic:
        """One item of the report (``lines``: the text it was found in) as a diagnostic."""
        finding = item.primary
        code = CODES.get(finding.code)
        related = [
            *_trace_locations(finding),
            *(
                types.DiagnosticRelatedInformation(
                    types.Location(_uri(other.path), self.client_range(lines, other.line, other.column, other.end_line, other.end_column)),
                    f"also {other.code}: {other.message}",
                )
                for other in item.related
            ),
        ]
        return types.Diagnostic(
            range=self.client_range(lines, finding.line, finding.column, finding.end_line, finding.end_column),
            message=finding.message,
            severity=_SEVERITY.get(code.level, types.DiagnosticSeverity.Warning) if code else types.DiagnosticSeverity.Warning,
            code=finding.code,
            code_description=types.CodeDescription(href=help_uri(code)) if code else None,
            source=SOURCE,
            related_information=related or None,
        )

    # -- code actions --------------------------------------------------------------------------

    def code_actions(self, uri: str, wanted: list[types.Diagnostic]) -> list[types.CodeAction]:
        """A quick fix for each of ``wanted`` that is storegate's and that the fixer fixes whole,
        on the text it was found in (none while the buffer has changed since: a run is coming)."""
        from storegate.fix import plan_file
        from storegate.run.workers import with_deep_stack

        published = self.published.get(uri)
        if published is None or self.config is None:
            return []
        current = self.workspace.get_text_document(uri).source
        if current != published.text:
            return []
        actions = []
        for diagnostic, item in published.groups:
            if not any(_same(diagnostic, asked) for asked in wanted):
                continue
            members = [item.primary, *item.related]
            fix = with_deep_stack(plan_file, item.primary.path, members, self.config, current)
            if not fix.changed or set(fix.fixed_findings) != set(members):
                continue
            actions.append(
                types.CodeAction(
                    title=_title(item),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=True,
                    edit=types.WorkspaceEdit(changes={uri: self.text_edits(fix.original, fix.fixed)}),
                )
            )
        return actions

    def text_edits(self, before: str, after: str) -> list[types.TextEdit]:
        """``before`` -> ``after`` as whole-line edits (the fixer changes lines, keeps the rest)."""
        old, new = source_lines(before), source_lines(after)
        edits = []
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            end = ServerTextPosition(i2, 0)
            if i2 == len(old) and old and not old[-1].endswith(("\n", "\r")):  # up to the end of a last line without newline
                end = ServerTextPosition(i2 - 1, len(old[-1]))
            server = ServerTextRange(ServerTextPosition(i1, 0), end)
            edits.append(types.TextEdit(self.workspace.position_codec.range_to_client_units(old, server), "".join(new[j1:j2])))
        return edits


def _error_diagnostic(error: FileError) -> types.Diagnostic:
    """A file storegate could not analyze (it does not parse, say): one error on its line."""
    return types.Diagnostic(range=_line_range((error.line or 1) - 1), message=error.message, severity=types.DiagnosticSeverity.Error, source=SOURCE)


def _python_file(uri: str) -> str | None:
    """The absolute path of a ``file:`` URI of a Python file, else None."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return os.path.abspath(path) if path and path.endswith(".py") else None


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, os.path.abspath(root)]) == os.path.abspath(root)


def _uri(path: str) -> str:
    """The URI of a path as a finding shows it (relative to the current directory, or absolute)."""
    return from_fs_path(os.path.abspath(path)) or path


def _line_range(line: int) -> types.Range:
    """A whole line (0-based): line-level ranges need no position encoding."""
    return types.Range(types.Position(line, 0), types.Position(line + 1, 0))


def _trace_locations(finding: Finding) -> list[types.DiagnosticRelatedInformation]:
    """The witness path's steps that bear on the flag (as ``--explain`` shows them) and, for a
    call step, each link of its chain down to the sink, in its own file."""
    out = []
    for step in finding.trace:
        if not step.relevant or not step.line:
            continue
        head, *chain = step.text.split(" -> ") if step.text.startswith("call ") else (step.text,)
        out.append(types.DiagnosticRelatedInformation(types.Location(_uri(finding.path), _line_range(step.line - 1)), head))
        for link in chain:
            match = _LINK.match(link)
            if match is None:
                continue
            where = match.group("path") or finding.path
            out.append(
                types.DiagnosticRelatedInformation(
                    types.Location(_uri(where), _line_range(int(match.group("line")) - 1)), f"-> {match.group('text')}"
                )
            )
    return out


def _title(item: Group) -> str:
    """What the fix does, as the action's title: ``Fix SG001: gate 'save' (and 1 more) on 'store'``."""
    from storegate.fix import KEYWORD_CODES

    finding = item.primary
    if finding.code in KEYWORD_CODES:
        return f"Fix {finding.code}: pass '{finding.flag}' to '{finding.sink}'"
    also = f" (and {len(item.related)} more)" if item.related else ""
    return f"Fix {finding.code}: gate '{finding.sink}'{also} on '{finding.flag}'"


def _same(a: types.Diagnostic, b: types.Diagnostic) -> bool:
    return a.source == b.source and a.code == b.code and a.range == b.range


def make_server() -> StoregateServer:
    server = StoregateServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: StoregateServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and options.get("onChange") is False:
            ls.on_change = False
        root = ls.root()
        if root.is_dir():
            os.chdir(root)  # paths show, and the cache sits, as for `storegate check` run there

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: StoregateServer, params: types.DidOpenTextDocumentParams) -> None:
        if _python_file(params.text_document.uri):
            ls.schedule()

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: StoregateServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.on_change and _python_file(params.text_document.uri):
            ls.schedule(DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: StoregateServer, params: types.DidSaveTextDocumentParams) -> None:
        if _python_file(params.text_document.uri):
            ls.schedule()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: StoregateServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)
        if _python_file(params.text_document.uri):
            ls.schedule()  # the file is read from disk again: its callers may change

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    async def code_action(ls: StoregateServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        wanted = [d for d in params.context.diagnostics if d.source == SOURCE]
        if not wanted:
            return []
        return await asyncio.to_thread(ls.code_actions, params.text_document.uri, wanted)

    return server


def serve() -> None:
    """Serve over stdin/stdout until the client says exit."""
    make_server().start_io()
