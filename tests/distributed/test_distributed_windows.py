"""Windowed metrics of partitioned Parquet logs, on a two-worker LocalCluster, equal memory's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _dask_cluster import client, distributed

from seawall.datasets import simulate_fleet
from seawall.distributed._windows import window_metrics
from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.monitoring import MetricPoints
from seawall.monitoring import window_metrics as memory_window_metrics

__all__ = ["client"]

#: The prediction logs' columns, as seawall.datasets names them.
COLUMNS: dict[str, Any] = {
    "time_col": "timestamp",
    "prediction_col": "y_pred",
    "score_col": "y_score",
    "label_col": "y_true",
    "sensitive_cols": "group",
}


@pytest.fixture(scope="module")
def fleet_logs() -> pd.DataFrame:
    """Eight days of three simulated models' predictions, about 40 an hour each."""
    fleet = simulate_fleet(6, 8, seed=3)
    models = fleet.models["model"].tolist()[:3]
    logs = fleet.prediction_logs(models, rows_per_hour=40, seed=4)
    # A category a reference never saw, for the unseen-category rate.
    rng = np.random.default_rng(5)
    logs["plan"] = rng.choice(["basic", "plus", "pro"], len(logs), p=[0.5, 0.3, 0.2])
    late = logs["timestamp"] > logs["timestamp"].min() + pd.Timedelta("5D")
    logs.loc[late & (rng.random(len(logs)) < 0.05), "plan"] = "enterprise"
    return logs


