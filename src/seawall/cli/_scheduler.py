"""``--scheduler`` and ``--workers``: the options that send a command's work to Dask."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from seawall.cli._errors import UserError

__all__ = ["check_local_only", "scheduler_options"]


def scheduler_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--scheduler ADDRESS|local`` and ``--workers N`` to a command.

    Parameters
    ----------
    command : callable
        The click command function.

    Returns
    -------
    callable
        The command with both options.
    """
    command = click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="With --scheduler local: worker processes [default: one per core].",
    )(command)
    return click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' for "
        "a LocalCluster on this machine. DATA is then a directory or glob of Parquet files.",
    )(command)


def check_local_only(workers: int | None) -> None:
    """Refuse ``--workers`` without ``--scheduler``.

    Parameters
    ----------
    workers : int or None
        The ``--workers`` value.

    Raises
    ------
    UserError
        When ``--workers`` was given alone.
    """
    if workers is not None:
        raise UserError("--workers needs --scheduler local (it sizes a local Dask cluster).")
