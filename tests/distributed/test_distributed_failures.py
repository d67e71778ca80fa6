"""A worker killed mid-computation does not change the result: Dask recomputes its tasks."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from seawall.distributed import connect, group_metrics  # noqa: E402


def _recomputed(dask_scheduler: distributed.Scheduler) -> int:
    """Tasks of the last run that the scheduler sent to a worker more than once."""
    sent: dict[str, int] = {}
    for entry in dask_scheduler.transition_log:
        key, finish = str(entry[0]), entry[2]
        if finish == "processing" and key.startswith("seawall-count"):
            sent[key] = sent.get(key, 0) + 1
    return sum(1 for count in sent.values() if count > 1)


def test_a_killed_worker_changes_nothing(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 2_400_000
    frame = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "p": rng.integers(0, 2, n),
            "g": rng.choice(["a", "b", "c"], n),
        }
    )
    for i, rows in enumerate(np.array_split(np.arange(n), 24)):
        frame.iloc[rows].to_parquet(tmp_path / f"part-{i:03d}.parquet", index=False)
    kwargs = {"label": "y", "prediction": "p", "sensitive": "g"}
    with connect("local", n_workers=2, memory_limit="1GiB") as client:
        before = group_metrics(tmp_path, scheduler=client, **kwargs)  # type: ignore[arg-type]
        pids = client.run(os.getpid)
        victim = sorted(pids)[0]
        killed: list[int] = []

        def kill_once(done: int, total: int) -> None:
            # After the first partition, most are still to do and some results
            # live only in the victim's memory: it dies with them.
            if not killed:
                os.kill(pids[victim], signal.SIGKILL)
                killed.append(done)

        after = group_metrics(tmp_path, scheduler=client, progress=kill_once, **kwargs)  # type: ignore[arg-type]
        assert killed == [1]
        assert client.run_on_scheduler(_recomputed) > 0  # the victim's work was done again
        # The nanny restarted the worker: the cluster has two again.
        client.wait_for_workers(2, timeout=60)
        assert set(client.run(os.getpid).values()).isdisjoint({pids[victim]})
    pd.testing.assert_frame_equal(before.metrics.to_frame(), after.metrics.to_frame())
    pd.testing.assert_frame_equal(before.disparities.to_frame(), after.disparities.to_frame())
    assert after.n_rows == n
