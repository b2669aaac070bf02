"""The ``storegate`` command: load the config, call ``storegate.api.check``, render, exit.

Exit codes of ``check``: 0 clean, 1 findings, 2 a usage or config error or any file that could
not be checked (2 wins over 1). ``--exit-zero`` turns 1 into 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from storegate import __version__, files
from storegate.api import check as run_check
from storegate.config import load_config
from storegate.errors import ConfigError
from storegate.report import FORMATS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def fail(message: str) -> None:
    """Print ``storegate: error: MESSAGE`` on stderr and exit 2."""
    click.echo(f"storegate: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="storegate")
def main() -> None:
    """Find persistence calls that are not gated by the `store` flag."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
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
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Leave out the summary line.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to paths named explicitly too.")
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks of internal errors on stderr.")
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
    exit_zero: bool,
    quiet: bool,
    force_exclude: bool,
    verbose: bool,
) -> None:
    """Check PATHS (default: the current directory) for ungated persistence calls."""
    targets: list[Path] = list(paths) or [Path(".")]
    try:
        config = load_config(
            targets,
            config_file=config_file,
            isolated=isolated,
            flags=flag_specs or None,
            sinks=sink_specs or None,
            rules=rule_specs or None,
        )
    except ConfigError as exc:
        fail(str(exc))
        return
    if force_exclude:
        targets = files.drop_excluded(targets, config)

    result = run_check(targets, config)
    report = FORMATS[output_format](result, quiet=quiet, explain=explain)

    if output is not None:
        try:
            output.write_text(report, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        click.echo(report, nl=False)

    if result.tracebacks:
        if verbose:
            for trace in result.tracebacks:
                click.echo(trace, err=True)
        else:
            click.echo(
                "storegate: internal errors occurred; run with --verbose to see the tracebacks",
                err=True,
            )

    if result.errors:
        sys.exit(EXIT_ERROR)
    if result.findings and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


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
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None, help="SQLite file (default: a temporary one).")
def demo_serve(leaky: bool, host: str, port: int, db: Path | None) -> None:
    """Run the sample Responses server (or its leaky twin) in the foreground; Ctrl-C stops it."""
    from storegate.demo import serve

    sys.exit(serve(leaky=leaky, host=host, port=port, db=db))
