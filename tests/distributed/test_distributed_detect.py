"""Fleet detection on a two-worker LocalCluster equals ``seawall detect --series-col``."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _dask_cluster import client, distributed
from click.testing import CliRunner

from seawall.cli import cli
from seawall.distributed import connect, detect_fleet
from seawall.exceptions import DataValidationError

__all__ = ["client"]

LABELS = ["model", "metric", "source"]


def _fleet(n_models: int = 24, n_steps: int = 24 * 21, seed: int = 0) -> pd.DataFrame:
    """Hourly series with a daily wave; source 's1' breaks at step 400, one spike at 430."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-01-01", periods=n_steps, freq="h")
    rows = []
    for m in range(n_models):
        source = f"s{m % 3}"
        for metric in ("accuracy", "volume", "drift"):
            level = rng.uniform(5, 50)
            noise = rng.normal(0, 0.05 * level, n_steps)
            wave = 0.3 * level * np.sin(2 * np.pi * np.arange(n_steps) / 24)
            value = level + wave + noise
            if source == "s1" and metric == "drift":
                value[400:412] += 1.5 * level
            if m == 5 and metric == "volume":
                value[430] -= 2.0 * level
            rows.append(
                pd.DataFrame(
                    {
                        "series": f"m{m:02d}/{metric}",
                        "timestamp": times,
                        "value": value,
                        "model": f"m{m:02d}",
                        "metric": metric,
                        "source": source,
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True)
    # Some steps missing in one series only, and one hour no series of the first
    # block has: the blocks' grids differ, the fleet's grid is their union.
    drop = (frame["series"] == "m03/volume") & frame["timestamp"].isin(times[100:104])
    drop |= frame["series"].str.startswith(("m00", "m01")) & (frame["timestamp"] == times[200])
    return frame[~drop].reset_index(drop=True)


def _write_blocks(frame: pd.DataFrame, folder: Path, n_blocks: int) -> Path:
    folder.mkdir()
    keys = frame["series"].unique()
    for i, block in enumerate(np.array_split(keys, n_blocks)):
        frame[frame["series"].isin(block)].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def test_detect_fleet_equals_the_single_machine_command(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame = _fleet()
    folder = _write_blocks(frame, tmp_path / "parts", 4)
    frame.to_parquet(tmp_path / "whole.parquet", index=False)
    labels = [a for col in LABELS for a in ("--label-col", col)]
    run = CliRunner().invoke(
        cli,
        [
            "detect",
            str(tmp_path / "whole.parquet"),
            "--series-col",
            "series",
            *labels,
            "--out",
            str(tmp_path / "one"),
        ],
    )
    assert run.exit_code == 0, run.output
    res = detect_fleet(folder, label_cols=LABELS, out=tmp_path / "many", scheduler=client)
    one = json.loads((tmp_path / "one" / "incidents.json").read_text())
    many = json.loads((tmp_path / "many" / "incidents.json").read_text())
    assert many == one
    assert one["incidents"], "the planted source break must make an incident"
    top = one["incidents"][0]
    assert top["shared"].get("source") == "s1" or top["linked_by"].get("source") == "s1"
    # Every score and flag, step by step.
    ref = pd.read_parquet(tmp_path / "one" / "scores.parquet")
    got = pd.concat(
        [pd.read_parquet(p) for p in sorted((tmp_path / "many").glob("scores-*.parquet"))]
    )
    key = ["series", "timestamp"]
    ref = ref.sort_values(key).reset_index(drop=True)
    got = got.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    assert res.n_flagged == int(ref["is_anomaly"].sum()) > 0
    assert res.n_series == frame["series"].nunique()
    assert res.n_partitions == 4


def test_a_series_split_across_partitions_is_refused(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame = _fleet(n_models=4)
    folder = tmp_path / "parts"
    folder.mkdir()
    half = len(frame) // 2 + 7  # cuts a series in two
    frame.iloc[:half].to_parquet(folder / "a.parquet", index=False)
    frame.iloc[half:].to_parquet(folder / "b.parquet", index=False)
    with pytest.raises(
        DataValidationError, match=r"appears in more than one partition \(a\.parquet, b\.parquet\)"
    ):
        detect_fleet(folder, label_cols=LABELS, scheduler=client)


def test_detection_survives_a_killed_worker(tmp_path: Path) -> None:
    frame = _fleet(n_models=30)
    folder = _write_blocks(frame, tmp_path / "parts", 10)
    with connect("local", n_workers=2, memory_limit="1GiB") as c:
        before = detect_fleet(folder, label_cols=LABELS, scheduler=c)
        pids = c.run(os.getpid)
        victim = pids[sorted(pids)[0]]
        killed: list[str] = []

        def kill_once(stage: str, done: int, total: int) -> None:
            if stage == "score" and not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(stage)

        after = detect_fleet(folder, label_cols=LABELS, scheduler=c, progress=kill_once)
        assert killed == ["score"]
    assert after.incidents.to_dict() == before.incidents.to_dict()
    np.testing.assert_array_equal(after.flagged_series, before.flagged_series)
    np.testing.assert_array_equal(after.flagged_scores, before.flagged_scores)


def test_the_command_runs_on_a_cluster(tmp_path: Path) -> None:
    folder = _write_blocks(_fleet(n_models=6), tmp_path / "parts", 2)
    labels = [a for col in LABELS for a in ("--label-col", col)]
    run = CliRunner().invoke(
        cli,
        [
            "detect",
            str(folder),
            "--series-col",
            "series",
            *labels,
            "--out",
            str(tmp_path / "o"),
            "--scheduler",
            "local",
            "--workers",
            "1",
        ],
    )
    assert run.exit_code == 0, run.output
    assert "incident" in run.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "incidents.json",
        "scores-00000.parquet",
        "scores-00001.parquet",
    ]
    run = CliRunner().invoke(
        cli, ["detect", str(folder), "--out", str(tmp_path / "x"), "--scheduler", "local"]
    )
    assert run.exit_code == 2 and "--scheduler needs --series-col" in run.output
