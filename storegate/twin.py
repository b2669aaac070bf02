"""The leaky twin of the sample Responses server: the motivating bug, put back on purpose.

There is one copy of the server (``fixtures/responses_server``). The twin is derived from it by a
libcst transform of ``service.py``: in the ``if`` whose body calls ``_sync_response_to_conversation``,
the ``store`` conjunct of the test is dropped, so a streamed ``store=false`` response is still
appended to its conversation. Everything else stays byte for byte the same.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import libcst as cst

import storegate
from storegate.errors import StoregateError

SERVER_PACKAGE = "responses_server"
HELPER = "_sync_response_to_conversation"
FLAG = "store"


def server_source_dir() -> Path:
    """The directory of the sample server, ``<repo>/fixtures/responses_server``."""
    path = Path(storegate.__file__).resolve().parent.parent / "fixtures" / SERVER_PACKAGE
    if not (path / "service.py").is_file():
        raise StoregateError(
            f"the sample Responses server is not at {path}: the demo needs a source checkout of storegate "
            "(pip install -e '.[demo]' from the repository)"
        )
    return path


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
    source = server_source_dir()
    target = Path(dest_dir) / SERVER_PACKAGE
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    service = (source / "service.py").read_text(encoding="utf-8")
    leaky = leaky_source(service)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3*"))
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
