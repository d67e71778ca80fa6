"""The partitioned Parquet writers: splits, types, seeding, planted truth and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seawall.datasets import PartitionedData, write_audit_parquet, write_fleet_parquet
from seawall.datasets import _parquet_audit as audit_impl
from seawall.datasets import _parquet_fleet as fleet_impl
from seawall.exceptions import InvalidParameterError

METRICS = ["accuracy", "positive_rate", "score_mean", "null_rate", "latency_ms"]
BAD = {"accuracy": -1.0, "positive_rate": 1.0, "score_mean": 1.0, "null_rate": 1.0}
BAD["latency_ms"] = 1.0


def read(data: PartitionedData) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in data.files], ignore_index=True)


def two_rate_se(a: pd.Series, b: pd.Series) -> float:
    """The standard error of the difference of two proportions."""
    pa_, pb = a.mean(), b.mean()
    return float(np.sqrt(pa_ * (1 - pa_) / len(a) + pb * (1 - pb) / len(b)))


# --------------------------------------------------------------------------- #
# audit
# --------------------------------------------------------------------------- #


def test_audit_splits_rows_exactly_and_types_columns(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    data = write_audit_parquet(
        tmp_path / "audit", 25_001, rows_per_file=10_000, progress=lambda *a: calls.append(a)
    )
    assert [f.name for f in data.files] == [f"part-0000{i}.parquet" for i in range(3)]
    assert sorted(p.name for p in data.directory.iterdir()) == [f.name for f in data.files]
    assert [pq.ParquetFile(f).metadata.num_rows for f in data.files] == [10_000, 10_000, 5_001]
    assert data.n_rows == 25_001 and data.n_files == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]

    schema = pq.read_schema(data.files[0])
    assert tuple(schema.names) == data.columns
    assert schema.field("row_id").type == pa.int64()
    assert schema.field("label").type == pa.int8()
    assert schema.field("prediction").type == pa.int8()
    assert schema.field("score").type == pa.float32()
    for name in ["sex", "race", "age_group", "region", "income_band"]:
        t = schema.field(name).type
        assert pa.types.is_dictionary(t) and t.value_type == pa.string()

    df = read(data)
    np.testing.assert_array_equal(df["row_id"].to_numpy(), np.arange(25_001))
    assert set(df["label"].unique()) == {0, 1} and set(df["prediction"].unique()) == {0, 1}
    assert df["score"].between(0.0, 1.0).all()
    assert (df["prediction"] == (df["score"] >= 0.5)).all()
    assert df["race"].nunique() == 5 and df["region"].nunique() == 10
    assert df["sex"].nunique() == 2 and df["age_group"].nunique() == 4
    assert df["income_band"].nunique() == 5

    d = json.loads(json.dumps(data.to_dict()))
    assert d["n_rows"] == 25_001 and d["n_files"] == 3 and d["files"][2] == "part-00002.parquet"
    assert [e["kind"] for e in d["effects"]] == ["output_association", "weak_slice"]
    assert d["events"] == []


def test_audit_same_seed_same_data_other_seed_other_data(tmp_path: Path, seed: int) -> None:
    a = write_audit_parquet(tmp_path / "a", 7_000, rows_per_file=3_000, random_state=seed)
    b = write_audit_parquet(tmp_path / "b", 7_000, rows_per_file=3_000, random_state=seed)
    c = write_audit_parquet(tmp_path / "c", 7_000, rows_per_file=3_000, random_state=seed + 1)
    pd.testing.assert_frame_equal(read(a), read(b))
    for fa, fb in zip(a.files, b.files, strict=True):
        assert fa.read_bytes() == fb.read_bytes()
    assert not read(a)["score"].equals(read(c)["score"])


def test_audit_file_does_not_depend_on_the_others(tmp_path: Path, seed: int) -> None:
    # File 1 is full in both; what is written after it (and how much) must not matter.
    long = write_audit_parquet(tmp_path / "long", 9_500, rows_per_file=3_000, random_state=seed)
    short = write_audit_parquet(tmp_path / "short", 6_001, rows_per_file=3_000, random_state=seed)
    for i in (0, 1):
        pd.testing.assert_frame_equal(
            pd.read_parquet(long.files[i]), pd.read_parquet(short.files[i])
        )
    assert pq.ParquetFile(short.files[2]).metadata.num_rows == 1


def test_audit_row_groups_bound_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_impl, "ROW_GROUP_ROWS", 1_000)
    data = write_audit_parquet(tmp_path / "a", 5_500, rows_per_file=2_500)
    meta = pq.ParquetFile(data.files[0]).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [1000, 1000, 500]
    np.testing.assert_array_equal(read(data)["row_id"].to_numpy(), np.arange(5_500))


def test_audit_planted_effects_are_in_the_data(tmp_path: Path, seed: int) -> None:
    data = write_audit_parquet(tmp_path / "a", 80_000, rows_per_file=40_000, random_state=seed)
    df = read(data)
    selection, weak = data.effects

    # Lower selection rate for race C, at the same base rate.
    in_c = (df["race"] == selection.group).to_numpy()
    sel_c, sel_rest = df["prediction"][in_c], df["prediction"][~in_c]
    diff = sel_c.mean() - sel_rest.mean()
    assert selection.effect == pytest.approx(-0.101, abs=0.001)
    assert abs(diff - selection.effect) < 4 * two_rate_se(sel_c, sel_rest)
    base_c, base_rest = df["label"][in_c], df["label"][~in_c]
    assert abs(base_c.mean() - base_rest.mean()) < 4 * two_rate_se(base_c, base_rest)

    # Higher error rate in the weak slice, for everyone.
    in_slice = weak.mask(df)
    assert in_slice.mean() == pytest.approx(weak.share, abs=0.005)
    error = df["label"] != df["prediction"]
    err_in, err_out = error[in_slice], error[~in_slice]
    assert abs(err_in.mean() - err_out.mean() - weak.effect) < 4 * two_rate_se(err_in, err_out)

    # Nothing planted on sex.
    male = (df["sex"] == "male").to_numpy()
    sel_m, sel_f = df["prediction"][male], df["prediction"][~male]
    assert abs(sel_m.mean() - sel_f.mean()) < 4 * two_rate_se(sel_m, sel_f)


# --------------------------------------------------------------------------- #
# fleet
# --------------------------------------------------------------------------- #

N_SERIES, N_STEPS, PER_FILE = 1_003, 96, 199


@pytest.fixture
def fleet(tmp_path: Path, seed: int) -> tuple[PartitionedData, pd.DataFrame]:
    data = write_fleet_parquet(
        tmp_path / "fleet", N_SERIES, N_STEPS, series_per_file=PER_FILE, random_state=seed
    )
    parts = [pd.read_parquet(f).assign(file=i) for i, f in enumerate(data.files)]
    return data, pd.concat(parts, ignore_index=True)


def test_fleet_files_hold_whole_series(fleet) -> None:
    data, df = fleet
    assert data.n_files == 6 and data.n_rows == N_SERIES * N_STEPS == len(df)
    assert tuple(df.columns[:-1]) == data.columns
    # Each series in one file only, with every step, in time order.
    assert (df.groupby("series")["file"].nunique() == 1).all()
    assert df["series"].nunique() == N_SERIES
    # Rows run series by series, each over the same steps in time order.
    times = pd.date_range("2026-01-01", periods=N_STEPS, freq="1h").to_numpy()
    stamps = df["timestamp"].to_numpy().reshape(N_SERIES, N_STEPS)
    assert (stamps == times).all()
    keys = df["series"].to_numpy().reshape(N_SERIES, N_STEPS)
    assert (keys == keys[:, :1]).all() and len(set(keys[:, 0])) == N_SERIES
    sizes = df.groupby("file")["series"].nunique().tolist()
    assert sizes == [PER_FILE] * 5 + [N_SERIES - 5 * PER_FILE]

    # Five metrics per model; a model split across files keeps its labels.
    assert sorted(df["metric"].unique()) == sorted(METRICS)
    assert df["model"].nunique() == -(-N_SERIES // 5)
    assert (df["series"].str.split("/").str[0] == df["model"].astype(str)).all()
    labels = df.groupby("model", observed=True)[["source", "team", "region"]].nunique()
    assert (labels == 1).all().all()
    assert df.groupby("model", observed=True)["file"].nunique().max() == 2

    schema = pq.read_schema(data.files[0])
    assert schema.field("series").type == pa.string()
    assert schema.field("timestamp").type == pa.timestamp("us")
    assert schema.field("value").type == pa.float64()
    for name in ["model", "metric", "source", "team", "region"]:
        assert pa.types.is_dictionary(schema.field(name).type)
    assert np.isfinite(df["value"]).all() and (df["value"] >= 0).all()


def test_fleet_row_groups_hold_whole_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fleet_impl, "ROW_GROUP_ROWS", 1_000)
    data = write_fleet_parquet(tmp_path / "f", 50, 48, series_per_file=30)
    meta = pq.ParquetFile(data.files[0]).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [960, 480]


def test_fleet_same_seed_same_data_other_seed_other_data(tmp_path: Path, seed: int) -> None:
    def write(name: str, s: int) -> PartitionedData:
        return write_fleet_parquet(tmp_path / name, 40, 24, series_per_file=15, random_state=s)

    a, b, c = write("a", seed), write("b", seed), write("c", seed + 1)
    pd.testing.assert_frame_equal(read(a), read(b))
    assert [e.to_dict() for e in a.events] == [e.to_dict() for e in b.events]
    assert not read(a)["value"].equals(read(c)["value"])


def _standardised_daily_change(df: pd.DataFrame) -> pd.DataFrame:
    """(value[t] - value[t - 1 day]) / noise sd, per series: the daily cycle cancels.

    The noise sd is the generator's: fixed per metric, or 5% of the level for latency
    (its median over the first two days, before the source break).
    """
    wide = df.pivot(index="series", columns="timestamp", values="value")
    metric = wide.index.str.split("/").str[1]
    code = np.array([METRICS.index(m) for m in metric])
    sigma = fleet_impl._SIGMA[code] * np.where(
        fleet_impl._RELATIVE[code], np.median(wide.to_numpy()[:, :48], axis=1), 1.0
    )
    values = wide.to_numpy()
    d = (values[:, 24:] - values[:, :-24]) / sigma[:, None]
    return pd.DataFrame(d, index=wide.index, columns=range(24, values.shape[1]))


def test_fleet_source_break_is_in_the_data(fleet) -> None:
    data, df = fleet
    brk = data.events[0]
    assert brk.kind == "source_break" and brk.root_cause["source"] in set(df["source"])
    fed = df.loc[df["source"] == brk.root_cause["source"], "series"].unique()
    assert set(brk.affected) == set(fed) and len(brk.affected) >= 5
    assert df.loc[df["series"].isin(brk.affected), "file"].nunique() >= 2
    assert brk.start == pd.Timestamp("2026-01-01") + brk.start_step * pd.Timedelta("1h")
    assert N_STEPS // 2 <= brk.start_step <= brk.end_step < N_STEPS

    z = _standardised_daily_change(df)
    window = list(range(brk.start_step, brk.end_step + 1))
    bad = np.array([BAD[s.split("/")[1]] for s in z.index])
    shift = pd.Series(z[window].mean(axis=1).to_numpy() * bad, index=z.index)
    hit = z.index.isin(brk.affected)
    assert shift[hit].median() == pytest.approx(fleet_impl._BREAK_SIZE, abs=1.0)
    assert abs(shift[~hit].median()) < 0.5


def test_fleet_spikes_are_in_the_data(fleet) -> None:
    data, df = fleet
    spikes = [e for e in data.events if e.kind == "spike"]
    assert [e.id for e in spikes] == ["E2", "E3", "E4"]
    brk = data.events[0]
    z = _standardised_daily_change(df)

    def in_break(t: int) -> bool:
        return brk.start_step <= t <= brk.end_step

    for e in spikes:
        (key,) = e.affected
        assert e.root_cause == {"series": key} and 1 <= e.end_step - e.start_step + 1 <= 3
        # Each step's change has noise sd sqrt(2) here; 6 is over 4 of its sd.
        for t in range(e.start_step, e.end_step + 1):
            expected = fleet_impl._SPIKE_SIZE
            if key in brk.affected:
                expected += fleet_impl._BREAK_SIZE * (in_break(t) - in_break(t - 24))
            observed = z.loc[key, t] * BAD[key.split("/")[1]]
            assert abs(observed - expected) < 6, (key, t, observed, expected)


# --------------------------------------------------------------------------- #
# errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0}, "The 'n_rows' parameter of write_audit_parquet must be an int in [1, inf)"),
        ({"n_rows": 10.5}, "'n_rows' parameter of write_audit_parquet must be an int"),
        ({"n_rows": True}, "'n_rows' parameter of write_audit_parquet must be an int"),
        ({"rows_per_file": 0}, "'rows_per_file' parameter of write_audit_parquet must be an int"),
        ({"random_state": -1}, "'random_state' parameter of write_audit_parquet"),
        ({"random_state": None}, "'random_state' parameter of write_audit_parquet"),
        ({"progress": "bar"}, "'progress' parameter of write_audit_parquet must be None or a"),
    ],
)
def test_audit_bad_parameters(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"n_rows": 10, **kwargs}
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        write_audit_parquet(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()  # nothing created before the checks pass


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_series": 0}, "The 'n_series' parameter of write_fleet_parquet must be an int in [1"),
        ({"n_steps": 7}, "The 'n_steps' parameter of write_fleet_parquet must be an int in [8"),
        ({"series_per_file": 0}, "'series_per_file' parameter of write_fleet_parquet"),
        ({"freq": "often"}, "'freq' parameter of write_fleet_parquet must be a positive time"),
        ({"freq": "-1h"}, "'freq' parameter of write_fleet_parquet must be a positive time"),
        ({"freq": 3600}, "'freq' parameter of write_fleet_parquet must be a positive time"),
        ({"start": "not a date"}, "'start' parameter of write_fleet_parquet must be a date"),
        ({"random_state": 1.5}, "'random_state' parameter of write_fleet_parquet"),
        ({"progress": 1}, "'progress' parameter of write_fleet_parquet must be None or a"),
    ],
)
def test_fleet_bad_parameters(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"n_series": 10, "n_steps": 24, **kwargs}
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        write_fleet_parquet(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("writer", ["audit", "fleet"])
def test_refuses_a_non_empty_directory_or_a_file(tmp_path: Path, writer: str) -> None:
    def write(directory: object) -> PartitionedData:
        if writer == "audit":
            return write_audit_parquet(directory, 10)  # type: ignore[arg-type]
        return write_fleet_parquet(directory, 10, 24)  # type: ignore[arg-type]

    caller = f"write_{writer}_parquet"
    (tmp_path / "old.txt").write_text("keep me")
    with pytest.raises(InvalidParameterError, match=re.escape("It already holds files")) as e:
        write(tmp_path)
    assert f"The 'directory' parameter of {caller} must be a new or empty directory" in str(e.value)
    assert "'old.txt'" in str(e.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]
    with pytest.raises(InvalidParameterError, match=re.escape("(this path is a file)")):
        write(tmp_path / "old.txt")
    with pytest.raises(InvalidParameterError, match=re.escape("a str or os.PathLike path")):
        write(42)
    # An empty directory (or one that does not exist yet, nested) is fine.
    (tmp_path / "empty").mkdir()
    assert write(tmp_path / "empty").n_files == 1
    assert write(str(tmp_path / "new" / "nested")).directory == tmp_path / "new" / "nested"
