"""The fleet story of ``seawall demo``: a simulated fleet watched, its incidents checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from seawall.cli._render import progress_steps

if TYPE_CHECKING:
    # Imported when the story runs: ``seawall --help`` need not load monitoring.
    from seawall.datasets import FleetEvent, SimulatedFleet
    from seawall.monitoring import Detection, EventScore, FleetScore, Incident, Incidents

__all__ = [
    "FleetRun",
    "compression_line",
    "fleet_story",
    "print_fleet_summary",
    "run_fleet_story",
    "truth_lines",
]

_TOP = 5


@dataclass(frozen=True, slots=True)
class FleetRun:
    """What the fleet story computed and wrote.

    Attributes
    ----------
    fleet : SimulatedFleet
        The simulated fleet and its planted events.
    detection : Detection
        Scores and baselines of every series.
    level : float
        The flagging level, :func:`~seawall.monitoring.fleet_threshold` of the fleet.
    flags : ndarray of bool, shape (n_series, n_steps)
        The flagged steps (runs of high scores, and four-fifths guardrail breaches).
    incidents : Incidents
        The flags grouped and ranked.
    score : FleetScore
        The incidents scored against the planted events.
    json, html : pathlib.Path
        ``incidents.json`` and ``fleet.html``.
    store : pathlib.Path
        ``fleet.duckdb``: the models, their last week of series and scores, and
        the incidents, for ``seawall serve``.
    """

    fleet: SimulatedFleet
    detection: Detection
    level: float
    flags: npt.NDArray[np.bool_]
    incidents: Incidents
    score: FleetScore
    json: Path
    html: Path
    store: Path

    @property
    def step(self) -> pd.Timedelta:
        """The length of one step (one hour in the demo).

        Returns
        -------
        pandas.Timedelta
            The time between two windows.
        """
        return pd.Timedelta(self.fleet.timestamps[1] - self.fleet.timestamps[0])


def _when(t: pd.Timestamp, *, short: bool = False) -> str:
    return pd.Timestamp(t).strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")


def _level(level: float) -> str:
    """A level close to 1 as ``1 − 8.0e-07`` (0.999 stays as it is)."""
    return f"{level:g}" if level <= 0.999 else f"1 − {1.0 - level:.1e}"


def _duration(steps: int, step: pd.Timedelta) -> str:
    hours = steps * step / pd.Timedelta(hours=1)
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:.1f} days"


def _labels(d: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items())


def _kind(e: FleetEvent) -> str:
    return f"{e.id} {e.kind.replace('_', ' ')} ({_labels(e.root_cause)})"


def _models(n: float) -> str:
    """The event's importance: the models whose accuracy or fairness it harms."""
    return "no model harmed" if n == 0 else f"{n:g} model{'' if n == 1 else 's'} harmed"


def _found(e: FleetEvent, s: EventScore, run: FleetRun) -> str:
    delay = s.delay or 0
    when = (
        f"in its first step ({_duration(1, run.step)})"
        if delay == 0
        else f"{_duration(delay, run.step)} after it began"
    )
    named = (
        "which names its root cause"
        if s.labelled
        else f"whose labels do not name {_labels(e.root_cause)}"
    )
    return (
        f"✓ {_kind(e)}, {_models(e.importance)}: found {when}; its main incident is "
        f"#{s.main_rank}, {named}; {s.n_found:,} of its {s.n_affected:,} affected series "
        f"{'was' if s.n_found == 1 else 'were'} flagged."
    )


