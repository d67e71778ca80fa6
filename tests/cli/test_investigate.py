"""``seawall investigate``: planted effects found end to end, files written, bad input refused."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

import seawall.associations
from seawall._io import file_sha256
from seawall.cli import cli
from seawall.datasets import make_slices, make_tagging

SLICE_CONTEXT = ["f1", "f4", "f3", "f6", "f8"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """make_slices(20_000) as CSV and Parquet, and a tagger's output with its label lists."""
    path = tmp_path_factory.mktemp("investigate")
    frame = make_slices(20_000, random_state=0).frame
    frame.to_csv(path / "slices.csv", index=False)
    frame.to_parquet(path / "slices.parquet")
    frame.iloc[:150].to_csv(path / "tiny.csv", index=False)
    tags = make_tagging(8_000, 300, random_state=0).to_frame("tags")
    tags.to_parquet(path / "tags.parquet")
    as_text = tags.assign(tags=tags["tags"].map("|".join))
    as_text.to_csv(path / "tags.csv", index=False)
    return path


def _run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["investigate", *(str(a) for a in args)])


def _context_args(columns: list[str]) -> list[str]:
    return [arg for col in columns for arg in ("--context", col)]


def _load(out: Path) -> dict:  # type: ignore[type-arg]
    assert (out / "report.html").is_file()
    return json.loads((out / "findings.json").read_text(encoding="utf-8"))


