"""``seawall detect`` and ``seawall evaluate nab``: files in, causal scores out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from seawall.cli import cli
from seawall.monitoring import series_scores


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _series(rng: np.random.Generator, n: int = 900, spike: int | None = 700) -> pd.DataFrame:
    t = np.arange(n)
    value = 50 + 10 * np.sin(2 * np.pi * t / 48) + rng.normal(0, 1.0, n)
    if spike is not None:
        value[spike] += 25.0
    times = pd.date_range("2024-03-01", periods=n, freq="30min")
    return pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": value})


def test_each_file_gets_causal_scores_at_its_relative_path(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    a = _series(rng)
    a.to_csv(src / "a.csv", index=False)
    _series(rng, spike=None).to_parquet(src / "sub" / "b.parquet")
    result = _run("detect", src, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    out_a = pd.read_csv(tmp_path / "out" / "a.csv")
    assert list(out_a.columns) == ["timestamp", "value", "anomaly_score"]
    assert (tmp_path / "out" / "sub" / "b.csv").is_file()
    np.testing.assert_allclose(out_a["value"], a["value"])
    np.testing.assert_allclose(out_a["anomaly_score"], series_scores(a["value"].to_numpy()))
    assert out_a["anomaly_score"].idxmax() == 700
    # Causal: cutting the file after row 720 leaves the first 720 scores unchanged
    # (with the warm-up fixed, since its default follows the length).
    a.iloc[:721].to_csv(src / "a.csv", index=False)
    (src / "sub" / "b.parquet").unlink()
    full = _run("detect", src / "a.csv", "--out", tmp_path / "o2", "--warmup", "135")
    assert full.exit_code == 0, full.output
    a.to_csv(src / "a.csv", index=False)
    again = _run("detect", src / "a.csv", "--out", tmp_path / "o3", "--warmup", "135")
    assert again.exit_code == 0, again.output
    cut = pd.read_csv(tmp_path / "o2" / "a.csv")["anomaly_score"]
    whole = pd.read_csv(tmp_path / "o3" / "a.csv")["anomaly_score"]
    np.testing.assert_array_equal(cut.to_numpy(), whole.to_numpy()[:721])


def test_a_bad_file_is_named_and_the_others_are_still_written(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _series(rng).to_csv(src / "good.csv", index=False)
    bad = _series(rng)
    bad.loc[5, "timestamp"] = "not a time"
    bad.to_csv(src / "bad_time.csv", index=False)
    _series(rng).iloc[:20].to_csv(src / "short.csv", index=False)
    _series(rng).assign(value=np.nan).to_csv(src / "empty.csv", index=False)
    _series(rng).rename(columns={"timestamp": "ts"}).to_csv(src / "nocol.csv", index=False)
    result = _run("detect", src, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "4 of 5 file(s) could not be scored" in result.output
    assert "column 'timestamp' must hold timestamps; row 7" in result.output
    assert "'not a time'" in result.output
    assert "short.csv has 20 rows; a series needs at least 32" in result.output
    assert "has no values (all 900 are missing)" in result.output
    assert "has no column 'timestamp' (the --timestamp-col)" in result.output
    assert (tmp_path / "out" / "good.csv").is_file()
    assert not (tmp_path / "out" / "bad_time.csv").exists()


def test_irregular_repeated_and_unsorted_timestamps_are_scored_row_by_row(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    frame = _series(rng)
    frame.loc[300, "timestamp"] = frame.loc[299, "timestamp"]  # written twice
    frame.loc[[400, 401], "timestamp"] = frame.loc[[401, 400], "timestamp"].to_numpy()
    frame = frame.drop(index=range(500, 520))  # a gap
    frame.to_csv(tmp_path / "odd.csv", index=False)
    result = _run("detect", tmp_path / "odd.csv", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "1 repeated timestamps" in result.output and "1 out of order" in result.output
    out = pd.read_csv(tmp_path / "out" / "odd.csv")
    assert list(out["timestamp"]) == list(frame["timestamp"])  # the file's row order
    np.testing.assert_allclose(out["anomaly_score"], series_scores(frame["value"].to_numpy()))


def test_a_constant_series_scores_nothing_until_it_changes(tmp_path: Path) -> None:
    times = pd.date_range("2024-01-01", periods=400, freq="h")
    value = np.full(400, 3.0)
    value[300] = 4.0
    pd.DataFrame({"timestamp": times, "value": value}).to_csv(tmp_path / "c.csv", index=False)
    result = _run("detect", tmp_path / "c.csv", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    score = pd.read_csv(tmp_path / "out" / "c.csv")["anomaly_score"].to_numpy()
    assert score[:300].max() == 0.0 and score[300] > 0.99


def test_a_long_table_gives_scores_and_ranked_incidents(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n_steps, models = 24 * 21, [f"m{i}" for i in range(12)]
    times = pd.date_range("2024-01-01", periods=n_steps, freq="h")
    season = np.sin(2 * np.pi * np.arange(n_steps) / 24)
    rows = []
    for i, m in enumerate(models):
        source = "crm" if i < 4 else f"s{i}"
        for metric in ("volume", "null_rate"):
            value = 100 + 20 * season + rng.normal(0, 2, n_steps)
            if source == "crm" and metric == "null_rate":
                value[400:410] += 60.0  # the shared source breaks
            rows.append(
                pd.DataFrame(
                    {
                        "series": f"{m}/{metric}",
                        "timestamp": times,
                        "value": value,
                        "model": m,
                        "metric": metric,
                        "source": source,
                    }
                )
            )
    pd.concat(rows).to_parquet(tmp_path / "metrics.parquet")
    result = _run(
        "detect",
        tmp_path / "metrics.parquet",
        "--series-col",
        "series",
        "--label-col",
        "model",
        "--label-col",
        "metric",
        "--label-col",
        "source",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert list(scores.columns) == ["series", "timestamp", "value", "anomaly_score", "is_anomaly"]
    assert len(scores) == 24 * n_steps
    incidents = json.loads((tmp_path / "out" / "incidents.json").read_text())
    top = incidents["incidents"][0]
    assert top["shared"].get("source") == "crm"
    assert sorted(top["members"]) == [f"m{i}/null_rate" for i in range(4)]


def test_a_long_table_with_a_repeated_timestamp_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"series": ["a", "a", "b"], "timestamp": ["2024-01-01"] * 3, "value": [1.0, 2.0, 3.0]}
    )
    frame.to_csv(tmp_path / "m.csv", index=False)
    result = _run("detect", tmp_path / "m.csv", "--series-col", "series", "--out", tmp_path)
    assert result.exit_code == 2
    assert re.search(r"series 'a' has two rows at timestamp 2024-01-01", result.output)
    bad = _run("detect", tmp_path / "m.csv", "--label-col", "x", "--out", tmp_path)
    assert bad.exit_code == 2 and "--label-col needs --series-col" in bad.output


def _tiny_nab(root: Path, rng: np.random.Generator) -> None:
    windows = {}
    for name, at in (("k/a.csv", 700), ("k/b.csv", 600)):
        frame = _series(rng, spike=at)
        (root / "data" / "k").mkdir(parents=True, exist_ok=True)
        frame.to_csv(root / "data" / name, index=False)
        t = pd.to_datetime(frame["timestamp"])
        windows[name] = [[str(t[at - 20]) + ".000000", str(t[at + 20]) + ".000000"]]
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    (root / "config").mkdir()
    profile = {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11}}
    (root / "config" / "profiles.json").write_text(
        json.dumps(
            {"standard": profile, "reward_low_FP_rate": profile, "reward_low_FN_rate": profile}
        )
    )


def test_evaluate_nab_runs_the_detector_or_reads_its_output(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    _tiny_nab(tmp_path / "nab", rng)
    ran = _run("evaluate", "nab", tmp_path / "nab", "--json", tmp_path / "r.json")
    assert ran.exit_code == 0, ran.output
    detected = _run("detect", tmp_path / "nab" / "data", "--out", tmp_path / "scores")
    assert detected.exit_code == 0, detected.output
    read = _run("evaluate", "nab", tmp_path / "nab", "--scores", tmp_path / "scores")
    assert read.exit_code == 0, read.output
    result = json.loads((tmp_path / "r.json").read_text())["standard"]
    assert result["normalized_score"] > 90  # both spikes found early, nothing else
    assert f"{result['normalized_score']:.1f}" in read.output
    (tmp_path / "scores" / "k" / "b.csv").unlink()
    missing = _run("evaluate", "nab", tmp_path / "nab", "--scores", tmp_path / "scores")
    assert missing.exit_code == 2 and "has no 'k/b.csv'" in missing.output


@pytest.mark.slow
def test_nab_score_on_the_shared_corpus_does_not_regress(shared_data: Path) -> None:
    # 58.0 when measured (README); a drop below 55 means the detector got worse.
    result = _run("evaluate", "nab", shared_data / "nab")
    assert result.exit_code == 0, result.output
    standard = re.search(r"standard\s+\S\s+([\d.]+)", result.output)
    assert standard is not None, result.output
    assert float(standard.group(1)) >= 55.0
