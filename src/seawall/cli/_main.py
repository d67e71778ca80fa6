"""The ``seawall`` command group."""

from __future__ import annotations

import click

from seawall._version import __version__
from seawall.cli._audit import audit_command
from seawall.cli._demo import demo_command
from seawall.cli._detect import detect_command
from seawall.cli._evaluate import evaluate_group
from seawall.cli._ingest import ingest_command
from seawall.cli._investigate import investigate_command
from seawall.cli._monitor import monitor_group
from seawall.cli._repair import repair_command
from seawall.cli._serve import serve_command

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seawall")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Seawall: audit models for fairness before they ship, and watch the fleet after."""
    ctx.obj = {"debug": debug}


cli.add_command(audit_command)
cli.add_command(demo_command)
cli.add_command(detect_command)
cli.add_command(evaluate_group)
cli.add_command(ingest_command)
cli.add_command(investigate_command)
cli.add_command(monitor_group)
cli.add_command(repair_command)
cli.add_command(serve_command)


def main() -> None:
    """Run the command line (the ``seawall`` console script)."""
    cli(prog_name="seawall")
