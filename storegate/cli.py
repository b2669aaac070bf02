"""The ``storegate`` command: load the config, build ``CheckOptions``, call the pipeline
(``storegate.run.pipeline.check``, which also applies suppressions, selection and the baseline),
render, exit.

Exit codes of ``check``: 0 clean, 1 findings, 2 a usage or config error or any file that could
not be checked (2 wins over 1). ``--exit-zero`` gives 0 unless storegate itself could not run:
a usage or config error, a named path that does not exist, or an internal error; files that
cannot be analyzed are still reported.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

import click

from storegate import baseline, disk, files
from storegate._version import __version__
from storegate.run.pipeline import CheckOptions
from storegate.run.pipeline import check as run_check
from storegate.config import load_config
from storegate.errors import ConfigError
from storegate.model import Config, FileError, Flag, Result, Retention, Sink, State
from storegate.report import FORMATS, HUMAN_FORMATS
from storegate.report.text import printable
from storegate.report.text import statistics as render_statistics

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def fail(message: str) -> None:
    """Print ``storegate: error: MESSAGE`` on stderr (control characters escaped) and exit 2."""
    click.echo(printable(f"storegate: error: {message}"), err=True)
    sys.exit(EXIT_ERROR)


class _Main(click.Group):
    """The command group, and the last line of defence: an unexpected exception anywhere (a bug,
    a ``MemoryError``, a ``RecursionError`` from a nested input) is one line on stderr and exit 2,
    never a traceback with exit 1, which means findings. ``--verbose`` adds the traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that reports what nothing else caught
            if ctx.meta.get(_VERBOSE):
                import traceback

                click.echo(traceback.format_exc(), err=True, nl=False)
            text = str(exc).splitlines()[0] if str(exc).strip() else ""
            click.echo(printable(f"storegate: internal error: {type(exc).__name__}" + (f": {text}" if text else "")), err=True)
            sys.exit(EXIT_ERROR)


