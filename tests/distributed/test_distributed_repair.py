"""The disparate-impact repair of Parquet partitions on a LocalCluster equals the in-memory one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _dask_cluster import client, distributed

from seawall.distributed import fit_remover, repair
from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.mitigation import DisparateImpactRemover

__all__ = ["client"]

SENSITIVE = ["sex", "race"]
FEATURES = ["age", "income", "job"]
FITTED = [
    "groups_",
    "numeric_features_",
    "categorical_features_",
    "quantile_levels_",
    "quantiles_",
    "target_quantiles_",
    "pooled_quantiles_",
    "feature_names_in_",
]


def _people(n: int, seed: int) -> pd.DataFrame:
    """Ties (whole-year ages), missing incomes, a categorical job, groups of unequal size."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    age = rng.integers(18, 70, n).astype(float) + np.where(sex == "M", 5.0, 0.0)
    income = rng.normal(50.0, 10.0, n) + np.where(sex == "M", 8.0, 0.0)
    income[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "sex": sex,
            "race": rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1]),
            "age": age,
            "income": income,
            "job": rng.choice(np.array(["clerk", "nurse", "pilot", None], dtype=object), n),
            "y": rng.integers(0, 2, n),
        }
    )


def _write(frame: pd.DataFrame, folder: Path, cuts: list[int]) -> Path:
    """The rows in order, cut at ``cuts`` into files (an empty one where two cuts meet)."""
    folder.mkdir(parents=True)
    bounds = [0, *cuts, len(frame)]
    for i in range(len(bounds) - 1):
        part = frame.iloc[bounds[i] : bounds[i + 1]]
        if i % 2:  # some writers dictionary-encode text columns
            part = part.astype({"sex": "category", "job": "category"})
        part.to_parquet(folder / f"part-{i:02d}.parquet")
    return folder


def _read(files: tuple[str, ...]) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


PARAMS = [
    {},
    {
        "repair_level": 0.4,
        "mode": "combinatorial",
        "categorical": "proportions",
        "n_quantiles": 57,
        "random_state": 3,
    },
]


