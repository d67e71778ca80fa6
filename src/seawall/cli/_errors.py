"""How the command line reports errors: one line, no traceback, exit status 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from seawall.exceptions import SeawallError

__all__ = ["UserError", "reports_errors"]

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A mistake in the input: printed as ``Error: ...`` and exit status 2."""

    exit_code = 2


def reports_errors(func: F) -> F:
    """Turn a :class:`SeawallError` raised by ``func`` into a :class:`UserError`.

    With ``--debug`` on the group, the original traceback is kept.

    Parameters
    ----------
    func : callable
        A click command callback.

    Returns
    -------
    callable
        The wrapped callback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SeawallError as e:
            ctx = click.get_current_context(silent=True)
            if ctx is not None and (ctx.find_root().obj or {}).get("debug"):
                raise
            raise UserError(str(e)) from e

    return wrapper  # type: ignore[return-value]
