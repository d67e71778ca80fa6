from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from seawall.cli._demo_fleet import FleetRun, fleet_story, truth_lines
from seawall.monitoring import group_incidents, score_incidents


@pytest.fixture(scope="module")
def told(tmp_path_factory: pytest.TempPathFactory) -> tuple[FleetRun, str]:
    out = tmp_path_factory.mktemp("demo") / "fleet"
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    run = fleet_story(console, out, 0, n_models=60, n_days=20)
    return run, buffer.getvalue()


def test_writes_incidents_json_and_page(told: tuple[FleetRun, str]) -> None:
    run, _ = told
    assert run.json.name == "incidents.json" and run.html.name == "fleet.html"
    doc = json.loads(run.json.read_text(encoding="utf-8"))
    assert doc["n_incidents"] == len(doc["incidents"]) == len(run.incidents) > 0
    assert [i["rank"] for i in doc["incidents"]] == list(range(1, len(doc["incidents"]) + 1))
    assert doc["incidents"][0]["members"] and doc["incidents"][0]["summary"]
    page = run.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script src=" not in page and "<link " not in page  # self-contained
    for k in (1, 2, 3):
        assert f'id="incident-{k}"' in page
    assert "Against the ground truth" in page


def test_console_names_compression(told: tuple[FleetRun, str]) -> None:
    run, text = told
    flat = " ".join(text.split())
    inc = run.incidents
    assert f"{inc.n_anomalies:,} anomalous steps on " in flat
    assert f"→ {len(inc):,} incidents (compression {inc.compression:.1f}×)" in flat
    assert "Top 5 of " in flat and "shared labels" in flat
    assert str(run.json) in flat and str(run.html) in flat


def test_console_gives_the_ground_truth_plainly(told: tuple[FleetRun, str]) -> None:
    run, text = told
    flat = " ".join(text.split())
    n_found = sum(e.detected for e in run.score.events)
    match = re.search(r"Ground truth: (\d+) of (\d+) injected events found", flat)
    assert match is not None
    assert (int(match[1]), int(match[2])) == (n_found, len(run.fleet.events))
    for event, score in zip(run.fleet.events, run.score.events, strict=True):
        if score.detected:
            assert f"✓ {event.id} " in flat and f"main incident is #{score.main_rank}," in flat
        else:
            assert re.search(rf"✗ {event.id} [^✓✗]*: MISSED\.", flat)
    assert "fairness creep" in flat


def _nothing_flagged(run: FleetRun) -> FleetRun:
    """The same run had nothing been flagged: every event missed."""
    flags = np.zeros_like(run.flags)
    none = group_incidents(flags, run.detection.scores, run.fleet.series)
    scored = ~np.isnan(run.detection.scores)
    keys = run.fleet.series["series"].tolist()
    score = score_incidents(none, run.fleet.events, keys, scored, steps_per_day=24)
    return replace(run, flags=flags, incidents=none, score=score)


def test_truth_lines_tones(told: tuple[FleetRun, str]) -> None:
    run, _ = told
    lines = truth_lines(run)
    assert {tone for tone, _ in lines} <= {"good", "bad", "muted"}
    assert lines[0] == ("good", "Ground truth: 4 of 4 injected events found.")
    missed = truth_lines(_nothing_flagged(run))
    assert missed[0][0] == "bad" and "; missed: E1 source break, " in missed[0][1]
    gone = [text for tone, text in missed if text.startswith("✗")]
    assert len(gone) == len(run.fleet.events)
    assert all(" MISSED. " in text for text in gone)
    # Each says why: the best score, short of a run at the fleet's level.
    creep = next(t for t in gone if "fairness creep" in t)
    level = re.escape(f"1 − {1 - run.level:.1e}")
    assert re.search(
        rf"highest score was 0\.\d{{4}}, short of a run improbable at the {level} ", creep
    )
    assert "The most important event (E1, " in missed[-2][1] and "was not found" in missed[-2][1]


def test_same_seed_same_incidents(told: tuple[FleetRun, str], tmp_path: Path) -> None:
    run, _ = told
    again = fleet_story(Console(file=io.StringIO()), tmp_path / "fleet", 0, n_models=60, n_days=20)
    assert again.json.read_text(encoding="utf-8") == run.json.read_text(encoding="utf-8")


def test_the_store_opens_in_the_dashboard(told: tuple[FleetRun, str]) -> None:
    from fastapi.testclient import TestClient

    from seawall.service import ServiceSettings, create_app, issue_token
    from seawall.storage import Store

    run, text = told
    assert f"Store:     {run.store}" in text
    n_series = run.fleet.values.shape[0]
    with Store(run.store, read_only=True) as store:
        sizes = store.table_sizes()
        assert sizes["models"] == len(run.fleet.models)
        assert sizes["metric_points"] == n_series * 7 * 24  # the last week of every series
        assert sizes["incidents"] == len(run.incidents)
        flagged = store.read_anomalies(only_anomalies=True).to_pandas()
    week = run.flags[:, -7 * 24 :]
    assert len(flagged) == int(week.sum())
    app = create_app(ServiceSettings(store=run.store, print_admin_token=False, schedule_seconds=0))
    with TestClient(app) as client:
        token = issue_token(app.state.store, "demo", ["read"], ["*"]).token
        client.post(
            "/login",
            content=f"token={token}&next=/",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        page = client.get("/p/default").text
        assert 'id="health"' in page and 'id="incidents"' in page
        models = client.get(
            "/api/v1/projects/default/models", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert models["total"] == len(run.fleet.models)
        assert models["items"][0]["open_incidents"] >= 1
        # The demo's scores are current: the monitoring loop leaves them as they are.
        outcomes = {c.project: c.outcome for c in app.state.monitor.cycle()}
        assert outcomes == {"default": "unchanged"}
