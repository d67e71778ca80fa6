"""``seawall repair``: the repaired table, training statistics reused, bad input refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from scipy import stats

from seawall.cli import cli
from seawall.mitigation import DisparateImpactRemover


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n, p=[0.6, 0.4])
    shift = np.where(group == "b", 1.5, 0.0)
    income = rng.normal(3.0 + shift, 1.0)
    hours = rng.gamma(4.0 + shift, 5.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-(income - 3.5)))).astype(int)
    return pd.DataFrame(
        {"id": np.arange(n), "group": group, "income": income, "hours": hours, "y": y}
    )


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["repair", *(str(a) for a in args)])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_repair_writes_the_repaired_table(tmp_path: Path, suffix: str) -> None:
    frame = _frame(4000, 0)
    data = tmp_path / f"data{suffix}"
    frame.to_csv(data, index=False) if suffix == ".csv" else frame.to_parquet(data)
    out = tmp_path / f"out{suffix}"
    result = _run(
        data, "--sensitive", "group", "--features", "income", "--features", "hours",
        "--label", "y", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    repaired = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    # The other columns are untouched, in order.
    assert list(repaired.columns) == list(frame.columns)
    pd.testing.assert_series_equal(repaired["id"], frame["id"])
    pd.testing.assert_series_equal(repaired["y"], frame["y"])
    # The same numbers as the library's remover fitted on the same data.
    remover = DisparateImpactRemover().fit(
        frame[["income", "hours"]], sensitive_features=frame["group"]
    )
    expected = remover.transform(frame[["income", "hours"]], sensitive_features=frame["group"])
    np.testing.assert_allclose(repaired[["income", "hours"]].to_numpy(), expected, rtol=1e-12)
    # Full repair: the groups' distributions of each feature agree.
    a, b = repaired[frame.group == "a"], repaired[frame.group == "b"]
    for col in ("income", "hours"):
        assert (
            stats.ks_2samp(
                frame.loc[frame.group == "a", col], frame.loc[frame.group == "b", col]
            ).statistic
            > 0.2
        )
        assert stats.ks_2samp(a[col], b[col]).statistic < 0.03
    assert "balanced error rate" in result.output and "repaired" in result.output


def test_fit_on_reuses_the_training_statistics(tmp_path: Path) -> None:
    train, new = _frame(4000, 1), _frame(500, 2)
    train.to_csv(tmp_path / "train.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    result = _run(
        tmp_path / "new.csv", "--fit-on", tmp_path / "train.csv", "--sensitive", "group",
        "--features", "income", "--repair-level", "0.5", "--out", tmp_path / "out.csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    remover = DisparateImpactRemover(repair_level=0.5).fit(
        train[["income"]], sensitive_features=train["group"]
    )
    expected = remover.transform(new[["income"]], sensitive_features=new["group"])
    got = pd.read_csv(tmp_path / "out.csv")["income"].to_numpy()
    np.testing.assert_allclose(got, expected[:, 0], rtol=1e-12)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--sensitive", "group", "--features", "incme"], "Did you mean 'income'?"),
        (["--sensitive", "group", "--features", "group"], "both as --sensitive and as --features"),
        (["--sensitive", "group", "--features", "income", "--repair-level", "1.5"], "repair_level"),
        (["--sensitive", "group", "--features", "income", "--label", "income"], "--label"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    _frame(300, 0).to_csv(tmp_path / "d.csv", index=False)
    result = _run(tmp_path / "d.csv", *args, "--out", tmp_path / "o.csv")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], lines
    assert not (tmp_path / "o.csv").exists()


def test_unseen_group_in_fit_on(tmp_path: Path) -> None:
    train, new = _frame(1000, 1), _frame(200, 2)
    new.loc[0, "group"] = "c"
    train.to_csv(tmp_path / "train.csv", index=False)
    new.to_csv(tmp_path / "new.csv", index=False)
    result = _run(
        tmp_path / "new.csv", "--fit-on", tmp_path / "train.csv", "--sensitive", "group",
        "--features", "income", "--out", tmp_path / "out.csv",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "'c'" in result.output and "not seen in fit" in result.output
