"""The leaky twin of the sample Responses server: the motivating bug, put back on purpose.

There is one copy of the server (``fixtures/responses_server``). The twin is derived from it by a
libcst transform of ``service.py``: in the ``if`` whose body calls ``_sync_response_to_conversation``,
the ``store`` conjunct of the test is dropped, so a streamed ``store=false`` response is still
appended to its conversation. Everything else stays byte for byte the same.
"""

from __future__ import annotations

import difflib
import shutil
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from storegate.errors import StoregateError

SERVER_PACKAGE = "responses_server"
HELPER = "_sync_response_to_conversation"
FLAG = "store"


def server_source_dir() -> Path:
    """The directory of the sample server: ``storegate/_sample_server/responses_server`` in an installed
    wheel (package data built from the fixture, see pyproject.toml), else ``<repo>/fixtures/responses_server``
    in a checkout."""
    package = Path(__file__).resolve().parent
    for path in (package / "_sample_server" / SERVER_PACKAGE, package.parent / "fixtures" / SERVER_PACKAGE):
        if (path / "service.py").is_file():
            return path
    raise StoregateError(
        f"the sample Responses server is neither in {package / '_sample_server'} nor in {package.parent / 'fixtures'}: "
        "reinstall storegate"
    )


def copy_server(dest_dir: Path) -> Path:
    """A copy of the sample server in ``dest_dir/responses_server`` (without what running it leaves
    behind: bytecode, databases, caches); the copy's path."""
    target = Path(dest_dir) / SERVER_PACKAGE
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3*", ".storegate_cache")
    shutil.copytree(server_source_dir(), target, ignore=ignore)
    return target


def _is_flag(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == FLAG


def _drop_conjunct(test: cst.BaseExpression) -> cst.BaseExpression | None:
    """``test`` without its ``store`` conjunct (``a and store and b`` -> ``a and b``), or None if it has none.

    ``and`` chains are left-associative in libcst: ``((a and store) and b)``. The node that replaces a
    ``BooleanOperation`` takes over its parentheses, so a multi-line condition keeps its layout.
    """
    if not (isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And)):
        return None
    if _is_flag(test.right):
        keep = test.left
    elif _is_flag(test.left):
        keep = test.right
    else:
        left = _drop_conjunct(test.left)
        return None if left is None else test.with_changes(left=left)
    return keep.with_changes(lpar=[*test.lpar, *keep.lpar], rpar=[*keep.rpar, *test.rpar])


