"""One task per partition on the cluster; small results merged in a tree, or gathered.

Only the merged (or gathered) results travel to the client; the partitions' rows
never leave the worker that read them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["map_parts", "map_reduce", "staged"]

#: Partial results merged by one task.
_FAN_IN = 8


def staged(
    progress: Callable[[str, int, int], None] | None, stage: str
) -> Callable[[int, int], None] | None:
    """One stage's ``(done, total)`` reporter for a ``progress(stage, done, total)`` callback.

    Examples
    --------
    >>> seen = []
    >>> staged(lambda *a: seen.append(a), "scan")(1, 4)
    >>> seen, staged(None, "scan")
    ([('scan', 1, 4)], None)
    """
    if progress is None:
        return None
    report = progress
    return lambda done, total: report(stage, done, total)


def _submit(
    client: Client, task: Callable[..., Any], parts: Sequence[Any], args: tuple[Any, ...], key: str
) -> tuple[list[Future[Any]], str]:
    """Submit ``task(part, *args)`` per part; names carry a token so two runs never collide."""
    token = uuid.uuid4().hex[:12]
    futures: list[Future[Any]] = client.map(
        task,
        list(parts),
        *[[a] * len(parts) for a in args],
        key=[f"{key}-part-{i}-{token}" for i in range(len(parts))],
        pure=False,
    )
    return futures, token


def _report(futures: list[Future[Any]], progress: Callable[[int, int], None] | None) -> None:
    """Call ``progress(done, total)`` as the futures finish (errors surface at gather)."""
    if progress is None:
        return
    from distributed import as_completed

    for done, _ in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
        progress(done, len(futures))


def map_reduce(
    client: Client,
    task: Callable[..., Any],
    parts: Sequence[Any],
    merge: Callable[..., Any],
    *args: Any,
    progress: Callable[[int, int], None] | None = None,
    key: str = "seawall",
) -> Any:
    """Run ``task(part, *args)`` for every part and merge the results in a tree.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    task : callable
        Pure function of one part (a file) and ``args``; run on a worker.
    parts : sequence
        The parts (at least one).
    merge : callable
        Merges any number of task results (or merged results) into one;
        associative, so the tree's shape does not change the result.
    *args
        Extra arguments of ``task`` (small: they are sent with every task).
    progress : callable or None, default=None
        Called with ``(parts_done, n_parts)`` as the parts finish.
    key : str, default="seawall"
        Prefix of the tasks' names on the Dask dashboard.

    Returns
    -------
    object
        The merged result.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> with Client(processes=False) as c:  # doctest: +SKIP
    ...     map_reduce(c, lambda x: x * x, [1, 2, 3], lambda *v: sum(v))
    14
    """
    level, token = _submit(client, task, parts, args, key)
    leaves = list(level)
    depth = 0
    # At least one merge, so the result has the merged form even with one part.
    while depth == 0 or len(level) > 1:
        level = [
            client.submit(
                merge, *level[i : i + _FAN_IN], key=f"{key}-merge-{depth}-{i}-{token}", pure=False
            )
            for i in range(0, len(level), _FAN_IN)
        ]
        depth += 1
    _report(leaves, progress)
    return level[0].result()


def map_parts(
    client: Client,
    task: Callable[..., Any],
    parts: Sequence[Any],
    *args: Any,
    progress: Callable[[int, int], None] | None = None,
    key: str = "seawall",
    settle: bool = False,
) -> list[Any]:
    """Run ``task(part, *args)`` for every part and gather the (small) results in order.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    task : callable
        Pure function of one part and ``args``; run on a worker.
    parts : sequence
        The parts.
    *args
        Extra arguments of ``task``.
    progress : callable or None, default=None
        Called with ``(parts_done, n_parts)`` as the parts finish.
    key : str, default="seawall"
        Prefix of the tasks' names.
    settle : bool, default=False
        Wait for every part to finish, failed or not, before raising the first
        error (so that what the tasks write can be cleaned up after a failure).

    Returns
    -------
    list
        The results, in the order of ``parts``.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> with Client(processes=False) as c:  # doctest: +SKIP
    ...     map_parts(c, lambda x, k: x * k, [1, 2, 3], 10)
    [10, 20, 30]
    """
    futures, _ = _submit(client, task, parts, args, key)
    _report(futures, progress)
    if settle:
        from distributed import wait

        wait(futures)  # type: ignore[no-untyped-call]
    results: list[Any] = client.gather(futures)  # type: ignore[no-untyped-call]
    return results
