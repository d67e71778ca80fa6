"""The audit's associations section on a two-worker LocalCluster equals the in-memory one."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _dask_cluster import client, distributed

from seawall.audit import audit as memory_audit
from seawall.datasets import write_audit_parquet
from seawall.distributed import audit
from seawall.exceptions import InvalidParameterError

__all__ = ["client"]

COLUMNS = {"label": "label", "prediction": "prediction", "sensitive": ["sex", "race"]}


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A decision log with a planted weak slice (region x income band), in 4 files."""
    folder = tmp_path_factory.mktemp("audit") / "parts"
    written = write_audit_parquet(folder, 40_000, rows_per_file=10_000, random_state=3)
    frame = pd.concat([pd.read_parquet(f) for f in written.files], ignore_index=True)
    return folder, frame


def _section(doc: dict[str, object]) -> dict[str, object]:
    """The section without the fingerprint (in memory it hashes the table, here the files)."""
    return {k: v for k, v in doc.items() if k != "context_fingerprint"}


@pytest.mark.parametrize("context", [None, ["region", "income_band", "age_group"]])
def test_the_associations_section_equals_memory_with_the_same_row_key(
    client: distributed.Client, parts: tuple[Path, pd.DataFrame], context: list[str] | None
) -> None:
    folder, frame = parts
    kwargs = {**COLUMNS, "split_key": "row_id", "context": context, "mitigation": False}
    want = memory_audit(frame, **kwargs)  # type: ignore[arg-type]
    del kwargs["mitigation"]
    stages: list[str] = []
    got = audit(folder, **kwargs, scheduler=client, progress=lambda s, *_: stages.append(s))  # type: ignore[arg-type]
    assert got.associations is not None and want.associations is not None
    assert {"count", "errors: survey", "outputs: prepare"} <= set(stages)
    assert got.associations.skipped is None
    assert _section(got.associations.to_dict()) == _section(want.associations.to_dict())
    slices = got.associations.error_profile.findings.context  # type: ignore[union-attr]
    if context is not None:  # the planted weak slice is found
        assert "region = south-west and income_band = low" in slices
    else:  # the score is a context, and near the threshold the model errs most
        assert all(c.startswith("score = ") for c in slices[:2])
    assert got.parameters.split_key == "row_id"
    assert got.parameters.context == (None if context is None else tuple(context))
    assert got.associations.context_fingerprint is not None
    assert "row_id" not in got.associations.context  # the row key is never a context


def test_without_a_row_key_the_section_says_what_to_do(
    client: distributed.Client, parts: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, _ = parts
    got = audit(folder, **COLUMNS, scheduler=client)  # type: ignore[arg-type]
    assert got.associations is not None and got.associations.error_profile is None
    assert "split_key=" in (got.associations.skipped or "")
    assert audit(folder, **COLUMNS, associations=False, scheduler=client).associations is None  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="context column 'sex'"):
        audit(folder, **COLUMNS, split_key="row_id", context=["sex"], scheduler=client)  # type: ignore[arg-type]

    from click.testing import CliRunner

    from seawall.cli import cli

    run = CliRunner().invoke(
        cli,
        [
            "audit",
            str(folder),
            "--label",
            "label",
            "--prediction",
            "prediction",
            "--sensitive",
            "sex",
            "--split-key",
            "row_id",
            "--context",
            "region",
            "--context",
            "income_band",
            "--association-depth",
            "2",
            "--scheduler",
            client.scheduler.address,
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert run.exit_code == 0, run.output
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    section = report["associations"]
    assert section["skipped"] is None and section["context"] == ["region", "income_band"]
    assert report["parameters"]["split_key"] == "row_id"
    assert report["parameters"]["context"] == ["region", "income_band"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "--split-key row_id" in html and "--context region" in html  # the command to rerun
    assert "--scheduler local" in html and report["parameters"]["on_cluster"] is True