class _CallsHelper(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == HELPER:
            self.found = True


def _calls_helper(node: cst.CSTNode) -> bool:
    visitor = _CallsHelper()
    node.visit(visitor)
    return visitor.found


class _DropStoreGate(cst.CSTTransformer):
    def __init__(self) -> None:
        self.changed = 0

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If:
        if not _calls_helper(original_node.body):
            return updated_node
        test = _drop_conjunct(updated_node.test)
        if test is None:
            return updated_node
        self.changed += 1
        return updated_node.with_changes(test=test)


def leaky_source(source: str) -> str:
    """``service.py``'s source with the conversation sync no longer gated by ``store``."""
    module = cst.parse_module(source)
    transform = _DropStoreGate()
    leaky = module.visit(transform)
    if transform.changed != 1:
        raise StoregateError(
            f"expected exactly one `if ... and {FLAG}` around {HELPER}() in service.py, changed {transform.changed}"
        )
    return leaky.code


def make_leaky_copy(dest_dir: Path) -> Path:
    """Copy the sample server to ``dest_dir/responses_server`` with the bug put back; the copy's path."""
    target = Path(dest_dir) / SERVER_PACKAGE
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    leaky = leaky_source((server_source_dir() / "service.py").read_text(encoding="utf-8"))
    copy_server(dest_dir)
    (target / "service.py").write_text(leaky, encoding="utf-8")
    return target


def leaky_diff() -> str:
    """The unified diff from the sample server's ``service.py`` to the twin's."""
    original = (server_source_dir() / "service.py").read_text(encoding="utf-8")
    path = f"{SERVER_PACKAGE}/service.py"
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            leaky_source(original).splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


# -- single-gate mutants of the sample server (mutation testing of the analyzer) --------------


@dataclass(frozen=True)
class Mutant:
    """The sample server with one store gate removed: ``file`` (relative) gets ``source``."""

    name: str  # e.g. "service.py:133 `if store:` -> `if True:`"
    file: str
    line: int
    source: str


class _GateFinder(cst.CSTVisitor):
    """Every place where the server consults ``store`` to decide whether to persist."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.gates: list[tuple[str, cst.CSTNode, int, str]] = []

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if _is_flag(test):
            self.gates.append(("if-true", node, self._line(node), f"`if {FLAG}:` -> `if True:`"))
        elif _is_not_flag(test) and _leaves(node.body):
            self.gates.append(("drop-early-exit", node, self._line(node), f"`if not {FLAG}: return` removed"))

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        if isinstance(node.operator, cst.And) and (_is_flag(node.left) or _is_flag(node.right)):
            self.gates.append(("drop-conjunct", node, self._line(node), f"`and {FLAG}` dropped"))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value == FLAG:
            self.gates.append(("drop-argument", node, self._line(node), f"`{FLAG}=...` argument dropped"))


class _Mutate(cst.CSTTransformer):
    def __init__(self, kind: str, target: cst.CSTNode) -> None:
        self.kind = kind
        self.target = target

    def leave_If(self, original_node, updated_node):
        if original_node is not self.target:
            return updated_node
        if self.kind == "if-true":
            return updated_node.with_changes(test=cst.Name("True"))
        return cst.RemoveFromParent()

    def leave_BooleanOperation(self, original_node, updated_node):
        if original_node is not self.target:
            return updated_node
        keep = updated_node.left if _is_flag(updated_node.right) else updated_node.right
        return keep.with_changes(lpar=[*updated_node.lpar, *keep.lpar], rpar=[*keep.rpar, *updated_node.rpar])

    def leave_Arg(self, original_node, updated_node):
        if original_node is not self.target:
            return updated_node
        return cst.RemoveFromParent()


def mutants(server_dir: Path | None = None) -> list[Mutant]:
    """Every mutant of the sample server that removes exactly one store gate."""
    server_dir = server_dir or server_source_dir()
    out: list[Mutant] = []
    for path in sorted(server_dir.glob("*.py")):
        module = cst.parse_module(path.read_text(encoding="utf-8"))
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        finder = _GateFinder()
        wrapper.visit(finder)
        for kind, node, line, what in finder.gates:
            mutated = module.visit(_Mutate(kind, node))
            if mutated.code != module.code:
                out.append(Mutant(f"{path.name}:{line} {what}", path.name, line, mutated.code))
    return out


def write_mutant(mutant: Mutant, dest_dir: Path) -> Path:
    """A copy of the sample server in ``dest_dir/responses_server`` with the mutant applied."""
    target = copy_server(dest_dir)
    (target / mutant.file).write_text(mutant.source, encoding="utf-8")
    return target


def _is_not_flag(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not) and _is_flag(node.expression)


def _leaves(body: cst.BaseSuite) -> bool:
    """Whether a suite always ends by returning or raising (an early exit)."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    last = statements[-1] if statements else None
    if isinstance(last, cst.SimpleStatementLine):
        return isinstance(last.body[-1], (cst.Return, cst.Raise))
    if isinstance(last, cst.SimpleStatementSuite):
        return isinstance(last.body[-1], (cst.Return, cst.Raise))
    return False


# -- the server that ignores store altogether ---------------------------------------------------


class _DropUnusedFlagParam(cst.CSTTransformer):
    """Drops a ``store`` parameter from every function whose body no longer reads it."""

    def __init__(self) -> None:
        self.unused: list[bool] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        finder = _ReadsFlag()
        node.body.visit(finder)
        self.unused.append(not finder.found)

    def leave_FunctionDef(self, original_node, updated_node):
        self.unused.pop()
        return updated_node

    def leave_Param(self, original_node, updated_node):
        if self.unused and self.unused[-1] and original_node.name.value == FLAG:
            return cst.RemoveFromParent()
        return updated_node


class _ReadsFlag(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        self.found = self.found or node.value == FLAG


def unflagged_source(source: str) -> str:
    """``source`` with every store gate removed (each kind ``mutants`` knows, one after the other),
    then every ``store`` parameter its function no longer reads: code that ignores the flag."""
    module = cst.parse_module(source)
    while True:
        finder = _GateFinder()
        MetadataWrapper(module, unsafe_skip_copy=True).visit(finder)
        if not finder.gates:
            break
        kind, node, _, _ = finder.gates[0]
        mutated = module.visit(_Mutate(kind, node))
        if mutated.code == module.code:
            raise StoregateError(f"could not remove the store gate of kind {kind}")
        module = mutated
    return module.visit(_DropUnusedFlagParam()).code


def write_unflagged(dest_dir: Path) -> Path:
    """A copy of the sample server in ``dest_dir/responses_server`` with every store check removed
    (``unflagged_source`` on each file): the server that ignores ``store`` altogether."""
    target = copy_server(dest_dir)
    for path in sorted(target.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        path.write_text(unflagged_source(source), encoding="utf-8")
    return target