_VERBOSE = "storegate.verbose"  # ctx.meta key: --verbose, for the group's error handler


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="storegate")
def main() -> None:
    """Find persistence calls that are not gated by the `store` flag."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, readable=False))
@click.option(
    "--config", "config_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
    help="A pyproject.toml ([tool.storegate]) or a .toml with the same keys at its top level.",
)
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option(
    "--flag", "flag_specs", metavar="NAME", multiple=True,
    help="A flag that gates persistence ('not NAME' or '!NAME' when inverted); replaces all flags.",
)
@click.option(
    "--sink", "sink_specs", metavar="PATTERN", multiple=True,
    help="A persistence call pattern, or PATTERN::REGEX for its first argument; replaces all sinks.",
)
@click.option(
    "--rules", "rule_specs", metavar="PACK", multiple=True,
    help="A rule pack name or .toml file; replaces the configured packs.",
)
@click.option(
    "--format", "output_format", type=click.Choice(sorted(FORMATS)), default="text",
    show_default=True, help="The report format.",
)
@click.option(
    "--output", "-o", "output", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of stdout.",
)
@click.option("--explain", is_flag=True, help="Show under each finding a path from the function's entry to it.")
@click.option(
    "--show-source", is_flag=True,
    help="Show the offending line with a caret under the column (text and grouped formats).",
)
@click.option(
    "--select", "select", metavar="CODES", multiple=True,
    help="Report only these codes or code prefixes (SG, SG00, SG001); comma-separated, repeatable.",
)
@click.option(
    "--ignore", "ignore", metavar="CODES", multiple=True,
    help="Do not report these codes or code prefixes; comma-separated, repeatable.",
)
@click.option("--statistics", is_flag=True, help="Print the number of findings of each code.")
@click.option(
    "--report-unused-ignores", is_flag=True,
    help="Report suppression comments that suppress nothing (SG100).",
)
@click.option(
    "--baseline", "baseline_file", metavar="FILE", type=click.Path(path_type=Path),
    help="Report only the findings that are not recorded in this baseline file.",
)
@click.option(
    "--write-baseline", "write_baseline", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
    help="Record the current findings in FILE (a baseline) and report none of them.",
)
@click.option(
    "--jobs", "-j", "jobs", type=click.IntRange(min=1), default=None, metavar="N",
    help="Worker processes (default: the number of cores).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option(
    "--max-target-bytes", type=click.IntRange(min=0), default=None, metavar="N",
    help="Skip files larger than N bytes, with a notice (default 1000000; 0: no limit).",
)
@click.option(
    "--max-call-depth", type=click.IntRange(min=0), default=None, metavar="N",
    help="Follow writes at most N calls deep from a function with the flag or a route (default 6; 0: no limit).",
)
@click.option(
    "--cache-dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The cache directory (default: .storegate_cache beside the config file, else in the cwd).",
)
@click.option("--fix", "apply_fixes", is_flag=True, help="Gate the ungated writes in place (atomic writes); report what remains.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff and change nothing.")
@click.option(
    "--exit-zero", is_flag=True,
    help="Exit 0 even with findings or files that cannot be analyzed (reported); 2 still for a usage "
    "or config error, a missing path or an internal error.",
)
@click.option("--quiet", "-q", is_flag=True, help="Leave out the summary line and the progress display.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to paths named explicitly too.")
@click.option(
    "--exclude", "exclude", metavar="PATTERNS", multiple=True,
    help="Gitignore-style patterns to skip, replacing the configured and default excludes; comma-separated, repeatable.",
)
@click.option(
    "--extend-exclude", "extend_exclude", metavar="PATTERNS", multiple=True,
    help="Patterns to skip besides the configured and default excludes; comma-separated, repeatable.",
)
@click.option(
    "--stdin-filename", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Read the file PATH from standard input (the path '-') and report for it only; the rest "
    "of the project (PATHS, default: the current directory) is read from disk.",
)
@click.option(
    "--color", "color_choice", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
    help="Colour the text report: auto = on a terminal, unless NO_COLOR (or when FORCE_COLOR) is set.",
)
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks of internal errors, and the imports of project modules that did not resolve, on stderr.")
def check(
    paths: tuple[Path, ...],
    config_file: Path | None,
    isolated: bool,
    flag_specs: tuple[str, ...],
    sink_specs: tuple[str, ...],
    rule_specs: tuple[str, ...],
    output_format: str,
    output: Path | None,
    explain: bool,
    show_source: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    statistics: bool,
    report_unused_ignores: bool,
    baseline_file: Path | None,
    write_baseline: Path | None,
    jobs: int | None,
    no_cache: bool,
    max_target_bytes: int | None,
    max_call_depth: int | None,
    cache_dir: Path | None,
    apply_fixes: bool,
    show_diff: bool,
    exit_zero: bool,
    quiet: bool,
    force_exclude: bool,
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    stdin_filename: Path | None,
    color_choice: str,
    verbose: bool,
) -> None:
    """Check PATHS (default: the current directory) for ungated persistence calls."""
    click.get_current_context().meta[_VERBOSE] = verbose
    if apply_fixes and show_diff:
        fail("--fix and --diff cannot be used together")
    targets: list[Path] = [path for path in paths if str(path) != "-"]
    if len(targets) < len(paths) and stdin_filename is None:
        fail("reading standard input ('-') needs --stdin-filename PATH (the file's path, for its module and config)")
    targets = targets or [Path(".")]
    if stdin_filename is not None and (apply_fixes or show_diff or write_baseline):
        fail("--stdin-filename cannot be used with --fix, --diff or --write-baseline")
    try:
        config = load_config(
            [stdin_filename] if stdin_filename is not None else targets,
            config_file=config_file,
            isolated=isolated,
            flags=flag_specs or None,
            sinks=sink_specs or None,
            rules=rule_specs or None,
            exclude=_split(exclude) if exclude else None,
            extend_exclude=_split(extend_exclude),
            max_target_bytes=max_target_bytes,
            max_call_depth=max_call_depth,
        )
    except ConfigError as exc:
        fail(str(exc))
        return
    unsaved = {}
    if stdin_filename is not None:  # the project from disk, with this file from stdin
        unsaved[stdin_filename] = _read_stdin()
        targets.append(stdin_filename)
    try:
        options = CheckOptions(
            select=select,
            ignore=ignore,
            report_unused_ignores=report_unused_ignores,
            force_exclude=force_exclude,
            jobs=jobs,
            cache_dir=cache_dir,
            use_cache=not no_cache,
        )
    except ValueError as exc:
        fail(str(exc))
        return
    if baseline_file is not None:
        try:
            known = baseline.load(baseline_file)
        except baseline.BaselineError as exc:
            fail(str(exc))
            return
        if write_baseline is None:  # a baseline being written records every finding
            options = dataclasses.replace(options, baseline=known)

    progress = _Progress() if _progress_wanted(quiet) else None
    try:
        result = run_check(targets, config, options, unsaved=unsaved, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if stdin_filename is not None:
        result = _only(result, stdin_filename, config, force_exclude)
    elif not result.files_checked:
        shown = ", ".join(printable(files.display_path(path)) for path in targets)
        click.echo(f"storegate: no Python files to check in {shown}", err=True)
    if write_baseline is not None:
        try:
            count = baseline.write(result.findings, write_baseline)
        except OSError as exc:
            fail(f"cannot write {write_baseline}: {disk.reason_of(exc)}")
            return
        click.echo(printable(f"storegate: recorded {count} finding{'' if count == 1 else 's'} in {write_baseline}"), err=True)
        result = dataclasses.replace(result, findings=())

    if apply_fixes or show_diff:
        result = _fix(result, config, write=apply_fixes)

    color = _color_wanted(color_choice, to_file=output is not None)
    report = FORMATS[output_format](result, quiet=quiet, explain=explain, show_source=show_source, color=color)
    stats = render_statistics(result) if statistics else ""
    if stats and output_format in HUMAN_FORMATS:
        report, stats = report + stats, ""

    if output is not None:
        try:
            disk.write_atomic(output, report.encode("utf-8"))
        except OSError as exc:
            fail(f"cannot write {output}: {disk.reason_of(exc)}")
    else:
        click.echo(report, nl=False, color=color)
    if stats:
        click.echo(stats, nl=False, err=True)
    for notice in result.notices:
        click.echo(printable(f"storegate: {notice}"), err=True)

    if result.tracebacks:
        if verbose:
            for trace in result.tracebacks:
                click.echo("\n".join(printable(line) for line in trace.splitlines()), err=True)
        else:
            click.echo(
                "storegate: internal errors occurred; run with --verbose to see the tracebacks",
                err=True,
            )

    if result.unresolved_imports:  # once: the chains through them are lost, whatever the config
        count = len({name for name, _ in result.unresolved_imports})
        lost = f"storegate: {count} import{'' if count == 1 else 's'} of project modules did not resolve; chains through them are lost"
        click.echo(lost if verbose else lost + " (--verbose lists them)", err=True)
        for name, path in result.unresolved_imports if verbose else ():
            click.echo(printable(f"storegate: unresolved: {name} (imported in {path})"), err=True)

    if exit_zero:
        # storegate itself could not run: a path it was told to check is not there, or it failed
        could_not_run = result.tracebacks or any(not os.path.exists(path) for path in targets if path not in unsaved)
        sys.exit(EXIT_ERROR if could_not_run else EXIT_CLEAN)
    if result.errors:
        sys.exit(EXIT_ERROR)
    if result.findings:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _split(values: tuple[str, ...]) -> list[str]:
    """The items of comma-separated, repeated option values (empty items left out)."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _color_wanted(choice: str, *, to_file: bool) -> bool:
    """``--color always|never`` decides; ``auto`` colours a terminal, never when NO_COLOR is set
    (to anything but ''), and pipes too when FORCE_COLOR is; never an ``--output`` file."""
    if choice != "auto":
        return choice == "always"
    if to_file or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or _is_terminal(sys.stdout)


