"""storegate's benchmark: every figure is a ratio to libcst parse-only of the same files, measured
in the same run, so the numbers mean the same on any machine.

    python benchmarks/bench.py            # the stdlib and the synthetic corpus
    python benchmarks/bench.py --quick    # a smaller synthetic corpus and a stdlib subset
    python benchmarks/bench.py --real     # real packages: the litellm and llama-stack wheels
                                          # (pip download into --real-cache; --real-dir DIR: local
                                          # wheels first; --semgrep PROGRAM: a Semgrep off the PATH)

Not a test: it prints a table and checks the targets (warm <= 10% of cold and <= 0.15 s on the
stdlib, the whole command; worst case, every call a sink, <= 2x parse-only; peak memory of each
process (the main one and the largest worker) under 400 MB; time against
function size grows with an exponent <= 1.2; the same findings with and without the pre-filter;
no internal error in fuzzed code, with ten times the suite's examples),
exiting 1 if one is missed. Each measurement runs in a fresh process, which
also reports its peak memory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A child process: runs one measurement and prints {"seconds", "peak_mb", ...} as JSON.
CHILD = r"""
import json, resource, sys, time
args = json.loads(sys.argv[1])
start = time.perf_counter()
if args["kind"] == "parse":
    import libcst
    from storegate import files
    config = __import__("storegate.model", fromlist=["Config"]).Config()
    found, _ = files.discover(args["paths"], config)
    count = 0
    for path in found:
        try:
            libcst.parse_module(files.read_source(path))
            count += 1
        except Exception:
            pass
    extra = {"files": count}
else:
    from storegate.api import check
    from storegate.config import load_config
    config = load_config(args["paths"], isolated=True, flags=args["flags"], sinks=args["sinks"], rules=args["rules"])
    result = check(args["paths"], config, jobs=args["jobs"], use_cache=args["cache"] is not None,
                   cache_dir=args["cache"], use_prefilter=args["prefilter"])
    extra = {"findings": len(result.findings), "errors": len(result.errors),
             "internal": len(result.tracebacks), "files": result.files_checked}