def _by_time(logs: pd.DataFrame, folder: Path, every: str) -> list[Path]:
    """Files of consecutive time slices whose boundaries cut through hourly windows."""
    folder.mkdir()
    t0 = logs["timestamp"].min().floor("1h")
    slice_of = ((logs["timestamp"] - t0) // pd.Timedelta(every)).to_numpy()
    files = []
    for i, k in enumerate(np.unique(slice_of)):
        part = logs[slice_of == k]
        if i % 3 == 1:  # some writers dictionary-encode text columns
            part = part.astype({"plan": "category", "group": "category"})
        files.append(folder / f"slice-{i:03d}.parquet")
        part.to_parquet(files[-1], index=False)
    return files


def _by_model(logs: pd.DataFrame, folder: Path) -> list[Path]:
    """One directory per model (the model column kept in the files), two files each."""
    files = []
    for model, part in logs.groupby("model", sort=True):
        sub = folder / f"model={model}"
        sub.mkdir(parents=True)
        for j, rows in enumerate(np.array_split(np.arange(len(part)), 2)):
            files.append(sub / f"part-{j}.parquet")
            part.iloc[rows].to_parquet(files[-1], index=False)
    return files


def _concatenated(files: list[Path]) -> pd.DataFrame:
    """The partitions' rows in file order (the order ``parquet_files`` sorts them in)."""
    ordered = sorted(files, key=str)
    return pd.concat([pd.read_parquet(f) for f in ordered], ignore_index=True)


def _same(got: MetricPoints, want: MetricPoints) -> None:
    """Every point: keys and n exactly, value, interval and q-value to 1e-9 relative."""
    assert len(got) == len(want) > 0
    for field in ("model", "metric", "qualifier", "window_start", "window_end", "n"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)
    for field in ("value", "lower", "upper", "q_value"):
        np.testing.assert_allclose(
            getattr(got, field), getattr(want, field), rtol=1e-9, atol=1e-12, err_msg=field
        )
    assert (got.every, got.alpha, got.tz) == (want.every, want.alpha, want.tz)


def test_time_partitions_cutting_through_windows_equal_memory(
    client: distributed.Client, fleet_logs: pd.DataFrame, tmp_path: Path
) -> None:
    files = _by_time(fleet_logs, tmp_path / "logs", "5h25min")
    stages: list[tuple[str, int, int]] = []
    got = window_metrics(
        tmp_path / "logs",
        every="1h",
        **COLUMNS,
        out=tmp_path / "points",
        scheduler=client,
        progress=lambda *a: stages.append(a),
    )
    want = memory_window_metrics(_concatenated(files), every="1h", **COLUMNS)
    _same(got, want)
    # Windows straddling a file boundary were merged; the files hold every point.
    written = sorted(p.name for p in (tmp_path / "points").iterdir())
    assert "points-shared-00000.parquet" in written
    assert sum(n.startswith("points-part-") for n in written) == len(files)
    frame = pd.concat([pd.read_parquet(tmp_path / "points" / n) for n in written])
    key = ["model", "metric", "qualifier", "window_start"]
    pd.testing.assert_frame_equal(
        frame.sort_values(key, ignore_index=True),
        want.to_frame().sort_values(key, ignore_index=True),
        check_exact=False,
        rtol=1e-9,
        atol=1e-12,
        check_dtype=False,
    )
    assert {s for s, _, _ in stages} == {"scan", "reference", "states", "merge"}
    assert ("states", len(files), len(files)) in stages
    assert {"drift", "unseen_rate", "disparate_impact", "auc", "score_p50"} <= set(got.metrics)


def test_two_hour_windows_over_hourly_cuts_equal_memory(
    client: distributed.Client, fleet_logs: pd.DataFrame, tmp_path: Path
) -> None:
    # Two of three file boundaries cut a window; the three reference windows span two files.
    files = _by_time(fleet_logs, tmp_path / "logs", "3h")
    options = {**COLUMNS, "every": "2h", "reference": 3, "min_rows": 10}
    got = window_metrics(tmp_path / "logs", **options, scheduler=client)
    _same(got, memory_window_metrics(_concatenated(files), **options))


def test_model_partitions_equal_memory(
    client: distributed.Client, fleet_logs: pd.DataFrame, tmp_path: Path
) -> None:
    files = _by_model(fleet_logs, tmp_path / "logs")
    options = {**COLUMNS, "every": "6h", "calibration": "isotonic"}
    got = window_metrics(tmp_path / "logs", **options, out=tmp_path / "out", scheduler=client)
    _same(got, memory_window_metrics(_concatenated(files), **options))
    assert "cbpe_accuracy" in got.metrics


def test_hive_partitions_by_model_and_day_equal_memory(
    client: distributed.Client, fleet_logs: pd.DataFrame, tmp_path: Path
) -> None:
    # As Spark, Dask or pyarrow write them: the model and the day live in the path only.
    import pyarrow as pa
    import pyarrow.parquet as pq

    logs = fleet_logs.assign(day=fleet_logs["timestamp"].dt.strftime("%Y-%m-%d"))
    pq.write_to_dataset(
        pa.Table.from_pandas(logs, preserve_index=False),
        tmp_path / "logs",
        partition_cols=["model", "day"],
        basename_template="part-{i}.parquet",
    )
    files = sorted((tmp_path / "logs").rglob("*.parquet"), key=str)
    assert "model" not in pq.read_schema(files[0]).names
    options = {**COLUMNS, "every": "4h", "reference": 6}
    got = window_metrics(tmp_path / "logs", **options, scheduler=client)
    # The same rows in the same order: each file's rows, then its path's keys.
    frames = [pd.read_parquet(f).assign(model=f.parent.parent.name.split("=")[1]) for f in files]
    want = memory_window_metrics(pd.concat(frames, ignore_index=True), **options)
    _same(got, want)
    assert "day" not in set(got.qualifier)  # a path key is not a feature


def _small_logs(seed: int, *, tz: str | None = None) -> pd.DataFrame:
    """Two models over nine hours, scores rounded (ties), a missing hour, text and numbers."""
    rng = np.random.default_rng(seed)
    n = 5_000
    seconds = np.sort(rng.integers(0, 9 * 3600, n))
    model = rng.choice(["m-a", "m-b"], n)
    keep = ~((model == "m-b") & (seconds // 3600 == 4))  # m-b has an empty window
    score = np.round(rng.beta(2.0, 2.0, n), 4)
    label = (rng.random(n) < score).astype(float)
    label[rng.random(n) < 0.3] = np.nan
    x = np.round(rng.normal(0.0, 1.0, n), 3)
    x[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame(
        {
            "time": pd.Timestamp("2024-03-01", tz=tz) + pd.to_timedelta(seconds, unit="s"),
            "model": model,
            "request_id": np.arange(n),
            "score": score,
            "prediction": (score >= 0.5).astype(int),
            "label": label,
            "x": x + (seconds > 6 * 3600),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    return frame[keep].reset_index(drop=True)


def _write_slices(logs: pd.DataFrame, folder: Path, n_files: int) -> list[Path]:
    folder.mkdir()
    files = []
    for i, rows in enumerate(np.array_split(np.arange(len(logs)), n_files)):
        files.append(folder / f"part-{i:02d}.parquet")
        logs.iloc[rows].to_parquet(files[-1], index=False)
    return files


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"sample_cap": 40, "score_sample_cap": 60}, id="small-caps"),
        pytest.param({"reference": ("2024-03-01 02:30", "2024-03-01 05:00")}, id="time-range"),
        pytest.param({"every": "90min", "sample_cap": None, "n_bins": 4}, id="uncapped"),
    ],
)
def test_options_equal_memory(
    client: distributed.Client, tmp_path: Path, options: dict[str, Any]
) -> None:
    logs = _small_logs(0)
    files = _write_slices(logs, tmp_path / "logs", 7)
    common = {"sensitive_cols": "sex", "min_rows": 20, **options}
    got = window_metrics(tmp_path / "logs", **common, scheduler=client)
    want = memory_window_metrics(_concatenated(files), **common)
    _same(got, want)
    # The empty hour of m-b is a volume-0 point, as in memory.
    volume = got.to_frame().query("metric == 'volume' and value == 0")
    assert len(volume) >= (1 if "every" not in options else 0)


@pytest.mark.parametrize("with_model", [True, False])
def test_reference_logs_and_time_zones_equal_memory(
    client: distributed.Client, tmp_path: Path, with_model: bool
) -> None:
    logs = _small_logs(1, tz="Europe/Paris")
    files = _write_slices(logs, tmp_path / "logs", 5)
    reference = _small_logs(2).drop(columns=["time", "request_id"])
    if not with_model:
        reference = reference.drop(columns="model")
    options = {"reference": reference, "sensitive_cols": "sex", "every": "2h"}
    got = window_metrics(tmp_path / "logs", **options, scheduler=client)
    want = memory_window_metrics(_concatenated(files), **options)
    _same(got, want)
    assert got.tz == "Europe/Paris"


def test_sketch_caps_are_deterministic_not_sampled(
    client: distributed.Client, tmp_path: Path
) -> None:
    # Caps keep every value or none (numbers) and snap to a fixed grid (scores), so
    # any partitioning of a window's rows (here: rows shuffled, then cut in 9) merges
    # into the state of the whole window: the KS statistic and the quantiles agree.
    logs = _small_logs(3).sample(frac=1.0, random_state=0).reset_index(drop=True)
    files = _write_slices(logs, tmp_path / "logs", 9)
    per_window = logs.dropna(subset="x").groupby(["model", logs["time"].dt.floor("1h")]).size()
    # Each model's reference (its first hour) keeps its sample; the largest windows do not.
    cap = int(per_window.groupby(level="model").first().max())
    assert (per_window > cap).any()
    options = {"sample_cap": cap, "score_sample_cap": 200}
    got = window_metrics(tmp_path / "logs", **options, scheduler=client)
    want = memory_window_metrics(_concatenated(files), **options)
    _same(got, want)
    ks = got.to_frame().query("metric == 'drift_ks'")
    assert ks["value"].notna().any() and ks["value"].isna().any()  # some samples dropped


def test_empty_partitions_are_skipped(client: distributed.Client, tmp_path: Path) -> None:
    logs = _small_logs(4)
    files = _write_slices(logs, tmp_path / "logs", 3)
    logs.iloc[:0].to_parquet(tmp_path / "logs" / "part-99.parquet", index=False)
    got = window_metrics(tmp_path / "logs", scheduler=client)
    _same(got, memory_window_metrics(_concatenated(files)))


def test_bad_parameters_fail_before_any_task(tmp_path: Path) -> None:
    _write_slices(_small_logs(5), tmp_path / "logs", 2)
    with pytest.raises(InvalidParameterError, match=re.escape("The 'every' parameter")):
        window_metrics(tmp_path / "logs", every="1 month", scheduler="no-such-host:1")
    with pytest.raises(InvalidParameterError, match=re.escape("'alpha' parameter")):
        window_metrics(tmp_path / "logs", alpha=2.0, scheduler="no-such-host:1")
    with pytest.raises(DataValidationError, match=re.escape("column 'nope' needed by")):
        window_metrics(tmp_path / "logs", feature_cols=["nope"], scheduler="no-such-host:1")
    (tmp_path / "points").mkdir()
    (tmp_path / "points" / "points-part-00000.parquet").touch()
    with pytest.raises(InvalidParameterError, match=re.escape("points of an earlier run")):
        window_metrics(tmp_path / "logs", out=tmp_path / "points", scheduler="no-such-host:1")


def test_data_errors_name_the_partition(client: distributed.Client, tmp_path: Path) -> None:
    logs = _small_logs(6)
    files = _write_slices(logs, tmp_path / "logs", 3)
    bad = pd.read_parquet(files[1])
    bad.loc[bad.index[4], "score"] = 1.5
    bad.to_parquet(files[1], index=False)
    with pytest.raises(DataValidationError, match=re.escape("the partition 'part-01.parquet'")):
        window_metrics(tmp_path / "logs", scheduler=client)
    utc = _small_logs(6, tz="UTC")
    utc.iloc[:100].to_parquet(files[1], index=False)
    with pytest.raises(DataValidationError, match="disagree on the time zone"):
        window_metrics(tmp_path / "logs", scheduler=client)


def test_a_model_without_reference_rows(client: distributed.Client, tmp_path: Path) -> None:
    logs = _small_logs(7)
    logs = logs[(logs["model"] == "m-a") | (logs["time"] > pd.Timestamp("2024-03-01 06:00"))]
    _write_slices(logs, tmp_path / "logs", 3)
    with pytest.raises(InsufficientDataError, match=re.escape("no rows for 1 model(s): 'm-b'")):
        window_metrics(
            tmp_path / "logs", reference=("2024-03-01", "2024-03-01 03:00"), scheduler=client
        )


def test_seawall_monitor_windows_with_a_scheduler_stores_memory_points(
    client: distributed.Client, fleet_logs: pd.DataFrame, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from seawall.cli import cli
    from seawall.storage import Store

    files = _by_time(fleet_logs, tmp_path / "logs", "1D")
    store = tmp_path / "fleet.duckdb"
    args = ["monitor", "windows", str(tmp_path / "logs"), "--store", str(store)]
    args += ["--every", "6h", "--time-col", "timestamp", "--prediction-col", "y_pred"]
    args += ["--score-col", "y_score", "--label-col", "y_true", "--sensitive", "group"]
    run = CliRunner().invoke(
        cli, [*args, "--scheduler", client.scheduler.address, "--out", str(tmp_path / "pts")]
    )
    assert run.exit_code == 0, run.output
    want = memory_window_metrics(_concatenated(files), every="6h", **COLUMNS).to_frame()
    assert f"3 model(s): {len(want)} metric points stored" in run.output
    with Store(store) as s:
        got = s.read_metric_points().to_pandas()
    keys = ["model", "metric", "qualifier", "window_start"]
    got = got.sort_values(keys, ignore_index=True)
    want = want.sort_values(keys, ignore_index=True)
    assert len(got) == len(want)
    np.testing.assert_array_equal(got["metric"], want["metric"])
    np.testing.assert_allclose(got["value"], want["value"], rtol=1e-9, equal_nan=True)
    assert len(list((tmp_path / "pts").glob("points-*.parquet"))) >= len(files)
    # LOGS without a cluster, or a cluster without LOGS, is refused plainly.
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 2 and "need --scheduler" in run.output
    run = CliRunner().invoke(cli, ["monitor", "windows", "--store", str(store), "--sensitive", "g"])
    assert run.exit_code == 2 and "--sensitive names a column of LOGS" in run.output
    run = CliRunner().invoke(
        cli, ["monitor", "windows", "--store", str(store), "--scheduler", "local"]
    )
    assert run.exit_code == 2 and "--scheduler needs LOGS" in run.output
