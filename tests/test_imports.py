"""No import cycle through the package root: ``storegate/__init__.py`` imports only
``_version``, no module reaches a name of the root (other than its submodules), and every module
imports on its own in a fresh interpreter, first, in any order an import sorter might leave."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "storegate"
MODULES = sorted(
    ".".join(("storegate", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if path.name != "__main__.py"
)


def test_no_module_takes_a_name_from_the_package_root() -> None:
    submodules = {name.split(".")[1] for name in MODULES if name.count(".") >= 1}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "storegate" and node.level == 0:
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name not in submodules]
            if isinstance(node, ast.Import) and any(a.name == "storegate" for a in node.names):
                offenders.append(f"{path.name}: import storegate")
    assert offenders == []


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    script = (
        "import importlib, subprocess, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    done = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
        "    if done.returncode:\n"
        "        failed.append(name + ': ' + done.stderr.strip().splitlines()[-1])\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *MODULES], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def test_the_root_imports_only_the_version() -> None:
    code = "import sys, storegate; print(sorted(m for m in sys.modules if m.startswith('storegate')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['storegate', 'storegate._version']"
