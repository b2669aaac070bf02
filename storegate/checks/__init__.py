"""The codes storegate reports: one module per code, ``sgNNN_<name>.py``, each holding its
``CODE`` (decision, message, documentation and examples, SARIF level, fix strategy, how it is
suppressed; see ``base.Code``).

The registry is the modules found here, in code order: adding a code is adding its module (and
its cases under ``fixtures/cases/``). It is read by the pipeline (``run``), ``storegate rules``
and ``storegate rule CODE``, the README generator (``docs.py``), SARIF, the filters and the
fixer.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import TYPE_CHECKING

from storegate.checks.base import At, Code
from storegate.model import Finding

if TYPE_CHECKING:
    from storegate.project import Project

MODULE_RE = re.compile(r"sg[0-9]{3}_[a-z0-9_]+")


def _registry() -> dict[str, Code]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if MODULE_RE.fullmatch(info.name):
            found.append(importlib.import_module(f"{__name__}.{info.name}").CODE)
    return {code.code: code for code in sorted(found, key=lambda c: c.code)}


CODES: dict[str, Code] = _registry()


def get(code: str) -> Code | None:
    """The code named ``code`` (case-insensitive), or None."""
    return CODES.get(code.strip().upper())


def fixed_by(strategy: str) -> tuple[str, ...]:
    """The codes that ``--fix`` fixes with ``strategy`` (``"gate"`` or ``"keyword"``)."""
    return tuple(c.code for c in CODES.values() if c.fix == strategy)


def unfixable(code: str, flag: str) -> str:
    """Why ``--fix`` leaves a finding of ``code`` (one with no fix strategy) alone."""
    known = CODES.get(code)
    template = known.unfixable if known is not None else Code.unfixable
    return template.format(code=code, flag=flag)


def run(project: Project) -> list[Finding]:
    """Every finding of the resolved ``project``: for each flag, after its fixpoints, each code's
    decision on each site of its scope."""
    scopes: dict[str, list] = {"has_flag": [], "route_handler": [], "field_gated": []}
    for code in CODES.values():
        if code.decide is not None:
            scopes[code.scope].append(code.decide)
            if code.field_gated:
                scopes["field_gated"].append(code.decide)
    out: list[Finding] = []
    for flag in project.config.flags:
        derived = project.derived_sinks(flag)
        permitted = project.permitted_entries(flag)
        carriers = project.carriers(flag)
        for _, module, function, site, target in project.calls():
            if flag.name in function.flags or f"{module.module}.{function.name}" in carriers:
                decisions = scopes["has_flag"]
            elif project.routes(module, function):
                verdict = site.verdict(flag.name)
                # behind a field that carries the flag (``if plan.keep:``: ``fields.py``), or not
                decisions = scopes["field_gated" if verdict is not None and verdict.gated else "route_handler"]
            else:
                continue
            entry_permitted = f"{module.module}.{function.name}" in permitted
            at = At(project, flag, derived, module, function, site, target, entry_permitted)
            for decide in decisions:
                out.extend(decide(at))
    return out