# A run that takes longer than this shows its progress (a module constant, so tests can make it 0).
PROGRESS_DELAY = 1.0


def _progress_wanted(quiet: bool) -> bool:
    """Progress goes to stderr on a terminal: never with --quiet, in a pipe or in a CI log."""
    return not quiet and not os.environ.get("CI") and _is_terminal(sys.stderr)


class _Progress:
    """``storegate: parsed N/M files`` on stderr, rewritten in place (``\r``) once the run has
    taken ``PROGRESS_DELAY`` seconds; ``close`` erases it before the report is printed."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if self.shown or time.monotonic() - self.start >= PROGRESS_DELAY:
            self.shown = True
            click.echo(f"\rstoregate: parsed {done}/{total} files", err=True, nl=False)

    def close(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)


def _read_stdin() -> bytes:
    """The file given on standard input (``--stdin-filename``), bounded as files on disk are."""
    data = click.get_binary_stream("stdin").read(files.MAX_SOURCE_BYTES + 1)
    if len(data) > files.MAX_SOURCE_BYTES:
        fail(f"standard input: larger than {files.MAX_SOURCE_BYTES} bytes")
    return data


def _only(result, path: Path, config: Config, force_exclude: bool):
    """``--stdin-filename``: what the run found in the file ``path`` (nothing if ``--force-exclude``
    excludes it); the rest of the project was read for what it says about that file."""
    if force_exclude and files.is_excluded(path, config):
        return Result(files_checked=0)
    shown = files.display_path(path)
    return dataclasses.replace(
        result,
        findings=tuple(f for f in result.findings if f.path == shown),
        errors=tuple(e for e in result.errors if e.path == shown),
        files_checked=1,
        tracebacks=tuple(t for t in result.tracebacks if t.startswith(f"{shown}:\n")),
    )


# --- rule documentation -----------------------------------------------------------------------


def _describe_flag(flag: Flag) -> str:
    notes = []
    if flag.inverted:
        notes.append("inverted: writes need it false")
    if flag.none_means:
        notes.append("None means true")
    if flag.self_attribute:
        notes.append("self.%s counts" % flag.name)
    return flag.name + (f" ({'; '.join(notes)})" if notes else "")


def _describe_sink(sink: Sink) -> str:
    notes = [f"kind {sink.kind}"] if sink.kind else []
    if sink.argument:
        which = "first argument" if sink.position == 0 else f"argument {sink.position + 1}"
        which += f" or {sink.keyword}=" if sink.keyword else ""
        notes.insert(0, f"{which} ~ {sink.argument}")
    if sink.key is not None:
        notes.append(f"key: argument {sink.key + 1}")
    return f"{sink.pattern} ({'; '.join(notes)})" if notes else sink.pattern


def _describe_retention(rule: Retention) -> str:
    """``under background, writes that expire need no store: ttl=, ex=; to *.poll_cache.set``."""
    ways = [", ".join(f"{name}=" for name in rule.expiry_arguments)] if rule.expiry_arguments else []
    ways += [f"to {', '.join(rule.expiring)}"] if rule.expiring else []
    return f"under {rule.when}, writes that expire need no {rule.flag}: {'; '.join(ways)}"


def _describe_state(state: State) -> list[str]:
    """The lines of a ``state`` rule: what makes a container, and what bookkeeping is left out."""
    lines = [f"writes into module-level, class and service-object containers: {', '.join(state.containers)}"]
    lines += [f"  not containers named {', '.join(state.ignore)}"] if state.ignore else []
    lines += [f"  not values from {', '.join(state.ignore_values)}"] if state.ignore_values else []
    lines += [f"  not the own containers of classes named {', '.join(state.ignore_classes)}"] if state.ignore_classes else []
    return lines


def _pack_specs(config: Config, rule_specs: tuple[str, ...]) -> list[tuple[str, Path | None]]:
    """The rule pack specs behind ``config`` and the directory relative paths are resolved in."""
    from storegate.config import DEFAULT_RULES, config_table

    if rule_specs:
        return [(spec, None) for spec in rule_specs]
    table = config_table(config.source)[0] if config.source is not None else {}
    specs = table.get("rules", list(DEFAULT_RULES))
    base = config.source.parent if config.source is not None else None
    return [(spec, base) for spec in specs]


@main.command("rules")
@click.option(
    "--config", "config_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
    help="A pyproject.toml ([tool.storegate]) or a .toml with the same keys at its top level.",
)
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--rules", "rule_specs", metavar="PACK", multiple=True, help="A rule pack name or .toml file; replaces the configured packs.")
@click.option("--markdown", is_flag=True, help="Print the README's code section (Markdown) instead.")
def rules_command(config_file: Path | None, isolated: bool, rule_specs: tuple[str, ...], markdown: bool) -> None:
    """List every code, the configuration file found from the cwd, its excludes and its rule packs."""
    if markdown:
        from storegate.checks import docs  # here: ``check`` never needs it

        click.echo(docs.render_markdown(), nl=False)
        return
    from storegate import checks
    from storegate.config import load_pack

    try:
        config = load_config([Path(".")], config_file=config_file, isolated=isolated, rules=rule_specs or None)
        packs = [load_pack(spec, base) for spec, base in _pack_specs(config, rule_specs)]
    except ConfigError as exc:
        fail(str(exc))
        return
    width = max(len(c.name) for c in checks.CODES.values())
    lines = ["Codes (storegate rule CODE for the full documentation):"]
    lines += [f"  {c.code}  {c.name.ljust(width)}  {c.summary}" for c in checks.CODES.values()]
    lines.append("")
    where = files.display_path(config.source) if config.source is not None else "no configuration file"
    lines.append(f"Configuration file: {where if config.source is not None else 'none (the defaults)'}")
    root = files.display_path(files.exclude_root(config))
    lines.append(f"Excludes (gitignore patterns, relative to {root}): {', '.join(files.exclude_patterns(config))}")
    lines.append("")
    lines.append(f"Rule packs ({where}):" if packs else f"Rule packs ({where}): none")
    for pack in packs:
        lines.append(f"  {pack.name}: {pack.description}" if pack.description else f"  {pack.name}")
        lines += [f"    flag   {_describe_flag(f)}" for f in pack.flags]
        lines += [f"    sink   {_describe_sink(s)}" for s in pack.sinks]
        lines += [f"    route  {r}" for r in pack.routes]
        lines += [f"    retain {_describe_retention(r)}" for r in pack.retention]
        lines += [f"    state  {line}" for line in _describe_state(pack.state)] if pack.state is not None else []
    lines.append("")
    lines.append("In effect (packs, configuration and command line):")
    lines += [f"  flag   {_describe_flag(f)}" for f in config.flags] or ["  no flags"]
    lines += [f"  sink   {_describe_sink(s)}" for s in config.sinks] or ["  no sinks"]
    lines += [f"  route  {r}" for r in config.routes]
    lines += [f"  retain {_describe_retention(r)}" for r in config.retention]
    lines += [f"  state  {line}" for line in _describe_state(config.state)] if config.state is not None else []
    click.echo("\n".join(printable(line) for line in lines))


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Print the documentation of CODE (e.g. SG001)."""
    from storegate import checks

    found = checks.get(code)
    if found is None:
        fail(f"unknown code {code!r} (known: {', '.join(checks.CODES)})")
        return
    from storegate.checks import docs

    click.echo(docs.render_doc(found), nl=False)


