"""``seawall monitor``: logs and labels into a store, windows, incidents, feedback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from seawall.cli import cli
from seawall.datasets import simulate_fleet
from seawall.storage import Store


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def fleet_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    fleet = simulate_fleet(n_models=12, n_days=7, seed=2)
    names = fleet.models["model"].tolist()[:6]
    logs = fleet.prediction_logs(names, rows_per_hour=30, seed=0).reset_index(drop=True)
    logs["request_id"] = [f"r{i}" for i in range(len(logs))]
    labels = logs.loc[logs["y_true"].notna(), ["model", "request_id", "y_true"]]
    logs.drop(columns=["y_true"]).to_parquet(root / "logs.parquet")
    labels.to_csv(root / "labels.csv", index=False)
    fleet.models.loc[fleet.models["model"].isin(names), ["model", "team", "region"]].to_csv(
        root / "models.csv", index=False
    )
    return root


def test_the_monitoring_loop_from_logs_to_incidents_and_feedback(
    fleet_files: Path, tmp_path: Path
) -> None:
    db = tmp_path / "fleet.duckdb"
    logs = fleet_files / "logs.parquet"
    common = ("--store", db)
    assert _run("monitor", "models", fleet_files / "models.csv", *common).exit_code == 0
    ingest = (
        "monitor",
        "ingest",
        logs,
        *common,
        "--time-col",
        "timestamp",
        "--prediction-col",
        "y_pred",
        "--score-col",
        "y_score",
        "--sensitive",
        "group",
    )
    first = _run(*ingest)
    assert first.exit_code == 0, first.output
    n_rows = len(pd.read_parquet(logs))
    assert f"{n_rows} rows read, {n_rows} stored, 0 already there" in first.output
    again = _run(*ingest)
    assert f"{n_rows} rows read, 0 stored, {n_rows} already there" in again.output
    labelled = _run(
        "monitor", "labels", fleet_files / "labels.csv", *common, "--label-col", "y_true"
    )
    assert labelled.exit_code == 0, labelled.output
    windows = _run("monitor", "windows", *common)
    assert windows.exit_code == 0, windows.output
    assert "6 model(s):" in windows.output
    with Store(db) as store:
        points = store.read_metric_points(model="m0000", metric="volume").to_pandas()
        stored_logs = store.read_predictions("m0000").to_pandas()
    # The volume points are the row counts of the hourly windows.
    hourly = stored_logs.groupby(stored_logs["time"].dt.floor("1h")).size()
    got = points.set_index("window_start")["value"].reindex(hourly.index)
    np.testing.assert_array_equal(got.to_numpy(), hourly.to_numpy())
    detected = _run("monitor", "detect", *common)
    assert detected.exit_code == 0, detected.output
    assert "incident(s) (compression" in detected.output
    listed = _run("monitor", "incidents", *common, "--json", tmp_path / "inc.json")
    assert listed.exit_code == 0, listed.output
    incidents = json.loads((tmp_path / "inc.json").read_text())
    assert incidents, "the simulated events should give at least one incident"
    top = incidents[0]["id"]
    marked = _run("monitor", "feedback", top, *common, "--action", "false_alarm")
    assert marked.exit_code == 0, marked.output
    after = _run(
        "monitor", "incidents", *common, "--status", "false_alarm", "--json", tmp_path / "fa.json"
    )
    assert after.exit_code == 0, after.output
    assert [i["id"] for i in json.loads((tmp_path / "fa.json").read_text())] == [top]


def test_bad_monitor_input_exits_2_with_the_column_named(fleet_files: Path, tmp_path: Path) -> None:
    result = _run(
        "monitor", "ingest", fleet_files / "logs.parquet", "--store", tmp_path / "s.duckdb"
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "'time'" in result.output  # the default time column is not in these logs
    few = _run("monitor", "detect", "--store", tmp_path / "s.duckdb")
    assert few.exit_code == 2 and "at least 32 are needed" in few.output
