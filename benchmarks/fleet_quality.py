"""Does fleet monitoring find planted events, in few, pure, well-ranked incidents?

On ``seawall.datasets.simulate_fleet`` (default 1,000 models x 30 days, hourly;
about 13,000 metric series; per seed four planted events: a broken upstream
source, a slow regional drift, a fairness creep on one model and a sudden accuracy
drop on another; daily, weekly and Monday-batch peaks that are not events), each
seed runs the whole chain with library defaults:

    scores = detect(values)                      # the detector, default parameters
    flags = flag_anomalies(scores, ...)          # see RULES below
    incidents = group_incidents(flags, scores, fleet.series, timestamps=...)
    figures = score_incidents(incidents, fleet.events, ...)

The library's default chain (``seawall demo``, ``seawall monitor detect``) is the
rule DEFAULT_RULE, ``fleet_flags(scores, timestamps, upper=fleet.upper, ...)``:
runs of high scores at the level :func:`seawall.monitoring.fleet_threshold` sets
for the fleet's size (a nominal 0.25 false-alarm runs a day; ``1 - 8.0e-7`` for
12,996 hourly series), steps that repeat the step a week earlier dropped (the
weekly echo), disparate impact whose interval over the last day's counts lies
under 0.8 for half a day (12 steps in a row), and accuracy whose window's interval
lies under its warm-up level less 0.02 for 3 windows in a row. The default budget
and the 12 steps were chosen while looking at seeds 0-9, the echo rule after
looking at the false alarms of seeds 0-4, the accuracy floor after looking at the
accuracy drops missed in seeds 4 and 9; seeds 10-14 were run to report, not to
choose.

and reports, per flagging rule, the mean and minimum across seeds of the figures
defined in ``seawall.monitoring._fleet_eval`` (event recall, false-alarm runs per
series per 5 days, compression in flagged points per incident, purity, and the
rank of the incident holding the most important event, the source break):

targets: recall >= 0.9 with <= 0.5 false-alarm runs per series per 5 days;
compression >= 50 with purity >= 0.9; root cause ranked first in >= 90% of seeds.

A feedback round is measured too: the incidents of the first half of the scored
history that hold no event are marked false alarms (an oracle stands in for the
person), per-series thresholds follow from ``series_thresholds``, and the second
half is flagged with them; false-alarm runs and recall of the second half are
compared with and without feedback.

Run::

    PYTHONPATH=src python benchmarks/fleet_quality.py --models 1000 --days 30 \\
        --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from seawall.datasets._fleet import SimulatedFleet, simulate_fleet
from seawall.monitoring import daily_steps, detect, fleet_flags, fleet_threshold
from seawall.monitoring._feedback import Feedback, series_thresholds
from seawall.monitoring._flagging import flag_anomalies
from seawall.monitoring._fleet_eval import score_incidents
from seawall.monitoring._incidents import group_incidents

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import versions  # noqa: E402

#: name -> (threshold, run_level); run_level None is the plain rule scores >= threshold,
#: threshold None is ``fleet_threshold`` of the fleet.
FLAGGING: dict[str, tuple[float | None, float | None]] = {
    "plain 0.999": (0.999, None),
    "runs 0.999": (0.999, 0.99),
    "runs, fleet level": (None, 0.99),
}
#: Plus the four-fifths guardrail on disparate impact (``fleet.upper``, the
#: interval of the last day's counts: 12 steps in a row under 0.8).
GUARDED: dict[str, tuple[float | None, float | None]] = {
    "runs, fleet level + four-fifths guardrail": (None, 0.99),
}
#: The library's default chain: ``fleet_flags`` (the guarded rule, weekly echoes dropped).
DEFAULT_RULE = "fleet_flags: fleet level, weekly echo, four-fifths, accuracy floor"
RULES: dict[str, tuple[float | None, float | None]] = (
    FLAGGING | GUARDED | {DEFAULT_RULE: (None, 0.99)}
)
TARGETS = {
    "event_recall": (">=", 0.9),
    "false_alarm_rate": ("<=", 0.5),
    "compression": (">=", 50.0),
    "purity": (">=", 0.9),
    "root_cause_first": (">=", 0.9),
}


def _event_cells(fleet: SimulatedFleet) -> np.ndarray:
    """Cumulative count, per series, of the steps inside an event that affects it."""
    index = {k: i for i, k in enumerate(fleet.series["series"])}
    inside = np.zeros(fleet.values.shape, dtype=np.int64)
    for e in fleet.events:
        rows = [index[k] for k in e.affected]
        inside[rows, e.start_step : e.end_step + 1] = 1
    return np.concatenate([np.zeros((inside.shape[0], 1), np.int64), inside.cumsum(1)], axis=1)


def _feedback_round(
    fleet: SimulatedFleet, scores: np.ndarray, threshold: float, run_level: float | None
) -> dict[str, Any]:
    """Oracle feedback on the first half of the scored history, measured on the second."""
    scored = ~np.isnan(scores)
    first_scored = int(np.argmax(scored.any(axis=0)))
    mid = (first_scored + scores.shape[1]) // 2
    keys = fleet.series["series"].tolist()
    early = flag_anomalies(scores, threshold=threshold, run_level=run_level)
    early[:, mid:] = False
    inc = group_incidents(early, scores, fleet.series, timestamps=fleet.timestamps)
    # The oracle: an incident is real when one of its runs lies inside an event
    # that affects its series; otherwise it is a false alarm.
    cells = _event_cells(fleet)
    run_real = (cells[inc.run_series, inc.run_end + 1] - cells[inc.run_series, inc.run_start]) > 0
    real = np.zeros(len(inc), dtype=bool)
    np.logical_or.at(real, inc.run_incident, run_real)
    fb = Feedback()
    for incident, is_real in zip(inc.incidents, real, strict=True):
        action = "acknowledge" if is_real else "false_alarm"
        fb = fb.record(incident, action, fleet.timestamps[incident.end_step])
    thresholds = series_thresholds(fb, keys, now=fleet.timestamps[mid], threshold=threshold)
    late_mask = scored.copy()
    late_mask[:, :mid] = False
    late_events = [e for e in fleet.events if e.end_step >= mid]
    out: dict[str, Any] = {
        "n_false_alarm_feedback": int((~real).sum()),
        "n_raised": int((thresholds > threshold).sum()),
    }
    variants = (
        ("without", threshold, None),
        ("with", thresholds, None),
        ("co_anomaly", threshold, early),
    )
    for name, thr, history in variants:
        late = flag_anomalies(scores, threshold=thr, run_level=run_level)
        late[:, :mid] = False
        res = group_incidents(late, scores, fleet.series, co_anomaly_history=history)
        s = score_incidents(res, late_events, keys, late_mask, steps_per_day=24)
        out[name] = {
            "false_alarm_runs": s.false_alarm_runs,
            "event_recall": s.event_recall,
            "n_incidents": s.n_incidents,
            "compression": s.compression,
            "purity": s.purity,
        }
    return out


def run_seed(seed: int, models: int, days: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    fleet = simulate_fleet(models, days, seed=seed)
    t1 = time.perf_counter()
    det = detect(fleet.values)
    t2 = time.perf_counter()
    scores = np.asarray(det.scores)
    keys = fleet.series["series"].tolist()
    scored = ~np.isnan(scores)
    out: dict[str, Any] = {
        "seed": seed,
        "n_series": int(scores.shape[0]),
        "n_steps": int(scores.shape[1]),
        "seconds": {"simulate": t1 - t0, "detect": t2 - t1},
        "events": [
            {k: v for k, v in e.to_dict().items() if k != "affected"}
            | {"n_affected": len(e.affected)}
            for e in fleet.events
        ],
        "rules": {},
    }
    per_day = daily_steps(fleet.timestamps)
    level = fleet_threshold(scores.shape[0], steps_per_day=per_day)
    out["fleet_level"] = level
    half_day = max(round(per_day / 2), 1)
    metrics = fleet.series["metric"].tolist()
    for name, (threshold, run_level) in RULES.items():
        t3 = time.perf_counter()
        if threshold is not None:  # a fixed level: the plain rule or runs
            flags = flag_anomalies(scores, threshold=threshold, run_level=run_level)
            ranked = scores
        else:
            if name == DEFAULT_RULE:
                chain: dict[str, Any] = {
                    "upper": fleet.upper,
                    "metrics": metrics,
                    "values": fleet.values,
                    "reference_steps": int(det.warmup.any(axis=0).sum()),
                    "guard_run": {"disparate_impact": half_day},
                }
            else:  # the fleet's level without the echo rule (or the accuracy floor)
                chain = {"echo_days": None, "guard_run": half_day}
                if name in GUARDED:
                    chain |= {"upper": fleet.upper, "metrics": metrics}
            res = fleet_flags(scores, fleet.timestamps, **chain)
            flags, ranked = res.flags, res.scores
        t4 = time.perf_counter()
        inc = group_incidents(flags, ranked, fleet.series, timestamps=fleet.timestamps)
        t5 = time.perf_counter()
        fig = score_incidents(inc, fleet.events, keys, scored, steps_per_day=24)
        d = fig.to_dict()
        d["root_cause_first"] = float(fig.root_cause_rank == 1)
        d["seconds_flag"] = t4 - t3
        d["seconds_group"] = t5 - t4
        d["top5"] = [
            {"rank": i.rank, "severity": round(i.severity, 2), "summary": i.summary}
            for i in inc.incidents[:5]
        ]
        out["rules"][name] = d
    out["feedback"] = _feedback_round(fleet, scores, *FLAGGING["runs 0.999"])
    return out


def _table(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for name in RULES:
        lines.append(f"\n{name}")
        lines.append(f"  {'figure':<22}{'mean':>10}{'min':>10}{'max':>10}   target")
        for key in (
            "event_recall",
            "false_alarm_rate",
            "compression",
            "compression_runs",
            "purity",
            "root_cause_first",
            "n_incidents",
            "n_anomalies",
            "seconds_group",
        ):
            vals = np.array([r["rules"][name][key] for r in results], dtype=float)
            op, goal = TARGETS.get(key, ("", None))
            target = f"{op} {goal}" if goal is not None else ""
            if goal is not None:
                ok = np.nanmean(vals) >= goal if op == ">=" else np.nanmean(vals) <= goal
                target += "  met" if ok else "  MISSED"
            lines.append(
                f"  {key:<22}{np.nanmean(vals):>10.3f}{np.nanmin(vals):>10.3f}"
                f"{np.nanmax(vals):>10.3f}   {target}"
            )
        per_kind: dict[str, list[bool]] = {}
        for r in results:
            kinds = {e["id"]: e["kind"] for e in r["events"]}
            for e in r["rules"][name]["events"]:
                per_kind.setdefault(kinds[e["id"]], []).append(bool(e["detected"]))
        lines.append(
            "  detected by kind:     "
            + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in per_kind.items())
        )
    fb = [r["feedback"] for r in results]
    lines.append("\nsecond half of the scored history (runs 0.999): no feedback, oracle")
    lines.append("feedback on the first half, co-anomaly groups learned from the first half")
    lines.append(
        f"  {'':<12}{'FA runs':>10}{'recall':>10}{'incidents':>11}{'compr.':>9}{'purity':>9}"
    )
    for name in ("without", "with", "co_anomaly"):
        cells = [
            np.mean([f[name]["false_alarm_runs"] for f in fb]),
            np.nanmean([f[name]["event_recall"] for f in fb]),
            np.mean([f[name]["n_incidents"] for f in fb]),
            np.mean([f[name]["compression"] for f in fb]),
            np.mean([f[name]["purity"] for f in fb]),
        ]
        lines.append(
            f"  {name:<12}{cells[0]:>10.1f}{cells[1]:>10.3f}{cells[2]:>11.1f}"
            f"{cells[3]:>9.2f}{cells[4]:>9.3f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "fleet_quality.json",
    )
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        t = time.perf_counter()
        results.append(run_seed(seed, args.models, args.days))
        r = results[-1]
        print(
            f"seed {seed}: {r['n_series']} series x {r['n_steps']} steps, "
            f"{time.perf_counter() - t:.1f} s (simulate {r['seconds']['simulate']:.1f}, "
            f"detect {r['seconds']['detect']:.1f})",
            flush=True,
        )
    lines = _table(results)
    print("\n".join(lines))
    summary: dict[str, Any] = {}
    for name in RULES:
        summary[name] = {}
        for key in (
            "event_recall",
            "false_alarm_rate",
            "compression",
            "compression_runs",
            "purity",
            "root_cause_first",
            "n_incidents",
        ):
            vals = np.array([r["rules"][name][key] for r in results], dtype=float)
            summary[name][key] = {
                "mean": float(np.nanmean(vals)),
                "min": float(np.nanmin(vals)),
                "max": float(np.nanmax(vals)),
            }
    payload = {
        "config": {
            "models": args.models,
            "days": args.days,
            "seeds": args.seeds,
            "flagging": {k: list(v) for k, v in RULES.items()},
        },
        "targets": {k: list(v) for k, v in TARGETS.items()},
        "summary": summary,
        "seeds": results,
        "versions": versions(["numpy", "scipy", "pandas"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1, default=float) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
