"""A stable, readable text of one control-flow graph, for snapshot tests and debugging.

Blocks are numbered in depth-first order from the entry (edges in the order the builder added
them), not by the builder's creation order, so the text changes only when the graph does.
``exit`` is normal completion and ``return``, ``raise`` an exception leaving the scope. Blocks no
path reaches are listed after the others, marked ``unreachable``, when they hold events; empty
ones are left out (they cannot change what the analysis learns).

    B0 (entry)
      call f(x)
      bind y = f(x) [assign]
      -> B1 if store
      -> B2 if not store
      -> raise on exception
"""

from __future__ import annotations

import libcst as cst

from storegate.cfg import CFG, BindEvent, Block, Edge, Event
from storegate.reads import reads

_EMPTY_MODULE = cst.Module(body=[])


def dump(graph: CFG) -> str:
    """The graph as text: a header naming the scope, then one paragraph per block."""
    names = _block_names(graph)
    lines = _header(graph)
    for block in sorted(names, key=lambda b: _order(names[b])):
        if block is graph.exit or block is graph.raise_exit:
            if not block.events and not block.edges:
                continue
        title = names[block]
        if block is graph.entry:
            title += " (entry)"
        lines.append(title)
        lines.extend("  " + _event(event) for event in block.events)
        lines.extend("  " + _edge(edge, names) for edge in block.edges)
    return "\n".join(lines) + "\n"


def _header(graph: CFG) -> list[str]:
    lines = [f"scope {_scope_title(graph.scope)}"]
    if graph.params:
        lines.append("params " + ", ".join(graph.params))
    if graph.nested:
        lines.append("nested " + ", ".join(_scope_title(scope) for scope in graph.nested))
    read = reads(graph)  # not the builder's: a pass over the graph (``reads.py``)
    lines.append("names " + ", ".join(sorted(read.names)))
    if read.accessed:
        lines.append("accessed " + ", ".join(sorted(read.accessed)))
    return lines


def _scope_title(scope: cst.CSTNode) -> str:
    if isinstance(scope, cst.FunctionDef):
        return f"def {scope.name.value}"
    if isinstance(scope, cst.ClassDef):
        return f"class {scope.name.value}"
    if isinstance(scope, cst.Lambda):
        return _text(scope)
    return "module"


def _block_names(graph: CFG) -> dict[Block, str]:
    """``B0`` ... in depth-first preorder from the entry; ``exit``/``raise``; then the unreachable."""
    names: dict[Block, str] = {graph.exit: "exit", graph.raise_exit: "raise"}
    stack = [graph.entry]
    while stack:
        block = stack.pop()
        if block not in names:
            names[block] = f"B{len(names) - 2}"
            stack.extend(reversed([edge.target for edge in block.edges]))
    for block in graph.blocks:
        if block not in names and block.events:
            names[block] = f"B{len(names) - 2} (unreachable)"
    return names


def _order(name: str) -> tuple:
    """Numbered blocks first, in number order, then ``exit`` and ``raise``."""
    if name.startswith("B"):
        return (0, int(name[1:].split()[0]))
    return (1, name)


def _event(event: Event) -> str:
    if isinstance(event, BindEvent):
        value = "" if event.value is None else " = " + _text(event.value)
        return f"bind {_text(event.target)}{value} [{event.kind}]"
    return f"call {_text(event.node)}"


def _edge(edge: Edge, names: dict[Block, str]) -> str:
    target = names[edge.target].split()[0]
    if edge.exceptional:
        return f"-> {target} on exception"
    if edge.test is None:
        return f"-> {target}"
    return f"-> {target} if {'' if edge.polarity else 'not '}{_text(edge.test)}"


def _text(node: cst.CSTNode) -> str:
    """The node's code on one line."""
    return " ".join(_EMPTY_MODULE.code_for_node(node).split())
