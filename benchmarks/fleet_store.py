"""The whole product path on a simulated fleet: prediction logs -> store -> windows -> incidents.

``benchmarks/fleet_quality.py`` scores the simulator's metric series directly;
this script goes the way a user's data goes, with library defaults:

    fleet = simulate_fleet(models, days, seed=seed)
    ingest_fleet(store, fleet)                             # logs and labels of every model
    compute_windows(store, every="1h")                     # windowed metrics, intervals
    detect_incidents(store)                                # fleet_flags, group_incidents

and reports the sizes, the time of each stage, the incidents, and for each
planted event the incidents that hold one of the series it moves while the
event lasts or up to a day after it, with their ranks. The models are registered with
their team and region only (a model reads several upstream sources, and a
model's labels hold one value each), so a broken source shows as incidents per
feature of that source.

Run::

    PYTHONPATH=src python benchmarks/fleet_store.py --models 40 --seed 0
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from seawall.datasets import simulate_fleet
from seawall.storage import Store, compute_windows, detect_incidents, ingest_fleet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import seawall_source, status_kib, versions  # noqa: E402


def _moves(member: str, affected: tuple[str, ...]) -> bool:
    """Whether a stored series is one the event moves.

    The store names a series ``model/metric/qualifier`` and the simulator
    ``model/metric/feature``; fairness metrics carry the sensitive attribute as
    their qualifier in the store (``m0035/disparate_impact/group``), which the
    simulator's key (``m0035/disparate_impact``) lacks.
    """
    return any(member == key or member.startswith(key + "/") for key in affected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "fleet_store.json",
    )
    args = parser.parse_args()
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    fleet = simulate_fleet(args.models, args.days, seed=args.seed)
    names = fleet.models["model"].tolist()
    seconds["simulate"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "fleet.duckdb") as store:
        t = time.perf_counter()
        load = ingest_fleet(store, fleet, seed=args.seed)
        seconds["logs and ingest"] = time.perf_counter() - t
        print(f"{load.n_predictions:,} prediction rows of {len(names)} models", flush=True)
        t = time.perf_counter()
        run = compute_windows(store, every="1h")
        seconds["windows"] = time.perf_counter() - t
        t = time.perf_counter()
        incidents = detect_incidents(store)
        seconds["detect"] = time.perf_counter() - t
    print(
        f"{run.n_points:,} metric points; {incidents.n_anomalies:,} "
        f"anomalous steps -> {len(incidents)} incidents (compression "
        f"{incidents.compression:.1f}x)"
    )
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    peak_mib = status_kib().get("VmHWM", 0) / 1024
    print(f"peak resident memory of the process: {peak_mib:,.0f} MiB")
    events: list[dict[str, Any]] = []
    for e in fleet.events:
        models = {k.split("/")[0] for k in e.affected}
        until = pd.Timestamp(e.end) + pd.Timedelta(days=1)
        held = [
            i
            for i in incidents.incidents
            if any(_moves(m, e.affected) for m in i.members)
            and pd.Timestamp(i.end) >= pd.Timestamp(e.start)
            and pd.Timestamp(i.start) <= until
        ]
        events.append(
            {
                "id": e.id,
                "kind": e.kind,
                "root_cause": dict(e.root_cause),
                "n_models": len(models),
                "found": bool(held),
                "ranks": [i.rank for i in held],
            }
        )
        print(
            f"{e.id} {e.kind} ({e.root_cause}), {len(models)} model(s): "
            + (f"incidents {[i.rank for i in held]}" if held else "MISSED")
        )
    print("top incidents:")
    for i in incidents.incidents[:10]:
        print(f"  #{i.rank} severity {i.severity:.1f}: {i.summary}")
    payload = {
        "config": vars(args) | {"out": str(args.out)},
        "n_rows": load.n_predictions,
        "n_labels": load.n_labels,
        "n_points": run.n_points,
        "n_incidents": len(incidents),
        "n_anomalies": incidents.n_anomalies,
        "compression": incidents.compression,
        "seconds": seconds,
        "peak_mib": peak_mib,
        "events": events,
        "incidents": [i.summary for i in incidents.incidents],
        "seawall": seawall_source(),
        "versions": versions(["numpy", "pandas", "duckdb"]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
