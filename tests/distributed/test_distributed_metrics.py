"""Group metrics and audits counted on a two-worker LocalCluster equal the in-memory ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _dask_cluster import client, distributed

from seawall.audit import audit as memory_audit
from seawall.distributed import audit, group_metrics, regression_metrics
from seawall.exceptions import DataValidationError, InsufficientDataError, SeawallWarning
from seawall.metrics import group_metrics as memory_group_metrics
from seawall.metrics import regression_metrics as memory_regression_metrics

__all__ = ["client"]


def _decisions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    race = rng.choice(["white", "black", "asian", "other"], n, p=[0.55, 0.25, 0.15, 0.05])
    y = (rng.random(n) < 0.4).astype(np.int8)
    p = (rng.random(n) < np.where(race == "black", 0.25, 0.4)).astype(np.int8)
    age = rng.integers(20, 24, n).astype(float)
    age[rng.random(n) < 0.02] = np.nan  # a missing value is a group of its own
    return pd.DataFrame(
        {
            "label": y,
            "pred": p,
            "race": race,
            "sex": rng.choice(["F", "M"], n),
            "age": age,
            "w": rng.gamma(2.0, 1.0, n),
        }
    )


def _write(frame: pd.DataFrame, folder: Path, n_parts: int) -> Path:
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), n_parts)):
        part = frame.iloc[rows]
        if i % 2:  # some partitions dictionary-encode the groups, as Spark and Dask do
            part = part.astype({"race": "category", "sex": "category"})
        part.to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_group_metrics_equal_the_in_memory_result(
    client: distributed.Client, tmp_path: Path, weighted: bool
) -> None:
    frame = _decisions(30_000, 1)
    folder = _write(frame, tmp_path / "parts", 7)
    sens = ["race", "sex", "age"]
    res = group_metrics(
        folder,
        label="label",
        prediction="pred",
        sensitive=sens,
        weight="w" if weighted else None,
        reference={"race": "white"},
        scheduler=client,
    )
    ref = memory_group_metrics(
        frame["label"],
        frame["pred"],
        sensitive_features=frame[sens],
        sample_weight=frame["w"] if weighted else None,
        reference={"race": "white"},
        n_bootstrap=0,
    )
    assert res.n_rows == ref.n_rows == 30_000
    for table in ("groups", "metrics", "disparities", "summary"):
        _same(getattr(res, table).to_frame(), getattr(ref, table).to_frame())
    assert (res.metrics.to_frame()["group"] == "<missing>").any()


def test_the_partitioning_does_not_change_the_numbers(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame = _decisions(12_000, 2)
    one = _write(frame, tmp_path / "one", 1)
    many = _write(frame.sample(frac=1.0, random_state=0), tmp_path / "many", 11)
    a, b = (
        group_metrics(d, label="label", prediction="pred", sensitive="race", scheduler=client)
        for d in (one, many)
    )
    # Row order differs too: the counts are the same, so every number is.
    _same(a.disparities.to_frame(), b.disparities.to_frame())
    _same(a.metrics.to_frame(), b.metrics.to_frame())


def test_audit_equals_the_in_memory_audit(client: distributed.Client, tmp_path: Path) -> None:
    frame = _decisions(20_000, 3)
    folder = _write(frame, tmp_path / "parts", 4)
    kwargs = {
        "label": "label",
        "prediction": "pred",
        "sensitive": ["race", "sex"],
        "gates": ["disparate_impact<0.8", "equal_opportunity_difference>0.05"],
    }
    res = audit(str(folder), scheduler=client, **kwargs)  # type: ignore[arg-type]
    ref = memory_audit(frame, associations=False, mitigation=False, **kwargs)  # type: ignore[arg-type]
    _same(res.metrics.disparities.to_frame(), ref.metrics.disparities.to_frame())
    assert [g.to_dict() for g in res.gates] == [g.to_dict() for g in ref.gates]
    assert res.four_fifths == ref.four_fifths
    assert res.findings == ref.findings
    assert res.passed is ref.passed is False
    assert res.n_rows == 20_000
    assert res.associations is not None and "Dask" in (res.associations.skipped or "")
    assert res.mitigation is None
    # The fingerprint follows the partitions: change one value, it changes.
    assert res.fingerprint.startswith("sha256:")
    changed = frame.copy()
    changed.loc[5, "pred"] = 1 - changed.loc[5, "pred"]
    other = audit(str(_write(changed, tmp_path / "changed", 4)), scheduler=client, **kwargs)  # type: ignore[arg-type]
    assert other.fingerprint != res.fingerprint
    again = audit(str(folder), scheduler=client, **kwargs)  # type: ignore[arg-type]
    assert again.fingerprint == res.fingerprint


def test_bad_values_name_the_partition(client: distributed.Client, tmp_path: Path) -> None:
    frame = _decisions(2_000, 4)
    folder = _write(frame, tmp_path / "parts", 3)
    bad = frame.iloc[:10].assign(label=2)
    bad.to_parquet(folder / "part-999.parquet", index=False)
    with pytest.raises(DataValidationError, match=r"label.*part-999\.parquet"):
        group_metrics(folder, label="label", prediction="pred", sensitive="race", scheduler=client)


def test_a_missing_column_names_the_file_and_the_columns(
    client: distributed.Client, tmp_path: Path
) -> None:
    folder = _write(_decisions(1_000, 5), tmp_path / "parts", 2)
    with pytest.raises(DataValidationError, match=r"'gender'.*part-000\.parquet.*'race'"):
        group_metrics(
            folder, label="label", prediction="pred", sensitive="gender", scheduler=client
        )


def test_positive_label_must_occur_somewhere(client: distributed.Client, tmp_path: Path) -> None:
    frame = _decisions(1_000, 6).assign(label=lambda f: np.where(f["label"] == 1, "yes", "no"))
    folder = _write(frame, tmp_path / "parts", 3)
    res = group_metrics(
        folder,
        label="label",
        prediction="pred",
        sensitive="sex",
        positive_label="yes",
        scheduler=client,
    )
    ref = memory_group_metrics(
        (frame["label"] == "yes").astype(int),
        frame["pred"],
        sensitive_features=frame["sex"],
        n_bootstrap=0,
    )
    _same(res.metrics.to_frame(), ref.metrics.to_frame())
    with pytest.raises(DataValidationError, match="positive_label='maybe' does not occur"):
        group_metrics(
            folder,
            label="label",
            prediction="pred",
            sensitive="sex",
            positive_label="maybe",
            scheduler=client,
        )


def test_empty_partitions_are_insufficient(client: distributed.Client, tmp_path: Path) -> None:
    folder = _write(_decisions(10, 7).iloc[:0], tmp_path / "parts", 2)
    with pytest.raises(InsufficientDataError, match="hold no row"):
        group_metrics(folder, label="label", prediction="pred", sensitive="sex", scheduler=client)


def test_nothing_to_read_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="holds no Parquet file"):
        group_metrics(tmp_path, label="y", prediction="p", sensitive="g", scheduler="local")


def test_regression_metrics_equal_the_in_memory_result(
    client: distributed.Client, tmp_path: Path
) -> None:
    rng = np.random.default_rng(8)
    n = 20_000
    frame = _decisions(n, 8).assign(
        target=lambda f: rng.normal(50, 10, n) + 5 * (f["race"] == "black"),
    )
    frame["estimate"] = frame["target"] + rng.normal(0, 3, n) + 2 * (frame["sex"] == "F")
    folder = _write(frame, tmp_path / "parts", 5)
    res = regression_metrics(
        folder,
        label="target",
        prediction="estimate",
        sensitive=["race", "sex"],
        weight="w",
        scheduler=client,
    )
    ref = memory_regression_metrics(
        frame["target"],
        frame["estimate"],
        sensitive_features=frame[["race", "sex"]],
        sample_weight=frame["w"],
    )
    for table in ("groups", "metrics", "disparities", "summary"):
        pd.testing.assert_frame_equal(
            getattr(res, table).to_frame(), getattr(ref, table).to_frame(), rtol=1e-9
        )
    # The audit finds the task by itself (the target has many values) and agrees too.
    rep = audit(
        str(folder),
        label="target",
        prediction="estimate",
        sensitive="sex",
        gates=["mean_error_difference>1"],
        scheduler=client,
    )
    mem = memory_audit(
        frame,
        label="target",
        prediction="estimate",
        sensitive="sex",
        gates=["mean_error_difference>1"],
        associations=False,
        mitigation=False,
    )
    assert rep.parameters.task == mem.parameters.task == "regression"
    for got, want in zip(rep.gates, mem.gates, strict=True):  # sums: equal up to rounding
        a, b = got.to_dict(), want.to_dict()
        for key in ("value", "lower", "upper"):
            assert a.pop(key) == pytest.approx(b.pop(key), rel=1e-12)
        assert a == b
    assert rep.passed is mem.passed is False
    assert rep.four_fifths == ()


def test_the_audit_command_runs_on_a_cluster(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from seawall.cli import cli

    folder = _write(_decisions(6_000, 9), tmp_path / "parts", 3)
    base = [
        "audit",
        str(folder / "*.parquet"),
        "--label",
        "label",
        "--prediction",
        "pred",
        "--sensitive",
        "race",
        "--out",
        str(tmp_path / "out"),
    ]
    run = CliRunner().invoke(
        cli, [*base, "--fail-on", "disparate_impact<0.8", "--scheduler", "local", "--workers", "1"]
    )
    assert run.exit_code == 1, run.output  # the planted disparity fails the gate
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert report["data"]["n_rows"] == 6_000
    assert "needs a row key" in report["associations"]["skipped"]
    run = CliRunner().invoke(cli, [*base, "--workers", "2"])
    assert run.exit_code == 2 and "--workers needs --scheduler" in run.output


def _scored(n: int, seed: int) -> pd.DataFrame:
    frame = _decisions(n, seed)
    rng = np.random.default_rng(seed)
    # Rounded: many ties, inside groups and across the sort's score ranges.
    frame["s"] = np.clip(0.3 + 0.3 * frame["label"] + rng.normal(0, 0.2, n), 0, 1).round(3)
    frame["s"] -= 0.05 * (frame["race"] == "asian")  # a calibration gap for one group
    frame["s"] = frame["s"].clip(0, 1)
    frame["pred"] = (frame["s"] >= 0.5).astype(np.int8)
    return frame


@pytest.mark.parametrize("weighted", [False, True])
def test_score_metrics_equal_the_in_memory_result(
    client: distributed.Client, tmp_path: Path, weighted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import seawall.distributed._buckets as buckets

    monkeypatch.setattr(buckets, "BUCKET_ROWS", 3_000)  # the sort runs over ~8 score ranges
    frame = _scored(24_000, 10)
    folder = _write(frame, tmp_path / "parts", 5)
    sens = ["race", "sex"]
    res = group_metrics(
        folder,
        label="label",
        prediction="pred",
        score="s",
        sensitive=sens,
        weight="w" if weighted else None,
        n_bootstrap=150,
        random_state=3,
        scheduler=client,
    )
    ref = memory_group_metrics(
        frame["label"],
        frame["pred"],
        y_score=frame["s"],
        sensitive_features=frame[sens],
        sample_weight=frame["w"] if weighted else None,
        n_bootstrap=150,
        random_state=3,
    )
    for table in ("metrics", "disparities", "summary"):
        pd.testing.assert_frame_equal(
            getattr(res, table).to_frame(), getattr(ref, table).to_frame(), rtol=1e-9, atol=1e-12
        )
    auc = res.metrics.to_frame().query("metric == 'auc'")
    assert len(auc) == len(ref.metrics.to_frame().query("metric == 'auc'")) > 0
    assert auc["lower"].notna().all()  # bootstrap intervals from the merged histogram


def test_the_audit_gates_on_score_metrics_as_in_memory(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame = _scored(12_000, 11)
    folder = _write(frame, tmp_path / "parts", 3)
    kwargs = {
        "label": "label",
        "prediction": "pred",
        "score": "s",
        "sensitive": "race",
        "gates": ["auc_difference>0.02", "ece_difference>0.5"],
        "n_bootstrap": 200,
    }
    res = audit(str(folder), scheduler=client, **kwargs)  # type: ignore[arg-type]
    ref = memory_audit(frame, associations=False, mitigation=False, **kwargs)  # type: ignore[arg-type]
    for got, want in zip(res.gates, ref.gates, strict=True):
        a, b = got.to_dict(), want.to_dict()
        for key in ("value", "lower", "upper"):
            assert a.pop(key) == pytest.approx(b.pop(key), rel=1e-9, nan_ok=True)
        assert a == b
    assert res.parameters.score == "s" and res.parameters.n_bootstrap == 200


def test_scores_outside_0_1_give_auc_only_with_a_warning(
    client: distributed.Client, tmp_path: Path
) -> None:
    frame = _scored(6_000, 12).assign(s=lambda f: 10 * f["s"] - 3)
    folder = _write(frame, tmp_path / "parts", 2)
    with pytest.warns(SeawallWarning, match="outside"):
        res = group_metrics(
            folder,
            label="label",
            prediction="pred",
            score="s",
            sensitive="sex",
            n_bootstrap=50,
            scheduler=client,
        )
    with pytest.warns(SeawallWarning, match="outside"):
        ref = memory_group_metrics(
            frame["label"],
            frame["pred"],
            y_score=frame["s"],
            sensitive_features=frame["sex"],
            n_bootstrap=50,
        )
    pd.testing.assert_frame_equal(
        res.metrics.to_frame(), ref.metrics.to_frame(), rtol=1e-9, atol=1e-12
    )