@pytest.mark.parametrize("params", PARAMS, ids=["full", "partial-categorical"])
def test_repair_equals_the_in_memory_fit_and_transform(
    client: distributed.Client,
    tmp_path: Path,
    params: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import seawall.distributed._buckets as buckets

    monkeypatch.setattr(buckets, "BUCKET_ROWS", 2_000)  # the sort runs over ~6 value ranges
    frame = _people(12_000, 1)
    folder = _write(frame, tmp_path / "in", [1_000, 5_000, 5_000, 9_000])
    memory = DisparateImpactRemover(**params).set_output(transform="pandas")  # type: ignore[arg-type]
    expected = memory.fit_transform(frame[FEATURES], sensitive_features=frame[SENSITIVE])

    run = repair(
        folder,
        DisparateImpactRemover(**params),  # type: ignore[arg-type]
        sensitive=SENSITIVE,
        features=FEATURES,
        out=tmp_path / "out",
        scheduler=client,
    )

    fitted = run.remover
    for name in FITTED:
        np.testing.assert_array_equal(getattr(fitted, name), getattr(memory, name), err_msg=name)
    assert [list(c) for c in fitted.categories_] == [list(c) for c in memory.categories_]
    for got, want in zip(fitted.category_proportions_, memory.category_proportions_, strict=True):
        np.testing.assert_array_equal(got, want)
    assert run.n_rows == len(frame) and len(run.files) == 5
    assert [Path(f).name for f in run.files] == [f"part-{i:02d}.parquet" for i in range(5)]
    repaired = _read(run.files)
    for c in FEATURES:  # bit for bit, ties and category draws included
        pd.testing.assert_series_equal(repaired[c], expected[c], check_dtype=False)
    others = ["sex", "race", "y"]
    pd.testing.assert_frame_equal(repaired[others], frame[others].reset_index(drop=True))
    if params:  # the partial repair moved some rows of the job column, and not all
        moved = (repaired["job"] != frame["job"]) & frame["job"].notna()
        assert 0 < moved.sum() < len(frame) / 2


def test_the_partitioning_does_not_change_the_result(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame = _people(6_000, 2)
    runs = [
        repair(
            _write(frame, tmp_path / f"in{i}", cuts),
            DisparateImpactRemover(random_state=5),
            sensitive=SENSITIVE,
            features=FEATURES,
            out=tmp_path / f"out{i}",
            scheduler=client,
        )
        for i, cuts in enumerate([[3_000], [100, 200, 4_000, 5_999]])
    ]
    pd.testing.assert_frame_equal(_read(runs[0].files), _read(runs[1].files))
    np.testing.assert_array_equal(runs[0].remover.quantiles_, runs[1].remover.quantiles_)


def test_learned_on_training_partitions_applied_to_others(
    client: distributed.Client, tmp_path: Path
) -> None:
    train, test = _people(5_000, 3), _people(2_000, 4)
    memory = DisparateImpactRemover(repair_level=0.7).set_output(transform="pandas")
    memory.fit(train[FEATURES], sensitive_features=train[SENSITIVE])
    expected = memory.transform(test[FEATURES], sensitive_features=test[SENSITIVE])
    fitted = fit_remover(
        _write(train, tmp_path / "train", [2_500]),
        DisparateImpactRemover(repair_level=0.7),
        sensitive=SENSITIVE,
        features=FEATURES,
        scheduler=client,
    )
    np.testing.assert_array_equal(fitted.quantiles_, memory.quantiles_)
    test_dir = _write(test, tmp_path / "test", [700])
    # A fitted remover is applied as it is; learning from fit_on gives the same.
    for i, (remover, fit_on) in enumerate(
        [(fitted, None), (DisparateImpactRemover(repair_level=0.7), tmp_path / "train")]
    ):
        run = repair(
            test_dir,
            remover,
            sensitive=SENSITIVE,
            features=FEATURES,
            out=tmp_path / f"out{i}",
            fit_on=fit_on,
            scheduler=client,
        )
        repaired = _read(run.files)
        for c in FEATURES:
            pd.testing.assert_series_equal(repaired[c], expected[c], check_dtype=False)


def test_bad_input_is_refused_with_the_partition_named(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame = _people(3_000, 5)
    folder = _write(frame, tmp_path / "in", [1_500])
    kwargs = {"sensitive": SENSITIVE, "features": FEATURES, "scheduler": client}
    with pytest.raises(DataValidationError, match="column 'salary' needed by the repair"):
        repair(
            folder,
            DisparateImpactRemover(),
            **{**kwargs, "features": ["salary"]},
            out=tmp_path / "o1",
        )  # type: ignore[arg-type]
    (tmp_path / "full").mkdir()
    frame.iloc[:10].to_parquet(tmp_path / "full" / "old.parquet")
    with pytest.raises(DataValidationError, match="already holds Parquet files"):
        repair(folder, DisparateImpactRemover(), **kwargs, out=tmp_path / "full")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="holds the input partition"):
        repair(folder, DisparateImpactRemover(), **kwargs, out=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'sex' is both sensitive and a feature"):
        fit_remover(folder, DisparateImpactRemover(), **{**kwargs, "features": ["sex", "age"]})  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="at least one column"):
        fit_remover(folder, DisparateImpactRemover(), **{**kwargs, "features": []})  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="sensitive_column"):
        repair(
            folder, DisparateImpactRemover(sensitive_column="sex"), **kwargs, out=tmp_path / "o2"
        )  # type: ignore[arg-type]
    # A text value in a numeric feature, in the second partition only.
    bad_dir = _write(frame.iloc[:1_500], tmp_path / "bad", [])
    text = frame.iloc[1_500:].astype({"income": str})
    text.iloc[5, text.columns.get_loc("income")] = "n/a"
    text.to_parquet(bad_dir / "part-01.parquet")
    with pytest.raises(DataValidationError, match=r"part-01\.parquet") as info:
        repair(bad_dir, DisparateImpactRemover(), **kwargs, out=tmp_path / "o3")  # type: ignore[arg-type]
    assert "'income'" in str(info.value)
    # A group that the training data did not have.
    other = frame.assign(race=np.where(np.arange(len(frame)) == 2_999, 9, frame["race"]))
    with pytest.raises(DataValidationError, match=r"'F & 9'|'M & 9'") as info:
        repair(
            _write(other, tmp_path / "other", [1_500]),
            DisparateImpactRemover(),
            **kwargs,  # type: ignore[arg-type]
            out=tmp_path / "o4",
            fit_on=folder,
        )
    assert "part-01.parquet" in str(info.value)
    # A group without any income.
    empty = frame.assign(income=np.where(frame["sex"] == "F", np.nan, frame["income"]))
    with pytest.raises(InsufficientDataError, match="has no non-missing value of feature 'income'"):
        fit_remover(_write(empty, tmp_path / "empty", [1_500]), DisparateImpactRemover(), **kwargs)  # type: ignore[arg-type]
    for failed in ("o3", "o4"):  # a failed repair leaves no partition behind
        assert not list((tmp_path / failed).rglob("*.parquet*"))


def test_seawall_repair_with_a_scheduler(client: distributed.Client, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from seawall.cli import cli

    frame = _people(4_000, 6)
    folder = _write(frame, tmp_path / "in", [1_000, 2_500])
    address = client.scheduler.address
    base = ["repair", str(folder), "--sensitive", "sex", "--features", "age", "--features", "job"]
    run = CliRunner().invoke(
        cli, [*base, "--seed", "2", "--scheduler", address, "--out", str(tmp_path / "out")]
    )
    assert run.exit_code == 0, run.output
    assert "Repaired 4,000 rows, 2 feature(s), 2 group(s)" in run.output
    memory = DisparateImpactRemover(random_state=2).set_output(transform="pandas")
    expected = memory.fit_transform(frame[["age", "job"]], sensitive_features=frame[["sex"]])
    repaired = _read(tuple(sorted(str(p) for p in (tmp_path / "out").glob("*.parquet"))))
    pd.testing.assert_series_equal(repaired["age"], expected["age"], check_dtype=False)
    run = CliRunner().invoke(
        cli, [*base, "--label", "y", "--scheduler", address, "--out", str(tmp_path / "o2")]
    )
    assert run.exit_code == 2 and "does not run on a Dask cluster" in run.output
    assert "Traceback" not in run.output
    run = CliRunner().invoke(cli, [*base, "--workers", "2", "--out", str(tmp_path / "o3.csv")])
    assert run.exit_code == 2 and "--workers needs --scheduler" in run.output


def test_nullable_integers_and_booleans_read_back_as_in_memory(
    client: distributed.Client, tmp_path: Path
) -> None:
    """A repaired Int64 column holds fractions: the files must say float64, or pandas fails."""
    rng = np.random.default_rng(7)
    n = 3_000
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "race": rng.choice([1, 2], n),
            "hours": pd.array(rng.integers(0, 60, n), dtype="Int64"),
            "flag": rng.random(n) < 0.3,
        }
    )
    frame.loc[rng.random(n) < 0.1, "hours"] = pd.NA
    folder = tmp_path / "in"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(n), 3)):
        frame.iloc[rows].to_parquet(folder / f"part-{i}.parquet")
    features = ["hours", "flag"]
    memory = DisparateImpactRemover(repair_level=0.5).set_output(transform="pandas")
    expected = memory.fit_transform(frame[features], sensitive_features=frame[SENSITIVE])
    run = repair(
        folder,
        DisparateImpactRemover(repair_level=0.5),
        sensitive=SENSITIVE,
        features=features,
        out=tmp_path / "out",
        scheduler=client,
    )
    repaired = _read(run.files)
    assert repaired["hours"].dtype == np.float64 and repaired["hours"].isna().sum() > 0
    assert (repaired["hours"] % 1 != 0).any()  # moved part of the way: fractions
    pd.testing.assert_series_equal(repaired["hours"], expected["hours"], check_dtype=False)
    pd.testing.assert_series_equal(repaired["flag"], expected["flag"])  # categorical: kept
