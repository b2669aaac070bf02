"""Imports, both ways.

storegate's own: no import cycle through the package root: ``storegate/__init__.py`` imports only
``_version``, no module reaches a name of the root (other than its submodules), and every module
imports on its own in a fresh interpreter, first, in any order an import sorter might leave.

The checked code's: a module has the names ``import`` may give it (namespace packages, ``src/``
layouts, several roots: ``fixtures/cases/pkg_namespace``, ``pkg_src_layout`` and
``pkg_import_forms`` hold the findings), and imports of project modules that no checked file is
are noticed once on stderr.
"""

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
    """One interpreter that has imported nothing of storegate or its dependencies forks a child per
    module, which imports that module first: the state of a fresh ``python -c "import M"`` (the
    same start-up imports) without paying an interpreter start-up per module."""
    script = (
        "import os, sys\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('storegate', 'libcst', 'click', 'pathspec')]\n"
        "assert not loaded, loaded\n"
        "for name in sys.argv[1:]:\n"
        "    child = os.fork()\n"
        "    if child == 0:\n"
        "        try:\n"
        "            __import__(name)\n"
        "        except BaseException as exc:\n"
        "            os.write(1, f'{name}: {type(exc).__name__}: {exc}\\n'.encode())\n"
        "            os._exit(1)\n"
        "        os._exit(0)\n"
        "    code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])\n"
        "    if code not in (0, 1):  # 1: the child said why\n"
        "        print(f'{name}: the child ended with {code}', flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *MODULES], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def test_the_root_imports_only_the_version() -> None:
    code = "import sys, storegate; print(sorted(m for m in sys.modules if m.startswith('storegate')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "['storegate', 'storegate._version']"


# ---------------------------------------------------------------------------------------------
# The imports of the checked code

CASES = PACKAGE.parent / "fixtures" / "cases"


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_a_module_has_its_name_under_each_namespace_directory_up_to_the_root(tmp_path: Path) -> None:
    from storegate import files

    _tree(tmp_path, {"src/app/db.py": "", "src/app/api/__init__.py": "", "src/app/api/routes.py": "", "my-tools/x/y.py": ""})
    assert files.module_name(tmp_path / "src/app/db.py") == "db"
    assert files.namespace_names(tmp_path / "src/app/db.py", tmp_path) == ("app.db", "src.app.db")
    assert files.module_name(tmp_path / "src/app/api/routes.py") == "api.routes"  # a regular package keeps its name
    assert files.namespace_names(tmp_path / "src/app/api/routes.py", tmp_path) == ("app.api.routes", "src.app.api.routes")
    assert files.namespace_names(tmp_path / "src/app/api/__init__.py", tmp_path / "src") == ("app.api",)
    assert files.namespace_names(tmp_path / "my-tools/x/y.py", tmp_path) == ("x.y",)  # no name goes through ``my-tools``
    # A file outside the run's root (the config file's directory, else the cwd): up to the project marker above it.
    _tree(tmp_path, {"elsewhere/setup.cfg": "", "elsewhere/src/jobs/run.py": ""})
    assert files.namespace_names(tmp_path / "elsewhere/src/jobs/run.py", tmp_path / "src") == ("jobs.run", "src.jobs.run")


def test_a_package_given_as_several_roots_resolves_as_a_whole() -> None:
    """``storegate check src/ledger tests`` finds what checking the whole project finds, and
    every import of a layout case resolves (no notice)."""
    from storegate.api import check
    from storegate.config import load_config

    project = CASES / "pkg_src_layout"
    config = load_config([str(project)])
    whole = check([str(project)], config, use_cache=False, jobs=1)
    roots = check([str(project / "src" / "ledger"), str(project / "tests")], config, use_cache=False, jobs=1)
    assert [(f.path, f.line, f.code) for f in roots.findings] == [(f.path, f.line, f.code) for f in whole.findings]
    assert len(whole.findings) == 3 and whole.unresolved_imports == () and roots.unresolved_imports == ()
    for name in ("pkg_namespace", "pkg_import_forms"):
        directory = CASES / name
        assert check([str(directory)], load_config([str(directory)]), use_cache=False, jobs=1).unresolved_imports == ()


def test_imports_of_project_modules_that_do_not_resolve_are_noticed_once(tmp_path: Path, monkeypatch) -> None:
    """One line on stderr counts them (cold run, from the analysis; warm run, from the cache);
    ``--verbose`` lists them. Imports of the stdlib and third parties are not counted, nor
    those that a file of the project is, or may define (``from app import helper``), nor a third
    party named like a directory without ``__init__.py`` inside a package (``app/vendors/requests/``
    is ``app.vendors.requests``, not ``requests``)."""
    from click.testing import CliRunner

    from storegate.cli import main

    _tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.storegate]\nrules = []\nflags = [{name = "store"}]\nsinks = ["*.db.insert_*"]\n',
            "app/__init__.py": "def helper():\n    pass\n",
            "app/storage.py": "def save(db, r):\n    db.insert_row(r)\n",
            "app/vendors/__init__.py": "",
            "app/vendors/requests/shim.py": "",
            "app/handlers.py": (
                "import os.path\nimport requests\nfrom requests.adapters import HTTPAdapter\nimport app.storage as kept\n"
                "from app import helper\nfrom app.missing import gone\nfrom app.storage import save\nfrom .vanished import keep\n\n"
                "def create(db, r, store=True):\n    if store:\n        save(db, r)\n        keep(db, r)\n        gone(kept)\n"
            ),
        },
    )
    monkeypatch.chdir(tmp_path)
    notice = "storegate: 2 imports of project modules did not resolve; chains through them are lost"
    cold = CliRunner().invoke(main, ["check", "."], catch_exceptions=False)
    assert cold.exit_code == 0 and cold.stderr.splitlines() == [notice + " (--verbose lists them)"]
    warm = CliRunner().invoke(main, ["check", ".", "--verbose"], catch_exceptions=False)
    assert warm.exit_code == 0 and warm.stderr.splitlines() == [
        notice,
        "storegate: unresolved: app.missing.gone (imported in app/handlers.py)",
        "storegate: unresolved: app.vanished.keep (imported in app/handlers.py)",
    ]
