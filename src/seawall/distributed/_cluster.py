"""Reaching a Dask cluster: an existing scheduler, a client, or a local cluster.

Seawall never runs its own cluster software: it hands tasks to
``dask.distributed``. ``"local"`` starts a ``LocalCluster`` of worker
processes on this machine for as long as the ``with`` block lasts; an address
(``tcp://host:8786``) joins a cluster someone already runs (by hand, or on
Kubernetes or YARN through ``dask-kubernetes`` / ``dask-yarn``); a ``Client``
is used as it is and left open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from seawall._validation import check_real, param_error
from seawall.exceptions import ConfigError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["connect", "import_distributed"]

_INSTALL = "install it with: pip install 'seawall[distributed]'"


def import_distributed() -> Any:
    """Import ``dask.distributed``, or say how to install it.

    Returns
    -------
    module
        ``distributed``.

    Raises
    ------
    ConfigError
        When Dask is not installed.
    """
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - the test environment has it
        raise ConfigError(
            f"running on a Dask cluster needs dask.distributed, which is not installed; {_INSTALL}."
        ) from exc
    return distributed


@contextmanager
def connect(
    scheduler: Client | str = "local",
    *,
    n_workers: int | None = None,
    memory_limit: str | None = None,
    timeout: float = 30.0,
) -> Iterator[Client]:
    """A Dask client for the ``with`` block: a local cluster, a scheduler's address, or yours.

    Parameters
    ----------
    scheduler : distributed.Client or str, default="local"
        ``"local"`` starts a ``LocalCluster`` of ``n_workers`` single-threaded
        worker processes, closed when the block ends; an address such as
        ``"tcp://10.0.0.5:8786"`` (or ``"10.0.0.5:8786"``) connects to a running
        scheduler; a ``Client`` is used as it is and not closed.
    n_workers : int or None, default=None
        Workers of a local cluster; ``None`` means one per core. Only with
        ``"local"``.
    memory_limit : str or None, default=None
        Memory per worker of a local cluster (``"4GiB"``); ``None`` lets Dask
        share the machine's memory between the workers.
    timeout : float, default=30.0
        Seconds to wait for a scheduler to answer.

    Yields
    ------
    distributed.Client
        The client.

    Raises
    ------
    ConfigError
        When Dask is not installed, or the scheduler cannot be reached.
    InvalidParameterError
        When ``scheduler`` is neither a client nor a string, or ``n_workers``
        is not a positive integer.

    Examples
    --------
    >>> with connect("local", n_workers=1) as client:  # doctest: +SKIP
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    distributed = import_distributed()
    caller = "connect"
    if isinstance(scheduler, distributed.Client):
        if n_workers is not None or memory_limit is not None:
            raise param_error(
                "n_workers", caller, "None with an existing client (it has its workers)", n_workers
            )
        yield scheduler
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise param_error(
            "scheduler", caller, "'local', a scheduler address or a dask Client", scheduler
        )
    seconds = check_real(timeout, "timeout", caller, low=0, low_open=True)
    if scheduler.strip() == "local":
        import os

        workers = (
            int(check_real(n_workers, "n_workers", caller, low=1, integer=True))
            if n_workers is not None
            else max(os.cpu_count() or 1, 1)
        )
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=memory_limit if memory_limit is not None else "auto",
        )
        try:
            with distributed.Client(cluster, timeout=seconds) as client:
                yield client
        finally:
            cluster.close()
        return
    if n_workers is not None or memory_limit is not None:
        raise param_error(
            "n_workers",
            caller,
            "None with a scheduler address (the cluster has its workers)",
            n_workers,
        )
    address = scheduler.strip()
    try:
        client = distributed.Client(address, timeout=seconds)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"could not reach the Dask scheduler at {address!r} within {seconds:g} s "
            f"({exc}); check the address (tcp://HOST:8786) and that the scheduler runs, "
            f"or use 'local' for a cluster on this machine."
        ) from exc
    with client:
        yield client
