"""One LocalCluster (two single-threaded worker processes) shared by the distributed tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def client() -> Iterator[distributed.Client]:
    """A client of a two-worker LocalCluster, closed after the session."""
    from seawall.distributed import connect

    with connect("local", n_workers=2, memory_limit="2GiB") as c:
        yield c