def _missed(e: FleetEvent, run: FleetRun) -> str:
    """Why an event was missed, in numbers: its best score, and where its baseline went."""
    keys = run.fleet.series["series"].tolist()
    index = {k: i for i, k in enumerate(keys)}
    rows = np.array([index[k] for k in e.affected], dtype=np.int64)
    window = slice(e.start_step, e.end_step + 1)
    scores = run.detection.scores[rows, window]
    head = f"✗ {_kind(e)}, {_models(e.importance)}: MISSED."
    if np.isnan(scores).all():
        return f"{head} None of its {rows.size:,} series was scored during the event."
    best = int(np.nanargmax(np.nanmax(scores, axis=1)))
    row, peak = int(rows[best]), float(np.nanmax(scores))
    # A day at each end of the event, medians: one step is too noisy to quote.
    per_day = max(int(pd.Timedelta(days=1) / run.step), 1)
    first = slice(e.start_step, min(e.start_step + per_day, e.end_step + 1))
    last = slice(max(e.end_step + 1 - per_day, e.start_step), e.end_step + 1)
    values, base = run.fleet.values[row], run.detection.baselines[row]
    v0, v1 = float(np.nanmedian(values[first])), float(np.nanmedian(values[last]))
    b0, b1 = float(np.nanmedian(base[first])), float(np.nanmedian(base[last]))
    # "Followed" only when the baseline moved the same way by at least half as much.
    followed = (v1 - v0) * (b1 - b0) > 0 and abs(b1 - b0) >= 0.5 * abs(v1 - v0)
    baseline = (
        f"the detector's baseline followed it ({b0:.3f} → {b1:.3f}), so no step stood out"
        if followed
        else f"the detector's baseline went from {b0:.3f} to {b1:.3f}"
    )
    return (
        f"{head} No incident holds any of its {rows.size:,} affected series during the "
        f"event. On {keys[row]} the value went from {v0:.3f} to {v1:.3f} (medians of the "
        f"first and last day) and {baseline}: its highest score was {peak:.4f}, short of "
        f"a run improbable at the {_level(run.level)} level."
    )


def truth_lines(run: FleetRun) -> list[tuple[str, str]]:
    """The comparison with the planted events, as ``(tone, sentence)`` lines.

    Parameters
    ----------
    run : FleetRun
        The story's result.

    Returns
    -------
    list of (str, str)
        A headline (events found, as a count), one line per event (found: when,
        at which rank, whether the incident names its root cause, how many of its
        series; missed: said plainly, with its best score and its baseline), where
        the most important event ranks, and the false alarms. ``tone`` is
        ``"good"``, ``"bad"`` or ``"muted"``.
    """
    events, s = run.fleet.events, run.score
    found = sum(e.detected for e in s.events)
    missed = [e for e, es in zip(events, s.events, strict=True) if not es.detected]
    head = f"Ground truth: {found} of {len(events)} injected events found"
    head += (
        "; missed: " + ", ".join(f"{e.id} {e.kind.replace('_', ' ')}" for e in missed) + "."
        if missed
        else "."
    )
    lines = [("bad" if missed else "good", head)]
    for e, es in zip(events, s.events, strict=True):
        lines.append(("good", _found(e, es, run)) if es.detected else ("bad", _missed(e, run)))
    if events:
        top = events[int(np.argmax([e.importance for e in events]))]
        where = (
            f"is incident #{s.root_cause_rank}"
            if s.root_cause_rank is not None
            else "was not found"
        )
        tone = "good" if s.root_cause_rank == 1 else "bad"
        lines.append(
            (tone, f"The most important event ({top.id}, {_models(top.importance)}) {where}.")
        )
    lines.append(
        (
            "muted",
            f"False alarms: {s.false_alarm_runs:,} of {s.n_runs:,} flagged runs lie on no "
            f"affected series during an injected event ({s.false_alarm_rate:.3f} per series "
            f"per 5 days); the incidents' "
            f"purity (share of members from one event, or all false alarms) is "
            f"{s.purity:.3f}.",
        )
    )
    return lines


