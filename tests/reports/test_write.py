"""write_report: the files, their names, and the JSON round trip."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from seawall.audit import AuditResult
from seawall.reports import ReportPaths, render_html, write_report


def _normalised(obj: object) -> object:
    return json.loads(json.dumps(obj, allow_nan=False))


@pytest.mark.parametrize("name", ["classification_audit", "plain_audit", "regression_audit"])
def test_json_round_trips(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    result: AuditResult = request.getfixturevalue(name)
    paths = write_report(result, tmp_path / "out")
    loaded = json.loads(paths.json.read_text(encoding="utf-8"))
    assert loaded == _normalised(result.to_dict())
    assert loaded["schema"] == "seawall.audit/1"
    assert loaded["data"]["fingerprint"] == result.fingerprint


def test_writes_both_files_in_a_new_directory(
    classification_audit: AuditResult, tmp_path: Path
) -> None:
    out = tmp_path / "a" / "b"
    paths = write_report(classification_audit, str(out))
    assert isinstance(paths, ReportPaths)
    assert paths == ReportPaths(html=out / "report.html", json=out / "audit.json")
    assert sorted(p.name for p in out.iterdir()) == ["audit.json", "report.html"]
    assert paths.html.read_text(encoding="utf-8") == render_html(classification_audit)


def test_overwrites_an_earlier_report(plain_audit: AuditResult, tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("old", encoding="utf-8")
    paths = write_report(plain_audit, tmp_path)
    assert paths.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_paths_are_frozen(plain_audit: AuditResult, tmp_path: Path) -> None:
    paths = write_report(plain_audit, tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        paths.html = tmp_path  # type: ignore[misc]


def test_json_is_strict(classification_audit: AuditResult, tmp_path: Path) -> None:
    text = write_report(classification_audit, tmp_path).json.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard constant {c}"))
