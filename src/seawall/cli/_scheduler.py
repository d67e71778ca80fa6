"""``--scheduler`` and ``--workers``: the options that send a command's work to Dask."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

import click

from seawall.cli._errors import UserError

__all__ = ["check_local_only", "scheduler_options"]


F = TypeVar("F", bound=Callable[..., Any])


@overload
def scheduler_options(command: F, *, data: str = ...) -> F: ...
@overload
def scheduler_options(command: None = None, *, data: str = ...) -> Callable[[F], F]: ...
def scheduler_options(command: F | None = None, *, data: str = "DATA") -> Any:
    """Add ``--scheduler ADDRESS|local`` and ``--workers N`` to a command.

    Use it bare (``@scheduler_options``) or name the command's data argument
    (``@scheduler_options(data="LOGS")``) for the help text.

    Parameters
    ----------
    command : callable or None
        The click command function; None returns a decorator.
    data : str, default="DATA"
        The argument that holds the Parquet partitions with ``--scheduler``.

    Returns
    -------
    callable
        The command with both options, or a decorator adding them.
    """
    if command is None:

        def decorate(c: F) -> F:
            return scheduler_options(c, data=data)

        return decorate
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
        f"a LocalCluster on this machine. {data} is then a directory or glob of Parquet files.",
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
