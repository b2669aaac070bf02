"""Names as one scope of the fixed file sees them: what a statement binds, where each name is
used, and how the scope reads the flag (the expression a gate tests)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import libcst as cst
from libcst.metadata import CodeRange

from storegate import flags as flaglib
from storegate.fix.locate import Tree, body_suite
from storegate.model import Flag
from storegate.paths import access_path, root_name


def flag_expression(tree: Tree, scope: cst.CSTNode, flag: Flag, before: tuple[int, int]) -> cst.BaseExpression | None:
    """How ``scope`` reads ``flag``, usable at position ``before``; None if it does not."""
    params = _param_names(scope)
    if flag.name in params:
        return cst.Name(flag.name)
    facts = _ScopeReader(flag)
    body = body_suite(scope)
    for statement in body.body:
        statement.visit(facts)
    bindings = facts.bindings

    def after(node: cst.CSTNode) -> bool:
        return tree.end(node) > before

    if flag.name in facts.reads or flag.name in bindings:
        first = [tree.start(n) for n in bindings.get(flag.name, [])]
        if not first or min(first) < before:
            return cst.Name(flag.name)
    for alias, node in facts.aliases:
        binds = bindings.get(alias, [])
        if alias in params or len(binds) != 1 or after(binds[0]):
            continue
        return cst.Name(alias)
    for node in facts.locations:
        root = root_name(access_path(node) or "")
        binds = bindings.get(root, [])
        if root in params or (binds and all(not after(b) for b in binds)) or (not binds and root in facts.reads):
            return node.deep_clone().with_changes(lpar=[], rpar=[])
    return None


def name_uses(tree: Tree, scope: cst.CSTNode) -> list[tuple[str, CodeRange, bool]]:
    """Every name occurrence in ``scope``: (name, range, inside a nested scope)."""
    key = ("uses", id(scope))
    cached = tree.memo.get(key)
    if cached is None:
        visitor = _Uses(tree.positions)
        body = body_suite(scope)
        for statement in body.body if body is not None else ():
            statement.visit(visitor)
        cached = tree.memo[key] = visitor.found
    return cached


def _target_names(target: cst.CSTNode) -> Iterable[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


class _Binder(cst.CSTVisitor):
    """The names a statement binds in its scope (nested scopes' bodies are not entered)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.names.update(_target_names(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.names.update(_target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.names.update(_target_names(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.names.update(_target_names(node.target))

    def visit_AsName(self, node: cst.AsName) -> None:
        self.names.update(_target_names(node.name))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.names.update(_target_names(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self.names.update(_target_names(node.target))

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is None:
            name = node.name
            while isinstance(name, cst.Attribute):
                name = name.value
            if isinstance(name, cst.Name):
                self.names.add(name.value)

    def visit_Global(self, node: cst.Global) -> None:
        self.names.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.names.update(item.name.value for item in node.names)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.names.add(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def bound_names(statement: cst.CSTNode) -> set[str]:
    binder = _Binder()
    statement.visit(binder)
    return binder.names


class _Uses(cst.CSTVisitor):
    def __init__(self, positions) -> None:
        self.positions = positions
        self.depth = 0
        self.found: list[tuple[str, object, bool]] = []

    def _enter(self, node) -> None:
        self.depth += 1

    def _leave(self, node) -> None:
        self.depth -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        where = self.positions.get(node)
        if where is not None:
            self.found.append((node.value, where, self.depth > 0))


class _ScopeReader(cst.CSTVisitor):
    """How one scope (not its nested scopes) reads and binds names, and reads the flag."""

    def __init__(self, flag: Flag) -> None:
        self.flag = flag
        self.reads: set[str] = set()
        self.bindings: dict[str, list[cst.CSTNode]] = defaultdict(list)
        self.aliases: list[tuple[str, cst.CSTNode]] = []  # (alias, its assignment)
        self.locations: list[cst.BaseExpression] = []

    def _bind(self, target: cst.CSTNode, statement: cst.CSTNode) -> None:
        for name in _target_names(target):
            self.bindings[name].append(statement)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.bindings[node.name.value].append(node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.bindings[node.name.value].append(node)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and self._is_location(node.value):
            self.aliases.append((node.targets[0].target.value, node))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node)
        if isinstance(node.target, cst.Name) and node.value is not None and self._is_location(node.value):
            self.aliases.append((node.target.value, node))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, node)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, node)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bind(node.name, node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if self._is_location(node):
            self.locations.append(node)
        node.value.visit(self)
        return False

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self._is_location(node):
            self.locations.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if self._is_location(node):
            self.locations.append(node)

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.reads.add(node.value)

    def _is_location(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Name):
            return False
        path = access_path(expr)
        return path is not None and flaglib.is_location(path, self.flag)


def _param_names(scope: cst.CSTNode) -> set[str]:
    if not isinstance(scope, cst.FunctionDef):
        return set()
    p = scope.params
    names = {param.name.value for param in (*p.posonly_params, *p.params, *p.kwonly_params)}
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names