def test_error_profile_finds_the_planted_weak_slice(data_dir: Path, tmp_path: Path) -> None:
    data = data_dir / "slices.csv"
    result = _run(
        data,
        "--error-of",
        "y_true,y_pred",
        "--protected",
        "group",
        *_context_args(SLICE_CONTEXT),
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    doc = _load(tmp_path / "out")
    shown = {(f["kind"], f["context"], f["group"]) for f in doc["findings"]}
    assert ("weak_slice", "f1 = b and f4 = b", "") in shown
    assert ("error_disparity", "f3 = e", "B") in shown
    assert {h["stage"] for h in doc["hypotheses"]} == {"search", "confirm"}
    assert len(doc["hypotheses"]) > 1000
    assert doc["parameters"]["context"] == SLICE_CONTEXT
    assert doc["data"] == {"source": str(data), "sha256": file_sha256(data)}
    assert doc["schema"] == "seawall.investigation/1"
    assert doc["seawall_version"] == seawall.__version__
    assert doc["command"].startswith(f"seawall investigate {data} --protected group")
    # The summary table on standard output.
    assert "Findings" in result.output and "weak slice" in result.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Where f1 = b and f4 = b" in html


def test_the_recorded_command_repeats_the_investigation(data_dir: Path, tmp_path: Path) -> None:
    first = _run(
        data_dir / "slices.csv",
        "--error-of",
        "y_true,y_pred",
        "--error",
        "fnr",
        "--protected",
        "group",
        *_context_args(["f1", "f3"]),
        "--max-depth",
        "2",
        "--seed",
        "4",
        "--out",
        tmp_path / "a",
    )
    assert first.exit_code == 0, first.output
    doc = _load(tmp_path / "a")
    args = shlex.split(doc["command"])
    assert args[:2] == ["seawall", "investigate"]
    args[-1] = str(tmp_path / "b")  # the --out directory
    again = CliRunner().invoke(cli, args[1:])
    assert again.exit_code == 0, again.output
    repeat = _load(tmp_path / "b")
    assert repeat["parameters"] == doc["parameters"]
    assert repeat["parameters"]["error"] == "fnr"
    assert repeat["parameters"]["random_state"] == 4
    assert repeat["findings"] == doc["findings"]


def test_parquet_output_association_with_explanatory(data_dir: Path, tmp_path: Path) -> None:
    result = _run(
        data_dir / "slices.parquet",
        "--output",
        "y_pred",
        "--protected",
        "group",
        "--explanatory",
        "qualification",
        *_context_args(["f5", "f7", "f0"]),
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    doc = _load(tmp_path / "out")
    assert [(f["kind"], f["context"], f["group"]) for f in doc["findings"]] == [
        ("association", "f5 = c", "B")
    ]
    assert [e["context"] for e in doc["explained"]] == ["everyone"]
    assert doc["parameters"]["explanatory"] == ["qualification"]
    assert "explained" in result.output


def test_context_defaults_to_every_other_column(data_dir: Path, tmp_path: Path) -> None:
    result = _run(
        data_dir / "slices.csv",
        "--output",
        "y_pred",
        "--protected",
        "group",
        "--explanatory",
        "qualification",
        "--max-depth",
        "1",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    doc = _load(tmp_path / "out")
    columns = list(pd.read_csv(data_dir / "slices.csv", nrows=1).columns)
    expected = [c for c in columns if c not in ("y_pred", "group", "qualification")]
    assert doc["parameters"]["context"] == expected
    args = shlex.split(doc["command"])
    assert [args[i + 1] for i, a in enumerate(args) if a == "--context"] == expected


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["--error-of", "y_true,y_pred", "--protected", "gruop"],
            ["protected column 'gruop' is not in the data", "Did you mean 'group'?", "'f0'"],
        ),
        (
            ["--error-of", "y_true,y_pred", "--protected", "group", "--context", "f99"],
            ["context column 'f99'", "Available columns: ['f0', 'f1'"],
        ),
        (
            ["--error-of", "y_true,y_prd", "--protected", "group"],
            ["prediction column 'y_prd'", "Did you mean 'y_pred'?"],
        ),
        (
            ["--output", "y_pred", "--labels", "f1", "--protected", "group"],
            ["exactly one of --output", "got --output and --labels"],
        ),
        (["--protected", "group"], ["exactly one of --output", "got none"]),
        (
            ["--output", "y_pred", "--error-of", "y_true,y_pred", "--protected", "group"],
            ["got --output and --error-of"],
        ),
        (
            ["--error-of", "y_true", "--protected", "group"],
            ["--error-of expects TRUE_COL,PRED_COL"],
        ),
        (
            ["--output", "y_pred", "--error", "fpr", "--protected", "group"],
            ["--error applies only"],
        ),
        (
            ["--output", "y_pred", "--sensitive-label", "x", "--protected", "group"],
            ["--sensitive-label applies only with --labels"],
        ),
        (
            ["--output", "y_pred", "--protected", "group", "--context", "group"],
            ["'group' is given both as --protected and as --context"],
        ),
        (
            ["--output", "y_pred", "--protected", "group", "--max-depth", "0"],
            ["'max_depth' parameter", "Got 0"],
        ),
        (
            ["--output", "y_pred", "--protected", "group", "--alpha", "1.5"],
            ["'alpha' parameter", "Got 1.5"],
        ),
        (["--labels", "age", "--protected", "group"], ["must hold a list of labels", "float64"]),
        (["--labels", "y_true", "--protected", "group"], ["must hold a list of labels", "int64"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    data_dir: Path, tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    result = _run(data_dir / "slices.csv", *args, "--out", tmp_path / "out")
    line = _one_line_error(result)
    for fragment in fragments:
        assert fragment in line
    assert not (tmp_path / "out").exists()


def test_too_few_rows_to_split(data_dir: Path, tmp_path: Path) -> None:
    result = _run(
        data_dir / "tiny.csv", "--output", "y_pred", "--protected", "group", "--out", tmp_path
    )
    line = _one_line_error(result)
    assert "needs at least 100 rows in each split" in line
    assert "got 150 rows" in line


def test_a_label_column_of_scalars_in_parquet(data_dir: Path, tmp_path: Path) -> None:
    result = _run(
        data_dir / "tags.parquet",
        "--labels",
        "region",
        "--protected",
        "user_group",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output  # one label per row is a list of one


def test_missing_file(tmp_path: Path) -> None:
    result = _run(tmp_path / "nope.csv", "--output", "y", "--protected", "g", "--out", tmp_path)
    assert "does not exist" in _one_line_error(result)


@pytest.mark.parametrize("name", ["tags.csv", "tags.parquet"])
def test_labels_mode(data_dir: Path, tmp_path: Path, name: str) -> None:
    result = _run(
        data_dir / name,
        "--labels",
        "tags",
        "--protected",
        "user_group",
        "--max-depth",
        "1",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    doc = _load(tmp_path / "out")
    assert doc["hypotheses"]
    assert {h["kind"] for h in doc["hypotheses"]} == {"label_association"}
    assert all(h["label"] for h in doc["hypotheses"])
    assert "tags" not in doc["parameters"].get("context", [])


def test_an_unknown_sensitive_label(data_dir: Path, tmp_path: Path) -> None:
    result = _run(
        data_dir / "tags.csv",
        "--labels",
        "tags",
        "--sensitive-label",
        "no-such-tag",
        "--protected",
        "user_group",
        "--out",
        tmp_path,
    )
    message = _one_line_error(result)
    assert "sensitive_labels" in message and "'no-such-tag'" in message


def test_labels_mode_hands_discover_labels_a_sparse_matrix(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's side of the contract, with a stand-in for discover_labels."""
    import scipy.sparse as sp

    from seawall.associations import find_associations

    calls: list[dict[str, object]] = []

    def discover_labels(  # type: ignore[no-untyped-def]
        labels, *, sensitive_features, context=None, sensitive_labels=(), label_names=(), **search
    ):
        calls.append(
            {"labels": labels, "names": label_names, "sensitive": sensitive_labels, **search}
        )
        first = labels[:, [label_names.index("weapon")]].toarray().ravel()
        return find_associations(first, sensitive_features=sensitive_features, context=context)

    monkeypatch.setattr(seawall.associations, "discover_labels", discover_labels, raising=False)
    tags = pd.read_parquet(data_dir / "tags.parquet")
    result = _run(
        data_dir / "tags.csv",
        "--labels",
        "tags",
        "--sensitive-label",
        "weapon",
        "--protected",
        "user_group",
        "--max-depth",
        "2",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    (call,) = calls
    matrix, names = call["labels"], call["names"]
    assert sp.issparse(matrix) and matrix.format == "csr"
    assert matrix.shape == (len(tags), len(names))
    assert matrix.nnz == sum(len(t) for t in tags["tags"])
    assert list(names) == sorted({t for item in tags["tags"] for t in item})
    assert call["sensitive"] == ("weapon",)
    assert call["max_depth"] == 2 and call["random_state"] == 0
    doc = _load(tmp_path / "out")
    assert "tags" not in doc["parameters"]["context"]
    assert "--labels tags --context region" in doc["command"]
    assert "--sensitive-label weapon" in doc["command"]


def test_a_categorical_output_is_measured_by_mutual_information(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    group = rng.choice(["A", "B"], n, p=[0.7, 0.3])
    city = rng.choice(["x", "y", "z"], n)
    where = ((city == "z") & (group == "B"))[:, None]
    cumulative = np.where(where, [0.3, 0.8, 1.0], [0.6, 0.8, 1.0])
    pick = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    decision = np.array(["approve", "review", "decline"])[pick]
    data = tmp_path / "decisions.csv"
    pd.DataFrame({"group": group, "city": city, "decision": decision}).to_csv(data, index=False)
    result = _run(data, "--output", "decision", "--protected", "group", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    doc = _load(tmp_path / "out")
    assert doc["parameters"]["outcome"] == "categorical"
    [finding] = doc["findings"]
    assert (finding["context"], finding["group"], finding["measure"]) == ("city = z", "B", "nmi")
    assert finding["label"] in ("approve", "review")
    assert 0 < finding["difference_lower"] < finding["difference"] < finding["difference_upper"]
    assert "NMI [CI]" in result.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Normalised mutual information" in html and "Most changed output" in html