seconds = time.perf_counter() - start
main = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest worker's
cpu = sum(resource.getrusage(who).ru_utime for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))  # user CPU, workers too
print(json.dumps({"seconds": seconds, "peak_mb": max(main, workers), "main_mb": main, "workers_mb": workers, "user_cpu": cpu, **extra}))
"""


# The children cache their bytecode, as an installed storegate has it (a run of ``python -c``
# under PYTHONDONTWRITEBYTECODE would compile every module of storegate each time: a tenth of a
# second, more than a warm run's own work), in a folder of their own, never in the source tree.
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "storegate-bench-bytecode")


def measure(kind: str, paths: list[str], cwd: Path = ROOT, **options) -> dict:
    """One measurement in a fresh process, run in ``cwd`` (a real package: its own folder, as a
    user runs storegate, so that paths show and its namespace packages are named from there)."""
    args = {
        "kind": kind,
        "paths": [str(p) for p in paths],
        "flags": options.get("flags"),
        "sinks": options.get("sinks"),
        "rules": options.get("rules"),
        "jobs": options.get("jobs", 1),
        "cache": options.get("cache"),
        "prefilter": options.get("prefilter", True),
    }
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True, cwd=cwd, env=CHILD_ENV)
    if done.returncode != 0:
        raise SystemExit(f"measurement failed: {args}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def command_line(args: list[str], runs: int = 3, cwd: Path = ROOT) -> float:
    """The median wall time of a whole command (``python ARGS``, or a console script of this
    Python's when ARGS starts with its name), the interpreter's start included, after one run
    that writes the bytecode (``CHILD_ENV``)."""
    script = Path(sys.executable).with_name(args[0]) if args and not args[0].startswith("-") else None
    command = [str(script), *args[1:]] if script is not None else [sys.executable, *args]
    subprocess.run(command, capture_output=True, cwd=cwd, env=CHILD_ENV)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=cwd, env=CHILD_ENV)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def external(command: list[str], paths: list[str]) -> float | None:
    if shutil.which(command[0]) is None:
        return None
    start = time.perf_counter()
    subprocess.run([*command, *map(str, paths)], capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def synthetic_function(statements: int, seed: int) -> str:
    """One function of about ``statements`` statements: nested ifs, loops, try blocks, sinks."""
    rng = random.Random(seed)
    lines = [f"def handler_{statements}(request, items, store=True):"]
    count = 0
    while count < statements:
        shape = rng.randrange(6)
        if shape == 0:
            lines += ["    if request.ready and store:", "        save_item(request.body)", "    else:", "        log(request)"]
        elif shape == 1:
            lines += ["    for item in items:", "        if item.skip:", "            continue", "        total = compute(item)"]
        elif shape == 2:
            lines += ["    try:", "        value = fetch(request)", "    except ValueError:", "        value = None", "    finally:", "        close(request)"]
        elif shape == 3:
            lines += ["    if not store:", "        log(request)", "    elif request.kind == 'x':", "        save_audit(request)"]
        elif shape == 4:
            lines += ["    while request.more():", "        if request.stop:", "            break", "        request = request.next()"]
        else:
            lines += ["    should_store = store and request.ok", "    if should_store:", "        save_response(request)"]
        count += sum(1 for line in lines[-6:] if line.strip())
    lines.append("    return request")
    return "\n".join(lines) + "\n"


def fit_exponent(points: list[tuple[int, float]]) -> float:
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(t, 1e-6)) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def row(name: str, seconds: float, baseline: float, peak: float | None = None, note: str = "") -> str:
    peak_text = f"{peak:8.0f} MB" if peak is not None else " " * 11
    return f"  {name:<44} {seconds:9.2f} s {seconds / baseline:7.2f}x {peak_text}  {note}"


# Real packages, pinned: (distribution, version, the Semgrep target ratio of the cold run).
REAL = (("litellm", "1.110.2", 1.0), ("llama-stack", "0.2.12", 0.5))
# A Semgrep rule of the same kind as storegate's SG001: a persistence call in a function that
# receives the flag, outside a branch on it.
SEMGREP_RULE = """\
rules:
  - id: ungated-store
    languages: [python]
    severity: WARNING
    message: a persistence call not gated by store
    patterns:
      - pattern-inside: |
          def $F(..., store, ...):
            ...
      - pattern-not-inside: |
          if store:
            ...
      - pattern: $DB.$SAVE(...)
      - metavariable-regex:
          metavariable: $SAVE
          regex: ^(save|insert|put|write|create|add|upsert|store)
"""


def real_wheel(name: str, version: str, cache: Path, local: Path | None) -> Path:
    """The wheel of ``name==version``: from ``local`` if it has it, else from ``cache``, else
    downloaded into ``cache`` with ``pip download --no-deps`` (once: a wheel already there is used)."""
    stem = name.replace("-", "_")
    for folder in (local, cache):
        if folder is not None:
            found = sorted(folder.glob(f"{stem}-{version}-*.whl"))
            if found:
                return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(cache), f"{name}=={version}"],
        capture_output=True, text=True,
    )
    found = sorted(cache.glob(f"{stem}-{version}-*.whl"))
    if done.returncode != 0 or not found:
        raise SystemExit(f"cannot download the wheel of {name} {version}: {(done.stderr.strip().splitlines() or ['no wheel'])[-1]}")
    return found[0]


def unpacked(wheel: Path, cache: Path) -> Path:
    """The wheel's ``.py`` files, unpacked once under ``cache``."""
    import zipfile

    target = cache / wheel.name.removesuffix(".whl")
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.endswith(".py") and not member.startswith("/") and ".." not in member.split("/"):
                    archive.extract(member, target)
        (target / ".complete").write_text("")
    return target


def semgrep(paths: list[Path], rule: Path, program: str | None) -> dict | None:
    """Semgrep's wall time, peak memory (MB), findings and files scanned on ``paths`` with
    ``SEMGREP_RULE``, if installed (``program``, else ``semgrep`` on the PATH). Offline: no
    metrics, no version check (without network, the check alone waits about 100 s)."""
    program = program or shutil.which("semgrep")
    if program is None:
        return None
    command = [program, "scan", "--config", str(rule), "--metrics=off", "--disable-version-check", "--json",
               "--jobs", str(os.cpu_count() or 1), *map(str, paths)]
    probe = "import resource, subprocess, sys, time; s = time.perf_counter(); " \
            "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); " \
            "sys.stderr.write(done.stdout); sys.exit(done.returncode) if done.returncode not in (0, 1) else None; " \
            "print(time.perf_counter() - s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    done = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"semgrep failed ({done.returncode}): {done.stderr[-2000:]}")
    seconds, peak = done.stdout.split()
    report = json.loads(done.stderr)
    return {"seconds": float(seconds), "peak_mb": float(peak), "findings": len(report["results"]),
            "files": len(report.get("paths", {}).get("scanned", [])), "errors": len(report.get("errors", []))}


def real_rows(cache: Path, local: Path | None, program: str | None, failures: list[str]) -> None:
    """(r) each pinned package with no configuration: libcst parse-only, storegate cold and warm
    (all cores), Semgrep with a rule of the same kind where installed; and the targets."""
    rule = Path(tempfile.mkdtemp(prefix="storegate-bench-rule-")) / "rule.yml"
    rule.write_text(SEMGREP_RULE)
    jobs = os.cpu_count() or 1
    print(f"\n(r) real packages, no configuration, --jobs {jobs} (wheels in {cache})")
    print(f"  {'':<44} {'time':>11} {'/parse':>8} {'peak':>11}")
    for name, version, ratio in REAL:
        root = unpacked(real_wheel(name, version, cache, local), cache)
        parse = measure("parse", [root])
        base = parse["seconds"]
        print(f"  {name} {version}: {parse['files']} files")
        print(row("libcst parse-only", base, base, parse["peak_mb"]))
        results = Path(tempfile.mkdtemp(prefix="storegate-bench-cache-"))
        cold = measure("check", [root], root, jobs=jobs, cache=str(results))
        warm = measure("check", [root], root, jobs=jobs, cache=str(results))
        whole = command_line(["storegate", "check", ".", "--isolated", "--cache-dir", str(results), "-q"], cwd=root)
        shutil.rmtree(results, ignore_errors=True)
        print(row("storegate cold", cold["seconds"], base, cold["peak_mb"], f"{cold['findings']} findings, {cold['errors']} errors, "
                  f"main {cold['main_mb']:.0f} MB, largest worker {cold['workers_mb']:.0f} MB, user CPU {cold['user_cpu']:.1f} s"))
        print(row("storegate warm", warm["seconds"], base, warm["peak_mb"], f"the whole command {whole:.2f} s"))
        measured = semgrep([root], rule, program)
        if measured is None:
            print("  Semgrep: not installed")
        else:
            print(row("Semgrep, one rule of the same kind", measured["seconds"], base, measured["peak_mb"],
                      f"{measured['findings']} findings in {measured['files']} files scanned, {measured['errors']} errors"))
            print(f"  {'':<44} storegate cold / Semgrep: {cold['seconds'] / measured['seconds']:.2f}x (target <= {ratio}x)")
            if cold["seconds"] > ratio * measured["seconds"]:
                failures.append(f"{name}: cold {cold['seconds'] / measured['seconds']:.2f}x Semgrep: target <= {ratio}x")
        if cold["peak_mb"] > 400:
            failures.append(f"{name}: peak memory {cold['peak_mb']:.0f} MB: target <= 400 MB")
        if name == "litellm" and whole > 0.2:
            failures.append(f"{name}: warm {whole:.2f} s (the whole command): target <= 0.2 s")
        if cold["internal"]:
            failures.append(f"{name}: internal errors")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a stdlib subset and smaller functions")
    parser.add_argument("--real", action="store_true", help="only the real packages (pinned litellm and llama-stack wheels)")
    parser.add_argument("--real-cache", type=Path, default=Path.home() / ".cache" / "storegate-bench",
                        help="where the wheels are downloaded and unpacked (default: ~/.cache/storegate-bench)")
    parser.add_argument("--real-dir", type=Path, default=None, help="a folder of wheels to use before downloading")
    parser.add_argument("--semgrep", default=None, help="the semgrep program (default: semgrep on the PATH; its pins may "
                        "conflict with other packages: a virtual environment of its own is fine)")
    options = parser.parse_args()
    if options.real:
        failures = []
        real_rows(options.real_cache, options.real_dir, options.semgrep, failures)
        print()
        for failure in failures:
            print(f"MISSED: {failure}")
        print("all targets met" if not failures else f"{len(failures)} target(s) missed")
        return 1 if failures else 0
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    targets = [stdlib / name for name in ("asyncio", "email", "json", "http", "logging", "unittest")] if options.quick else [stdlib]
    failures: list[str] = []
    cache = tempfile.mkdtemp(prefix="storegate-bench-cache-")
    print(f"storegate benchmark on {os.cpu_count()} cores, Python {sys.version.split()[0]}")

    print(f"\n(a) the stdlib: {', '.join(str(t) for t in targets)}")
    parse = measure("parse", targets)
    base = parse["seconds"]
    print(f"  {'':<44} {'time':>11} {'/parse':>8} {'peak':>11}")
    print(row(f"libcst parse-only ({parse['files']} files)", base, base))
    default = {"rules": ["openai"], "jobs": 1}
    cold = measure("check", targets, **default, cache=cache)
    warm = measure("check", targets, **default, cache=cache)
    print(row("storegate, openai pack, cold (--jobs 1)", cold["seconds"], base, cold["peak_mb"], f"{cold['findings']} findings, {cold['errors']} errors"))
    print(row("storegate, openai pack, warm (cache)", warm["seconds"], base, warm["peak_mb"], f"{warm['seconds'] / cold['seconds']:.1%} of cold"))
    whole = command_line(["storegate", "check", *map(str, targets), "--isolated", "--rules", "openai", "--jobs", "1", "--cache-dir", cache, "-q"])
    bare = command_line(["-c", "pass"])
    print(row("  the same, the whole command (storegate check)", whole, base, None, f"the interpreter alone starts in {bare:.2f} s"))
    often = {"flags": ["verbose"], "sinks": ["*.write"]}
    jobs1 = measure("check", targets, **often, jobs=1)
    jobs2 = measure("check", targets, **often, jobs=2)
    print(row("--flag verbose --sink '*.write', --jobs 1", jobs1["seconds"], base, jobs1["peak_mb"], f"{jobs1['findings']} findings, {jobs1['internal']} internal errors"))
    print(row("--flag verbose --sink '*.write', --jobs 2", jobs2["seconds"], base, jobs2["peak_mb"], f"{jobs1['seconds'] / jobs2['seconds']:.2f}x faster than --jobs 1"))
    for name, run in (("the cold openai run", cold), ("--jobs 1", jobs1), ("--jobs 2", jobs2)):
        print(f"  {'':<44} peak of {name}: main process {run['main_mb']:.0f} MB, largest worker {run['workers_mb']:.0f} MB")
    worst = measure("check", targets, flags=["verbose"], sinks=["*"], jobs=1)
    print(row("worst: --flag verbose --sink '*', --jobs 1", worst["seconds"], base, worst["peak_mb"], f"{worst['findings']} findings, {worst['internal']} internal errors"))
    every = measure("check", targets, flags=["verbose"], sinks=["*"], jobs=1, prefilter=False)
    print(row("  the same with every file parsed (no pre-filter)", every["seconds"], base, every["peak_mb"], f"{every['findings']} findings"))
    if every["findings"] != worst["findings"]:
        failures.append("the pre-filter changed the number of findings")
    for name, command in (("ruff check --select F", ["ruff", "check", "--select", "F", "--no-cache", "--exit-zero", "--quiet"]),
                          ("flake8 --select F", ["flake8", "--select", "F", "--exit-zero"])):
        seconds = external(command, targets)
        print(row(name, seconds, base) if seconds is not None else f"  {name:<44} (not installed)")

    if warm["seconds"] > 0.10 * cold["seconds"] or whole > 0.15:
        failures.append(f"warm run {whole:.2f} s (the whole command): target <= 10% of cold and <= 0.15 s")
    if worst["seconds"] > 2 * base:
        failures.append(f"worst case {worst['seconds'] / base:.2f}x parse-only: target <= 2x")
    if max(cold["peak_mb"], jobs1["peak_mb"], jobs2["peak_mb"]) > 400:
        failures.append("peak memory of a process over 400 MB on the stdlib")
    if max(jobs1["internal"], jobs2["internal"], worst["internal"], every["internal"]):
        failures.append("internal errors on the stdlib")
    if jobs1["findings"] != jobs2["findings"]:
        failures.append("--jobs 1 and --jobs 2 disagree")

    sizes = [1000, 2000, 4000] if options.quick else [1000, 2000, 4000, 8000, 16000]
    print(f"\n(b) synthetic functions of {sizes[0]} to {sizes[-1]} statements (one file each)")
    corpus = Path(tempfile.mkdtemp(prefix="storegate-bench-corpus-"))
    # What a run costs besides the function (imports, reading, reporting): a two-line function.
    # The exponent is fitted to the time above it, so that a fixed cost cannot flatten it.
    (corpus / "tiny.py").write_text(synthetic_function(1, seed=0))
    fixed = min(measure("check", [corpus / "tiny.py"], flags=["store"], sinks=["save_*"], jobs=1)["seconds"] for _ in range(3))
    points = []
    print(f"  {'statements':>10} {'parse':>9} {'storegate':>10} {'/parse':>8} {'above fixed':>12}")
    for size in sizes:
        path = corpus / f"f{size}.py"
        path.write_text(synthetic_function(size, seed=size))
        parsed = measure("parse", [path])
        checked = min(
            (measure("check", [path], flags=["store"], sinks=["save_*"], jobs=1) for _ in range(2)), key=lambda r: r["seconds"]
        )
        points.append((size, checked["seconds"] - fixed))
        print(f"  {size:>10} {parsed['seconds']:8.2f}s {checked['seconds']:9.2f}s {checked['seconds'] / parsed['seconds']:7.2f}x"
              f" {checked['seconds'] - fixed:11.2f}s")
    exponent = fit_exponent(points)
    print(f"  fixed cost of a run (a two-line function): {fixed:.2f} s")
    print(f"  fitted exponent of storegate's time above the fixed cost against function size: {exponent:.2f}")
    if exponent > 1.2:
        failures.append(f"exponent {exponent:.2f}: target <= 1.2")
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)

    examples = 100 if options.quick else 400
    print(f"\n(c) fuzzed code: tests/test_fuzz.py with {examples} examples per property (the suite runs 40)")
    start = time.perf_counter()
    fuzz = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "STOREGATE_FUZZ_EXAMPLES": str(examples)},
    )
    summary = (fuzz.stdout.strip().splitlines() or ["no output"])[-1]
    print(f"  {summary} ({time.perf_counter() - start:.0f} s)")
    if fuzz.returncode != 0:
        failures.append("the property tests found an internal error in fuzzed code")

    print()
    for failure in failures:
        print(f"MISSED: {failure}")
    print("all targets met" if not failures else f"{len(failures)} target(s) missed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
