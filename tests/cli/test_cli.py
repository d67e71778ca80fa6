from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from seawall.cli import cli


@pytest.fixture
def data_file(tmp_path: Path, rng: np.random.Generator) -> Path:
    n = 3000
    group = rng.choice(["a", "b"], size=n)
    y = (rng.random(n) < 0.4).astype(int)
    pred = (rng.random(n) < np.where(group == "b", 0.25, 0.5)).astype(int)
    path = tmp_path / "preds.csv"
    pd.DataFrame({"y": y, "pred": pred, "group": group}).to_csv(path, index=False)
    return path


def _audit(runner: CliRunner, data: Path, out: Path, *extra: str):
    args = [
        "audit",
        str(data),
        "--label",
        "y",
        "--prediction",
        "pred",
        "--sensitive",
        "group",
        "--out",
        str(out),
        *extra,
    ]
    return runner.invoke(cli, args)


def test_audit_writes_report_and_json(data_file: Path, tmp_path: Path) -> None:
    result = _audit(CliRunner(), data_file, tmp_path / "out")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert doc["passed"] is True
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<html" in html
    assert "Selection rate for group = " in result.output
    assert "95% CI" in result.output


def test_failed_gate_exits_1(data_file: Path, tmp_path: Path) -> None:
    result = _audit(CliRunner(), data_file, tmp_path / "out", "--fail-on", "disparate_impact<0.8")
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output


def test_parquet_input(data_file: Path, tmp_path: Path) -> None:
    pq = tmp_path / "preds.parquet"
    pd.read_csv(data_file).to_parquet(pq)
    result = _audit(CliRunner(), pq, tmp_path / "out2")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--sensitive", "gruop"], "Did you mean 'group'?"),
        (["--reference", "group=z"], "reference group 'z' does not occur"),
        (["--reference", "group"], "--reference expects COLUMN=VALUE"),
        (["--fail-on", "dp<<1"], "does not parse"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    data_file: Path, tmp_path: Path, extra: list[str], fragment: str
) -> None:
    result = _audit(CliRunner(), data_file, tmp_path / "out", *extra)
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_unreadable_file_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"\x00\x01\x02\xff\xfe")
    missing = tmp_path / "nope.csv"
    for path, fragment in ((bad, "could not read"), (missing, "does not exist")):
        result = _audit(CliRunner(), path, tmp_path / "out")
        assert result.exit_code == 2
        assert fragment in result.output


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    """Through a real process: stderr has the message, no traceback, status 2."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seawall",
            "audit",
            str(tmp_path / "missing.csv"),
            "--label",
            "y",
            "--prediction",
            "p",
            "--sensitive",
            "g",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def slices_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seawall.datasets import make_slices

    path = tmp_path_factory.mktemp("slices") / "slices.csv"
    make_slices(20_000, random_state=0).frame.to_csv(path, index=False)
    return path


def _audit_slices(data: Path, out: Path, *extra: str):
    args = ["audit", str(data), "--label", "y_true", "--prediction", "y_pred"]
    return CliRunner().invoke(cli, [*args, "--sensitive", "group", "--out", str(out), *extra])


def test_associations_are_summarised_in_one_line(slices_file: Path, tmp_path: Path) -> None:
    result = _audit_slices(slices_file, tmp_path / "out", "--association-depth", "2")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert re.search(
        r"Associations: [1-9]\d* weak slices?, 1 error disparity, [1-9]\d* output "
        r"associations? among [\d,]+ hypotheses over 12 columns \(up to 2 conditions; no gate "
        r"looks at them\)\.",
        text,
    ), text
    assert text.index("Associations:") < text.index("Report:")
    doc = json.loads((tmp_path / "out" / "audit.json").read_text())
    contexts = [f["context"] for f in doc["associations"]["error_profile"]["findings"]]
    assert "f1 = b and f4 = b" in contexts
    html = (tmp_path / "out" / "report.html").read_text()
    assert 'id="associations"' in html and "--associations" in html


def test_no_associations(slices_file: Path, tmp_path: Path) -> None:
    result = _audit_slices(slices_file, tmp_path / "out", "--no-associations")
    assert result.exit_code == 0, result.output
    assert "Associations" not in result.output
    doc = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert doc["associations"] is None and doc["parameters"]["associations"] is False


def test_associations_skipped_without_other_columns(data_file: Path, tmp_path: Path) -> None:
    result = _audit(CliRunner(), data_file, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Associations: skipped, the data have no column besides" in " ".join(
        result.output.split()
    )


def test_bad_association_depth_exits_2(data_file: Path, tmp_path: Path) -> None:
    result = _audit(CliRunner(), data_file, tmp_path / "out", "--association-depth", "5")
    assert result.exit_code == 2
    assert "--association-depth" in result.output


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "--rows", "4000"])
    assert result.exit_code == 0, result.output
    for story in ("lending", "health"):
        assert (tmp_path / story / "report.html").is_file()
        doc = json.loads((tmp_path / story / "audit.json").read_text())
        assert doc["data"]["n_rows"] > 1000
    assert "Four-fifths rule" in result.output
    assert result.output.count("Associations: ") == 2  # lending and health


def test_audit_contexts_and_row_key_options(tmp_path: Path, rng: np.random.Generator) -> None:
    n = 4000
    frame = pd.DataFrame(
        {
            "y": (rng.random(n) < 0.4).astype(int),
            "pred": (rng.random(n) < 0.4).astype(int),
            "group": rng.choice(["a", "b"], size=n),
            "region": rng.choice(["n", "s", "e"], size=n),
            "plan": rng.choice(["x", "y"], size=n),
            "id": np.arange(n),
        }
    )
    data = tmp_path / "preds.csv"
    frame.to_csv(data, index=False)
    extra = ("--context", "region", "--split-key", "id", "--no-mitigation")
    result = _audit(CliRunner(), data, tmp_path / "out", *extra)
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert doc["parameters"]["context"] == ["region"] and doc["parameters"]["split_key"] == "id"
    assert doc["associations"]["context"] == ["region"]
    result = _audit(CliRunner(), data, tmp_path / "bad", "--context", "nope")
    assert result.exit_code == 2 and "nope" in result.output and "Traceback" not in result.output
