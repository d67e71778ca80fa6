"""Per-block streaming states on a two-worker LocalCluster score as ``detect`` does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _dask_cluster import client, distributed

from seawall.distributed import fit_stream, tick_stream
from seawall.exceptions import DataValidationError
from seawall.monitoring import detect

__all__ = ["client"]

N_STEPS = 24 * 10


def _history(
    n_series: int = 40, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, pd.DatetimeIndex]:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2026-03-01", periods=N_STEPS, freq="h")
    level = rng.uniform(10, 100, (n_series, 1))
    X = (
        level * (1 + 0.2 * np.sin(2 * np.pi * np.arange(N_STEPS) / 24))
        + rng.normal(0, 0.03, (n_series, N_STEPS)) * level
    )
    X[3, -2] += 5 * level[3, 0]  # a spike in the second-to-last step
    X[-1, 50:53] = np.nan  # a gap
    keys = [f"s{i:03d}" for i in range(n_series)]
    frame = pd.DataFrame(
        {
            "series": np.repeat(keys, N_STEPS),
            "timestamp": np.tile(times, n_series),
            "value": X.reshape(-1),
        }
    ).dropna()
    return frame, X, times


def _write(frame: pd.DataFrame, folder: Path, n_blocks: int) -> Path:
    folder.mkdir()
    keys = frame["series"].unique()
    for i, block in enumerate(np.array_split(keys, n_blocks)):
        frame[frame["series"].isin(block)].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def test_ticks_score_exactly_as_detect_on_the_whole_history(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame, X, times = _history()
    held = 4
    past = frame[frame["timestamp"] < times[-held]]
    source = _write(past, tmp_path / "parts", 3)
    manifest = fit_stream(source, tmp_path / "state", warmup=64, threshold=0.99, scheduler=client)
    assert manifest["steps"] == N_STEPS - held and manifest["blocks"] == 3
    assert manifest["next"] == times[-held].isoformat()
    ref = detect(X, warmup=64).scores
    keys = [f"s{i:03d}" for i in range(X.shape[0])]
    # Step -4 arrives; step -3 never does (learned as missing); then -2 and -1.
    for t in (N_STEPS - 4, N_STEPS - 2, N_STEPS - 1):
        step = pd.DataFrame({"series": keys, "value": X[:, t]})
        if t == N_STEPS - 1:
            step = step.iloc[::-1]  # row order does not matter
            path = tmp_path / "last.parquet"
            step.to_parquet(path, index=False)
            tick = tick_stream(tmp_path / "state", path, timestamp=times[t], scheduler=client)
        else:
            tick = tick_stream(tmp_path / "state", step, timestamp=times[t], scheduler=client)
        assert tick.skipped == (1 if t == N_STEPS - 2 else 0)
        assert tick.n_series == X.shape[0] and tick.n_unknown == 0
        expected = ref[:, t] if tick.skipped == 0 else None
        if expected is not None:
            want = {k: s for k, s in zip(keys, expected, strict=True) if s >= 0.99}
            got = dict(zip(tick.anomalies["series"], tick.anomalies["score"], strict=True))
            assert got == want
    # The skipped step was missing for every series: detect on the history with that
    # step blanked gives the last two scores.
    Xg = X.copy()
    Xg[:, N_STEPS - 3] = np.nan
    ref_gap = detect(Xg, warmup=64).scores
    last = dict(zip(tick.anomalies["series"], tick.anomalies["score"], strict=True))
    assert last == {k: s for k, s in zip(keys, ref_gap[:, -1], strict=True) if s >= 0.99}
    assert json.loads((tmp_path / "state" / "stream.json").read_text())["steps"] == N_STEPS
    assert len(list((tmp_path / "state").glob("block-*.parquet"))) == 3  # old states removed


def test_the_spike_is_reported(client: distributed.Client, tmp_path: Path) -> None:
    frame, X, times = _history(seed=1)
    past = frame[frame["timestamp"] < times[-2]]
    fit_stream(
        _write(past, tmp_path / "parts", 2),
        tmp_path / "st",
        warmup=64,
        threshold=0.99,
        scheduler=client,
    )
    step = pd.DataFrame({"series": [f"s{i:03d}" for i in range(40)], "value": X[:, -2]})
    tick = tick_stream(tmp_path / "st", step.iloc[:-1], timestamp=times[-2], scheduler=client)
    assert tick.anomalies["series"].iloc[0] == "s003"
    assert tick.n_missing == 1  # the row left out


def test_a_tick_must_move_forward_on_the_grid(client: distributed.Client, tmp_path: Path) -> None:
    frame, X, times = _history(n_series=6)
    fit_stream(_write(frame, tmp_path / "parts", 2), tmp_path / "st", scheduler=client)
    step = pd.DataFrame({"series": ["s000"], "value": [1.0]})
    with pytest.raises(DataValidationError, match="after its last one"):
        tick_stream(tmp_path / "st", step, timestamp=times[-1], scheduler=client)
    with pytest.raises(DataValidationError, match="after its last one"):
        tick_stream(
            tmp_path / "st", step, timestamp=times[-1] + pd.Timedelta("30min"), scheduler=client
        )
    with pytest.raises(DataValidationError, match="not empty"):
        fit_stream(tmp_path / "parts", tmp_path / "st", scheduler=client)
    with pytest.raises(DataValidationError, match="no stream.json"):
        tick_stream(tmp_path, step, timestamp=times[-1], scheduler=client)


def test_a_step_with_bad_values_is_refused_before_any_state_changes(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame, X, times = _history(n_series=6)
    fit_stream(_write(frame, tmp_path / "parts", 2), tmp_path / "st", scheduler=client)
    before = (tmp_path / "st" / "stream.json").read_text()
    step = times[-1] + pd.Timedelta("1h")
    twice = pd.DataFrame({"series": ["s000", "s000"], "value": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="'s000' twice"):
        tick_stream(tmp_path / "st", twice, timestamp=step, scheduler=client)
    words = pd.DataFrame({"series": ["s000", "s001"], "value": [1.0, "high"]})
    with pytest.raises(DataValidationError, match="must hold numbers; row 1 has 'high'"):
        tick_stream(tmp_path / "st", words, timestamp=step, scheduler=client)
    with pytest.raises(DataValidationError, match="neither"):
        tick_stream(tmp_path / "st", tmp_path / "nope.parquet", timestamp=step, scheduler=client)
    assert (tmp_path / "st" / "stream.json").read_text() == before