def _fix(result, config, *, write: bool):
    """``--diff``: print the proposed fixes and exit. ``--fix``: apply them; what remains is reported."""
    from storegate import fix as fixer

    plans = fixer.plan(result, config)
    if not write:
        click.echo(fixer.unified_diff(plans), nl=False)
        for line in fixer.summary(plans):
            click.echo(printable(line), err=True)
        changed = any(plan.changed for plan in plans)
        sys.exit(EXIT_ERROR if result.errors else EXIT_FINDINGS if changed else EXIT_CLEAN)
    problems = fixer.apply(plans)  # reported with the files that could not be analyzed
    written = [plan for plan in plans if plan.path not in problems]
    for line in fixer.summary(written):
        click.echo(printable(line), err=True)
    fixed = {finding for plan in written for finding in plan.fixed_findings}
    if problems:
        result = dataclasses.replace(result, errors=(*result.errors, *(FileError(p, r) for p, r in problems.items())))
    return dataclasses.replace(result, findings=tuple(f for f in result.findings if f not in fixed))


@main.group(invoke_without_command=True)
@click.option("--port", type=int, default=None, help="Port for the demo servers (default: a free one).")
@click.pass_context
def demo(ctx: click.Context, port: int | None) -> None:
    """Replay the motivating bug against the leaky twin of the sample server, then catch it."""
    if ctx.invoked_subcommand is not None:
        return
    from storegate.demo import run_demo

    sys.exit(run_demo(port=port))


@demo.command("serve")
@click.option("--leaky", is_flag=True, help="Serve the leaky twin (the motivating bug).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8321, show_default=True)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None, help="The SQLite file the server writes (default: responses_server.sqlite3 in the current directory; kept after the server stops).")
def demo_serve(leaky: bool, host: str, port: int, db: Path | None) -> None:
    """Run the sample Responses server (or its leaky twin) in the foreground; Ctrl-C stops it."""
    from storegate.demo import serve

    sys.exit(serve(leaky=leaky, host=host, port=port, db=db))


@main.command("server")
def server_command() -> None:
    """Run the Language Server on stdin/stdout (for editors; needs `pip install 'storegate[lsp]'`)."""
    try:
        from storegate.lsp import serve
    except ImportError as exc:
        fail(f"the language server needs pygls ({exc}): pip install 'storegate[lsp]'")
        return
    serve()