def run_fleet_story(
    out: Path,
    seed: int,
    advance: Callable[[str], None],
    *,
    n_models: int = 1000,
    n_days: int = 30,
) -> FleetRun:
    """Simulate a fleet, score every series, group the flags, check them against the truth.

    The chain of ``benchmarks/fleet_quality.py`` with library defaults: an hourly
    fleet from :func:`~seawall.datasets.simulate_fleet` with its four planted
    events, :func:`~seawall.monitoring.detect`,
    :func:`~seawall.monitoring.fleet_flags` (runs at the fleet's level, weekly
    echoes dropped, the four-fifths guardrail on the disparate-impact interval of
    the last day's counts breached for half a day, and the accuracy floor at its
    warm-up level less 0.02 on each window's interval, three windows in a row),
    :func:`~seawall.monitoring.group_incidents` and
    :func:`~seawall.monitoring.score_incidents`. Writes ``incidents.json``
    (``Incidents.to_dict()``) and ``fleet.html`` to ``out``.

    Parameters
    ----------
    out : pathlib.Path
        The directory to write to (created when needed).
    seed : int
        Seed of the fleet.
    advance : callable
        Progress callback (four steps).
    n_models : int, default=1000
        Models in the fleet.
    n_days : int, default=30
        Days of history.

    Returns
    -------
    FleetRun
        The fleet, detection, flags, incidents, their score and the files written.
    """
    from seawall.datasets import simulate_fleet
    from seawall.monitoring import (
        daily_steps,
        detect,
        fleet_flags,
        group_incidents,
        score_incidents,
    )
    from seawall.reports._fleet_page import render_fleet_page
    from seawall.storage import Store, store_fleet_results

    advance(f"fleet: simulating {n_models:,} models over {n_days} days")
    fleet = simulate_fleet(n_models, n_days, seed=seed)
    n_series, n_steps = fleet.values.shape
    advance(f"fleet: scoring {n_series:,} series x {n_steps:,} steps")
    detection = detect(fleet.values)
    advance("fleet: flagging anomalies and grouping them into incidents")
    per_day = daily_steps(fleet.timestamps)
    # Disparate impact's interval pools the last day, so neighbours share most
    # rows: its breach must last half a day. Accuracy's is each window's own.
    flagged = fleet_flags(
        detection.scores,
        fleet.timestamps,
        upper=fleet.upper,
        metrics=fleet.series["metric"].tolist(),
        values=fleet.values,
        reference_steps=int(detection.warmup.any(axis=0).sum()),
        guard_run={"disparate_impact": max(round(per_day / 2), 1)},
    )
    flags, ranked, level = flagged.flags, flagged.scores, float(flagged.levels.min())
    incidents = group_incidents(flags, ranked, fleet.series, timestamps=fleet.timestamps)
    score = score_incidents(
        incidents,
        fleet.events,
        fleet.series["series"].tolist(),
        ~np.isnan(detection.scores),
        steps_per_day=max(round(per_day), 1),
    )
    advance("fleet: writing incidents.json, fleet.html and fleet.duckdb")
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "incidents.json", out / "fleet.html"
    store_path = out / "fleet.duckdb"
    for old in (store_path, store_path.with_name(store_path.name + ".wal")):
        old.unlink(missing_ok=True)  # a fresh store each run
    with Store(store_path) as store:
        store_fleet_results(
            store, fleet, detection, flags, incidents, last_steps=7 * max(round(per_day), 1)
        )
    json_path.write_text(
        json.dumps(incidents.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    run = FleetRun(
        fleet, detection, level, flags, incidents, score, json_path, html_path, store_path
    )
    page = render_fleet_page(
        incidents,
        fleet.values,
        detection.baselines,
        flags,
        fleet.series,
        timestamps=fleet.timestamps,
        title=f"Fleet monitoring: {n_models:,} simulated models, {n_days} days",
        facts=_facts(run),
        truth=truth_lines(run),
    )
    html_path.write_text(page, encoding="utf-8")
    return run


def _facts(run: FleetRun) -> list[tuple[str, str]]:
    ts, (n_series, n_steps) = run.fleet.timestamps, run.fleet.values.shape
    s = run.score
    return [
        ("models", f"{len(run.fleet.models):,}"),
        ("series", f"{n_series:,}"),
        ("steps", f"{n_steps:,} × {_duration(1, run.step)}"),
        ("from", _when(ts[0])),
        ("to", _when(ts[-1])),
        ("seed", str(run.fleet.seed)),
        ("flagging level", _level(run.level)),
        ("compression", f"{s.compression:.1f}× ({s.n_anomalies:,} steps)"),
    ]


def compression_line(incidents: Incidents) -> str:
    """``"N anomalous steps on M series → K incidents (compression X×)"``.

    Parameters
    ----------
    incidents : Incidents
        The grouped flags.

    Returns
    -------
    str
        The line.
    """
    n_series = np.unique(incidents.run_series).size
    return (
        f"{incidents.n_anomalies:,} anomalous steps on {n_series:,} series → "
        f"{len(incidents):,} incidents (compression {incidents.compression:.1f}×)"
    )


def _shared(inc: Incident) -> str:
    """Shared labels, short: a shared model implies its team, region and project."""
    shared = dict(inc.shared)
    if "model" in shared:
        for implied in ("team", "region", "project"):
            shared.pop(implied, None)
    # "k: v" rather than "k=v": a narrow column wraps at the space, not inside a name.
    text = escape(", ".join(f"{k}: {v}" for k, v in shared.items())) or "—"
    # The label that tied the members, when the shared ones do not show it.
    extra = {k: v for k, v in inc.linked_by.items() if k != "metric" and inc.shared.get(k) != v}
    if extra:
        linked = ", ".join(f"{k}: {v}" for k, v in extra.items())
        text += f" [dim](linked by {escape(linked)})[/]"
    return text


def print_fleet_summary(console: Console, run: FleetRun) -> None:
    """Print the fleet, the compression, the top incidents and the ground-truth check.

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    run : FleetRun
        The story's result.
    """
    fleet, det, inc = run.fleet, run.detection, run.incidents
    n_series, n_steps = fleet.values.shape
    n_scored = int((~np.isnan(det.scores)).sum())
    n_warmup = int(det.warmup.any(axis=0).sum())
    console.print(
        f"[bold]Fleet[/bold] {len(fleet.models):,} models, {n_series:,} metric series × "
        f"{n_steps:,} steps of {_duration(1, run.step)} ({_when(fleet.timestamps[0])} to "
        f"{_when(fleet.timestamps[-1])}); the first {n_warmup:,} steps of each series are "
        f"for learning, {n_scored:,} steps scored.",
        highlight=False,
    )
    console.print(compression_line(inc), highlight=False)
    if len(inc):
        year = pd.Timestamp(fleet.timestamps[0]).year
        table = Table(
            title=f"Top {min(_TOP, len(inc))} of {len(inc):,} incidents, by severity "
            f"(times in {year}, UTC)",
            box=box.SIMPLE_HEAD,
            padding=(0, 0),
            pad_edge=False,
        )
        for col in ("rank", "start", "end", "series", "models"):
            table.add_column(col, justify="right", no_wrap=True)
        table.add_column("shared labels")
        table.add_column("severity", justify="right", no_wrap=True)
        for i in inc.incidents[:_TOP]:
            table.add_row(
                str(i.rank),
                _when(i.start, short=True),
                _when(i.end, short=True),
                f"{len(i.members):,}",
                f"{i.n_models:,}",
                _shared(i),
                f"{i.severity:.1f}",
            )
        console.print(table)
    styles = {"good": "", "bad": "bold red", "muted": "dim"}
    for tone, text in truth_lines(run):
        style = styles[tone]
        console.print(f"[{style}]{escape(text)}[/]" if style else escape(text), highlight=False)
    console.print(
        f"Incidents: {run.json}\nPage:      {run.html}\nStore:     {run.store} "
        f"(the last week of every series, its scores and the incidents)",
        highlight=False,
    )


def fleet_story(
    console: Console, out: Path, seed: int, *, n_models: int = 1000, n_days: int = 30
) -> FleetRun:
    """Tell the fleet story: a heading, progress, then :func:`print_fleet_summary`.

    Parameters
    ----------
    console : rich.console.Console
        Where to print (progress goes to standard error).
    out : pathlib.Path
        The directory of ``incidents.json`` and ``fleet.html``.
    seed : int
        Seed of the fleet.
    n_models : int, default=1000
        Models in the fleet.
    n_days : int, default=30
        Days of history.

    Returns
    -------
    FleetRun
        What was computed and written.
    """
    console.rule(
        f"[bold]Fleet monitoring: {n_models:,} models over {n_days} days, with injected events"
    )
    with progress_steps(Console(stderr=True), 4) as advance:
        run = run_fleet_story(out, seed, advance, n_models=n_models, n_days=n_days)
    print_fleet_summary(console, run)
    return run
