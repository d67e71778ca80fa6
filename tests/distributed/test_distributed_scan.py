"""Association and slice investigations on a two-worker LocalCluster equal the in-memory ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _dask_cluster import client, distributed
from click.testing import CliRunner

from seawall.associations import Investigation
from seawall.associations import find_associations as memory_find_associations
from seawall.associations import profile_errors as memory_profile_errors
from seawall.associations._encoding import encode_contexts
from seawall.cli import cli
from seawall.datasets import make_slices
from seawall.distributed._scan import find_associations, profile_errors
from seawall.distributed._scan_codes import _exact_quantiles, column_code, value_counts
from seawall.exceptions import DataValidationError, InvalidParameterError

__all__ = ["client"]

CONTEXT = [f"f{i}" for i in range(10)] + ["age"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """make_slices with a row key, a score and a three-class decision."""
    data = make_slices(30_000, random_state=0).frame
    rng = np.random.default_rng(1)
    score = data["y_pred"] + rng.normal(0.0, 1.0, len(data))
    review = rng.random(len(data)) < 0.5
    decision = np.where(data["y_pred"] == 1, "approve", np.where(review, "review", "decline"))
    return data.assign(
        row_id=[f"r{i:06d}" for i in range(len(data))],
        score=score,
        truth=data["y_true"].astype(np.float64),
        decision=decision,
    )


def _write(frame: pd.DataFrame, folder: Path, n_parts: int, seed: int) -> Path:
    """Shuffled rows in ``n_parts`` files; every other file dictionary-encodes its text."""
    folder.mkdir()
    order = np.random.default_rng(seed).permutation(len(frame))
    for i, rows in enumerate(np.array_split(order, n_parts)):
        part = frame.iloc[rows]
        if i % 2:
            part = part.astype({"f1": "category", "f3": "category", "group": "category"})
        part.to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def parts(frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(frame, tmp_path_factory.mktemp("scan") / "parts", 5, 0)


def _same(a: Investigation, b: Investigation) -> None:
    for table in ("findings", "explained", "hypotheses"):
        pd.testing.assert_frame_equal(
            getattr(a, table).to_frame(),
            getattr(b, table).to_frame(),
            check_exact=False,
            rtol=1e-9,
            atol=1e-12,
        )
    assert a.parameters == b.parameters
    assert a.shadows == b.shadows
    sizes = ("n_rows", "n_search_rows", "n_confirm_rows", "n_pruned")
    assert [getattr(a, s) for s in sizes] == [getattr(b, s) for s in sizes]


def test_error_profile_equals_the_in_memory_one_and_finds_the_planted_slices(
    client: distributed.Client, frame: pd.DataFrame, parts: Path
) -> None:
    res = profile_errors(
        parts,
        y_true="y_true",
        y_pred="y_pred",
        context=CONTEXT,
        sensitive_features="group",
        split_key="row_id",
        max_depth=2,
        scheduler=client,
    )
    ref = memory_profile_errors(
        frame["y_true"],
        frame["y_pred"],
        context=frame[CONTEXT],
        sensitive_features=frame["group"],
        split_key=frame["row_id"],
        max_depth=2,
    )
    _same(res, ref)
    found = set(zip(res.findings.kind, res.findings.context, strict=True))
    assert ("weak_slice", "f1 = b and f4 = b") in found
    assert ("error_disparity", "f3 = e") in found
    assert len(res.hypotheses.context) > 100


def test_associations_with_explanatory_strata_equal_the_in_memory_ones(
    client: distributed.Client, frame: pd.DataFrame, parts: Path
) -> None:
    res = find_associations(
        parts,
        y="y_pred",
        sensitive_features="group",
        context=CONTEXT,
        explanatory="qualification",
        split_key="row_id",
        max_depth=2,
        scheduler=client,
    )
    ref = memory_find_associations(
        frame["y_pred"],
        sensitive_features=frame["group"],
        context=frame[CONTEXT],
        explanatory=frame["qualification"],
        split_key=frame["row_id"],
        max_depth=2,
    )
    _same(res, ref)
    assert res.findings.context == ("f5 = c",) and res.findings.group == ("B",)
    assert res.explained.context == ("everyone",)


@pytest.mark.parametrize("outcome", ["continuous", "categorical", "absolute"])
def test_sums_and_classes_equal_the_in_memory_ones(
    client: distributed.Client, frame: pd.DataFrame, parts: Path, outcome: str
) -> None:
    context = ["f1", "f3", "f5", "age"]
    common = {"max_depth": 2, "min_support": 100}
    if outcome == "absolute":
        res = profile_errors(
            parts,
            y_true="truth",
            y_pred="score",
            error="absolute",
            context=context,
            sensitive_features="group",
            split_key="row_id",
            scheduler=client,
            **common,
        )
        ref = memory_profile_errors(
            frame["truth"],
            frame["score"],
            error="absolute",
            context=frame[context],
            sensitive_features=frame["group"],
            split_key=frame["row_id"],
            **common,
        )
    else:
        column = "score" if outcome == "continuous" else "decision"
        res = find_associations(
            parts,
            y=column,
            sensitive_features="group",
            context=context,
            split_key="row_id",
            scheduler=client,
            **common,
        )
        ref = memory_find_associations(
            frame[column],
            sensitive_features=frame["group"],
            context=frame[context],
            split_key=frame["row_id"],
            **common,
        )
    _same(res, ref)
    assert res.parameters.get("outcome", "continuous") == outcome.replace("absolute", "continuous")
    assert len(res.hypotheses.context) > 20


def test_the_partitioning_and_row_order_do_not_change_the_result(
    client: distributed.Client, frame: pd.DataFrame, tmp_path: Path
) -> None:
    runs = [
        find_associations(
            _write(frame, tmp_path / f"p{n}", n, seed),
            y="y_pred",
            sensitive_features="group",
            context=["f3", "f5", "f7"],
            split_key="row_id",
            max_depth=2,
            scheduler=client,
        ).to_dict()
        for n, seed in ((3, 1), (7, 2))
    ]
    assert runs[0] == runs[1]


def test_quantile_bins_from_value_counts_are_those_of_the_rows() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 1_000):
        values = np.round(rng.gamma(2.0, 3.0, n), 1)
        distinct, counts = value_counts(values)
        order = np.argsort(distinct)
        for bins in (2, 5, 10):
            expected = np.quantile(values, np.linspace(0.0, 1.0, bins + 1)[1:-1])
            got = _exact_quantiles(distinct[order], counts[order], bins)
            np.testing.assert_array_equal(got, expected)
    # A whole column coded from its value counts, as the in-memory encoding codes it.
    age = np.where(rng.random(5_000) < 0.02, np.nan, np.round(rng.uniform(18, 90, 5_000), 1))
    (memory,) = encode_contexts({"age": age}, age.size)
    code = column_code("age", *value_counts(age), n_bins=5, max_values=12)
    assert code.labels == memory.labels
    np.testing.assert_array_equal(code.encode(age), memory.codes)


def test_bad_values_name_the_partition(
    client: distributed.Client, frame: pd.DataFrame, tmp_path: Path
) -> None:
    folder = _write(frame.iloc[:3_000], tmp_path / "bad", 3, 0)
    part = pd.read_parquet(folder / "part-001.parquet")
    part.loc[part.index[5], "y_true"] = 2
    part.to_parquet(folder / "part-001.parquet", index=False)
    with pytest.raises(DataValidationError, match=re.escape("in the partition part-001.parquet")):
        profile_errors(
            folder,
            y_true="y_true",
            y_pred="y_pred",
            context=["f1"],
            split_key="row_id",
            min_support=10,
            scheduler=client,
        )
    with pytest.raises(DataValidationError, match=re.escape("column 'nope' needed by")):
        profile_errors(
            folder, y_true="y_true", y_pred="y_pred", context=["nope"], split_key="row_id"
        )


def test_a_column_in_two_roles_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="named as context and as split_key"):
        find_associations(
            "nowhere", y="y", sensitive_features="g", context=["a", "id"], split_key="id"
        )


def test_the_command_runs_on_a_cluster(frame: pd.DataFrame, parts: Path, tmp_path: Path) -> None:
    args = [
        "investigate",
        str(parts),
        "--error-of",
        "y_true,y_pred",
        "--protected",
        "group",
        "--context",
        "f1",
        "--context",
        "f4",
        "--context",
        "f3",
        "--max-depth",
        "2",
        "--split-key",
        "row_id",
        "--out",
        str(tmp_path / "o"),
    ]
    run = CliRunner().invoke(cli, [*args, "--scheduler", "local", "--workers", "1"])
    assert run.exit_code == 0, run.output
    saved = json.loads((tmp_path / "o" / "findings.json").read_text(encoding="utf-8"))
    assert "f1 = b and f4 = b" in [f["context"] for f in saved["findings"]]
    assert "--split-key row_id" in saved["command"] and "--scheduler local" in saved["command"]
    refused = CliRunner().invoke(cli, [*args[:-4], "--out", "x", "--scheduler", "local"])
    assert refused.exit_code == 2 and "--scheduler needs --split-key" in refused.output
    labels = CliRunner().invoke(
        cli,
        ["investigate", str(parts), "--labels", "f1", "--protected", "group"]
        + ["--out", "x", "--scheduler", "local"],
    )
    assert labels.exit_code == 2 and "does not run on a cluster" in labels.output
