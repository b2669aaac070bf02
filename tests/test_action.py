"""The GitHub Action (action.yml) and the README's GitHub workflow snippets, run locally.

GitHub cannot run here, so the test does what the runner would: it reads action.yml, gives each
``run:`` script its ``env:`` with the ``${{ ... }}`` expressions replaced by the inputs (the
scripts use no other expressions: a new one fails the test until it is taught here), and runs
it with bash in a fresh repository holding a leak. ``actions/setup-python`` is a virtual
environment put first on PATH (with the system's packages, so only storegate itself is built
and installed by the action's install script, from this working tree).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
LEAKY = "def handler(request, store=True):\n    self.responses_store.store_response_object(request)\n"
ANNOTATION = re.compile(r"^::error file=app\.py,line=2,col=5,endLine=2,endColumn=\d+,title=SG001::persistence call ")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def steps() -> list[dict]:
    return ACTION["runs"]["steps"]


def script_env(step: dict, inputs: dict[str, str]) -> dict[str, str]:
    """The step's ``env:`` as the runner would give it, for ``inputs`` over the defaults."""
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    unknown = set(inputs) - set(values)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values.update(inputs)

    def evaluate(match: re.Match) -> str:
        expression = match.group(1)
        if expression == "github.action_path":
            return str(REPO)
        assert expression.startswith("inputs."), f"the test does not know the expression {expression!r}"
        return values[expression.removeprefix("inputs.")]

    return {key: EXPRESSION.sub(evaluate, str(value)) for key, value in step.get("env", {}).items()}


def leaky_repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    (path / "app.py").write_text(LEAKY)
    return path


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """The environment of the job after the action's install step: its PATH leads to a
    virtual environment where the install script put storegate."""
    base = tmp_path_factory.mktemp("action")
    # pip itself comes from the system's packages too (``python -m pip`` in the environment installs
    # into it): no ensurepip, which costs more than the rest of the environment.
    venv.create(base / "venv", system_site_packages=True, with_pip=False)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    env.update(PATH=f"{base / 'venv' / 'bin'}{os.pathsep}{env['PATH']}", NO_COLOR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    install = next(step for step in steps() if step.get("name") == "Install storegate")
    proc = bash(install["run"], base, {**env, **script_env(install, {})})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("storegate, version "), proc.stdout  # storegate --version
    assert shutil.which("storegate", path=env["PATH"]) == str(base / "venv" / "bin" / "storegate")
    where = subprocess.run(["python", "-c", "import storegate; print(storegate.__file__)"], cwd=base, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(base / "venv")), f"storegate imported from {where}, not the one installed"
    return base, env


def check_step(runner, tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, Path]:
    _, env = runner
    repo = leaky_repo(tmp_path / "repo")
    step = next(step for step in steps() if step.get("name") == "storegate check")
    return bash(step["run"], repo, {**env, **script_env(step, inputs)}), repo


def test_the_action_is_composite_and_declares_its_inputs():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"python-version", "version", "path", "paths", "format", "sarif-file", "args"}
    setup, *_, upload = steps()
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "inputs.format == 'sarif'" in upload["if"]
    for step in steps():  # an input pasted into a script could run as shell code
        assert "${{" not in step.get("run", ""), step.get("name")


def test_format_github_annotates_the_leak_and_fails(runner, tmp_path):
    proc, _ = check_step(runner, tmp_path, format="github")
    assert proc.returncode == 1, proc.stderr
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 1 and ANNOTATION.match(annotations[0]), proc.stdout


def test_format_sarif_writes_the_log_and_passes(runner, tmp_path):
    proc, repo = check_step(runner, tmp_path, format="sarif", **{"sarif-file": "out/log.sarif"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = json.loads((repo / "out" / "log.sarif").read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [("SG001", 2)]


def test_paths_and_args_are_passed_and_not_globbed(runner, tmp_path):
    proc, repo = check_step(runner, tmp_path, format="github", paths="app.py *.none", args="--select SG002")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # '*.none' reached storegate as written
    assert "::error file=*.none," in proc.stdout and "SG001" not in proc.stdout


def test_an_unknown_format_is_an_error(runner, tmp_path):
    proc, _ = check_step(runner, tmp_path, format="text")
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=storegate::the format input must be github or sarif")


# --- the README's snippets -----------------------------------------------------------------------


def readme_workflows() -> list[tuple[str, object]]:
    """The README's yaml blocks headed ``# .github/workflows/...``: (heading, parsed)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(# \.github/workflows/[^\n]*)\n(.*?)```", text, re.S)
    assert len(blocks) == 2, "the README's GitHub section has a workflow and a list of steps"
    return [(heading, yaml.safe_load(body)) for heading, body in blocks]


def test_the_readme_workflow_uses_this_action_with_its_inputs():
    (_, workflow), _ = readme_workflows()
    uses = [step for job in workflow["jobs"].values() for step in job["steps"] if "storegate/storegate@" in step.get("uses", "")]
    assert len(uses) == 1
    assert set(uses[0].get("with", {})) <= set(ACTION["inputs"])
    assert uses[0]["with"]["format"] in ("github", "sarif")


def test_the_readme_workflow_steps_run_as_written(tmp_path):
    """Each ``run:`` of the README's steps, in a fresh repository with a leak (storegate from this
    tree); the SARIF upload step reads the file the run before it wrote."""
    _, (_, listed) = readme_workflows()
    runs = [step["run"] for step in listed if "run" in step]
    assert len(runs) == 2
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    github, sarif = runs
    repo = leaky_repo(tmp_path / "repo")
    proc = bash(github, repo, env)
    assert proc.returncode == 1, proc.stderr
    assert ANNOTATION.match(proc.stdout.splitlines()[0]), proc.stdout

    proc = bash(sarif, repo, env)
    assert proc.returncode == 0, proc.stderr
    upload = next(step for step in listed if "upload-sarif" in step.get("uses", ""))
    log = json.loads((repo / upload["with"]["sarif_file"]).read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["SG001"]
